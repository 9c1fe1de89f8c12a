//! The HTTP check's adapter against a real socket: the status as answered
//! (redirects not followed), and no answer as an outcome, never an error.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use autodeploy_shared::aws::ReqwestProbe;
use autodeploy_shared::ports::{HttpProbe, ProbeOutcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request with `status_line` (and a Location).
async fn server(status_line: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ready", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0_u8; 4096];
            let _ = socket.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 {status_line}\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn statuses_as_answered_and_silence_as_an_outcome() {
    let probe = ReqwestProbe::new().unwrap();
    let t = Duration::from_secs(2);
    assert_eq!(probe.get(&server("200 OK").await, t).await.unwrap(), ProbeOutcome::Status(200));
    assert_eq!(probe.get(&server("500 Internal Server Error").await, t).await.unwrap(), ProbeOutcome::Status(500));
    assert_eq!(probe.get(&server("302 Found").await, t).await.unwrap(), ProbeOutcome::Status(302), "not followed");
    // Nothing listens there.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    assert!(matches!(probe.get(&closed, t).await.unwrap(), ProbeOutcome::NoAnswer(_)));
    // Accepts, never answers: the timeout.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let _keep = tokio::spawn(async move {
        let _held = silent.accept().await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let out = probe.get(&url, Duration::from_secs(1)).await.unwrap();
    assert_eq!(out, ProbeOutcome::NoAnswer("no answer within 1 s".into()));
}
