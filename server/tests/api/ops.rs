//! `/healthz` and `/metrics`.

use serde_json::json;

use crate::helpers::{both_backends, TestApp};

both_backends!(healthz_checks_the_database, metrics_exposition);

async fn healthz_checks_the_database(app: TestApp) {
    let ok = app.get("/healthz").await.expect(200);
    assert_eq!(ok.json, json!({"status": "ok", "database": "ok"}));
    app.state.db.close().await;
    let down = app.get("/healthz").await.expect(503);
    assert_eq!(down.json["status"], "unavailable");
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
