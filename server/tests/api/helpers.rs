//! The test harness: `spawn_app` starts the real server on port 0 against a fresh
//! stripe-sandbox on port 0 and a fresh database (a temporary SQLite file, or a database
//! created for the test on the PostgreSQL at `SLOTPAY_TEST_POSTGRES_URL` and dropped after).
//!
//! Every secret a test configures is registered; every response body read through
//! [`TestApp`] is checked for all of them, and each test's teardown checks everything the
//! whole binary has logged so far (a global subscriber writes into a buffer), so the last
//! test to finish has checked the logs of the whole suite.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use futures::FutureExt;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use slotpay_server::config::{Config, RateLimit};
use slotpay_server::secrets::{Binding, MasterKey};
use slotpay_server::{AppState, RunningServer};
use sqlx::Connection;
use stripe_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tempfile::TempDir;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `mod name { fn sqlite(); fn postgres(); }` for each storage test.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::helpers::run(crate::helpers::Backend::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::helpers::run(crate::helpers::Backend::Postgres, super::$name).await
            }
        }
    )*};
}
pub(crate) use both_backends;

// ---------------------------------------------------------------- captured logs, secrets

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once per test binary, at debug level for everything
/// but the sandbox (which is not slotpay).
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,stripe_sandbox=off,hyper=info,hyper_util=info,h2=info,rustls=info",
            ))
            .with_writer(|| CaptureWriter)
            .with_ansi(false)
            .init();
    });
}

/// Everything logged so far.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Registers a secret that must never appear in a response or a log line.
pub fn register_secret(secret: &str) {
    assert!(
        secret.len() >= 16,
        "too short to grep for: {}",
        secret.len()
    );
    let mut all = SECRETS.lock().unwrap();
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_owned());
    }
}

/// Panics if `text` contains a registered secret (naming only its prefix).
pub fn assert_no_secret(text: &str, what: &str) {
    // A copy: a failed assertion must not poison the list for the other tests.
    let secrets = SECRETS.lock().unwrap().clone();
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} contains the secret {}...",
            &s[..8]
        );
    }
}

// ---------------------------------------------------------------- PostgreSQL per test

struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> (PgDatabase, String) {
        let name = format!("slotpay_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to SLOTPAY_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut url = url::Url::parse(admin_url).expect("SLOTPAY_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        (
            PgDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
            url.to_string(),
        )
    }

    async fn drop_it(&self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            conn.close().await.ok();
        }
    }
}

/// The PostgreSQL server for tests, or `None` (with a printed skip line) when it is not
/// configured; a failure when `SLOTPAY_REQUIRE_POSTGRES=1`.
fn postgres_url() -> Option<String> {
    match std::env::var("SLOTPAY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("SLOTPAY_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("SLOTPAY_REQUIRE_POSTGRES=1 but SLOTPAY_TEST_POSTGRES_URL is not set");
            }
            println!(
                "skipped: PostgreSQL variant (set SLOTPAY_TEST_POSTGRES_URL, e.g. with ./dev pg)"
            );
            None
        }
    }
}

// ---------------------------------------------------------------- the app

/// A running server, its sandbox and its database.
#[derive(Clone)]
pub struct TestApp(Arc<Inner>);

pub struct Inner {
    pub backend: Backend,
    pub url: String,
    pub admin_token: String,
    pub sandbox: SandboxHandle,
    pub state: AppState,
    /// Kept for its lifetime: removed when the app is dropped.
    _data_dir: TempDir,
    pub sqlite_file: Option<PathBuf>,
    pub client: reqwest::Client,
    server: Mutex<Option<RunningServer>>,
    pg: Option<PgDatabase>,
    /// The configuration the server started with (a second instance shares its database).
    pub config: Config,
    /// More instances on the same database and sandbox.
    others: Mutex<Vec<RunningServer>>,
}

impl std::ops::Deref for TestApp {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// An answer, with its body parsed when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self
    }

    /// Asserts an error answer with this status, code and param.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str, param: Option<&str>) -> Resp {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.json["error"]["param"].as_str(), param, "{}", self.text);
        assert!(
            self.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.text
        );
        self
    }
}

