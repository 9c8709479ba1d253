//! Defences against what an attacker tries on a public checkout server: framing, plain-HTTP
//! downgrades, and (below) the abuses the security model lists.

use serde_json::json;

use slotpay_server::config::RateLimit;
use slotpay_server::domain::reconcile;

use crate::helpers::{spawn_app, Backend};

/// The payment-link page cannot be framed (clickjacking a Pay button), and an https
/// deployment tells browsers never to use plain HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_not_framed_and_https_is_sticky() {
    for https in [false, true] {
        let tweak: crate::helpers::Tweak = if https {
            Box::new(|c| c.public_url = Some(url::Url::parse("https://pay.example").unwrap()))
        } else {
            Box::new(|_| {})
        };
        let app = spawn_app(Backend::Sqlite, tweak).await.unwrap();
        let m = app.pay_merchant(None).await;
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 2500, "currency": "eur", "description": "Cut", "link": true}),
            )
            .await;
        let page = app.get(&format!("/pay/{token}")).await.expect(200);
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        let hsts = page.headers.get("strict-transport-security");
        let api = app.get("/healthz").await.expect(200);
        if https {
            let hsts = hsts.expect("HSTS on https").to_str().unwrap().to_owned();
            assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
            assert!(api.headers.contains_key("strict-transport-security"));
        } else {
            assert!(hsts.is_none(), "no HSTS on a plain-HTTP deployment");
        }
        app.teardown().await;
    }
}

/// Requests from an origin the merchant did not register are rate limited before anything
/// reads the database for them: a flood from a hostile page costs the database nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_comes_before_cors() {
    let app = spawn_app(
        Backend::Sqlite,
        Box::new(|c| {
            c.rate_limit_ip = RateLimit {
                burst: 3,
                per_second: 0.01,
            }
        }),
    )
    .await
    .unwrap();
    let view = "/v1/checkouts/cs_0123456789abcdef0123456789abcdef";
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = app
            .request(
                reqwest::Method::GET,
                view,
                None,
                &[("origin", "https://hostile.example")],
            )
            .await;
        codes.push(r.status.as_u16());
    }
    assert_eq!(codes, [403, 403, 403, 429, 429, 429], "{codes:?}");
    app.teardown().await;
}

/// Anyone may make a checkout from a merchant's catalogue (the script-tag embed): the ones
/// nobody tried to pay are deleted a day after they expire, so junk does not pile up. A
/// platform's checkout, or one with a pay attempt, is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_anonymous_checkouts_are_purged() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let svc = app
        .post(
            &format!("/v1/admin/merchants/{}/services", m.id),
            json!({"name": "Cut", "price": "40.00", "currency": "eur"}),
        )
        .await
        .expect(201);
    let svc = svc.json["id"].as_str().unwrap().to_owned();
    let from_catalogue = || async {
        let r = app
            .post(
                &format!("/v1/merchants/{}/checkouts", m.id),
                json!({"service_id": svc}),
            )
            .await
            .expect(201);
        r.json["token"].as_str().unwrap().to_owned()
    };
    let (junk, tried) = (from_catalogue().await, from_catalogue().await);
    let pm = app.card("4000000000000002").await;
    app.pay(&tried, &pm, "k").await.expect(402);
    let platform = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let now = slotpay_server::db::now();
    let day = 86_400;
    for t in [&junk, &tried, &platform] {
        sqlx::query("UPDATE checkouts SET expires_at = $1 WHERE token = $2")
            .bind(now - day - 1)
            .bind(t)
            .execute(app.state.db.pool())
            .await
            .unwrap();
    }
    let report = reconcile::reconcile(&app.state, now).await;
    assert_eq!(report.purged, 1, "{report:?}");
    assert!(app.state.db.get_checkout(&junk).await.unwrap().is_none());
    assert!(app.state.db.get_checkout(&tried).await.unwrap().is_some());
    assert!(app
        .state
        .db
        .get_checkout(&platform)
        .await
        .unwrap()
        .is_some());
    app.teardown().await;
}
