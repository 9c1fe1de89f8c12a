//! Typed access to an awsJson request object; wrong types are SerializationException,
//! missing required members InvalidParameterException.

use serde_json::{Map, Value};

use crate::sim::api::error::EcsError;

/// A request body (a JSON object).
pub struct Req<'a>(pub &'a Map<String, Value>);

impl<'a> Req<'a> {
    pub fn value(&self, k: &str) -> Option<&'a Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    pub fn str(&self, k: &str) -> Result<Option<&'a str>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(type_error(k, "string")),
        }
    }

    pub fn req_str(&self, k: &str) -> Result<&'a str, EcsError> {
        match self.str(k)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(EcsError::invalid(format!("{k} must be specified."))),
        }
    }

    pub fn i64(&self, k: &str) -> Result<Option<i64>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| type_error(k, "integer")),
        }
    }

    pub fn f64(&self, k: &str) -> Result<Option<f64>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| type_error(k, "double")),
        }
    }

    pub fn bool(&self, k: &str) -> Result<Option<bool>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| type_error(k, "boolean")),
        }
    }

    pub fn array(&self, k: &str) -> Result<Option<&'a Vec<Value>>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(type_error(k, "list")),
        }
    }

    pub fn object(&self, k: &str) -> Result<Option<Req<'a>>, EcsError> {
        match self.value(k) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Req(m))),
            Some(_) => Err(type_error(k, "structure")),
        }
    }

    /// A list of strings.
    pub fn strings(&self, k: &str) -> Result<Option<Vec<&'a str>>, EcsError> {
        let Some(a) = self.array(k)? else {
            return Ok(None);
        };
        a.iter().map(|v| v.as_str().ok_or_else(|| type_error(k, "list of strings"))).collect::<Result<_, _>>().map(Some)
    }

    /// `include` contains `TAGS`.
    pub fn include_tags(&self) -> Result<bool, EcsError> {
        Ok(self.strings("include")?.is_some_and(|v| v.contains(&"TAGS")))
    }

    /// Validated `tags` (list of {key, value}).
    /// ECS developer guide, "Tagging your Amazon ECS resources", tag
    /// restrictions: at most 50 tags per resource; keys 1 to 128 and values up
    /// to 256 Unicode characters of letters, numbers, spaces and `+ - = . _ : /
    /// @` (botocore's `TagKey`/`TagValue` pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`);
    /// the `aws:` prefix is reserved for AWS.
    pub fn tags(&self) -> Result<Vec<Value>, EcsError> {
        let Some(a) = self.array("tags")? else {
            return Ok(Vec::new());
        };
        if a.len() > 50 {
            return Err(EcsError::invalid("The number of tags must not exceed 50."));
        }
        for t in a {
            let key = t.get("key").and_then(Value::as_str).unwrap_or_default();
            let value = t.get("value").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() || key.chars().count() > 128 {
                return Err(EcsError::invalid("Tag keys must be between 1 and 128 characters."));
            }
            if value.chars().count() > 256 {
                return Err(EcsError::invalid("Tag values must be at most 256 characters."));
            }
            if !tag_chars(key) || !tag_chars(value) {
                return Err(EcsError::invalid(
                    "Tag keys and values may contain only letters, numbers, spaces and the characters + - = . _ : / @.",
                ));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(EcsError::invalid("Tag keys may not start with the reserved prefix 'aws:'."));
            }
        }
        Ok(a.clone())
    }
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, with Rust's alphanumeric and whitespace
/// classes standing in for the Unicode categories.
fn tag_chars(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c))
}

fn type_error(k: &str, want: &str) -> EcsError {
    EcsError::serialization(format!(
        "Start of structure or map found where not expected, or wrong type for '{k}' (expected {want})."
    ))
}

/// `maxResults` / `nextToken` paging: `{key: [...], nextToken?}`.
pub fn page(r: &Req, key: &str, items: Vec<String>, default_max: i64) -> Result<Value, EcsError> {
    let max = r.i64("maxResults")?.unwrap_or(default_max);
    if !(1..=100).contains(&max) {
        return Err(EcsError::invalid("maxResults must be between 1 and 100."));
    }
    let start = match r.str("nextToken")? {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| EcsError::invalid("Invalid nextToken."))?,
    };
    let end = start.saturating_add(max as usize).min(items.len());
    let slice = items.get(start.min(items.len())..end).unwrap_or_default().to_vec();
    let mut out = Map::new();
    out.insert(key.into(), Value::from(slice));
    if end < items.len() {
        out.insert("nextToken".into(), Value::from(end.to_string()));
    }
    Ok(Value::Object(out))
}
