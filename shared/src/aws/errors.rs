//! SDK errors → [`DeployError`]: transient ones become `Retryable` (the state
//! machine retries them with backoff), the rest keep their AWS error code.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::DeployError;

/// Error codes AWS services use for throttling and server-side trouble.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionConflictException",
    "LimitExceededException",
    "ServerException",
    "InternalServerError",
    "InternalServerException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

pub(crate) fn classify<E, R>(op: &str, err: SdkError<E, R>) -> DeployError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let message = se.err().message().unwrap_or_default();
            let text = format!("{op}: {code}: {message}");
            if TRANSIENT_CODES.contains(&code) { DeployError::Retryable(text) } else { DeployError::Aws(text) }
        }
        // Timeouts, connection failures and unparsable responses: try again.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            DeployError::Retryable(format!("{op}: {}", DisplayErrorContext(&err)))
        }
        _ => DeployError::Aws(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}
