//! The public routes' protections: CORS from the merchant's registered origins, per-IP and
//! per-merchant rate limits, the body size limit. A probe route stands in for the
//! public routes, so each protection is tested apart from them.

use reqwest::Method;
use serde_json::json;
use slotpay_server::config::RateLimit;

use crate::helpers::{both_backends, spawn_app, Backend, TestApp};

both_backends!(cors_answers_only_registered_origins, body_limit);

async fn cors_answers_only_registered_origins(app: TestApp) {
    let m = app.merchant(&["https://salon.example"]).await;
    let probe = format!("/v1/merchants/{m}/probe");
    let preflight = |origin: &'static str| {
        let app = app.clone();
        let probe = probe.clone();
        async move {
            app.request(
                Method::OPTIONS,
                &probe,
                None,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "content-type, idempotency-key",
                    ),
                ],
            )
            .await
        }
    };
    let ok = preflight("https://salon.example").await.expect(204);
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://salon.example"
    );
    assert!(ok.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(ok.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("idempotency-key"));
    preflight("https://evil.example")
        .await
        .expect_error(403, "forbidden_origin", None);
    preflight("null")
        .await
        .expect_error(403, "forbidden_origin", None);

    let get = app
        .request(
            Method::GET,
            &probe,
            None,
            &[("origin", "https://salon.example")],
        )
        .await
        .expect(200);
    assert_eq!(
        get.headers["access-control-allow-origin"],
        "https://salon.example"
    );
    assert_eq!(get.text, "probe");
    let evil = app
        .request(
            Method::POST,
            &probe,
            None,
            &[("origin", "https://evil.example")],
        )
        .await;
    let evil = evil.expect_error(403, "forbidden_origin", None);
    assert!(evil.headers.get("access-control-allow-origin").is_none());
    // The server's own pages (payment links) are always allowed.
    let own = app.url.clone();
    let r = app
        .request(Method::GET, &probe, None, &[("origin", own.as_str())])
        .await
        .expect(200);
    assert_eq!(r.headers["access-control-allow-origin"], own.as_str());
    // Without an Origin (server to server), no CORS applies.
    app.get(&probe).await.expect(200);
    // Another merchant's origin list does not open this one.
    let other = app.merchant(&["https://other.example"]).await;
    app.request(
        Method::GET,
        &format!("/v1/merchants/{other}/probe"),
        None,
        &[("origin", "https://salon.example")],
    )
    .await
    .expect_error(403, "forbidden_origin", None);
    // Origins edited through the API apply at once.
    app.patch(
        &format!("/v1/admin/merchants/{m}"),
        json!({"allowed_origins": ["https://new.example"]}),
    )
    .await
    .expect(200);
    app.request(
        Method::GET,
        &probe,
        None,
        &[("origin", "https://salon.example")],
    )
    .await
    .expect(403);
    app.request(
        Method::GET,
        &probe,
        None,
        &[("origin", "https://new.example")],
    )
    .await
    .expect(200);
}

async fn body_limit(app: TestApp) {
    let big = "x".repeat(70 * 1024);
    let r = app.post("/v1/admin/merchants", json!({"name": big})).await;
    r.expect_error(413, "payload_too_large", None);
    let probe = format!("/v1/merchants/{}/probe", app.merchant(&[]).await);
    let r = app
        .request(Method::POST, &probe, Some(json!({"pad": big})), &[])
        .await;
    r.expect_error(413, "payload_too_large", None);
    let r = app
        .request(
            Method::POST,
            "/v1/admin/merchants",
            None,
            &[("content-type", "application/json")],
        )
        .await;
    r.expect_error(400, "invalid_json", None);
    let r = app
        .request(Method::POST, "/v1/admin/merchants", None, &[])
        .await;
    r.expect_error(400, "invalid_request", None);
}

/// Not storage-bound: the limiter is in memory, so one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_per_ip_and_per_merchant() {
    let app = spawn_app(
        Backend::Sqlite,
        Box::new(|c| {
            c.rate_limit_ip = RateLimit {
                burst: 5,
                per_second: 0.01,
            };
            c.rate_limit_merchant = RateLimit {
                burst: 3,
                per_second: 0.01,
            };
        }),
    )
    .await
    .unwrap();
    let (a, b) = (app.merchant(&[]).await, app.merchant(&[]).await);
    for _ in 0..3 {
        app.get(&format!("/v1/merchants/{a}/probe"))
            .await
            .expect(200);
    }
    let limited = app
        .get(&format!("/v1/merchants/{a}/probe"))
        .await
        .expect_error(429, "rate_limited", None);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    // Another merchant has its own bucket, but this IP has 2 requests left.
    app.get(&format!("/v1/merchants/{b}/probe"))
        .await
        .expect(200);
    app.get(&format!("/v1/merchants/{b}/probe"))
        .await
        .expect(200);
    app.get(&format!("/v1/merchants/{b}/probe"))
        .await
        .expect_error(429, "rate_limited", None);
    // Admin and ops routes are not public routes.
    app.get("/healthz").await.expect(200);
    app.get("/v1/admin/merchants").await.expect(200);
    app.teardown().await;
}
