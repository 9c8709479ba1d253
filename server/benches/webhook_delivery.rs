//! Webhook delivery benchmark: how many events per second the real `slotpay` binary signs
//! and delivers to a booking platform's receiver, on SQLite and on PostgreSQL.
//!
//! ```text
//! cargo bench -p slotpay-server --bench webhook_delivery -- [--events N] [--postgres URL]
//!     [--sqlite-only] [--smoke]
//! ```
//!
//! Each run starts the binary (`CARGO_BIN_EXE_slotpay`) on a fresh database, registers a
//! webhook endpoint for a receiver in this process (an HTTP server on loopback that answers
//! 204 and checks one request in 100 with the Standard Webhooks reference library), then
//! writes N events straight into the outbox in one transaction (`Db::insert_events`, as the
//! server's own changes do, with a delivery each) so that writing them costs the clock
//! nothing. The figure is deliveries per second from the first request the receiver gets to
//! the N-th; the receiver shares the two cores with the server. Afterwards it checks that
//! every event arrived exactly once and every delivery is recorded `succeeded`. Prints text,
//! then one JSON line. `--smoke` (and any run without `--bench`) delivers 1,000 events.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use secrecy::SecretString;
use serde_json::{json, Value};
use slotpay_server::db::{Db, PlatformEvent};
use slotpay_server::model::EventType;

mod support;
use support::{cpu_seconds, create_pg_database, drop_pg_database, now, start_server, ADMIN_TOKEN};

struct Options {
    events: usize,
    postgres: Option<String>,
    sqlite_only: bool,
}

fn options() -> Options {
    let mut events = None;
    let mut o = Options {
        events: 20_000,
        postgres: std::env::var("SLOTPAY_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        sqlite_only: false,
    };
    let (mut smoke, mut under_cargo_bench) = (false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--events" => events = args.next().and_then(|v| v.parse().ok()),
            "--postgres" => o.postgres = args.next(),
            "--sqlite-only" => o.sqlite_only = true,
            "--smoke" => smoke = true,
            "--bench" => under_cargo_bench = true,
            other => {
                eprintln!("webhook_delivery: unknown argument {other}\nusage: cargo bench -p slotpay-server --bench webhook_delivery -- [--events N] [--postgres URL] [--sqlite-only] [--smoke]");
                std::process::exit(2);
            }
        }
    }
    if !under_cargo_bench {
        smoke = true;
    }
    o.events = events.unwrap_or(if smoke { 1_000 } else { o.events });
    o
}

/// What the receiver saw: each id once, duplicates, refused signatures, and when.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    duplicates: usize,
    forged: usize,
    checked: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Receiver {
    seen: Mutex<Seen>,
    secret: Mutex<String>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut seen = r.seen.lock().unwrap();
    if seen.ids.len() % 100 == 0 {
        seen.checked += 1;
        let secret = r.secret.lock().unwrap().clone();
        let ok = standardwebhooks::Webhook::new(&secret)
            .map(|w| w.verify(&body, &headers).is_ok())
            .unwrap_or(false);
        if !ok {
            seen.forged += 1;
            return StatusCode::BAD_REQUEST;
        }
    }
    let at = Instant::now();
    seen.first.get_or_insert(at);
    seen.last = Some(at);
    if !seen.ids.insert(id) {
        seen.duplicates += 1;
    }
    StatusCode::NO_CONTENT
}

struct Measured {
    database: &'static str,
    events: usize,
    seconds: f64,
    server_cpu_s: f64,
    delivered: usize,
    duplicates: usize,
    forged: usize,
    checked: usize,
    succeeded_rows: i64,
}

/// One event as the server writes it: a checkout's view of the usual size.
fn event(i: usize, created: i64) -> PlatformEvent {
    let id = format!("evt_bench{i:08}");
    let payload = json!({
        "id": id, "type": "checkout.paid", "created": created, "merchant_id": "mer_bench",
        "data": {"checkout": {
            "token": format!("cs_bench{i:040}"), "merchant_id": "mer_bench", "service_id": null,
            "source": "platform", "status": "paid", "amount": 4500, "currency": "eur",
            "description": "Haircut, 30 % deposit", "booking_ref": format!("BK-2026-{i:06}"),
            "customer_email": "lea@example.com", "link": false, "expires_at": created + 900,
            "capture_method": "automatic", "payment_intent_id": format!("pi_bench{i:016}"),
            "charge_id": format!("ch_bench{i:016}"), "card": {"brand": "visa", "last4": "4242"},
            "amount_authorized": 0, "amount_captured": 4500, "amount_refunded": 0,
            "amount_refundable": 4500, "stripe_fee": null, "stripe_fee_currency": null,
            "cancellation_fee_offer": null, "card_saved": false, "declined_attempts": 0,
            "created_at": created, "updated_at": created, "authorized_at": null,
            "paid_at": created, "canceled_at": null,
        }},
    });
    PlatformEvent {
        id,
        merchant_id: "mer_bench".into(),
        kind: EventType::CheckoutPaid,
        checkout_token: None,
        created_at: created,
        payload: payload.to_string(),
    }
}

