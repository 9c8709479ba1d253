//! The pay bench's floor server: what any Rust server costs per payment on this machine when
//! it does nothing but slotpay's three Stripe calls. It answers `POST
//! /v1/checkouts/{token}/pay` as slotpay does for a card that succeeds, with the same HTTP
//! stack (tokio, hyper through axum, mimalloc), the same Stripe client (its forms, headers,
//! idempotency keys and retries) and the same three calls: retrieve the PaymentMethod,
//! create the PaymentIntent, confirm it. No database, no log, no rules, no lease: it can
//! charge twice and must never hold a real key.
//!
//! `./dev bench` runs it beside slotpay (`floor` in its pay part): slotpay's CPU per payment
//! and added latency over this floor's are what slotpay's own work costs; the floor's over the
//! reference's say how far any server built on these crates can go here.
//!
//!   FLOOR_STRIPE_API_BASE=http://127.0.0.1:12111 FLOOR_STRIPE_KEY=sk_test_... \
//!     cargo run --release -p slotpay-server --example pay_floor -- 127.0.0.1:8090

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use slotpay_core::ServerKey;
use slotpay_server::metrics::Metrics;
use slotpay_server::stripe::{ClientConfig, Form, IdempotencyKey, StripeClient};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Floor {
    stripe: StripeClient,
    key: ServerKey,
}

#[derive(Deserialize)]
struct PayBody {
    payment_method: String,
    email: String,
}

/// The three calls of a card payment, with the forms slotpay sends for a bench checkout.
async fn pay(
    State(floor): State<Arc<Floor>>,
    Path(token): Path<String>,
    Json(body): Json<PayBody>,
) -> (StatusCode, Json<serde_json::Value>) {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        (
            StatusCode::BAD_GATEWAY,
            Json(serde_json::json!({"status": "failed", "error": format!("{what}: {e}")})),
        )
    };
    let key = &floor.key;
    if let Err(e) = floor
        .stripe
        .retrieve_payment_method(key, &body.payment_method)
        .await
    {
        return failed("retrieve_payment_method", &e);
    }
    let form = Form::new()
        .push("amount", "2500")
        .push("currency", "usd")
        .push("capture_method", "automatic")
        .push_list("payment_method_types", &["card"])
        .push("description", "Haircut")
        .push_map("metadata", "slotpay_checkout", token.as_str())
        .push_map("metadata", "slotpay_merchant", "mer_floor");
    let idem = IdempotencyKey::new(format!("slotpay:{token}:pi"));
    let pi = match floor.stripe.create_payment_intent(key, &form, &idem).await {
        Ok(pi) => pi,
        Err(e) => return failed("create_payment_intent", &e),
    };
    let form = Form::new()
        .push("payment_method", body.payment_method.as_str())
        .push("receipt_email", body.email.as_str());
    let idem = IdempotencyKey::new(format!("slotpay:{token}:confirm:1"));
    match floor
        .stripe
        .confirm_payment_intent(key, &pi.id, &form, &idem)
        .await
    {
        Ok(pi) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": pi.status.as_str()})),
        ),
        Err(e) => failed("confirm_payment_intent", &e),
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is unset"))
}

#[tokio::main]
async fn main() {
    let listen = std::env::args()
        .nth(1)
        .expect("usage: pay_floor 127.0.0.1:PORT");
    let key = ServerKey::parse(&env("FLOOR_STRIPE_KEY"))
        .expect("FLOOR_STRIPE_KEY is a Stripe secret or restricted key")
        .key;
    let config = ClientConfig {
        api_base: env("FLOOR_STRIPE_API_BASE")
            .parse()
            .expect("FLOOR_STRIPE_API_BASE is a URL"),
        // slotpay's defaults.
        timeout: Duration::from_secs(20),
        max_retries: 3,
        retry_base: Duration::from_millis(250),
    };
    let floor = Arc::new(Floor {
        stripe: StripeClient::new(config, Arc::new(Metrics::default())),
        key,
    });
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/checkouts/{token}/pay", post(pay))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("the address is free");
    axum::serve(listener, app).await.expect("serves");
}
