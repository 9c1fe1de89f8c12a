//! awsQuery parameters: `Key=value`, lists as `Name.member.N`, structures in lists as
//! `Name.member.N.Field`.

use std::collections::BTreeMap;

use crate::sim::api::error::ElbError;

/// Decoded form parameters.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    pub fn required(&self, k: &str) -> Result<&str, ElbError> {
        self.get(k).filter(|v| !v.is_empty()).ok_or_else(|| {
            ElbError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(k)
            ))
        })
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, ElbError> {
        self.get(k)
            .map(|v| {
                v.parse().map_err(|_| ElbError::validation(format!("Invalid value '{v}' for {k}: expected an integer")))
            })
            .transpose()
    }

    pub fn bool(&self, k: &str) -> Result<Option<bool>, ElbError> {
        match self.get(k) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ElbError::validation(format!("Invalid value '{v}' for {k}: expected true or false"))),
        }
    }

    /// `Name.member.1`, `Name.member.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, String> = BTreeMap::new();
        for (k, v) in &self.0 {
            if let Some(n) = k.strip_prefix(&prefix).and_then(|i| i.parse().ok()) {
                items.insert(n, v.clone());
            }
        }
        items.into_values().collect()
    }

    /// `Name.member.N.Field` grouped per N, in index order.
    pub fn structs(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = n.parse() {
                items.entry(n).or_default().insert(field.to_string(), v.clone());
            }
        }
        items.into_values().collect()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_lists_and_structures() {
        let p = Params::parse(b"Action=RegisterTargets&Targets.member.2.Id=10.0.0.3&Targets.member.1.Id=10.0.0.2&Targets.member.1.Port=80&Names.member.1=a%2Fb");
        let t = p.structs("Targets");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].get("Port").map(String::as_str), Some("80"));
        assert_eq!(t[1].get("Id").map(String::as_str), Some("10.0.0.3"));
        assert_eq!(p.list("Names"), vec!["a/b".to_string()]);
        assert!(p.required("TargetGroupArn").is_err());
    }
}
