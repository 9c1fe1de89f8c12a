//! The SDK configuration of a function in Lambda, built from what Lambda's
//! execution environment defines, and the one HTTPS client every SDK client
//! shares.
//!
//! Why not `aws_config::load_defaults`: its provider chains (profile files,
//! SSO, STS web identity and assume-role, IMDS, the ECS container endpoint,
//! the credential process) never apply in Lambda, which gives a function its
//! role's credentials as `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//! `AWS_SESSION_TOKEN` and its region as `AWS_REGION` ("Defined runtime
//! environment variables", Lambda developer guide), yet they are code in every
//! binary: with STS's client, about 300 KB of a function's 6 MB budget. The
//! values here are the ones `load_defaults` would settle on in Lambda.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::SDK_MAX_ATTEMPTS;
use crate::DeployError;
use crate::config::{Vars, required};

/// `aws-config`'s default connect timeout; nothing else has a default.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// HTTPS over rustls with *ring* as its cryptography: `aws-lc-rs`, the SDK's
/// default, is several hundred KB larger in each binary, and a Lambda
/// function needs no FIPS module or post-quantum key exchange to call AWS.
/// Roots are the platform's (Amazon Linux's CA bundle).
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// Makes *ring* the process's rustls provider, for clients built without one
/// of their own (reqwest here). A second call changes nothing.
pub fn install_ring_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The configuration from Lambda's variables: `AWS_REGION` and the role's
/// credentials (required), and `AWS_ENDPOINT_URL` when set (a local stand-in
/// for AWS; never set by Lambda). The credentials are read once: a process
/// cannot see its environment change, and Lambda's are valid for the
/// execution environment's lifetime.
pub fn lambda_sdk_config(vars: &impl Vars) -> Result<SdkConfig, DeployError> {
    let region = required(vars, "AWS_REGION")?;
    let credentials = Credentials::new(
        required(vars, "AWS_ACCESS_KEY_ID")?,
        required(vars, "AWS_SECRET_ACCESS_KEY")?,
        vars.var("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
        None,
        "Lambda execution environment",
    );
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .retry_config(RetryConfig::standard().with_max_attempts(SDK_MAX_ATTEMPTS))
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .time_source(SharedTimeSource::default())
        .http_client(https_client());
    if let Some(url) = vars.var("AWS_ENDPOINT_URL").filter(|u| !u.is_empty()) {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const LAMBDA: [(&str, &str); 4] = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    #[test]
    fn everything_a_client_needs_is_set() {
        let c = lambda_sdk_config(&vars(&LAMBDA)).unwrap();
        assert_eq!(c.region().map(Region::as_ref), Some("eu-west-1"));
        // The SDK crates are built without their default HTTPS client: a
        // configuration without one would fail on the first call.
        assert!(c.http_client().is_some());
        assert!(c.credentials_provider().is_some());
        assert!(c.sleep_impl().is_some());
        assert_eq!(c.retry_config().map(RetryConfig::max_attempts), Some(SDK_MAX_ATTEMPTS));
        assert_eq!(c.timeout_config().and_then(TimeoutConfig::connect_timeout), Some(CONNECT_TIMEOUT));
        assert_eq!(c.endpoint_url(), None);
    }

    #[test]
    fn a_local_endpoint_is_followed() {
        let mut v = vars(&LAMBDA);
        v.insert("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:4566".into());
        let c = lambda_sdk_config(&v).unwrap();
        assert_eq!(c.endpoint_url(), Some("http://127.0.0.1:4566"));
    }

    #[test]
    fn each_required_variable_is_a_typed_error() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let mut v = vars(&LAMBDA);
            v.remove(missing);
            let err = lambda_sdk_config(&v).unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput");
            assert!(err.to_string().contains(missing), "{err}");
        }
    }

    #[tokio::test]
    async fn the_roles_credentials_are_signed_with() {
        use aws_credential_types::provider::ProvideCredentials;
        let c = lambda_sdk_config(&vars(&LAMBDA)).unwrap();
        let creds = c.credentials_provider().unwrap().provide_credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(creds.secret_access_key(), "secret");
        assert_eq!(creds.session_token(), Some("token"));
        let mut v = vars(&LAMBDA);
        v.remove("AWS_SESSION_TOKEN");
        let c = lambda_sdk_config(&v).unwrap();
        assert_eq!(c.credentials_provider().unwrap().provide_credentials().await.unwrap().session_token(), None);
    }
}
