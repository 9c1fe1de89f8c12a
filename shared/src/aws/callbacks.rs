//! Step Functions: resuming a run paused on a task token.

use aws_sdk_sfn::Client;

use super::errors::classify;
use crate::error::Result;
use crate::ports::{Delivery, TaskCallbacks};

#[derive(Debug, Clone)]
pub struct SfnCallbacks {
    client: Client,
}

impl SfnCallbacks {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl TaskCallbacks for SfnCallbacks {
    async fn succeed(&self, task_token: &str, output: &serde_json::Value) -> Result<Delivery> {
        let sent = self.client.send_task_success().task_token(task_token).output(output.to_string()).send().await;
        match sent {
            Ok(_) => Ok(Delivery::Sent),
            Err(e)
                if e.as_service_error().is_some_and(|se| {
                    se.is_task_timed_out() || se.is_task_does_not_exist() || se.is_invalid_token()
                }) =>
            {
                Ok(Delivery::Gone)
            }
            Err(e) => Err(classify("SendTaskSuccess", e)),
        }
    }
}
