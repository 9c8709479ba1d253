//! Shared helpers of the sandbox's integration tests: a sandbox on port 0, a form-posting client,
//! and a webhook receiver that records deliveries and answers with planned statuses.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use stripe_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

/// An answer of the sandbox.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }

    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_string()
    }
}

/// A sandbox and an HTTP client.
pub struct Env {
    pub sb: SandboxHandle,
    pub http: reqwest::Client,
}

pub async fn start() -> Env {
    start_with(SandboxConfig {
        webhook_retry_base: Duration::from_millis(50),
        webhook_max_attempts: 4,
        webhook_timeout: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await
}

pub async fn start_with(config: SandboxConfig) -> Env {
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Env { sb, http }
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        headers,
        body,
    }
}

impl Env {
    pub fn sk(&self) -> &str {
        &self.sb.secret_key
    }

    pub async fn post(&self, key: &str, path: &str, form: &[(&str, &str)]) -> Resp {
        self.request(key, reqwest::Method::POST, path, form, None)
            .await
    }

    pub async fn post_idem(
        &self,
        key: &str,
        path: &str,
        form: &[(&str, &str)],
        idem: &str,
    ) -> Resp {
        self.request(key, reqwest::Method::POST, path, form, Some(idem))
            .await
    }

    pub async fn get(&self, key: &str, path: &str) -> Resp {
        self.request(key, reqwest::Method::GET, path, &[], None)
            .await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Resp {
        self.request(key, reqwest::Method::DELETE, path, &[], None)
            .await
    }

    pub async fn request(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
        idem: Option<&str>,
    ) -> Resp {
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.sb.url, path))
            .bearer_auth(key);
        if !form.is_empty() {
            rb = rb.form(form);
        }
        if let Some(k) = idem {
            rb = rb.header("Idempotency-Key", k);
        }
        into_resp(rb.send().await.unwrap()).await
    }

    /// POST JSON to the control API.
    pub async fn control(&self, path: &str, body: Value) -> Resp {
        let r = self
            .http
            .post(format!("{}{}", self.sb.url, path))
            .json(&body)
            .send()
            .await
            .unwrap();
        into_resp(r).await
    }

    /// GET a control API path as JSON.
    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{}", self.sb.url, path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A PaymentIntent for cards (as slotpay makes them: without `payment_method_types`
    /// Stripe enables automatic payment methods, whose confirmation needs a `return_url`)
    /// created and confirmed with `pm`.
    pub async fn pay(&self, pm: &str, amount: &str, extra: &[(&str, &str)]) -> Resp {
        let mut form = vec![
            ("amount", amount),
            ("currency", "usd"),
            ("payment_method_types[]", "card"),
            ("payment_method", pm),
            ("confirm", "true"),
        ];
        form.extend_from_slice(extra);
        self.post(self.sk(), "/v1/payment_intents", &form).await
    }

    /// A PaymentMethod from a card number, created with the publishable key as Stripe.js does.
    pub async fn card(&self, number: &str) -> String {
        let cvc = if number.starts_with("34") || number.starts_with("37") {
            "1234"
        } else {
            "123"
        };
        let r = self
            .post(
                &self.sb.publishable_key,
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2040"),
                    ("card[cvc]", cvc),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.id()
    }
}

/// One delivery the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub body: String,
    pub signature: String,
    pub answered: u16,
    pub at: Instant,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct ReceiverState {
    hits: Arc<Mutex<Vec<Hit>>>,
    plan: Arc<Mutex<VecDeque<u16>>>,
}

/// A webhook endpoint on port 0.
pub struct Receiver {
    pub url: String,
    state: ReceiverState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(s): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut answered = s.plan.lock().unwrap().pop_front().unwrap_or(200);
    if answered == SLOW {
        // Longer than the sandbox's webhook timeout in these tests (2 s).
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        answered = 200;
    }
    s.hits.lock().unwrap().push(Hit {
        body: String::from_utf8(body.to_vec()).unwrap(),
        signature: headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        answered,
        at: Instant::now(),
    });
    StatusCode::from_u16(answered).unwrap()
}

/// A planned "status" that makes the receiver answer too late.
pub const SLOW: u16 = 999;

/// Starts a receiver that answers the planned statuses in order, then 200.
pub async fn receiver(plan: &[u16]) -> Receiver {
    let state = ReceiverState::default();
    state.plan.lock().unwrap().extend(plan.iter().copied());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver { url, state, task }
}

impl Receiver {
    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the hits, or panics after `secs`.
    pub async fn wait_until(&self, secs: u64, pred: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let hits = self.hits();
            if pred(&hits) {
                return hits;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for webhooks; got {} hits: {:?}",
                    hits.len(),
                    hits.iter()
                        .map(|h| h.json()["type"].clone())
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The event types received, in order.
    pub fn types(&self) -> Vec<String> {
        self.hits()
            .iter()
            .map(|h| h.json()["type"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Verifies a `Stripe-Signature` header independently of the sandbox's code: parses it, and
/// checks that one `v1` is HMAC-SHA256(secret, "{t}.{body}").
pub fn signature_valid(header: &str, body: &str, secret: &str) -> bool {
    let mut t = None;
    let mut v1s = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1s.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    v1s.contains(&expected)
}

/// Registers a webhook endpoint for `events` and returns (id, secret).
pub async fn endpoint(env: &Env, url: &str, events: &[&str]) -> (String, String) {
    let mut form = vec![("url", url)];
    for e in events {
        form.push(("enabled_events[]", e));
    }
    let r = env.post(env.sk(), "/v1/webhook_endpoints", &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (r.id(), r.body["secret"].as_str().unwrap().to_string())
}
