//! CloudWatch for the SDK through moto. The Rust SDK speaks CloudWatch's
//! Smithy RPC v2 CBOR protocol (`POST /service/<service>/operation/<op>`,
//! `smithy-protocol: rpc-v2-cbor`); moto speaks its awsJson 1.0 (botocore's
//! CloudWatch model lists both). The request body goes CBOR → JSON, the
//! answer JSON → CBOR, field for field; timestamps are CBOR tag 1 (epoch
//! seconds) on the wire of RPC v2 and plain epoch numbers in awsJson.

use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value};

/// `/service/GraniteServiceVersion20100801/operation/DescribeAlarms` → (service, operation).
pub fn operation(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/service/")?;
    let (service, op) = rest.split_once("/operation/")?;
    (!service.is_empty() && !op.is_empty() && !op.contains('/')).then_some((service, op))
}

#[derive(Debug, thiserror::Error)]
pub enum CborError {
    #[error("not CBOR: {0}")]
    Decode(String),
    #[error("cannot write CBOR: {0}")]
    Encode(String),
    #[error("{0} has no JSON form")]
    Unsupported(&'static str),
}

/// A request body: empty (no input) or one CBOR map.
pub fn to_json(body: &[u8]) -> Result<Value, CborError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Cbor = ciborium::from_reader(body).map_err(|e| CborError::Decode(e.to_string()))?;
    cbor_to_json(v)
}

fn cbor_to_json(v: Cbor) -> Result<Value, CborError> {
    Ok(match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => {
            let i: i128 = i.into();
            Value::Number(i64::try_from(i).map(Number::from).map_err(|_| CborError::Unsupported("a 128-bit integer"))?)
        }
        Cbor::Float(f) => Number::from_f64(f).map(Value::Number).ok_or(CborError::Unsupported("NaN"))?,
        Cbor::Text(s) => Value::String(s),
        // A timestamp (tag 1): awsJson sends the same epoch seconds untagged.
        Cbor::Tag(1, inner) => cbor_to_json(*inner)?,
        Cbor::Tag(_, _) => return Err(CborError::Unsupported("a CBOR tag other than 1")),
        Cbor::Bytes(_) => return Err(CborError::Unsupported("a blob")),
        Cbor::Array(xs) => Value::Array(xs.into_iter().map(cbor_to_json).collect::<Result<_, _>>()?),
        Cbor::Map(kvs) => {
            let mut m = Map::new();
            for (k, v) in kvs {
                let Cbor::Text(k) = k else { return Err(CborError::Unsupported("a map key that is not text")) };
                m.insert(k, cbor_to_json(v)?);
            }
            Value::Object(m)
        }
        _ => return Err(CborError::Unsupported("this CBOR value")),
    })
}

/// A response body. CloudWatch's timestamp members all end in `Timestamp`
/// (`StateUpdatedTimestamp`, `AlarmConfigurationUpdatedTimestamp`, …): those
/// become tag 1, as RPC v2 CBOR sends timestamps.
pub fn from_json(v: &Value) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    ciborium::into_writer(&json_to_cbor(v, false), &mut out).map_err(|e| CborError::Encode(e.to_string()))?;
    Ok(out)
}

fn json_to_cbor(v: &Value, timestamp: bool) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) if timestamp => Cbor::Tag(1, Box::new(Cbor::Float(n.as_f64().unwrap_or_default()))),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(xs) => Cbor::Array(xs.iter().map(|x| json_to_cbor(x, false)).collect()),
        Value::Object(m) => Cbor::Map(
            m.iter().map(|(k, v)| (Cbor::Text(k.clone()), json_to_cbor(v, k.ends_with("Timestamp")))).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operations_are_read_from_the_rpc_v2_path() {
        assert_eq!(
            operation("/service/GraniteServiceVersion20100801/operation/DescribeAlarms"),
            Some(("GraniteServiceVersion20100801", "DescribeAlarms"))
        );
        assert_eq!(operation("/"), None);
        assert_eq!(operation("/service/x/operation/"), None);
    }

    #[test]
    fn bodies_survive_the_round_trip_and_timestamps_are_tagged() {
        let answer =
            json!({"MetricAlarms": [{"AlarmName": "a", "StateUpdatedTimestamp": 1_700_000_000.5, "Threshold": 5}]});
        let bytes = from_json(&answer).unwrap();
        let decoded: Cbor = ciborium::from_reader(bytes.as_slice()).unwrap();
        let alarm = &decoded.as_map().unwrap()[0].1.as_array().unwrap()[0];
        let stamp = alarm.as_map().unwrap().iter().find(|(k, _)| k.as_text() == Some("StateUpdatedTimestamp")).unwrap();
        assert!(matches!(stamp.1, Cbor::Tag(1, _)), "{stamp:?}");
        assert_eq!(to_json(&bytes).unwrap(), answer);
        assert_eq!(to_json(&[]).unwrap(), json!({}));
        assert!(to_json(&[0xff, 0x00]).is_err());
    }
}
