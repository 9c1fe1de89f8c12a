//! "Did you mean …": the known names closest to one a person mistyped, for
//! any command that looks a name up among a few known ones.

/// At most this many suggestions.
const MOST: usize = 5;

/// The names in `known` within a few edits of `wanted` (a third of its
/// length, at least 2; case is ignored), closest first, then by name.
pub fn close_names<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted = wanted.to_lowercase();
    let most = (wanted.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &str)> =
        known.into_iter().map(|k| (distance(&wanted, &k.to_lowercase()), k)).filter(|(d, _)| *d <= most).collect();
    close.sort_unstable();
    close.dedup();
    close.into_iter().take(MOST).map(|(_, k)| k).collect()
}

/// The error for a service `key` that none of the stack's services (`known`)
/// is: the close names, or the services there are.
pub fn unknown_service(key: &str, known: &[String]) -> crate::error::CliError {
    let close = close_names(key, known.iter().map(String::as_str));
    let hint = if known.is_empty() {
        "it has no deploy targets".to_owned()
    } else if close.is_empty() {
        format!("its services: {}", known.join(", "))
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    crate::error::CliError::Invalid(format!("no deploy target of the stack names {key}; {hint}"))
}

/// Levenshtein distance in characters, with a swap of two neighbours
/// counted as one edit (`wbe` → `web`), as typing slips are.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous is needed for swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (previous[j] + 1).min(row[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{close_names, distance};

    #[test]
    fn edits_are_counted_as_typing_slips() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("web", ""), 3);
        assert_eq!(distance("web", "web"), 0);
        assert_eq!(distance("wbe", "web"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("démo", "demo"), 1);
    }

    #[test]
    fn the_close_names_come_closest_first() {
        let known = ["demo/web", "demo/api", "prod/web", "staging/worker"];
        assert_eq!(close_names("demo/wbe", known), ["demo/web"]);
        assert_eq!(close_names("DEMO/WEB", known), ["demo/web"]);
        assert_eq!(close_names("demo/we", known), ["demo/web"]);
        assert_eq!(close_names("dem/web", known), ["demo/web"]);
        assert_eq!(close_names("demo/wex", ["demo/wen", "demo/api", "demo/web"]), ["demo/web", "demo/wen"]);
        assert_eq!(close_names("prod/wbe", known), ["prod/web"]);
        assert!(close_names("billing/ledger", known).is_empty());
    }
}
