//! Scenario 4, crash: the `slotpay` binary, on SQLite or PostgreSQL, killed with SIGKILL at seeded
//! random moments while clients pay checkouts, and started again at once; Stripe's webhooks
//! (retried while it is down) and the reconciler (at start, then every second, checkouts in
//! flight for 2 s due) settle what the kills left. Then Stripe's books and slotpay's must
//! agree: every PaymentIntent that succeeded is `paid` in slotpay, none twice, and nothing is
//! left in flight once the leases of the killed processes (30 s) have lapsed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use slotpay_server::db::Db;
use slotpay_server::secrets::MasterKey;
use sqlx::Connection;
use stripe_sandbox::{FaultKind, FaultRule, Sandbox, SandboxConfig, SandboxHandle, When};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, Semaphore};

use crate::helpers;
use crate::support::{self, Findings, Run};

/// The binary's lease on a checkout (`payments::LEASE_SECS`): how long a killed process's
/// claim holds.
const LEASE_SECS: u64 = 30;

/// Where the binary keeps its data.
pub(crate) enum Store {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

/// The binary, started and killed by the harness.
pub(crate) struct Server {
    port: u16,
    env: Vec<(String, String)>,
    dir: PathBuf,
    child: Option<Child>,
    starts: usize,
}

impl Server {
    /// A binary on a free port with `env` (and `SLOTPAY_LISTEN`), its logs in `dir`; not
    /// started.
    pub(crate) fn new(dir: &std::path::Path, mut env: Vec<(String, String)>) -> Server {
        let port = free_port();
        env.push(("SLOTPAY_LISTEN".into(), format!("127.0.0.1:{port}")));
        Server {
            port,
            env,
            dir: dir.to_path_buf(),
            child: None,
            starts: 0,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the binary (its log to `server-<port>-<n>.log`) and waits for `/healthz`.
    pub(crate) async fn start(&mut self) {
        self.starts += 1;
        let log =
            std::fs::File::create(self.dir.join(self.log_name(self.starts))).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_slotpay"))
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("the slotpay binary starts");
        self.child = Some(child);
        let http = support::client();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/healthz", self.url())).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            support::sleep_ms(50).await;
        }
        panic!(
            "slotpay did not answer /healthz within 60 s (start {})",
            self.starts
        );
    }

    fn log_name(&self, n: usize) -> String {
        format!("server-{}-{n}.log", self.port)
    }

    /// SIGKILL: no shutdown, no flush.
    pub(crate) async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.start_kill().expect("kill -9");
            let _ = c.wait().await;
        }
    }

