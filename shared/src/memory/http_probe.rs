use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Result;
use crate::ports::{HttpProbe, ProbeOutcome};

/// Scripted answers per URL, given in turn (the last one repeats); a URL with
/// none is refused. Records every request.
#[derive(Debug, Default)]
pub struct MemoryHttp {
    answers: Mutex<HashMap<String, Vec<ProbeOutcome>>>,
    requests: Mutex<Vec<String>>,
}

impl MemoryHttp {
    pub fn answer(&self, url: &str, outcomes: Vec<ProbeOutcome>) {
        super::lock(&self.answers).insert(url.to_owned(), outcomes);
    }

    pub fn requests(&self) -> Vec<String> {
        super::lock(&self.requests).clone()
    }
}

impl HttpProbe for MemoryHttp {
    async fn get(&self, url: &str, _timeout: Duration) -> Result<ProbeOutcome> {
        let n = {
            let mut requests = super::lock(&self.requests);
            requests.push(url.to_owned());
            requests.iter().filter(|u| *u == url).count()
        };
        let answers = super::lock(&self.answers);
        Ok(match answers.get(url) {
            Some(list) if !list.is_empty() => list[(n - 1).min(list.len() - 1)].clone(),
            _ => ProbeOutcome::NoAnswer("connection refused".into()),
        })
    }
}
