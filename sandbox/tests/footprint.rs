//! The memory a sandbox holds per payment, and that `reset` gives it all back. A counting
//! allocator measures this test binary's heap (it holds one test, so nothing else allocates
//! meanwhile); the time per request as payments accumulate is `examples/scaling.rs`'s part
//! (timings in a debug build on a shared machine prove little).

mod common;
mod counting_alloc;

use std::time::{Duration, Instant};

use common::*;
use counting_alloc::live_bytes;

/// One payment as slotpay's pay endpoint makes it: the brand check, then create and confirm
/// with idempotency keys.
async fn pay(env: &Env, n: usize) {
    let pm = env.get(env.sk(), "/v1/payment_methods/pm_card_visa").await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    let checkout = format!("cs_{n}");
    let created = env
        .post_idem(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "2500"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("payment_method", "pm_card_visa"),
                ("metadata[checkout]", checkout.as_str()),
            ],
            &format!("create-{n}"),
        )
        .await;
    let id = created.id();
    let confirmed = env
        .post_idem(
            env.sk(),
            &format!("/v1/payment_intents/{id}/confirm"),
            &[],
            &format!("confirm-{n}"),
        )
        .await;
    assert_eq!(confirmed.body["status"], "succeeded", "{}", confirmed.body);
}

async fn drain(env: &Env) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.sb.counter("webhook_attempts") < env.sb.counter("events") {
        assert!(Instant::now() < deadline, "webhooks did not drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the delivery tasks drop their buffers.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_per_payment_is_small_and_reset_frees_it() {
    let env = start().await;
    // A webhook endpoint that keeps nothing (the common receiver records every delivery).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
        axum::serve(listener, app).await.unwrap();
    });
    endpoint(&env, &url, &["*"]).await;
    // Warm up the connection pools, the lanes and the lazily built tables.
    for n in 0..20 {
        pay(&env, n).await;
    }
    drain(&env).await;
    let base = live_bytes();
    const N: usize = 600;
    for n in 20..20 + N {
        pay(&env, n).await;
    }
    drain(&env).await;
    let held = live_bytes().saturating_sub(base);
    let per_payment = held / N;
    println!("{per_payment} bytes per payment ({held} for {N})");
    // About 64 KB per payment before events and idempotency answers were kept as compact JSON,
    // the delivery log bounded and the maps boxed; about 16 KB after (debug build).
    assert!(
        per_payment < 24_000,
        "{per_payment} bytes per payment ({held} for {N})"
    );

    let before_reset = live_bytes();
    env.sb.reset();
    let after_reset = live_bytes();
    let kept = after_reset.saturating_sub(base);
    println!(
        "reset freed {} of {held} bytes; {kept} above the warmed-up sandbox",
        before_reset - after_reset
    );
    // A cleared map keeps its capacity; a reset must drop the collections themselves.
    assert!(
        kept < held / 50,
        "reset kept {kept} of the {held} bytes the payments took"
    );
    server.abort();
}