    /// Its logs, concatenated.
    pub(crate) fn logs(&self) -> String {
        (1..=self.starts)
            .map(|n| std::fs::read_to_string(self.dir.join(self.log_name(n))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An admin API call on the binary.
pub(crate) async fn admin(
    http: &reqwest::Client,
    server: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> helpers::Resp {
    let mut req = http
        .request(method, format!("{server}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = helpers::into_resp(req.send().await.expect("the server answers")).await;
    support::keep(&r);
    r
}

/// A PaymentMethod made as Stripe.js makes it.
async fn card(http: &reqwest::Client, sandbox: &SandboxHandle, number: &str) -> String {
    let v: Value = http
        .post(format!("{}/v1/payment_methods", sandbox.url))
        .bearer_auth(&sandbox.publishable_key)
        .form(&[
            ("type", "card"),
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .expect("the sandbox answers")
        .json()
        .await
        .expect("a PaymentMethod");
    v["id"].as_str().expect("pm_ id").to_owned()
}

/// Pay requests that got no answer (the server died under them).
static CUT: AtomicUsize = AtomicUsize::new(0);

/// A client who keeps trying with the same key (through kills) until an answer that is not
/// "try again", or `patience` runs out. Returns the last answer's label and the tries.
async fn patient_pay(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    pm: &str,
    key: &str,
    patience: Duration,
) -> (String, usize) {
    let deadline = Instant::now() + patience;
    let body = json!({"payment_method": pm, "email": "lea@example.com", "save_card": false});
    let mut tries = 0;
    let mut last = "no answer".to_owned();
    while Instant::now() < deadline {
        tries += 1;
        match http
            .post(format!("{base}/v1/checkouts/{token}/pay"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
        {
            Ok(r) => {
                let r = helpers::into_resp(r).await;
                support::keep(&r);
                last = support::label(Some(&r));
                let again = r.status.is_server_error()
                    || r.status.as_u16() == 429
                    || r.code() == "payment_in_progress";
                if !again {
                    return (last, tries);
                }
            }
            Err(_) => {
                last = "no answer".into();
                CUT.fetch_add(1, Ordering::SeqCst);
            }
        }
        support::sleep_ms(400).await;
    }
    (last, tries)
}

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "crash",
        "kill -9 of the slotpay binary during pays, restarted; webhooks and the reconciler settle",
    );
    let mut stores = vec![("SQLite", false)];
    if run.scale == support::Scale::Full || std::env::var("SLOTPAY_TEST_POSTGRES_URL").is_ok() {
        stores.push(("PostgreSQL", true));
    }
    if run.scale == support::Scale::Smoke {
        // One backend is enough for the smoke run: PostgreSQL when there is one.
        stores.remove(0);
        if stores.is_empty() {
            stores.push(("SQLite", false));
        }
    }
    let mut headlines = Vec::new();
    for (i, (name, pg)) in stores.iter().enumerate() {
        match crash_run(&mut f, run, name, *pg, run.seed + i as u64).await {
            Ok(h) => headlines.push(h),
            Err(e) => f.fail(format!("{name}: {e}")),
        }
    }
    f.headline = headlines.join("; ");
    f
}

async fn crash_run(
    f: &mut Findings,
    run: Run,
    backend: &str,
    pg: bool,
    seed: u64,
) -> Result<String, String> {
    let n = run.scale.pick(40, 300);
    let kills = run.scale.pick(4, 15);
    let sandbox = Sandbox::start(SandboxConfig {
        webhook_retry_base: Duration::from_millis(250),
        webhook_max_attempts: 10,
        webhook_timeout: Duration::from_secs(5),
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| format!("sandbox: {e}"))?;
    let label = format!("crash {backend}");
    support::secret(&format!("{label}: sandbox secret key"), &sandbox.secret_key);
    support::secret(
        &format!("{label}: sandbox restricted key"),
        &sandbox.restricted_key,
    );
    let master = MasterKey::generate();
    support::secret(
        &format!("{label}: master key"),
        master.to_hex().expose_secret(),
    );
    let admin_token = format!("fault-admin-{}", hex::encode(rand::random::<[u8; 16]>()));
    support::secret(&format!("{label}: admin token"), &admin_token);

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (store, database_url) = database(dir.path(), pg).await?;
    let mut server = Server::new(
        dir.path(),
        vec![
            ("SLOTPAY_DATA_DIR".into(), dir.path().display().to_string()),
            ("SLOTPAY_DATABASE_URL".into(), database_url.clone()),
            ("SLOTPAY_ADMIN_TOKEN".into(), admin_token.clone()),
            (
                "SLOTPAY_MASTER_KEY".into(),
                master.to_hex().expose_secret().to_owned(),
            ),
            ("SLOTPAY_STRIPE_API_BASE".into(), sandbox.url.clone()),
            ("SLOTPAY_STRIPE_JS_URL".into(), sandbox.stripe_js_url()),
            ("SLOTPAY_STRIPE_TIMEOUT_SECS".into(), "5".into()),
            ("SLOTPAY_RATE_LIMIT_IP".into(), "100000,100000".into()),
            ("SLOTPAY_RATE_LIMIT_MERCHANT".into(), "100000,100000".into()),
            ("SLOTPAY_RECONCILE_INTERVAL_SECS".into(), "1".into()),
            ("SLOTPAY_RECONCILE_STALE_SECS".into(), "2".into()),
            ("SLOTPAY_LOG".into(), "json".into()),
            ("RUST_LOG".into(), "info,slotpay_server=debug".into()),
        ],
    );
    server.start().await;
    let base = server.url();
    let http = support::client();

    // A merchant on the sandbox, its webhooks coming to the binary's fixed port.
    let m = admin(
        &http,
        &base,
        &admin_token,
        reqwest::Method::POST,
        "/v1/admin/merchants",
        Some(json!({"name": "Salon Crash", "allowed_origins": ["https://salon.example"]})),
    )
    .await;
    let merchant = m.json["id"].as_str().ok_or("no merchant id")?.to_owned();
    // Its webhook endpoint made at Stripe by hand and its signing secret pasted (so the
    // harness knows the secret to look for).
    let mut form: Vec<(String, String)> = vec![(
        "url".into(),
        format!("{base}/v1/webhooks/stripe/{merchant}"),
    )];
    for e in slotpay_server::domain::integrations::WEBHOOK_EVENTS {
        form.push(("enabled_events[]".into(), (*e).to_owned()));
    }
    let endpoint: Value = http
        .post(format!("{}/v1/webhook_endpoints", sandbox.url))
        .bearer_auth(&sandbox.secret_key)
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let webhook_secret = endpoint["secret"]
        .as_str()
        .ok_or_else(|| format!("no signing secret: {endpoint}"))?
        .to_owned();
    support::secret(&format!("{label}: webhook signing secret"), &webhook_secret);
    let integration = json!({"publishable_key": sandbox.publishable_key,
        "secret_key": sandbox.secret_key, "webhook_secret": webhook_secret, "mode": "sandbox"});
    admin(
        &http,
        &base,
        &admin_token,
        reqwest::Method::PUT,
        &format!("/v1/admin/merchants/{merchant}/integration"),
        Some(integration),
    )
    .await
    .expect(200);
    admin(
        &http,
        &base,
        &admin_token,
        reqwest::Method::POST,
        &format!("/v1/admin/merchants/{merchant}/integration/activate"),
        Some(json!({})),
    )
    .await
    .expect(200);

    let mut rng = StdRng::seed_from_u64(seed ^ 0x000c_4a54);
    let mut plans = Vec::new();
    for i in 0..n {
        let r = admin(&http, &base, &admin_token, reqwest::Method::POST, &format!("/v1/admin/merchants/{merchant}/checkouts"),
            Some(json!({"amount": 2000 + 10 * i as i64, "currency": "eur", "description": format!("Crash {i}")}))).await;
        let token = r.json["token"]
            .as_str()
            .ok_or("no checkout token")?
            .to_owned();
        let number = if rng.gen_bool(0.1) {
            "4000000000000002"
        } else {
            "4242424242424242"
        };
        let patient = rng.gen_bool(0.75);
        plans.push((token, card(&http, &sandbox, number).await, patient));
    }
    // Pays arrive at a steady rate; one kill falls at a random moment of each equal slice of
    // the load.
    let every_ms = 100;
    let load_ms = n as u64 * every_ms;
    let slice = load_ms / kills as u64;
    let kill_at: Vec<u64> = (0..kills as u64)
        .map(|k| k * slice + rng.gen_range(slice / 10..slice * 9 / 10))
        .collect();
    let restart_after: Vec<u64> = (0..kills).map(|_| rng.gen_range(0..600)).collect();
    f.tried(format!(
        "{backend}: {n} checkouts (10 % declining cards), one pay arriving every {every_ms} ms, \
         3 clients in 4 patient (same key until an answer, up to 90 s), 1 in 4 giving up after \
         the widget's 4 tries; {kills} SIGKILLs at seeded moments of the {:.0} s load (seed \
         {seed}), each restarted after 0-600 ms; Stripe answers creations 100 ms late and \
         confirmations 300 ms after making them; reconciler every 1 s, in-flight checkouts due \
         after 2 s",
        load_ms as f64 / 1000.0
    ));

    let server = Arc::new(Mutex::new(server));
    let done = Arc::new(AtomicBool::new(false));
    // Stripe takes its time, so kills find pays in every stage: PaymentIntents being
    // created, and confirmations Stripe has made but not yet answered (the window where only
    // Stripe knows a payment succeeded).
    sandbox.set_faults(
        vec![
            FaultRule {
                method: Some("POST".into()),
                path: "/v1/payment_intents".into(),
                kind: FaultKind::Latency,
                latency_ms: Some(100),
                probability: None,
                when: When::Before,
                times: None,
            },
            FaultRule {
                method: Some("POST".into()),
                path: "/v1/payment_intents/*/confirm".into(),
                kind: FaultKind::Latency,
                latency_ms: Some(300),
                probability: None,
                when: When::After,
                times: None,
            },
        ],
        Some(seed),
    );
    let load_start = tokio::time::Instant::now();
    let killer = {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            let mut killed = 0;
            let mut last_kill = None;
            for (at, pause) in kill_at.into_iter().zip(restart_after) {
                tokio::time::sleep_until(load_start + Duration::from_millis(at)).await;
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let mut s = server.lock().await;
                s.kill().await;
                killed += 1;
                last_kill = Some(Instant::now());
                support::sleep_ms(pause).await;
                s.start().await;
            }
            (killed, last_kill)
        })
    };
    let slots = Arc::new(Semaphore::new(16));
    let tries = Arc::new(AtomicUsize::new(0));
    let mut jobs = Vec::new();
    for (i, (token, pm, patient)) in plans.clone().into_iter().enumerate() {
        let (http, base, slots, tries) = (http.clone(), base.clone(), slots.clone(), tries.clone());
        jobs.push(tokio::spawn(async move {
            tokio::time::sleep_until(load_start + Duration::from_millis(i as u64 * every_ms)).await;
            let _slot = slots.acquire().await.expect("semaphore");
            let (answer, n) = if patient {
                patient_pay(&http, &base, &token, &pm, "k1", Duration::from_secs(90)).await
            } else {
                let t = support::pay_like_widget(&http, &base, &token, &pm, "k1").await;
                (support::label(t.answer.as_ref()), t.tries)
            };
            tries.fetch_add(n, Ordering::SeqCst);
            let told_paid = answer == "200 succeeded";
            (
                token,
                told_paid,
                format!("{}{answer}", if patient { "" } else { "gave up after: " }),
            )
        }));
    }
    let mut answers = Vec::new();
    let mut told_paid = std::collections::BTreeSet::new();
    for j in jobs {
        let (token, paid, label) = j.await.map_err(|e| e.to_string())?;
        if paid {
            told_paid.insert(token);
        }
        answers.push(label);
    }
    done.store(true, Ordering::SeqCst);
    let (killed, last_kill) = killer.await.map_err(|e| e.to_string())?;
    f.check(killed == kills, || {
        format!("{backend}: only {killed} of {kills} kills fell during the load")
    });
    f.found(format!(
        "{backend}: {killed} kills, {} starts; {} pay requests, {} cut off by a kill (patient \
         clients); final answers: {}",
        server.lock().await.starts,
        tries.load(Ordering::SeqCst),
        CUT.swap(0, Ordering::SeqCst),
        support::tally(answers)
    ));

    // Settling: nothing in flight once the dead processes' leases lapsed and the reconciler ran.
    let settle_from = Instant::now();
    let deadline = settle_from + Duration::from_secs(LEASE_SECS + 45);
    let mut in_flight;
    loop {
        in_flight = Vec::new();
        for (token, _, _) in &plans {
            let r = admin(
                &http,
                &base,
                &admin_token,
                reqwest::Method::GET,
                &format!("/v1/admin/checkouts/{token}"),
                None,
            )
            .await;
            let s = r.json["status"].as_str().unwrap_or("?").to_owned();
            if matches!(s.as_str(), "processing" | "requires_action") {
                in_flight.push(token.clone());
            }
        }
        if in_flight.is_empty() || Instant::now() > deadline {
            break;
        }
        support::sleep_ms(1000).await;
    }
    let since_kill = last_kill.map_or(0.0, |k| k.elapsed().as_secs_f64());
    f.check(in_flight.is_empty(), || {
        format!(
            "{backend}: {} checkouts still in flight {since_kill:.0} s after the last kill",
            in_flight.len()
        )
    });
    // Let the last webhooks land.
    support::sleep_ms(1500).await;

    // Stripe's books against slotpay's.
    let intents = support::stripe_list(
        &http,
        &sandbox.url,
        &sandbox.secret_key,
        "/v1/payment_intents",
    )
    .await;
    let charges = support::by_intent(
        &support::stripe_list(&http, &sandbox.url, &sandbox.secret_key, "/v1/charges").await,
    );
    let mut of_checkout: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for pi in &intents {
        if let Some(t) = pi["metadata"]["slotpay_checkout"].as_str() {
            of_checkout.entry(t.to_owned()).or_default().push(pi);
        }
    }
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    let mut succeeded_at_stripe = 0;
    // Paid although the client never heard so: settled by webhooks or the reconciler.
    let mut settled_behind = 0;
    for (token, _, _) in &plans {
        let view = admin(
            &http,
            &base,
            &admin_token,
            reqwest::Method::GET,
            &format!("/v1/admin/checkouts/{token}"),
            None,
        )
        .await;
        let status = view.json["status"].as_str().unwrap_or("?").to_owned();
        *states.entry(status.clone()).or_default() += 1;
        if status == "paid" && !told_paid.contains(token) {
            settled_behind += 1;
        }
        let pis = of_checkout.get(token).cloned().unwrap_or_default();
        f.check(pis.len() <= 1, || {
            format!("{backend} {token}: {} PaymentIntents", pis.len())
        });
        let stripe_paid: Vec<&&Value> = pis.iter().filter(|p| p["status"] == "succeeded").collect();
        for pi in &stripe_paid {
            succeeded_at_stripe += 1;
            let id = pi["id"].as_str().unwrap_or_default();
            let n = charges.get(id).map_or(0, |c| {
                c.iter().filter(|c| c["status"] == "succeeded").count()
            });
            f.check(n == 1, || {
                format!("{backend} {token}: {n} successful charges on {id}")
            });
            f.check(status == "paid" && view.json["payment_intent_id"] == *id, || {
                format!("{backend} {token}: PaymentIntent {id} succeeded at Stripe, slotpay says {status} ({})", view.json["payment_intent_id"])
            });
        }
        f.check(status != "paid" || !stripe_paid.is_empty(), || {
            format!("{backend} {token}: paid in slotpay, not at Stripe")
        });
    }
    f.found(format!(
        "{backend}: settled {:.1} s after the load ({since_kill:.0} s after the last kill); \
         Stripe: {} PaymentIntents, {succeeded_at_stripe} succeeded, {} charges succeeded in all; \
         slotpay: {} ({settled_behind} paid without their client being told: webhooks and \
         the reconciler)",
        settle_from.elapsed().as_secs_f64(),
        intents.len(),
        sandbox.counter("charges_succeeded"),
        states
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for (status, count) in &states {
        f.check(
            matches!(status.as_str(), "paid" | "failed" | "open"),
            || format!("{backend}: {count} checkouts ended {status}"),
        );
    }

    // Keep what the scan reads, then clean up.
    let mut s = server.lock().await;
    s.kill().await;
    support::keep_text(&format!("crash-{backend}.log"), &s.logs());
    match &store {
        Store::Sqlite => support::keep_file(
            &format!("crash-{backend}.sqlite"),
            &dir.path().join("slotpay.db"),
        ),
        Store::Postgres { .. } => {
            let db = Db::connect(&SecretString::from(database_url.clone()), 2)
                .await
                .map_err(|e| e.to_string())?;
            support::keep_text(
                &format!("crash-{backend}.pg-dump"),
                &support::render_dump(&support::dump(&db).await),
            );
            db.close().await;
        }
    }
    drop_store(&store).await;
    let paid = states.get("paid").copied().unwrap_or(0);
    Ok(format!(
        "{backend}: {killed} kills, {paid}/{n} paid = {succeeded_at_stripe} succeeded at Stripe, \
         {} charges",
        sandbox.counter("charges_succeeded")
    ))
}

/// A fresh database for the binary: an SQLite file in `dir`, or a new PostgreSQL database
/// on `SLOTPAY_TEST_POSTGRES_URL`'s server. Returns it and its URL.
pub(crate) async fn database(dir: &std::path::Path, pg: bool) -> Result<(Store, String), String> {
    let store = if pg {
        let admin_url = std::env::var("SLOTPAY_TEST_POSTGRES_URL")
            .map_err(|_| "SLOTPAY_TEST_POSTGRES_URL is not set".to_owned())?;
        let name = format!("slotpay_fault_{}", hex::encode(rand::random::<[u8; 6]>()));
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        conn.close().await.ok();
        Store::Postgres { admin_url, name }
    } else {
        Store::Sqlite
    };
    let database_url = match &store {
        Store::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("slotpay.db").display()),
        Store::Postgres { admin_url, name } => {
            let mut u = url::Url::parse(admin_url).map_err(|e| e.to_string())?;
            u.set_path(&format!("/{name}"));
            u.to_string()
        }
    };
    Ok((store, database_url))
}

/// Drops a PostgreSQL database made by [`database`].
pub(crate) async fn drop_store(store: &Store) {
    if let Store::Postgres { admin_url, name } = store {
        if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
            conn.close().await.ok();
        }
    }
}