/// Options of a test server.
pub type Tweak = Box<dyn FnOnce(&mut Config) + Send>;

/// Runs one storage test on `backend` (or skips the PostgreSQL variant when there is
/// none), then tears everything down and checks the captured logs for secrets.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(app) = spawn_app(backend, Box::new(|_| {})).await else {
        return;
    };
    let outcome = AssertUnwindSafe(test(app.clone())).catch_unwind().await;
    app.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Starts a sandbox, a database and the server (with a test public route
/// `/v1/merchants/{merchant_id}/probe` behind CORS and rate limits). `None` when the
/// backend is PostgreSQL and none is configured.
pub async fn spawn_app(backend: Backend, tweak: Tweak) -> Option<TestApp> {
    spawn_app_with(
        backend,
        SandboxConfig {
            webhook_retry_base: Duration::from_millis(50),
            webhook_max_attempts: 1,
            webhook_timeout: Duration::from_secs(2),
            ..SandboxConfig::default()
        },
        tweak,
    )
    .await
}

/// [`spawn_app`] with a sandbox started from `sandbox_config` (webhook retries for the
/// fault harness).
pub async fn spawn_app_with(
    backend: Backend,
    sandbox_config: SandboxConfig,
    tweak: Tweak,
) -> Option<TestApp> {
    capture_logs();
    let (pg, database_url) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => {
            let admin = postgres_url()?;
            let (db, url) = PgDatabase::create(&admin).await;
            (Some(db), Some(url))
        }
    };
    let sandbox = Sandbox::start(sandbox_config)
        .await
        .expect("sandbox starts");
    register_secret(&sandbox.secret_key);
    register_secret(&sandbox.restricted_key);

    let data_dir = tempfile::tempdir().unwrap();
    let master_key = MasterKey::generate();
    register_secret(master_key.to_hex().expose_secret());
    let admin_token = format!("test-admin-{}", hex::encode(rand::random::<[u8; 16]>()));
    register_secret(&admin_token);

    let mut config = Config::new(data_dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_token = Some(SecretString::from(admin_token.clone()));
    config.master_key = Some(master_key);
    config.stripe_api_base = url::Url::parse(&sandbox.url).unwrap();
    config.stripe_js_url = url::Url::parse(&sandbox.stripe_js_url()).unwrap();
    config.stripe_retry_base = Duration::from_millis(10);
    config.stripe_timeout = Duration::from_secs(5);
    config.rate_limit_ip = RateLimit {
        burst: 1000,
        per_second: 1000.0,
    };
    config.rate_limit_merchant = RateLimit {
        burst: 1000,
        per_second: 1000.0,
    };
    // The card-testing defences are tested on their own (`security.rs`); other tests
    // decline cards freely.
    config.max_declines_per_checkout = 1000;
    let plenty = slotpay_server::config::WindowLimit {
        count: 1_000_000,
        window: Duration::from_secs(600),
    };
    config.merchant_decline_budget = plenty;
    config.catalogue_checkouts_per_client = plenty;
    // Tests run the reconciler by hand.
    config.reconcile_interval = Duration::ZERO;
    // Webhook receivers of the tests listen on loopback, and retry quickly.
    config.webhook_allow_private = true;
    config.webhook_retries = vec![Duration::from_secs(1); 2];
    config.webhook_timeout = Duration::from_secs(2);
    config.www_dir = data_dir.path().join("www");
    let sqlite_file = match &database_url {
        Some(url) => {
            config.database_url = Some(SecretString::from(url.clone()));
            None
        }
        None => Some(data_dir.path().join("slotpay.db")),
    };
    tweak(&mut config);
    let kept = config.clone();

    let probe = Router::new().route(
        "/v1/merchants/{merchant_id}/probe",
        get(|| async { "probe" }).post(|| async { "probe" }),
    );
    let server = slotpay_server::serve_with(config, probe)
        .await
        .expect("server starts");
    let url = server.local_url();
    let state = server.state.clone();
    Some(TestApp(Arc::new(Inner {
        backend,
        url,
        admin_token,
        sandbox,
        state,
        _data_dir: data_dir,
        sqlite_file,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        server: Mutex::new(Some(server)),
        pg,
        config: kept,
        others: Mutex::new(Vec::new()),
    })))
}

impl TestApp {
    /// Stops the server, drops the PostgreSQL database, checks the logs.
    pub async fn teardown(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            server.stop().await;
        }
        let others: Vec<RunningServer> = std::mem::take(&mut *self.others.lock().unwrap());
        for o in others {
            o.stop().await;
        }
        if let Some(pg) = &self.pg {
            pg.drop_it().await;
        }
        assert_no_secret(&captured_logs(), "the captured logs");
    }

    /// A request to the server; JSON bodies for the admin API carry the admin token.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method_name = method.to_string();
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if (path.starts_with("/v1/admin") || path == "/metrics")
            && !headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case("authorization"))
        {
            req = req.bearer_auth(&self.admin_token);
        }
        // ("authorization", "") means: send no Authorization header at all.
        for (h, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
            req = req.header(*h, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        checked(&method_name, path, req).await
    }

    /// A request with a body of raw bytes (an upload) sent as `content_type` (none: no
    /// `Content-Type` header), with the admin token on the admin API; its answer checked as
    /// [`TestApp::request`]'s.
    pub async fn request_bytes(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let method_name = method.to_string();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .body(body);
        if path.starts_with("/v1/admin") {
            req = req.bearer_auth(&self.admin_token);
        }
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        checked(&method_name, path, req).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.request(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.request(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.request(Method::DELETE, path, None, &[]).await
    }

    /// Creates a merchant and returns its id.
    pub async fn merchant(&self, origins: &[&str]) -> String {
        let r = self
            .post(
                "/v1/admin/merchants",
                serde_json::json!({"name": "Salon Léa", "allowed_origins": origins}),
            )
            .await
            .expect(201);
        r.json["id"].as_str().unwrap().to_owned()
    }

    /// Sets a Sandbox integration with the sandbox's keys (the secret key by default).
    pub async fn sandbox_integration(&self, merchant: &str, secret_key: &str) -> Resp {
        self.put(
            &format!("/v1/admin/merchants/{merchant}/integration"),
            serde_json::json!({
                "publishable_key": self.sandbox.publishable_key,
                "secret_key": secret_key,
                "mode": "sandbox",
            }),
        )
        .await
    }

    /// The webhook signing secret the server stored for a merchant, decrypted.
    pub async fn stored_webhook_secret(&self, merchant: &str) -> Option<String> {
        let r = self.state.db.get_integration(merchant).await.unwrap()?;
        let enc = r.webhook_secret_enc?;
        let plain = self
            .state
            .cipher
            .decrypt(
                &enc,
                Binding {
                    table: "integrations",
                    row: merchant,
                    column: "webhook_secret_enc",
                },
            )
            .unwrap();
        Some(plain.expose_secret().to_owned())
    }

    /// `GET` on the sandbox's REST API with a key, as Stripe's API.
    pub async fn stripe_get(&self, key: &str, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.sandbox.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `POST` of a form to the sandbox's REST API with a key, as Stripe's API (what Stripe's
    /// Dashboard or another integration does behind slotpay's back).
    pub async fn stripe_post(&self, key: &str, path: &str, form: &[(&str, &str)]) -> Value {
        self.client
            .post(format!("{}{path}", self.sandbox.url))
            .bearer_auth(key)
            .form(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Sends `req` and checks its answer against the API document (and for secrets).
async fn checked(method: &str, path: &str, req: reqwest::RequestBuilder) -> Resp {
    let response = req.send().await.expect("request reaches the server");
    let r = into_resp(response).await;
    let content_type = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Err(e) = crate::contract::check(method, path, r.status.as_u16(), content_type, &r.text) {
        panic!("{e}");
    }
    r
}

/// Reads an answer and checks it for secrets.
pub async fn into_resp(response: reqwest::Response) -> Resp {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    assert_no_secret(&text, "a response body");
    for (name, value) in &headers {
        assert_no_secret(value.to_str().unwrap_or(""), name.as_str());
    }
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

// ---------------------------------------------------------------- payments

/// A merchant taking payments in Sandbox mode with the sandbox's keys, its webhook endpoint
/// registered at the sandbox (events come to this server).
pub struct PayMerchant {
    pub id: String,
    pub webhook_secret: String,
}

impl TestApp {
    /// Starts another server instance on the same database and sandbox; returns its URL.
    pub async fn second_instance(&self) -> String {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        let server = slotpay_server::serve(config)
            .await
            .expect("second server starts");
        let url = server.local_url();
        self.others.lock().unwrap().push(server);
        url
    }

    /// A merchant with an active Sandbox integration accepting `brands` (all by default).
    pub async fn pay_merchant(&self, brands: Option<&[&str]>) -> PayMerchant {
        let id = self.merchant(&["https://salon.example"]).await;
        let mut body = serde_json::json!({
            "publishable_key": self.sandbox.publishable_key,
            "secret_key": self.sandbox.secret_key,
            "mode": "sandbox",
        });
        if let Some(b) = brands {
            body["card_brands"] = serde_json::json!(b);
        }
        self.put(&format!("/v1/admin/merchants/{id}/integration"), body)
            .await
            .expect(200);
        self.post(
            &format!("/v1/admin/merchants/{id}/integration/activate"),
            serde_json::json!({}),
        )
        .await
        .expect(200);
        let webhook_secret = self.stored_webhook_secret(&id).await.unwrap();
        register_secret(&webhook_secret);
        PayMerchant { id, webhook_secret }
    }

    /// A service of `merchant` made by the platform API; returns its id.
    pub async fn service(&self, merchant: &str, body: Value) -> String {
        let r = self
            .post(&format!("/v1/admin/merchants/{merchant}/services"), body)
            .await
            .expect(201);
        r.json["id"].as_str().unwrap().to_owned()
    }

    /// A checkout made by the platform API; returns its token.
    pub async fn checkout(&self, merchant: &str, body: Value) -> String {
        let r = self
            .post(&format!("/v1/admin/merchants/{merchant}/checkouts"), body)
            .await
            .expect(201);
        r.json["token"].as_str().unwrap().to_owned()
    }

    /// A fresh PaymentMethod for a card number, made with the publishable key as Stripe.js
    /// does (single-use without a customer, as on Stripe).
    pub async fn card(&self, number: &str) -> String {
        let cvc = if number.starts_with("34") || number.starts_with("37") {
            "1234"
        } else {
            "123"
        };
        let v: Value = self
            .client
            .post(format!("{}/v1/payment_methods", self.sandbox.url))
            .bearer_auth(&self.sandbox.publishable_key)
            .form(&[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", cvc),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
    }

    /// `POST /v1/checkouts/{token}/pay` on `base` (this server when `None`).
    pub async fn pay_at(
        &self,
        base: Option<&str>,
        token: &str,
        payment_method: &str,
        key: &str,
        save_card: bool,
    ) -> Resp {
        let base = base.unwrap_or(&self.url);
        let mut req = self
            .client
            .post(format!("{base}/v1/checkouts/{token}/pay"))
            .json(&serde_json::json!({
                "payment_method": payment_method,
                "email": "lea@example.com",
                "save_card": save_card,
            }));
        if !key.is_empty() {
            req = req.header("Idempotency-Key", key);
        }
        into_resp(req.send().await.expect("request reaches the server")).await
    }

    /// Pays on this server.
    pub async fn pay(&self, token: &str, payment_method: &str, key: &str) -> Resp {
        self.pay_at(None, token, payment_method, key, false).await
    }

    /// The stored checkout.
    pub async fn stored(&self, token: &str) -> slotpay_server::db::CheckoutRecord {
        self.state.db.get_checkout(token).await.unwrap().unwrap()
    }

    /// Waits until the sandbox has no webhook in flight and every stored event is processed.
    pub async fn settle_webhooks(&self) {
        let mut last = (u64::MAX, usize::MAX);
        let mut stable = 0;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = (
                self.sandbox.counter("webhook_attempts"),
                self.sandbox.webhook_deliveries().len(),
            );
            let pending = self
                .state
                .db
                .pending_events(i64::MAX, 100, 10)
                .await
                .unwrap()
                .len();
            if now == last && pending == 0 {
                stable += 1;
                if stable >= 4 {
                    return;
                }
            } else {
                stable = 0;
            }
            last = now;
        }
        panic!("webhooks did not settle");
    }
}
