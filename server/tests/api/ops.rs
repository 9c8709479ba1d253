//! `/healthz` and `/metrics`.

use serde_json::json;

use crate::helpers::{both_backends, TestApp};

both_backends!(
    healthz_checks_the_database,
    metrics_exposition,
    odd_methods_do_not_grow_the_metrics,
    metrics_need_the_admin_token_or_their_own_listener
);

/// PostgreSQL only: SQLite connections are files in the process, never closed by a server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_closed_connections_are_replaced() {
    crate::helpers::run(
        crate::helpers::Backend::Postgres,
        closed_connections_are_replaced,
    )
    .await
}

async fn healthz_checks_the_database(app: TestApp) {
    let ok = app.get("/healthz").await.expect(200);
    assert_eq!(ok.json, json!({"status": "ok", "database": "ok"}));
    // A line, so `curl` at a prompt does not run the answer into the next one.
    assert!(ok.text.ends_with("}\n"), "{:?}", ok.text);
    app.state.db.close().await;
    let down = app.get("/healthz").await.expect(503);
    assert_eq!(down.json["status"], "unavailable");
    assert!(down.text.ends_with("}\n"), "{:?}", down.text);
}

/// PostgreSQL closing the server's connections (a restart, an idle timeout) fails no
/// request: a connection idle for a second is pinged before use and replaced when dead.
async fn closed_connections_are_replaced(app: TestApp) {
    let pool = app.state.db.pool();
    // Four idle connections in the pool, then all but one closed by the server.
    let held = futures::future::try_join_all((0..4).map(|_| pool.acquire()))
        .await
        .unwrap();
    drop(held);
    let closed = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(closed.len() >= 3, "{} connections closed", closed.len());
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for _ in 0..4 {
        app.get("/healthz").await.expect(200);
    }
}

async fn metrics_exposition(app: TestApp) {
    let m = app.merchant(&[]).await;
    app.get(&format!("/v1/admin/merchants/{m}"))
        .await
        .expect(200);
    app.get("/v1/admin/merchants/mer_nope").await.expect(404);
    app.get("/nowhere")
        .await
        .expect_error(404, "not_found", None);
    app.sandbox_integration(&m, &app.sandbox.secret_key.clone())
        .await
        .expect(200);
    app.post(
        &format!("/v1/admin/merchants/{m}/integration/verify"),
        json!({}),
    )
    .await
    .expect(200);
    let r = app.get("/metrics").await.expect(200);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text;
    for line in [
        "slotpay_http_requests_total{method=\"POST\",route=\"/v1/admin/merchants\",status=\"201\"} 1",
        "slotpay_http_requests_total{method=\"GET\",route=\"/v1/admin/merchants/{merchant_id}\",status=\"200\"} 1",
        "slotpay_http_requests_total{method=\"GET\",route=\"/v1/admin/merchants/{merchant_id}\",status=\"404\"} 1",
        "slotpay_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "slotpay_stripe_requests_total{operation=\"retrieve_account\",outcome=\"ok\"} 1",
        "slotpay_webhooks_total{outcome=\"processed\"} 0",
        "slotpay_webhooks_total{outcome=\"rejected\"} 0",
        "# TYPE slotpay_http_requests_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line}\n{text}");
    }
    assert!(text.contains("slotpay_stripe_requests_duration_seconds_count{operation=\"retrieve_account\",outcome=\"ok\"} 1"));
    assert!(
        !text.contains(&m),
        "ids are not labels: route templates are"
    );
}

/// Requests with methods nobody uses (a scanner's, or junk) share one label: the registry
/// does not grow with them.
async fn odd_methods_do_not_grow_the_metrics(app: TestApp) {
    let series = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("slotpay_http_requests_total{"))
            .count()
    };
    let before = series(&app.get("/metrics").await.expect(200).text);
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("JUNK{i}").as_bytes()).unwrap();
        let r = app.request(method, "/healthz", None, &[]).await;
        assert!(r.status.is_client_error(), "{}", r.status);
    }
    let text = app.get("/metrics").await.expect(200).text;
    assert!(
        series(&text) <= before + 2,
        "{} series after 200 odd methods (was {before})",
        series(&text)
    );
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(
        !text.contains("JUNK"),
        "a method nobody uses is not a label"
    );
}

/// `/metrics` tells anyone who reads it which routes and merchants are busy: on the public
/// listener it needs the admin token; with `SLOTPAY_METRICS_LISTEN` it is served only on that
/// (private) address, without a token.
async fn metrics_need_the_admin_token_or_their_own_listener(app: TestApp) {
    let anonymous = [("authorization", "")];
    app.request(reqwest::Method::GET, "/metrics", None, &anonymous)
        .await
        .expect_error(401, "unauthorized", None);
    let wrong = [("authorization", "Bearer not-the-token")];
    app.request(reqwest::Method::GET, "/metrics", None, &wrong)
        .await
        .expect_error(401, "unauthorized", None);
    app.get("/metrics").await.expect(200);

    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let server = slotpay_server::serve(config).await.unwrap();
    let private = server.metrics_url().expect("a metrics listener");
    let client = reqwest::Client::new();
    let scraped = client
        .get(format!("{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("slotpay_webhooks_total"));
    let public = client
        .get(format!("{}/metrics", server.local_url()))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not on the public listener");
    server.stop().await;
}
