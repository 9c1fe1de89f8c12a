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

    /// Whether `k` was sent, as a value or as a structure or list (an empty list is `k=`).
    pub fn has(&self, k: &str) -> bool {
        let prefix = format!("{k}.");
        self.0.iter().any(|(key, _)| key == k || key.starts_with(&prefix))
    }

    /// The members of structure `name` (`name.Field…`), with the prefix removed.
    pub fn nested(&self, name: &str) -> Params {
        let prefix = format!("{name}.");
        Params(self.0.iter().filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone()))).collect())
    }

    /// The structures of list `name` (`name.member.N.…`) in index order, each as its
    /// own parameters so nested lists and structures can be read the same way.
    pub fn members(&self, name: &str) -> Vec<Params> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, Vec<(String, String)>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some((n, field)) = k.strip_prefix(&prefix).and_then(|rest| rest.split_once('.')) else {
                continue;
            };
            if let Ok(n) = n.parse() {
                items.entry(n).or_default().push((field.to_string(), v.clone()));
            }
        }
        items.into_values().map(Params).collect()
    }

    /// `Marker` and `PageSize` (1–400, default 400) applied to `len` items: the range to
    /// return and the marker of the next page, if any.
    pub fn page(&self, len: usize) -> Result<(std::ops::Range<usize>, Option<usize>), ElbError> {
        let size = self.int("PageSize")?.unwrap_or(400).clamp(1, 400) as usize;
        let start: usize = self
            .get("Marker")
            .map(|m| m.parse().map_err(|_| ElbError::validation("Invalid Marker")))
            .transpose()?
            .unwrap_or(0);
        let end = start.saturating_add(size).min(len);
        Ok((start.min(end)..end, (end < len).then_some(end)))
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

    #[test]
    fn reads_nested_members_and_pages() {
        let p = Params::parse(b"Actions.member.1.Type=forward&Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=9&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=1&Conditions=&PageSize=2&Marker=1");
        let actions = p.members("Actions");
        assert_eq!(actions.len(), 1);
        let groups = actions[0].nested("ForwardConfig").members("TargetGroups");
        assert_eq!(groups.iter().map(|g| g.get("Weight")).collect::<Vec<_>>(), vec![Some("1"), Some("9")]);
        assert!(p.has("Conditions") && p.members("Conditions").is_empty() && !p.has("Tags"));
        assert_eq!(p.page(5).ok(), Some((1..3, Some(3))));
        assert_eq!(p.page(2).ok(), Some((1..2, None)));
    }
}
