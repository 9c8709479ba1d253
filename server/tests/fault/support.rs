//! What the scenarios share: the scale, the findings each prints, the secrets they used and
//! everything they saw (for the final secret scan), the widget's retry policy for pays,
//! Stripe lists read from the sandbox, and database dumps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use slotpay_server::db::Db;
use sqlx::Row;

use crate::helpers::{self, Resp};

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A minute or two, run by `./dev test`.
    Smoke,
    /// The figures of the README.
    Full,
}

impl Scale {
    /// `SLOTPAY_FAULT_SCALE`.
    pub fn from_env() -> Option<Scale> {
        match std::env::var("SLOTPAY_FAULT_SCALE").ok()?.trim() {
            "smoke" => Some(Scale::Smoke),
            "full" => Some(Scale::Full),
            other => panic!("SLOTPAY_FAULT_SCALE must be smoke or full, not {other:?}"),
        }
    }

    /// `smoke` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Full => "full",
        }
    }

    /// The smoke value or the full one.
    pub fn pick<T>(self, smoke: T, full: T) -> T {
        match self {
            Scale::Smoke => smoke,
            Scale::Full => full,
        }
    }
}

/// What a scenario is given.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// Its size.
    pub scale: Scale,
    /// The seed of its random choices.
    pub seed: u64,
}

/// What a scenario tried and found, printed as it goes.
#[derive(Debug, Default)]
pub struct Findings {
    /// The scenario's name.
    pub name: String,
    /// The one line of the summary.
    pub headline: String,
    /// What went wrong (empty: passed).
    pub failures: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

impl Findings {
    /// Starts a scenario: prints its title.
    pub fn start(name: &str, title: &str) -> Findings {
        println!();
        println!("== {name}: {title}");
        Findings {
            name: name.to_owned(),
            ..Findings::default()
        }
    }

    /// A scenario that panicked (a helper's assertion, a server that did not start).
    pub fn panicked(name: &str, panic: Box<dyn std::any::Any + Send>) -> Findings {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into());
        println!("  FAIL: panicked: {message}");
        Findings {
            name: name.to_owned(),
            headline: "panicked (see above)".into(),
            failures: vec![message],
            seconds: 0.0,
        }
    }

    /// Prints what was tried.
    pub fn tried(&mut self, what: impl AsRef<str>) {
        println!("  tried: {}", what.as_ref());
    }

    /// Prints what was found.
    pub fn found(&mut self, what: impl AsRef<str>) {
        println!("  found: {}", what.as_ref());
    }

    /// Records a failure unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> bool {
        if !ok {
            let w = what();
            println!("  FAIL: {w}");
            self.failures.push(w);
        }
        ok
    }

    /// Records a failure.
    pub fn fail(&mut self, what: impl Into<String>) {
        let w = what.into();
        println!("  FAIL: {w}");
        self.failures.push(w);
    }

    /// Prints PASS or FAIL with the time.
    pub fn print_verdict(&self) {
        if self.failures.is_empty() {
            println!("  PASS ({:.1} s): {}", self.seconds, self.headline);
        } else {
            println!(
                "  FAILED ({:.1} s): {} failure(s); first: {}",
                self.seconds,
                self.failures.len(),
                self.failures[0]
            );
        }
    }
}

/// The machine, for the figures: cores and CPU model.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let build = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    format!("{cores} cores ({model}), {build}")
}

// ---------------------------------------------------------------- what the secret scan reads

/// The secrets every scenario used, by label.
static SECRETS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
/// Every answer the harness read (status, headers, body).
static RESPONSES: Mutex<(usize, Vec<u8>)> = Mutex::new((0, Vec::new()));
/// Files kept for the scan: database copies and dumps, the binary's logs.
static ARTIFACTS: OnceLock<tempfile::TempDir> = OnceLock::new();

/// Registers a secret (labelled `scenario: kind`): the scan looks for it everywhere, and the suite's helpers check every
/// answer for it as it comes.
pub fn secret(label: &str, value: &str) {
    helpers::register_secret(value);
    let mut all = SECRETS.lock().unwrap();
    if !all.iter().any(|(_, v)| v == value) {
        all.push((label.to_owned(), value.to_owned()));
    }
}

/// The registered secrets.
pub fn secrets() -> Vec<(String, String)> {
    SECRETS.lock().unwrap().clone()
}

/// Keeps an answer for the scan.
pub fn keep(r: &Resp) {
    let mut all = RESPONSES.lock().unwrap();
    all.0 += 1;
    all.1
        .extend_from_slice(format!("{}\n", r.status.as_u16()).as_bytes());
    for (name, value) in &r.headers {
        all.1.extend_from_slice(name.as_str().as_bytes());
        all.1.extend_from_slice(b": ");
        all.1.extend_from_slice(value.as_bytes());
        all.1.push(b'\n');
    }
    all.1.extend_from_slice(r.text.as_bytes());
    all.1.push(b'\n');
}

/// Keeps raw answer bytes for the scan.
pub fn keep_raw(bytes: &[u8]) {
    let mut all = RESPONSES.lock().unwrap();
    all.0 += 1;
    all.1.extend_from_slice(bytes);
    all.1.push(b'\n');
}

