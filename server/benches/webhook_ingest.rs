//! Webhook ingest benchmark: how many Stripe events per second the real `slotpay`
//! binary verifies and stores through HTTP, on SQLite and on PostgreSQL, with core's raw
//! signature verification rate (a tight loop in this process) printed beside it as the ceiling.
//!
//! ```text
//! cargo bench -p slotpay-server --bench webhook_ingest -- [--events N] [--concurrency C]
//!     [--postgres URL] [--sqlite-only] [--smoke] [--profile DIR]
//! ```
//!
//! Each run starts the binary (`CARGO_BIN_EXE_slotpay`: target/release/slotpay) on a fresh
//! database (a temporary SQLite file; a database created on the `--postgres` cluster, or on
//! `SLOTPAY_TEST_POSTGRES_URL`'s, and dropped after), makes a merchant with a pasted signing
//! secret through the platform API, signs N events with unique ids with core's
//! `signature_header` before the clock starts (signing is the sender's cost, not the
//! server's), then posts them from C concurrent keep-alive connections. The figure is events
//! answered `200 {"received": true}` per second, first post to last answer; the server's
//! background processing of each event runs as in production and competes for the same two
//! cores. Afterwards it checks the guarantees the speed must not cost: one row per event id,
//! none missing, a re-post of every 50th event answered as a duplicate with the row count unchanged,
//! and it waits for the background processing to finish (printed as "processed after").
//! Prints text, then one JSON line (the last line of stdout). Exits 1 when a guarantee fails.
//! `--smoke` (and any run without the `--bench` argument `cargo bench` passes, such as
//! `cargo test --benches`) posts 1,000 events instead of 20,000.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use slotpay_core::webhook_signature::{self, signature_header};
use sqlx::{Connection, Row};

mod support;
use support::{
    cpu_seconds, create_pg_database, drop_pg_database, now, start_server, Perf, ADMIN_TOKEN,
};

/// The merchant's signing secret for the run (made up: the binary only compares HMACs).
const SIGNING_SECRET: &str = "whsec_bench0ingest0signing0secret0000000000";
/// Event types a payment sends, in rotation (processing reads the stored row and looks the
/// object up; none of these ids is one of slotpay's, so no Stripe call is made).
const EVENT_TYPES: [&str; 4] = [
    "payment_intent.created",
    "payment_intent.succeeded",
    "charge.succeeded",
    "charge.updated",
];

struct Options {
    events: usize,
    concurrency: usize,
    postgres: Option<String>,
    sqlite_only: bool,
    smoke: bool,
    /// `--profile DIR`: `perf record` of the server into DIR/webhooks-<database>.perf.data.
    profile: Option<std::path::PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        events: 20_000,
        concurrency: 32,
        postgres: std::env::var("SLOTPAY_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        sqlite_only: false,
        smoke: false,
        profile: None,
    };
    let mut args = std::env::args().skip(1);
    let mut under_cargo_bench = false;
    let mut events = None;
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--events" => {
                events = Some(
                    value("--events")
                        .parse()
                        .unwrap_or_else(|_| usage("--events")),
                )
            }
            "--concurrency" => {
                o.concurrency = value("--concurrency")
                    .parse()
                    .unwrap_or_else(|_| usage("--concurrency"))
            }
            "--postgres" => o.postgres = Some(value("--postgres")),
            "--sqlite-only" => o.sqlite_only = true,
            "--profile" => o.profile = Some(value("--profile").into()),
            "--smoke" => o.smoke = true,
            // `cargo bench` passes `--bench` to every bench binary; `cargo test --benches` does
            // not, and then a smoke run checks the bench works without taking minutes.
            "--bench" => under_cargo_bench = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if !under_cargo_bench && !o.smoke {
        println!("(no --bench argument, as under `cargo test`: smoke mode)");
        o.smoke = true;
    }
    o.events = events.unwrap_or(if o.smoke { 1_000 } else { o.events });
    if o.events == 0 || o.concurrency == 0 {
        usage("--events and --concurrency must be positive");
    }
    o
}

fn usage(message: &str) -> ! {
    eprintln!("webhook_ingest: {message}\nusage: cargo bench -p slotpay-server --bench webhook_ingest -- [--events N] [--concurrency C] [--postgres URL] [--sqlite-only] [--smoke]");
    std::process::exit(2);
}

