//! A booking platform's webhook receiver for the tests: an HTTP server on port 0 that
//! records every request, checks its signature with the Standard Webhooks reference library
//! (the `standardwebhooks` crate, not slotpay's code), and answers as it is told.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// The raw `webhook-signature`.
    pub signature: String,
    /// The parsed body.
    pub body: Value,
    /// Whether the reference library accepted it under each secret of [`Receiver::secrets`].
    pub verified_with: Vec<bool>,
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Received>>,
    secrets: Mutex<Vec<String>>,
    /// The status answered (200 unless told).
    status: AtomicU16,
    /// How long to wait before answering, in milliseconds.
    delay_ms: AtomicU64,
}

/// The receiver; dropped with the test.
#[derive(Clone)]
pub struct Receiver {
    /// Its URL.
    pub url: String,
    shared: Arc<Shared>,
}

async fn receive(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let verified_with = s
        .secrets
        .lock()
        .unwrap()
        .iter()
        .map(|secret| {
            standardwebhooks::Webhook::new(secret)
                .unwrap()
                .verify(&body, &headers)
                .is_ok()
        })
        .collect();
    s.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        signature: header("webhook-signature"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        verified_with,
    });
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    /// Starts one answering 200.
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, shared }
    }

    /// Checks signatures under these secrets (`whsec_...`) from now on.
    pub fn trust(&self, secrets: &[&str]) {
        *self.shared.secrets.lock().unwrap() = secrets.iter().map(|s| s.to_string()).collect();
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Waits this long before each answer from now on (a slow or hanging endpoint).
    pub fn delay(&self, by: Duration) {
        self.shared
            .delay_ms
            .store(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// The requests of one event type.
    pub fn of_type(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.body["type"] == kind)
            .collect()
    }

    /// Waits (up to 10 s) until `n` requests of `kind` arrived; returns them.
    pub async fn wait_for(&self, kind: &str, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.of_type(kind);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let types: Vec<Value> = self
            .received()
            .iter()
            .map(|r| r.body["type"].clone())
            .collect();
        panic!("waited for {n} × {kind}; received {types:?}");
    }
}