/// How many answers were kept, and their bytes.
pub fn responses() -> (usize, Vec<u8>) {
    let all = RESPONSES.lock().unwrap();
    (all.0, all.1.clone())
}

/// The directory of kept files.
pub fn artifacts_dir() -> &'static Path {
    ARTIFACTS
        .get_or_init(|| tempfile::tempdir().expect("artifacts directory"))
        .path()
}

/// Copies a file (a SQLite database and its WAL) into the kept files.
pub fn keep_file(label: &str, path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = artifacts_dir().join(format!("{label}{suffix}"));
            std::fs::copy(&from, &to).expect("copy a kept file");
        }
    }
}

/// Writes text (a database dump, a log) into the kept files.
pub fn keep_text(label: &str, text: &str) {
    std::fs::write(artifacts_dir().join(label), text).expect("write a kept file");
}

/// Keeps a test app's database for the scan: the SQLite file, or a dump of every table.
pub async fn keep_database(label: &str, app: &helpers::TestApp) {
    match &app.sqlite_file {
        Some(file) => keep_file(&format!("{label}.sqlite"), file),
        None => {
            let dump = dump(&app.state.db).await;
            keep_text(&format!("{label}.pg-dump"), &render_dump(&dump));
        }
    }
}

// ---------------------------------------------------------------- database dumps

/// Every table's rows as text, sorted: `table -> rows`.
pub type Dump = BTreeMap<String, Vec<String>>;

/// Dumps every table (each row as one JSON text, rows sorted).
pub async fn dump(db: &Db) -> Dump {
    let pool = db.pool();
    let sqlite = db.backend() == slotpay_server::db::Backend::Sqlite;
    let tables: Vec<String> = if sqlite {
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    } else {
        sqlx::query("SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")
    }
    .fetch_all(pool)
    .await
    .expect("list tables")
    .iter()
    .map(|r| r.get::<String, _>("name"))
    .collect();
    let mut out = Dump::new();
    for table in tables {
        let query = if sqlite {
            let columns: Vec<String> =
                sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(pool)
                    .await
                    .expect("table columns")
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
            // JSON holds no BLOB (sqlx's migration checksums): those as hex.
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| {
                    format!(
                        "'{c}', CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") ELSE \"{c}\" END"
                    )
                })
                .collect();
            format!(
                "SELECT json_object({}) AS row FROM \"{table}\"",
                pairs.join(", ")
            )
        } else {
            format!("SELECT CAST(row_to_json(t) AS TEXT) AS row FROM \"{table}\" t")
        };
        let mut rows: Vec<String> = sqlx::query(&query)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("dump {table}: {e}"))
            .iter()
            .map(|r| r.get::<String, _>("row"))
            .collect();
        rows.sort();
        out.insert(table, rows);
    }
    out
}

/// A dump as text.
pub fn render_dump(d: &Dump) -> String {
    let mut s = String::new();
    for (table, rows) in d {
        s.push_str(&format!("-- {table} ({} rows)\n", rows.len()));
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
    }
    s
}

/// The tables whose rows differ between two dumps, with a sample.
pub fn dump_diff(before: &Dump, after: &Dump) -> Vec<String> {
    let mut out = Vec::new();
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for t in tables {
        let (b, a) = (
            before.get(t).cloned().unwrap_or_default(),
            after.get(t).cloned().unwrap_or_default(),
        );
        if a != b {
            let added: Vec<&String> = a.iter().filter(|r| !b.contains(r)).collect();
            let removed: Vec<&String> = b.iter().filter(|r| !a.contains(r)).collect();
            out.push(format!(
                "{t}: {} rows before, {} after; first added {:?}, first removed {:?}",
                b.len(),
                a.len(),
                added.first(),
                removed.first()
            ));
        }
    }
    out
}

// ---------------------------------------------------------------- clients

/// A plain HTTP client (no proxy, no redirects followed, a new connection per request: a
/// server may close a connection after refusing a body it did not read, and a pooled one
/// would fail the next request for the client's reason, not the server's).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// The widget's retry policy (`src/key.rs`): 4 tries with the same Idempotency-Key, retrying
/// network errors, 5xx and 429; here with delays scaled by 1/4 (250, 500, 1000 ms).
pub const RETRY_DELAYS_MS: [u64; 3] = [250, 500, 1000];

/// The last answer of a pay tried the widget's way, and how many tries it took. `None`:
/// no answer at all (the server was unreachable every time).
pub struct Tried {
    /// The final answer.
    pub answer: Option<Resp>,
    /// Requests sent.
    pub tries: usize,
}

/// Sends a request the widget's way: `send` makes a fresh request per try.
pub async fn widget_tries<F, Fut>(mut send: F) -> Tried
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<reqwest::Response, reqwest::Error>>,
{
    let mut last = None;
    for attempt in 0..=RETRY_DELAYS_MS.len() {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(RETRY_DELAYS_MS[attempt - 1])).await;
        }
        // A request that got no answer at all is retried too.
        if let Ok(response) = send().await {
            let r = helpers::into_resp(response).await;
            keep(&r);
            let retry = r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS;
            last = Some(r);
            if !retry {
                return Tried {
                    answer: last,
                    tries: attempt + 1,
                };
            }
        }
    }
    Tried {
        answer: last,
        tries: RETRY_DELAYS_MS.len() + 1,
    }
}

