//! Scenario: webhooks to the booking platform through a receiver that misbehaves. Two
//! `slotpay` binaries on one database write events (checkouts made and canceled through the
//! platform API, spread over both) while the platform's receiver answers 500, hangs past the
//! timeout or drops the connection on 3 requests in 10, is down for a few seconds, and the
//! binaries are killed with SIGKILL mid-delivery and started again. The receiver verifies
//! every request with the Standard Webhooks reference library and keeps each event id once.
//! Every event slotpay wrote must reach it, verified; none may be failed or lost.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::ExposeSecret;
use serde_json::json;
use slotpay_server::secrets::MasterKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::crash::{admin, database, drop_store, Server};
use crate::support::{self, Findings, Run};

/// How long a hanging answer hangs (past the binaries' 2 s timeout).
const HANG: Duration = Duration::from_secs(4);

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Event ids accepted (verified, answered 2xx), each once.
    accepted: BTreeSet<String>,
    /// Requests of an id accepted before (at least once: dropped by the receiver).
    duplicates: usize,
    /// Requests whose signature the reference library refused.
    forged: usize,
    /// What the receiver did, by kind.
    behaviour: BTreeMap<&'static str, usize>,
}

/// The platform's receiver: raw HTTP/1.1 on a port, so it can hang up without answering.
struct Chaos {
    secret: Mutex<Option<String>>,
    seen: Mutex<Seen>,
    rng: Mutex<StdRng>,
    /// Share of requests it mishandles, in percent.
    misbehave: u32,
}

impl Chaos {
    fn note(&self, what: &'static str) {
        *self.seen.lock().unwrap().behaviour.entry(what).or_default() += 1;
    }
}

/// Reads one request: its headers and its body (by `content-length`).
async fn read_request(conn: &mut TcpStream) -> Option<(http::HeaderMap, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut headers = http::HeaderMap::new();
    for line in head.lines().skip(1).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            http::HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((headers, body))
}

async fn answer(conn: &mut TcpStream, status: &str) {
    let text = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = conn.write_all(text.as_bytes()).await;
    let _ = conn.shutdown().await;
}

async fn handle(chaos: Arc<Chaos>, mut conn: TcpStream) {
    let Some((headers, body)) = read_request(&mut conn).await else {
        return;
    };
    let roll = chaos.rng.lock().unwrap().gen_range(0..100);
    let third = chaos.misbehave / 3;
    if roll < third {
        chaos.note("500");
        return answer(&mut conn, "500 Internal Server Error").await;
    }
    if roll < 2 * third {
        chaos.note("hung");
        tokio::time::sleep(HANG).await;
        return;
    }
    if roll < chaos.misbehave {
        chaos.note("dropped");
        return;
    }
    let secret = chaos.secret.lock().unwrap().clone().unwrap_or_default();
    let verified = standardwebhooks::Webhook::new(&secret)
        .ok()
        .is_some_and(|w| w.verify(&body, &headers).is_ok());
    if !verified {
        chaos.seen.lock().unwrap().forged += 1;
        return answer(&mut conn, "400 Bad Request").await;
    }
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    {
        let mut seen = chaos.seen.lock().unwrap();
        if !seen.accepted.insert(id) {
            seen.duplicates += 1;
        }
        *seen.behaviour.entry("accepted").or_default() += 1;
    }
    answer(&mut conn, "204 No Content").await;
}

/// Accepts on `port` until `down` turns true, then closes the listener (connections are
/// refused) until it turns false again.
async fn serve(chaos: Arc<Chaos>, port: u16, down: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let listener = match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                support::sleep_ms(50).await;
                continue;
            }
            Err(e) => panic!("receiver: {e}"),
        };
        while !down.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
            if let Ok(Ok((conn, _))) =
                tokio::time::timeout(Duration::from_millis(100), listener.accept()).await
            {
                tokio::spawn(handle(chaos.clone(), conn));
            }
        }
        drop(listener);
        while down.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
            support::sleep_ms(50).await;
        }
    }
}

