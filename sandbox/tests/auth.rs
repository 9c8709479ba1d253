//! Authentication as Stripe does it: Bearer and basic auth, unknown, revoked and live keys,
//! publishable keys on server endpoints, restricted keys' permissions, accounts kept apart.

mod common;

use base64::Engine;
use common::*;
use serde_json::json;

#[tokio::test]
async fn bearer_basic_and_missing_keys() {
    let env = start().await;
    assert_eq!(env.get(env.sk(), "/v1/account").await.status, 200);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:", env.sk()));
    let r = env
        .http
        .get(format!("{}/v1/account", env.sb.url))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let none = env
        .http
        .get(format!("{}/v1/account", env.sb.url))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("You did not provide an API key."));
}

#[tokio::test]
async fn unknown_and_live_keys_are_invalid_with_a_masked_key() {
    let env = start().await;
    let r = env
        .get("sk_test_0000000000000000000000001234", "/v1/account")
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["type"], "invalid_request_error");
    assert_eq!(
        r.error_message(),
        format!("Invalid API Key provided: sk_test_{}1234", "*".repeat(24))
    );
    let live = env.get("sk_live_abcdefghij9876", "/v1/account").await;
    assert_eq!(live.status, 401);
    assert_eq!(
        live.error_message(),
        "Invalid API Key provided: sk_live_**********9876"
    );
    assert!(
        !r.body.to_string().contains("000000000000000000001234"),
        "never echoes the key"
    );
}

#[tokio::test]
async fn revoked_keys_answer_api_key_expired() {
    let env = start().await;
    let key = env
        .sb
        .create_key(None, stripe_sandbox::KeyKind::Secret, &[])
        .unwrap();
    assert_eq!(env.get(&key, "/v1/account").await.status, 200);
    let r = env
        .control("/_sandbox/keys/revoke", json!({"key": key}))
        .await;
    assert_eq!(r.status, 200);
    let r = env.get(&key, "/v1/account").await;
    assert_eq!((r.status, r.error_code()), (401, Some("api_key_expired")));
    assert!(r
        .error_message()
        .starts_with("Expired API Key provided: sk_test_"));
    assert!(r.error_message().ends_with(&key[key.len() - 6..]));
    env.sb.reset();
    assert_eq!(
        env.get(env.sk(), "/v1/account").await.status,
        200,
        "reset keeps the first account's keys"
    );
    assert_eq!(
        env.get(&key, "/v1/account").await.status,
        401,
        "and drops the others"
    );
}

#[tokio::test]
async fn publishable_keys_only_on_stripe_js_endpoints() {
    let env = start().await;
    let pk = env.sb.publishable_key.clone();
    for (method, path) in [
        ("GET", "/v1/account"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/charges"),
        ("POST", "/v1/refunds"),
        ("GET", "/v1/events"),
    ] {
        let r = env
            .request(&pk, method.parse().unwrap(), path, &[("x", "y")], None)
            .await;
        assert_eq!(r.status, 401, "{method} {path}");
        assert!(
            r.error_message()
                .starts_with("This API call cannot be made with a publishable API key."),
            "{}",
            r.body
        );
    }
    assert_eq!(env.card("4242424242424242").await.len(), 27);
}

#[tokio::test]
async fn restricted_keys_answer_403_naming_the_missing_permission() {
    let env = start().await;
    let rk = env
        .sb
        .create_restricted_key(&["payment_intents:read", "customers:write"])
        .unwrap();
    assert_eq!(env.get(&rk, "/v1/payment_intents").await.status, 200);
    assert_eq!(
        env.post(&rk, "/v1/customers", &[("email", "a@example.com")])
            .await
            .status,
        200
    );
    assert_eq!(
        env.get(&rk, "/v1/customers").await.status,
        200,
        "write implies read"
    );
    let r = env
        .post(
            &rk,
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["type"], "invalid_request_error");
    let expected = format!(
        "The provided key 'rk_test_{}{}' does not have the required permissions for this endpoint on account '{}'. Having the 'rak_payment_intent_write' permission would allow this request to continue.",
        "*".repeat(rk.len() - 8 - 6),
        &rk[rk.len() - 6..],
        env.sb.account_id
    );
    assert_eq!(r.error_message(), expected);
    let r = env.get(&rk, "/v1/webhook_endpoints").await;
    assert!(
        r.error_message().contains("'rak_webhook_read'"),
        "{}",
        r.error_message()
    );
    // The default restricted key has slotpay's permissions; the control API changes them.
    let rk = env.sb.restricted_key.clone();
    assert_eq!(
        env.post(
            &rk,
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd")]
        )
        .await
        .status,
        200
    );
    assert_eq!(env.get(&rk, "/v1/account").await.status, 200);
    env.control(
        "/_sandbox/keys/permissions",
        json!({"key": rk, "permissions": ["rak_charge_read"]}),
    )
    .await;
    assert_eq!(
        env.post(
            &rk,
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd")]
        )
        .await
        .status,
        403
    );
    let bad = env
        .control(
            "/_sandbox/keys",
            json!({"type": "restricted", "permissions": ["rockets:write"]}),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn accounts_are_kept_apart() {
    let env = start().await;
    let other = env
        .control(
            "/_sandbox/accounts",
            json!({"country": "GB", "default_currency": "gbp", "business_name": "Other Salon"}),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.body);
    let sk2 = other.body["secret_key"].as_str().unwrap().to_string();
    let acct = env.get(&sk2, "/v1/account").await;
    assert_eq!(acct.body["country"], "GB");
    assert_eq!(acct.body["default_currency"], "gbp");
    assert_eq!(acct.body["business_profile"]["name"], "Other Salon");
    let mine = env.pay("pm_card_visa", "1000", &[]).await.id();
    let r = env.get(&sk2, &format!("/v1/payment_intents/{mine}")).await;
    assert_eq!(
        r.status, 404,
        "another account's object does not exist for this key"
    );
    let upd = env
        .control(
            &format!("/_sandbox/accounts/{}", env.sb.account_id),
            json!({"default_currency": "eur", "country": "FR"}),
        )
        .await;
    assert_eq!(upd.body["default_currency"], "eur");
    assert_eq!(env.get(env.sk(), "/v1/account").await.body["country"], "FR");
}

#[tokio::test]
async fn unknown_urls_and_cors_preflight() {
    let env = start().await;
    let r = env.get(env.sk(), "/v1/rockets").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_message(), "Unrecognized request URL (GET: /v1/rockets). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.");
    let pre = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/payment_methods", env.sb.url),
        )
        .header("Origin", "https://salon.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,stripe-version,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
    let allowed = pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for h in [
        "authorization",
        "content-type",
        "stripe-version",
        "idempotency-key",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
}
