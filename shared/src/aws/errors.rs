//! SDK errors → [`DeployError`]: transient ones become `Retryable` (the state
//! machine retries them with backoff), the rest keep their AWS error code.
//! Transient is decided by what happened, not only by the error code: a 5xx
//! or a 429 is transient whatever code (or none) its body carries, as are
//! timeouts and connections that failed or dropped.

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

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
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "SlowDown",
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
];

/// HTTP statuses that say "not now" rather than "never": too many requests,
/// and every server-side error (a router's 502 with no error code included).
fn transient_status(status: u16) -> bool {
    status == 429 || status >= 500
}

pub(crate) fn classify<E>(op: &str, err: SdkError<E, HttpResponse>) -> DeployError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("Unknown");
            let message = se.err().message().unwrap_or_default();
            let text = format!("{op}: {code} (HTTP {status}): {message}");
            if TRANSIENT_CODES.contains(&code) || transient_status(status) {
                DeployError::Retryable(text)
            } else {
                DeployError::Aws(text)
            }
        }
        // Timeouts, connection failures and unparsable responses: try again.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            DeployError::Retryable(format!("{op}: {}", DisplayErrorContext(&err)))
        }
        _ => DeployError::Aws(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}