/// Every event id slotpay holds, through the events API (newest first, page by page).
async fn event_ids(http: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .map(|a| format!("&starting_after={a}"))
            .unwrap_or_default();
        let page = admin(
            http,
            base,
            token,
            reqwest::Method::GET,
            &format!("/v1/admin/events?limit=100{cursor}"),
            None,
        )
        .await
        .expect(200);
        let data = page.json["data"].as_array().cloned().unwrap_or_default();
        ids.extend(
            data.iter()
                .filter_map(|e| e["id"].as_str().map(str::to_owned)),
        );
        if page.json["has_more"] != true || data.is_empty() {
            return ids;
        }
        after = ids.last().cloned();
    }
}

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "delivery",
        "webhooks to the platform through a receiver that fails, hangs, hangs up and goes down, while both senders are killed",
    );
    let pg = std::env::var("SLOTPAY_TEST_POSTGRES_URL").is_ok();
    match delivery_run(&mut f, run, pg).await {
        Ok(headline) => f.headline = headline,
        Err(e) => f.fail(e),
    }
    f
}

async fn delivery_run(f: &mut Findings, run: Run, pg: bool) -> Result<String, String> {
    let n = run.scale.pick(60, 600);
    let kills = run.scale.pick(3, 10);
    let backend = if pg { "PostgreSQL" } else { "SQLite" };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (store, database_url) = database(dir.path(), pg).await?;
    let master = MasterKey::generate();
    support::secret("delivery: master key", master.to_hex().expose_secret());
    let admin_token = format!("fault-admin-{}", hex::encode(rand::random::<[u8; 16]>()));
    support::secret("delivery: admin token", &admin_token);
    let env: Vec<(String, String)> = [
        ("SLOTPAY_DATA_DIR", dir.path().display().to_string()),
        ("SLOTPAY_DATABASE_URL", database_url.clone()),
        ("SLOTPAY_ADMIN_TOKEN", admin_token.clone()),
        (
            "SLOTPAY_MASTER_KEY",
            master.to_hex().expose_secret().to_owned(),
        ),
        ("SLOTPAY_RATE_LIMIT_IP", "100000,100000".into()),
        ("SLOTPAY_WEBHOOK_ALLOW_PRIVATE", "true".into()),
        ("SLOTPAY_WEBHOOK_TIMEOUT_SECS", "2".into()),
        ("SLOTPAY_WEBHOOK_RETRY_SECS", vec!["1"; 30].join(",")),
        ("SLOTPAY_LOG", "json".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut servers = vec![
        Server::new(dir.path(), env.clone()),
        Server::new(dir.path(), env),
    ];
    // The first applies the migrations alone.
    servers[0].start().await;
    servers[1].start().await;
    let bases: Vec<String> = servers.iter().map(Server::url).collect();
    let http = support::client();

    let chaos = Arc::new(Chaos {
        secret: Mutex::new(None),
        seen: Mutex::new(Seen::default()),
        rng: Mutex::new(StdRng::seed_from_u64(run.seed ^ 0xde11)),
        misbehave: 30,
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let receiver = tokio::spawn(serve(chaos.clone(), port, down.clone(), stop.clone()));

    let m = admin(
        &http,
        &bases[0],
        &admin_token,
        reqwest::Method::POST,
        "/v1/admin/merchants",
        Some(json!({"name": "Salon Delivery", "allowed_origins": ["https://salon.example"]})),
    )
    .await;
    let merchant = m.json["id"].as_str().ok_or("no merchant id")?.to_owned();
    // The one answer that shows the endpoint's secret, on purpose: not kept for the scan.
    let e: serde_json::Value = http
        .post(format!("{}/v1/admin/webhook-endpoints", bases[1]))
        .bearer_auth(&admin_token)
        .json(&json!({"url": format!("http://127.0.0.1:{port}/hooks")}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let secret = e["secret"].as_str().ok_or("no endpoint secret")?.to_owned();
    support::secret("delivery: endpoint signing secret", &secret);
    *chaos.secret.lock().unwrap() = Some(secret);

    let mut rng = StdRng::seed_from_u64(run.seed ^ 0x5e_d0);
    let every_ms = 50;
    let load_ms = n as u64 * every_ms;
    let kill_at: BTreeSet<usize> = (0..kills).map(|_| rng.gen_range(n / 10..n)).collect();
    let down_from = rng.gen_range(n / 4..n / 2);
    f.tried(format!(
        "{backend}: {n} checkouts made and canceled over {:.0} s on 2 binaries \
         ({n} checkout.canceled events); the receiver answers 500, hangs 4 s (the timeout is \
         2 s) or hangs up without an answer on {} % of requests, and is down for 3 s; \
         {} SIGKILLs of a sender at seeded moments, restarted at once; retries every 1 s",
        load_ms as f64 / 1000.0,
        chaos.misbehave,
        kill_at.len()
    ));
    let started = Instant::now();
    let mut killed = 0;
    for i in 0..n {
        let base = &bases[i % 2];
        let c = admin(
            &http,
            base,
            &admin_token,
            reqwest::Method::POST,
            &format!("/v1/admin/merchants/{merchant}/checkouts"),
            Some(json!({"amount": 2500, "currency": "eur", "description": format!("Slot {i}")})),
        )
        .await;
        let token = c.json["token"]
            .as_str()
            .ok_or("no checkout token")?
            .to_owned();
        admin(
            &http,
            base,
            &admin_token,
            reqwest::Method::POST,
            &format!("/v1/admin/checkouts/{token}/cancel"),
            Some(json!({})),
        )
        .await
        .expect(200);
        if i == down_from {
            down.store(true, Ordering::SeqCst);
            let down = down.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                down.store(false, Ordering::SeqCst);
            });
        }
        if kill_at.contains(&i) {
            // The other binary takes the load meanwhile; this one comes back at once.
            let s = &mut servers[(i + 1) % 2];
            s.kill().await;
            s.start().await;
            killed += 1;
        }
        support::sleep_ms(every_ms).await;
    }

    let written = event_ids(&http, &bases[0], &admin_token).await;
    // A killed sender's claim lapses after the timeout and 20 s; then another sends it.
    let deadline = Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let missing: Vec<String> = {
            let seen = chaos.seen.lock().unwrap();
            written
                .iter()
                .filter(|id| !seen.accepted.contains(*id))
                .cloned()
                .collect()
        };
        if missing.is_empty() || Instant::now() > deadline {
            break missing;
        }
        support::sleep_ms(250).await;
    };
    let settled = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let _ = receiver.await;
    let mut failed = 0;
    for id in written.iter().take(20) {
        let one = admin(
            &http,
            &bases[0],
            &admin_token,
            reqwest::Method::GET,
            &format!("/v1/admin/events/{id}"),
            None,
        )
        .await;
        if one.json["deliveries"][0]["status"] == "failed" {
            failed += 1;
        }
    }
    let logs: String = servers
        .iter()
        .map(Server::logs)
        .collect::<Vec<_>>()
        .join("\n");
    for s in &mut servers {
        s.kill().await;
    }
    support::keep_text("delivery.log", &logs);
    drop_store(&store).await;

    let seen = chaos.seen.lock().unwrap();
    f.found(format!(
        "{backend}: {} events written, {} accepted by the receiver ({} duplicates dropped \
         by it, {} forged), {} missing after {:.1} s; the receiver: {}; {killed} kills",
        written.len(),
        seen.accepted.len(),
        seen.duplicates,
        seen.forged,
        missing.len(),
        settled.as_secs_f64(),
        seen.behaviour
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    f.check(written.len() == n, || {
        format!("{} events written for {n} cancellations", written.len())
    });
    f.check(missing.is_empty(), || {
        format!(
            "{} events never reached the receiver: {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        )
    });
    f.check(seen.forged == 0, || {
        format!(
            "{} requests failed the reference library's check",
            seen.forged
        )
    });
    f.check(failed == 0, || format!("{failed} deliveries ended failed"));
    Ok(format!(
        "{backend}: {}/{} events reached the receiver through {} kills ({} duplicates dropped)",
        seen.accepted.len(),
        written.len(),
        killed,
        seen.duplicates
    ))
}
