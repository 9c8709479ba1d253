//! Defences against what an attacker tries on a public checkout server: framing, plain-HTTP
//! downgrades, and (below) the abuses the security model lists.

use serde_json::json;

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
