//! Requests to the approval URL (a Lambda function URL with AuthType
//! AWS_IAM), signed with SigV4 for `lambda` as the caller's own identity:
//! that identity is what the stack records as who decided.

use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::error::CliError;

/// POSTs `body` to `url`; the status and the answer (JSON, or the text as a string).
pub async fn post(config: &SdkConfig, url: &str, region: &str, body: &Value) -> Result<(u16, Value), CliError> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| CliError::Invalid("no AWS credentials: configure a profile or AWS_ACCESS_KEY_ID".into()))?;
    let credentials =
        provider.provide_credentials().await.map_err(|e| CliError::Invalid(format!("no AWS credentials: {e}")))?;
    let identity = credentials.into();
    let bytes = body.to_string().into_bytes();
    let headers = [("content-type", "application/json")];
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| CliError::Invalid(format!("signing: {e}")))?
        .into();
    let signable = SignableRequest::new("POST", url, headers.iter().copied(), SignableBody::Bytes(&bytes))
        .map_err(|e| CliError::Invalid(format!("signing: {e}")))?;
    let (instructions, _) =
        sign(signable, &params).map_err(|e| CliError::Invalid(format!("signing: {e}")))?.into_parts();
    let mut req = reqwest::Client::new().post(url).body(bytes);
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        req = req.header(name, value);
    }
    let answer = req.send().await.map_err(|e| CliError::Aws(format!("POST {url}: {e}")))?;
    let status = answer.status().as_u16();
    let text = answer.text().await.map_err(|e| CliError::Aws(format!("POST {url}: {e}")))?;
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, value))
}
