//! How the sandbox's cost per payment changes as payments accumulate: time per request and
//! memory per payment at 1,000 and at 20,000 stored payments, and after `reset`.
//!
//! ```sh
//! cargo run --release -p stripe-sandbox --example scaling            # 1k vs 20k
//! cargo run --release -p stripe-sandbox --example scaling -- 1000 60000
//! ```
//!
//! Each payment is what slotpay's pay endpoint does: retrieve the PaymentMethod (the brand check),
//! create the PaymentIntent and confirm it, both with an `Idempotency-Key`, with a webhook endpoint
//! listening to every event. Two sandboxes run side by side, one holding `small` payments and one
//! `large`; they are timed in alternating batches so that load from other processes on the machine
//! weighs on both alike, and the medians are compared. Memory is the heap the process holds
//! (a counting allocator), measured once the webhook deliveries have drained. It exits non-zero
//! when the large sandbox (or the same sandbox after `reset`) is more than 1.5 times slower per
//! request, when a payment keeps more than 16 KB, or when `reset` frees less than 90% of what
//! the payments held.

use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use stripe_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

#[path = "../tests/counting_alloc/mod.rs"]
mod counting_alloc;
use counting_alloc::live_bytes;

/// One sandbox and the client that pays on it.
struct Bench {
    sb: SandboxHandle,
    http: reqwest::Client,
    paid: usize,
}

impl Bench {
    async fn start(hook: &str) -> Bench {
        let sb = Sandbox::start(SandboxConfig {
            seed: Some(7),
            webhook_retry_base: Duration::from_millis(50),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let b = Bench { sb, http, paid: 0 };
        b.endpoint(hook).await;
        b
    }

    async fn endpoint(&self, hook: &str) {
        let r = self
            .http
            .post(format!("{}/v1/webhook_endpoints", self.sb.url))
            .bearer_auth(&self.sb.secret_key)
            .form(&[("url", hook), ("enabled_events[]", "*")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    /// One payment as slotpay makes it: three requests.
    async fn pay(&mut self) {
        let n = self.paid;
        self.paid += 1;
        let url = &self.sb.url;
        let sk = &self.sb.secret_key;
        let pm = self
            .http
            .get(format!("{url}/v1/payment_methods/pm_card_visa"))
            .bearer_auth(sk)
            .send()
            .await
            .unwrap();
        // Before the sandbox resolved test ids on retrieve this answered 404; the timing of the
        // two calls below is what matters.
        let _ = pm.bytes().await.unwrap();
        let created: serde_json::Value = self
            .http
            .post(format!("{url}/v1/payment_intents"))
            .bearer_auth(sk)
            .header("Idempotency-Key", format!("create-{n}"))
            .form(&[
                ("amount", "2500"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("payment_method", "pm_card_visa"),
                ("metadata[checkout]", &format!("cs_{n}")),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().expect("a PaymentIntent").to_string();
        let confirmed: serde_json::Value = self
            .http
            .post(format!("{url}/v1/payment_intents/{id}/confirm"))
            .bearer_auth(sk)
            .header("Idempotency-Key", format!("confirm-{n}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    }

    async fn fill(&mut self, to: usize) {
        while self.paid < to {
            self.pay().await;
        }
    }

    /// Microseconds per request over `n` payments.
    async fn batch(&mut self, n: usize) -> f64 {
        let t = Instant::now();
        for _ in 0..n {
            self.pay().await;
        }
        t.elapsed().as_secs_f64() * 1e6 / (n * 3) as f64
    }

    /// Waits until every event has been delivered once (one endpoint listens to all).
    async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.sb.counter("webhook_attempts") < self.sb.counter("events") {
            assert!(Instant::now() < deadline, "webhooks did not drain");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Times `a` and `b` in alternating batches; returns their median µs per request.
async fn compare(a: &mut Bench, b: &mut Bench, rounds: usize, per: usize) -> (f64, f64) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ta.push(a.batch(per).await);
        tb.push(b.batch(per).await);
    }
    (median(ta), median(tb))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("counts are integers"))
        .collect();
    let small = args.first().copied().unwrap_or(1_000);
    let large = args.get(1).copied().unwrap_or(20_000);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = Router::new().route("/hook", post(|| async { "ok" }));
        axum::serve(listener, app).await.unwrap();
    });

    let mut a = Bench::start(&hook).await;
    let mut b = Bench::start(&hook).await;
    a.fill(small).await;
    a.drain().await;
    b.drain().await;
    let before = live_bytes();
    let t = Instant::now();
    b.fill(large).await;
    b.drain().await;
    let filled = live_bytes();
    let per_payment = (filled.saturating_sub(before)) as f64 / large as f64;
    println!(
        "filled {large} payments in {:.1} s; heap +{:.1} MB, {:.1} KB per payment",
        t.elapsed().as_secs_f64(),
        (filled - before) as f64 / 1e6,
        per_payment / 1e3
    );

    let (ta, tb) = compare(&mut a, &mut b, 7, 100).await;
    let ratio = tb / ta;
    println!(
        "per request: {ta:.0} µs at {small} payments, {tb:.0} µs at {large} payments (ratio {ratio:.2})"
    );

    a.drain().await;
    b.drain().await;
    let held = live_bytes();
    b.sb.reset();
    b.endpoint(&hook).await;
    let held_by_b = per_payment * b.paid as f64;
    b.paid = 0;
    let freed = held.saturating_sub(live_bytes()) as f64;
    println!(
        "reset freed {:.1} MB of the about {:.1} MB its {} payments held",
        freed / 1e6,
        held_by_b / 1e6,
        large + 700 // filled, then 7 batches of 100
    );
    let (ta2, tr) = compare(&mut a, &mut b, 7, 100).await;
    let reset_ratio = tr / ta2;
    println!(
        "per request after reset: {tr:.0} µs (the {}-payment sandbox: {ta2:.0} µs, ratio {reset_ratio:.2})",
        a.paid
    );

    let mut failed = Vec::new();
    if ratio > 1.5 {
        failed.push(format!(
            "{large} payments are {ratio:.2}x slower than {small}"
        ));
    }
    if reset_ratio > 1.5 {
        failed.push(format!("a reset sandbox is {reset_ratio:.2}x slower"));
    }
    if per_payment > 16_000.0 {
        failed.push(format!("{:.1} KB per payment", per_payment / 1e3));
    }
    if freed < 0.9 * held_by_b {
        failed.push(format!(
            "reset freed {:.1} MB of {:.1} MB",
            freed / 1e6,
            held_by_b / 1e6
        ));
    }
    if failed.is_empty() {
        println!("ok");
    } else {
        println!("FAILED: {}", failed.join("; "));
        std::process::exit(1);
    }
}