/// One event as Stripe sends it: the envelope and a PaymentIntent or Charge of the usual size.
fn event_body(run: &str, i: usize, created: i64) -> String {
    let kind = EVENT_TYPES[i % EVENT_TYPES.len()];
    let pi = format!("pi_bench{run}{i:08}");
    let object = if kind.starts_with("charge.") {
        json!({
            "id": format!("ch_bench{run}{i:08}"), "object": "charge", "amount": 2500,
            "amount_captured": 2500, "amount_refunded": 0, "captured": true, "currency": "eur",
            "created": created, "livemode": false, "paid": true, "payment_intent": pi,
            "payment_method": format!("pm_bench{run}{i:08}"), "refunded": false, "status": "succeeded",
            "balance_transaction": format!("txn_bench{run}{i:08}"), "receipt_email": "bench@example.com",
            "billing_details": {"address": {"city": null, "country": null, "line1": null, "line2": null,
                "postal_code": null, "state": null}, "email": "bench@example.com", "name": null, "phone": null},
            "metadata": {"slotpay_checkout": format!("cs_bench{run}{i:08}"), "slotpay_merchant": "mer_bench"},
            "outcome": {"network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"},
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "country": "US",
                "exp_month": 12, "exp_year": 2034, "fingerprint": "Xt5EWLLDS7FJjR1c", "funding": "credit",
                "last4": "4242", "network": "visa", "three_d_secure": null}},
        })
    } else {
        json!({
            "id": pi, "object": "payment_intent", "amount": 2500, "amount_capturable": 0,
            "amount_received": if kind.ends_with("succeeded") { 2500 } else { 0 },
            "capture_method": "automatic", "client_secret": format!("{pi}_secret_bench"),
            "confirmation_method": "automatic", "created": created, "currency": "eur",
            "description": "Haircut, 30 % deposit", "latest_charge": format!("ch_bench{run}{i:08}"),
            "livemode": false, "payment_method": format!("pm_bench{run}{i:08}"),
            "payment_method_types": ["card"], "receipt_email": "bench@example.com",
            "status": if kind.ends_with("succeeded") { "succeeded" } else { "requires_payment_method" },
            "metadata": {"slotpay_checkout": format!("cs_bench{run}{i:08}"), "slotpay_merchant": "mer_bench",
                "booking_ref": "BK-2026-000123"},
            "payment_method_options": {"card": {"installments": null, "mandate_options": null,
                "network": null, "request_three_d_secure": "automatic"}},
        })
    };
    json!({
        "id": format!("evt_bench{run}{i:08}"), "object": "event", "api_version": "2024-06-20",
        "created": created, "livemode": false, "pending_webhooks": 1, "type": kind,
        "request": {"id": format!("req_bench{i:08}"), "idempotency_key": format!("slotpay:cs_bench{run}{i:08}:pi")},
        "data": {"object": object},
    })
    .to_string()
}

/// Core's `verify` on pre-signed events in a tight loop, one thread: verifications per second.
fn hmac_ceiling(bodies: &[(String, String)], min_time: Duration) -> f64 {
    let now = now();
    let start = Instant::now();
    let mut n = 0_u64;
    while start.elapsed() < min_time {
        for (body, header) in bodies.iter().take(1_000) {
            let ok = webhook_signature::verify(
                Some(header),
                body.as_bytes(),
                &[SIGNING_SECRET],
                now,
                webhook_signature::DEFAULT_TOLERANCE_SECS,
            );
            assert!(ok.is_ok(), "a pre-signed event does not verify");
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// A merchant whose integration has the pasted signing secret (no Stripe call is needed).
async fn seed_merchant(client: &reqwest::Client, url: &str) -> String {
    let admin = |r: reqwest::RequestBuilder| r.bearer_auth(ADMIN_TOKEN);
    let m: Value = admin(client.post(format!("{url}/v1/admin/merchants")))
        .json(&json!({"name": "Bench salon", "allowed_origins": ["https://salon.example"]}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("merchant created")
        .json()
        .await
        .expect("merchant JSON");
    let id = m["id"].as_str().expect("merchant id").to_owned();
    admin(client.put(format!("{url}/v1/admin/merchants/{id}/integration")))
        .json(&json!({
            "publishable_key": "pk_test_51BenchIngestPublishableKey000000000000",
            "secret_key": "sk_test_51BenchIngestSecretKey00000000000000000",
            "webhook_secret": SIGNING_SECRET,
            "mode": "sandbox",
        }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("integration with a pasted signing secret");
    id
}

/// What one database's run measured.
struct Run {
    database: &'static str,
    events: usize,
    seconds: f64,
    server_cpu_s: f64,
    /// The server's CPU from the first post until every event was processed.
    server_cpu_total_s: f64,
    client_cpu_s: f64,
    latencies_ms: Vec<f64>,
    stored: i64,
    duplicates_ok: bool,
    processed_after_s: Option<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.saturating_sub(1).min(sorted.len() - 1)]
}

/// Counts rows through the database itself, not the server.
async fn count(url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("bench connects to the database");
    let n: i64 = sqlx::query(sql)
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .try_get(0)
        .expect("a count");
    conn.close().await.ok();
    n
}

async fn post_all(
    client: &reqwest::Client,
    endpoint: &str,
    signed: Arc<Vec<(String, String)>>,
    concurrency: usize,
    expect_duplicate: bool,
) -> (f64, Vec<f64>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, endpoint, signed, next) = (
            client.clone(),
            endpoint.to_owned(),
            signed.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, header)) = signed.get(i) else {
                    break;
                };
                let sent = Instant::now();
                let answer = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .header("stripe-signature", header)
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match answer {
                    Ok(r) if r.status() == 200 => match r.json::<Value>().await {
                        Ok(v) => {
                            v["received"] == true && (v["duplicate"] == true) == expect_duplicate
                        }
                        Err(_) => false,
                    },
                    _ => false,
                };
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    refused += 1;
                }
            }
            (latencies, refused)
        }));
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (l, r) = t.await.expect("poster task");
        latencies.extend(l);
        refused += r;
    }
    (start.elapsed().as_secs_f64(), latencies, refused)
}