/// `POST {base}/v1/checkouts/{token}/pay` the widget's way.
pub async fn pay_like_widget(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    payment_method: &str,
    key: &str,
) -> Tried {
    let url = format!("{base}/v1/checkouts/{token}/pay");
    let body = serde_json::json!({
        "payment_method": payment_method,
        "email": "lea@example.com",
        "save_card": false,
    });
    widget_tries(|| {
        http.post(&url)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    })
    .await
}

/// A short label of an answer: `200 succeeded`, `409 payment_in_progress`, `no answer`.
pub fn label(r: Option<&Resp>) -> String {
    match r {
        None => "no answer".into(),
        Some(r) => {
            let what = r.json["status"]
                .as_str()
                .or_else(|| r.json["error"]["code"].as_str())
                .unwrap_or("?");
            format!("{} {what}", r.status.as_u16())
        }
    }
}

/// Counts labels: `label ×n, ...` in descending order.
pub fn tally<I: IntoIterator<Item = String>>(labels: I) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for l in labels {
        *counts.entry(l).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.iter()
        .map(|(l, n)| format!("{l} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- Stripe's side

/// Every object of a Stripe list endpoint (`/v1/payment_intents`), page after page.
pub async fn stripe_list(http: &reqwest::Client, base: &str, key: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}{path}?limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&starting_after={a}"));
        }
        let page: Value = http
            .get(&url)
            .bearer_auth(key)
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("a list");
        let data = page["data"].as_array().cloned().unwrap_or_default();
        after = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned);
        out.extend(data);
        if page["has_more"] != Value::Bool(true) || after.is_none() {
            return out;
        }
    }
}

/// Stripe's objects grouped by their PaymentIntent.
pub fn by_intent(objects: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for o in objects {
        if let Some(pi) = o["payment_intent"].as_str() {
            m.entry(pi.to_owned()).or_default().push(o.clone());
        }
    }
    m
}

/// Sleeps.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Registers a test app's secrets: its sandbox's secret and restricted keys, its admin token
/// and master key.
pub fn app_secrets(label: &str, app: &helpers::TestApp) {
    use secrecy::ExposeSecret;
    secret(
        &format!("{label}: sandbox secret key"),
        &app.sandbox.secret_key,
    );
    secret(
        &format!("{label}: sandbox restricted key"),
        &app.sandbox.restricted_key,
    );
    secret(&format!("{label}: admin token"), &app.admin_token);
    if let Some(k) = &app.config.master_key {
        secret(&format!("{label}: master key"), k.to_hex().expose_secret());
    }
}

/// A merchant taking payments on a test app, its signing secret registered.
pub async fn merchant(label: &str, app: &helpers::TestApp) -> helpers::PayMerchant {
    let m = app.pay_merchant(None).await;
    secret(
        &format!("{label}: webhook signing secret"),
        &m.webhook_secret,
    );
    m
}

/// Lets an in-process app settle: waits until the sandbox has sent every webhook attempt it
/// means to, then runs the reconciler as if two minutes had passed (leases lapsed, stored
/// events and pending refunds due), until a pass finds nothing to do. Returns the passes
/// that did something, or an error after `limit`.
pub async fn settle(
    app: &helpers::TestApp,
    limit: Duration,
) -> Result<Vec<slotpay_server::domain::reconcile::Report>, String> {
    use slotpay_server::domain::reconcile;
    let deadline = tokio::time::Instant::now() + limit;
    let mut passes = Vec::new();
    let mut last = (u64::MAX, usize::MAX);
    let mut stable = 0;
    while tokio::time::Instant::now() < deadline {
        sleep_ms(100).await;
        let now = (
            app.sandbox.counter("webhook_attempts"),
            app.sandbox.webhook_deliveries().len(),
        );
        if now != last {
            last = now;
            stable = 0;
            continue;
        }
        stable += 1;
        if stable < 3 {
            continue;
        }
        let report = reconcile::reconcile(&app.state, slotpay_server::db::now() + 120).await;
        if report == reconcile::Report::default() {
            return Ok(passes);
        }
        passes.push(report);
        stable = 0;
    }
    Err(format!(
        "not settled after {} s ({} reconciler passes)",
        limit.as_secs(),
        passes.len()
    ))
}

/// What reconciler passes did, in one line.
pub fn passes(reports: &[slotpay_server::domain::reconcile::Report]) -> String {
    let sum = |f: fn(&slotpay_server::domain::reconcile::Report) -> usize| -> usize {
        reports.iter().map(f).sum()
    };
    format!(
        "{} reconciler passes (checkouts settled {}, refunds driven {}, stored events processed {}, \
         PaymentIntents linked {})",
        reports.len(),
        sum(|r| r.settled),
        sum(|r| r.refunds),
        sum(|r| r.events),
        sum(|r| r.linked)
    )
}
