//! Glue between the pipeline's errors and the Lambda runtime.

use lambda_runtime::Diagnostic;

use crate::DeployError;

impl From<DeployError> for Diagnostic {
    fn from(err: DeployError) -> Self {
        Diagnostic { error_type: err.error_type().to_owned(), error_message: err.to_string() }
    }
}

/// Parses a function's input, so a bad payload becomes a typed `MalformedEvent`
/// (the runtime's own deserializer would report a Rust type path instead).
pub fn parse_input<T: serde::de::DeserializeOwned>(payload: serde_json::Value) -> Result<T, DeployError> {
    serde_json::from_value(payload).map_err(|e| DeployError::MalformedEvent(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_error_type() {
        let d: Diagnostic = DeployError::VerdictReady("d-1".into()).into();
        assert_eq!(d.error_type, "VerdictReady");
        assert!(d.error_message.contains("d-1"));
    }

    #[test]
    fn bad_payload_is_a_malformed_event() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct In {
            id: String,
        }
        let err = parse_input::<In>(serde_json::json!({"nope": 1})).unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent");
    }
}