async fn run_one(
    database: &'static str,
    database_url: &str,
    o: &Options,
    tag: &str,
) -> Result<Run, String> {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let server = start_server(
        data_dir.path(),
        database_url,
        &data_dir.path().join("server.log"),
        &[],
    )
    .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(o.concurrency)
        .build()
        .expect("HTTP client");
    let merchant = seed_merchant(&client, &server.url).await;
    let endpoint = format!("{}/v1/webhooks/stripe/{merchant}", server.url);
    let created = now();
    let signed: Vec<(String, String)> = (0..o.events)
        .map(|i| {
            let body = event_body(&format!("{tag}m"), i, created);
            let header = signature_header(now(), &[SIGNING_SECRET], body.as_bytes());
            (body, header)
        })
        .collect();
    let signed = Arc::new(signed);
    // A short warm-up on other ids (connections, the server's caches, the database's pages).
    let warm: Vec<(String, String)> = (0..(o.events / 20).clamp(50, 1_000))
        .map(|i| {
            let body = event_body(&format!("{tag}w"), i, created);
            let header = signature_header(now(), &[SIGNING_SECRET], body.as_bytes());
            (body, header)
        })
        .collect();
    let warm_count = warm.len();
    let (_, _, refused) = post_all(&client, &endpoint, Arc::new(warm), o.concurrency, false).await;
    if refused > 0 {
        return Err(format!(
            "{database}: {refused} warm-up events not accepted (see {})",
            data_dir.path().join("server.log").display()
        ));
    }

    let cpu_before = (
        cpu_seconds(server.child.id()),
        cpu_seconds(std::process::id()),
    );
    let perf = o.profile.as_ref().map(|dir| {
        Perf::start(
            server.child.id(),
            &dir.join(format!("webhooks-{database}.perf.data")),
        )
    });
    let started = Instant::now();
    let (seconds, mut latencies_ms, refused) =
        post_all(&client, &endpoint, signed.clone(), o.concurrency, false).await;
    let server_cpu_s = cpu_seconds(server.child.id()) - cpu_before.0;
    let client_cpu_s = cpu_seconds(std::process::id()) - cpu_before.1;
    if refused > 0 {
        return Err(format!(
            "{database}: {refused} of {} events were not answered 200 received",
            o.events
        ));
    }
    latencies_ms.sort_by(f64::total_cmp);

    // Processing runs after each answer; wait until it has caught up (counted from the first post).
    let count_url = match database {
        "sqlite" => format!(
            "sqlite://{}?mode=ro",
            data_dir.path().join("slotpay.db").display()
        ),
        _ => database_url.to_owned(),
    };
    let mut processed_after_s = None;
    while started.elapsed() < Duration::from_secs(120) {
        let pending = count(
            &count_url,
            "SELECT COUNT(*) FROM stripe_events WHERE processed_at IS NULL",
        )
        .await;
        if pending == 0 {
            processed_after_s = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server_cpu_total_s = cpu_seconds(server.child.id()) - cpu_before.0;
    if let Some(perf) = perf {
        perf.stop();
    }

    // The guarantees: one row per id, none lost; a re-post is a duplicate and adds nothing.
    let sample: Vec<(String, String)> = signed.iter().step_by(50).cloned().collect();
    let (_, _, not_duplicate) =
        post_all(&client, &endpoint, Arc::new(sample), o.concurrency, true).await;
    let ids_sql =
        format!("SELECT COUNT(*) FROM stripe_events WHERE event_id LIKE 'evt_bench{tag}m%'");
    let stored = count(&count_url, &ids_sql).await;
    let all = count(&count_url, "SELECT COUNT(*) FROM stripe_events").await;
    let duplicates_ok = not_duplicate == 0 && all == (o.events + warm_count) as i64;

    drop(server);
    Ok(Run {
        database,
        events: o.events,
        seconds,
        server_cpu_s,
        server_cpu_total_s,
        client_cpu_s,
        latencies_ms,
        stored,
        duplicates_ok,
        processed_after_s,
    })
}

fn main() -> std::process::ExitCode {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async_main(o))
}

async fn async_main(o: Options) -> std::process::ExitCode {
    let created = now();
    let sample: Vec<(String, String)> = (0..1_000)
        .map(|i| {
            let body = event_body("h", i, created);
            let header = signature_header(created, &[SIGNING_SECRET], body.as_bytes());
            (body, header)
        })
        .collect();
    let body_bytes = sample.iter().map(|(b, _)| b.len()).sum::<usize>() / sample.len();
    let ceiling = hmac_ceiling(
        &sample,
        Duration::from_millis(if o.smoke { 200 } else { 1_000 }),
    );
    println!(
        "webhook ingest: {} events per database ({} B mean body, {} event types), {} concurrent posts, binary {}",
        o.events,
        body_bytes,
        EVENT_TYPES.len(),
        o.concurrency,
        Path::new(env!("CARGO_BIN_EXE_slotpay")).display()
    );
    println!("ceiling: core's webhook_signature::verify, one thread in-process: {ceiling:.0} verifications/s");

    let mut runs = Vec::new();
    let mut failures = Vec::new();
    let tag = format!("{:04x}", rand::random::<u16>());
    match run_one("sqlite", "", &o, &tag).await {
        Ok(r) => runs.push(r),
        Err(e) => failures.push(e),
    }
    match (&o.postgres, o.sqlite_only) {
        (Some(admin), false) => {
            let (url, name) = create_pg_database(admin).await;
            let result = run_one("postgres", &url, &o, &tag).await;
            drop_pg_database(admin, &name).await;
            match result {
                Ok(r) => runs.push(r),
                Err(e) => failures.push(e),
            }
        }
        (None, false) => {
            println!("postgres: skipped (no --postgres URL and SLOTPAY_TEST_POSTGRES_URL is unset)")
        }
        _ => {}
    }

    let mut json_runs = Vec::new();
    for r in &runs {
        let rate = r.events as f64 / r.seconds;
        let (p50, p99) = (
            percentile(&r.latencies_ms, 50.0),
            percentile(&r.latencies_ms, 99.0),
        );
        println!(
            "{:<9} {:>8.0} events/s verified and stored ({} in {:.2} s; answer p50 {:.2} ms, p99 {:.2} ms; CPU s: server {:.2}, this client {:.2}); server CPU per event {:.0} µs until processed ({:.0} µs answering); {}/{} rows, duplicates {}; processed after {}",
            r.database,
            rate,
            r.events,
            r.seconds,
            p50,
            p99,
            r.server_cpu_s,
            r.client_cpu_s,
            r.server_cpu_total_s * 1e6 / r.events as f64,
            r.server_cpu_s * 1e6 / r.events as f64,
            r.stored,
            r.events,
            if r.duplicates_ok { "refused (ok)" } else { "NOT REFUSED" },
            r.processed_after_s
                .map_or("not within 120 s".to_owned(), |s| format!("{s:.2} s")),
        );
        if r.stored != r.events as i64 || !r.duplicates_ok {
            failures.push(format!(
                "{}: {} of {} events stored, duplicates refused: {}",
                r.database, r.stored, r.events, r.duplicates_ok
            ));
        }
        json_runs.push(json!({
            "database": r.database, "events": r.events, "seconds": r.seconds,
            "events_per_s": rate, "server_cpu_s": r.server_cpu_s, "server_cpu_total_s": r.server_cpu_total_s,
            "server_cpu_us_per_event": r.server_cpu_total_s * 1e6 / r.events as f64, "client_cpu_s": r.client_cpu_s, "p50_ms": p50, "p99_ms": p99, "stored": r.stored,
            "duplicates_refused": r.duplicates_ok, "processed_after_s": r.processed_after_s,
            "fraction_of_ceiling": rate / ceiling,
        }));
    }
    for f in &failures {
        eprintln!("webhook_ingest: FAILED: {f}");
    }
    println!(
        "{}",
        json!({
            "bench": "webhook_ingest", "events": o.events, "concurrency": o.concurrency,
            "body_bytes": body_bytes, "hmac_verify_per_s_one_thread": ceiling,
            "runs": json_runs, "failures": failures,
        })
    );
    if failures.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