async fn run_one(database: &'static str, database_url: &str, n: usize) -> Result<Measured, String> {
    let data_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let receiver = Arc::new(Receiver {
        seen: Mutex::new(Seen::default()),
        secret: Mutex::new(String::new()),
    });
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let hooks = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = start_server(
        data_dir.path(),
        database_url,
        &data_dir.path().join("server.log"),
        &[("SLOTPAY_WEBHOOK_ALLOW_PRIVATE", "true")],
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let e: Value = client
        .post(format!("{}/v1/admin/webhook-endpoints", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"url": hooks}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("endpoint: {e}"))?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    *receiver.secret.lock().unwrap() = e["secret"].as_str().unwrap_or_default().to_owned();

    let url = if database_url.is_empty() {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.path().join("slotpay.db").display()
        )
    } else {
        database_url.to_owned()
    };
    let db = Db::connect(&SecretString::from(url), 2)
        .await
        .map_err(|e| e.to_string())?;
    let created = now();
    let events: Vec<PlatformEvent> = (0..n).map(|i| event(i, created)).collect();
    let cpu_before = cpu_seconds(server.child.id());
    db.insert_events(&events).await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done = receiver.seen.lock().unwrap().ids.len() >= n;
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The last outcomes are written just after the last answer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server_cpu_s = cpu_seconds(server.child.id()) - cpu_before;
    let succeeded_rows = db
        .count_deliveries(slotpay_server::model::DeliveryStatus::Succeeded)
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    drop(server);
    let seen = receiver.seen.lock().unwrap();
    let seconds = match (seen.first, seen.last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => f64::NAN,
    };
    Ok(Measured {
        database,
        events: n,
        seconds,
        server_cpu_s,
        delivered: seen.ids.len(),
        duplicates: seen.duplicates,
        forged: seen.forged,
        checked: seen.checked,
        succeeded_rows,
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
    println!(
        "webhook delivery: {} events per database to a receiver in this process, binary {}",
        o.events,
        Path::new(env!("CARGO_BIN_EXE_slotpay")).display()
    );
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    match run_one("sqlite", "", o.events).await {
        Ok(r) => runs.push(r),
        Err(e) => failures.push(e),
    }
    if let (Some(admin), false) = (&o.postgres, o.sqlite_only) {
        let (url, name) = create_pg_database(admin).await;
        let result = run_one("postgres", &url, o.events).await;
        drop_pg_database(admin, &name).await;
        match result {
            Ok(r) => runs.push(r),
            Err(e) => failures.push(e),
        }
    }
    let mut json_runs = Vec::new();
    for r in &runs {
        let rate = (r.delivered.saturating_sub(1)) as f64 / r.seconds;
        println!(
            "{:<8} {:>6} delivered of {} in {:.2} s: {:>6.0} deliveries/s; server CPU {:.2} s \
             ({:.3} ms per delivery); duplicates {}, signatures checked {} (refused {}), \
             rows succeeded {}",
            r.database,
            r.delivered,
            r.events,
            r.seconds,
            rate,
            r.server_cpu_s,
            r.server_cpu_s * 1000.0 / r.events as f64,
            r.duplicates,
            r.checked,
            r.forged,
            r.succeeded_rows
        );
        if r.delivered != r.events || r.duplicates != 0 || r.forged != 0 {
            failures.push(format!(
                "{}: {} of {} delivered, {} duplicates, {} refused signatures",
                r.database, r.delivered, r.events, r.duplicates, r.forged
            ));
        }
        if r.succeeded_rows != r.events as i64 {
            failures.push(format!(
                "{}: {} deliveries recorded succeeded of {}",
                r.database, r.succeeded_rows, r.events
            ));
        }
        json_runs.push(json!({
            "database": r.database, "events": r.events, "seconds": r.seconds,
            "deliveries_per_s": rate, "server_cpu_s": r.server_cpu_s,
            "duplicates": r.duplicates,
        }));
    }
    for f in &failures {
        println!("FAILED: {f}");
    }
    println!(
        "{}",
        json!({"webhook_delivery": json_runs, "failures": failures})
    );
    if failures.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
