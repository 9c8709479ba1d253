//! PaymentMethods: the `pm_card_*` test ids retrieved as Stripe answers them (a PaymentMethod
//! of the test card under a fresh `pm_...` id), so a server that checks the brand before
//! charging works with them; and the Tokens API Stripe.js's `createToken` calls.

mod common;

use common::*;

#[tokio::test]
async fn test_payment_method_ids_can_be_retrieved() {
    let env = start().await;
    for (id, brand, last4, funding) in [
        ("pm_card_visa", "visa", "4242", "credit"),
        ("pm_card_visa_debit", "visa", "5556", "debit"),
        ("pm_card_mastercard", "mastercard", "4444", "credit"),
        ("pm_card_amex", "amex", "0005", "credit"),
        ("pm_card_discover", "discover", "1117", "credit"),
        ("pm_card_jcb", "jcb", "0505", "credit"),
        ("pm_card_chargeDeclined", "visa", "0002", "credit"),
        ("pm_card_authenticationRequired", "visa", "3184", "credit"),
    ] {
        let r = env
            .get(env.sk(), &format!("/v1/payment_methods/{id}"))
            .await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
        assert_eq!(r.body["object"], "payment_method");
        assert_eq!(r.body["type"], "card");
        assert_eq!(r.body["card"]["brand"], brand, "{id}");
        assert_eq!(r.body["card"]["last4"], last4, "{id}");
        assert_eq!(r.body["card"]["funding"], funding, "{id}");
        assert_eq!(r.body["customer"], serde_json::Value::Null);
        let fresh = r.id();
        assert!(
            fresh.starts_with("pm_") && fresh != id && fresh.len() == 27,
            "a test id is a template: Stripe answers a new PaymentMethod ({fresh})"
        );
        // The fresh id is a real object of the account from then on.
        let again = env
            .get(env.sk(), &format!("/v1/payment_methods/{fresh}"))
            .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.body["card"]["last4"], last4);
    }
    // Each retrieve is a new PaymentMethod, as each use of the test id is.
    let a = env.get(env.sk(), "/v1/payment_methods/pm_card_visa").await;
    let b = env.get(env.sk(), "/v1/payment_methods/pm_card_visa").await;
    assert_ne!(a.id(), b.id());
    // Names that are not test ids stay unknown.
    let nope = env.get(env.sk(), "/v1/payment_methods/pm_card_nope").await;
    assert_eq!(nope.status, 404, "{}", nope.body);
    assert_eq!(nope.error_code(), Some("resource_missing"));
    // A restricted key with slotpay's permissions (payment_method read) retrieves them too; a
    // publishable key may not retrieve PaymentMethods at all.
    let rk = env
        .get(
            &env.sb.restricted_key,
            "/v1/payment_methods/pm_card_mastercard",
        )
        .await;
    assert_eq!(rk.status, 200, "{}", rk.body);
    let pk = env
        .get(&env.sb.publishable_key, "/v1/payment_methods/pm_card_visa")
        .await;
    assert_ne!(pk.status, 200, "{}", pk.body);
}

/// What slotpay's pay endpoint does: retrieve the PaymentMethod to check its brand, then create
/// and confirm a PaymentIntent with the id the browser sent.
#[tokio::test]
async fn brand_check_then_charge_with_the_same_test_id() {
    let env = start().await;
    let pm = env.get(env.sk(), "/v1/payment_methods/pm_card_amex").await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    assert_eq!(pm.body["card"]["brand"], "amex");
    let paid = env.pay("pm_card_amex", "2500", &[]).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "succeeded");
    let declined = env
        .get(env.sk(), "/v1/payment_methods/pm_card_chargeDeclined")
        .await;
    assert_eq!(declined.status, 200);
    let r = env.pay("pm_card_chargeDeclined", "2500", &[]).await;
    assert_eq!(r.status, 402, "{}", r.body);
    assert_eq!(r.body["error"]["decline_code"], "generic_decline");
}

async fn token(env: &Env, number: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2040"),
    ];
    form.extend_from_slice(extra);
    env.post(&env.sb.publishable_key, "/v1/tokens", &form).await
}

#[tokio::test]
async fn card_tokens_as_stripe_js_creates_them() {
    let env = start().await;
    let t = token(
        &env,
        "4242424242424242",
        &[
            ("card[cvc]", "123"),
            ("card[name]", "Jenny Rosen"),
            ("card[address_zip]", "94107"),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let id = t.id();
    assert!(id.starts_with("tok_") && id.len() == 28, "{id}");
    assert_eq!(t.body["object"], "token");
    assert_eq!(t.body["type"], "card");
    assert_eq!(t.body["used"], false);
    assert_eq!(t.body["livemode"], false);
    let card = &t.body["card"];
    assert!(card["id"].as_str().unwrap().starts_with("card_"));
    assert_eq!(card["object"], "card");
    // The card object spells brands as Stripe's card object does, not as PaymentMethods do.
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["last4"], "4242");
    assert_eq!(
        (card["exp_month"].clone(), card["exp_year"].clone()),
        (12.into(), 2040.into())
    );
    assert_eq!(card["funding"], "credit");
    assert_eq!(card["country"], "US");
    assert_eq!(card["name"], "Jenny Rosen");
    assert_eq!(card["address_zip"], "94107");
    assert_eq!(card["address_zip_check"], "unchecked");
    assert_eq!(card["address_line1_check"], serde_json::Value::Null);
    assert_eq!(card["cvc_check"], "pass");
    // The number never comes back.
    assert!(!t.body.to_string().contains("4242424242424242"));
    for (number, brand) in [
        ("5555555555554444", "MasterCard"),
        ("378282246310005", "American Express"),
        ("6011111111111117", "Discover"),
        ("3566002020360505", "JCB"),
    ] {
        let t = token(&env, number, &[]).await;
        assert_eq!(t.status, 200, "{}", t.body);
        assert_eq!(t.body["card"]["brand"], brand);
        assert_eq!(t.body["card"]["cvc_check"], serde_json::Value::Null);
    }
    // Card errors as when creating a PaymentMethod.
    let bad = token(&env, "4242424242424241", &[]).await;
    assert_eq!(bad.status, 402, "{}", bad.body);
    assert_eq!(bad.body["error"]["type"], "card_error");
    assert_eq!(bad.error_code(), Some("incorrect_number"));
    let none = env.post(&env.sb.publishable_key, "/v1/tokens", &[]).await;
    assert_eq!(none.status, 400);
    assert_eq!(none.error_code(), Some("parameter_missing"));
    let bank = env
        .post(
            &env.sb.publishable_key,
            "/v1/tokens",
            &[("bank_account[country]", "US")],
        )
        .await;
    assert_eq!(bank.status, 400, "{}", bank.body);
    // The secret key retrieves a token; the publishable key may not.
    let got = env.get(env.sk(), &format!("/v1/tokens/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["card"]["id"], t.body["card"]["id"]);
    let refused = env
        .get(&env.sb.publishable_key, &format!("/v1/tokens/{id}"))
        .await;
    assert_ne!(refused.status, 200);
}

#[tokio::test]
async fn a_token_makes_one_payment_method() {
    let env = start().await;
    let t = token(
        &env,
        "5555555555554444",
        &[
            ("card[cvc]", "123"),
            ("card[name]", "Ada Lovelace"),
            ("card[address_country]", "GB"),
        ],
    )
    .await;
    let tok = t.id();
    let pm = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", tok.as_str())],
        )
        .await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    assert_eq!(pm.body["card"]["brand"], "mastercard");
    assert_eq!(pm.body["card"]["last4"], "4444");
    assert_eq!(
        pm.body["card"]["fingerprint"],
        t.body["card"]["fingerprint"]
    );
    assert_eq!(pm.body["billing_details"]["name"], "Ada Lovelace");
    assert_eq!(pm.body["billing_details"]["address"]["country"], "GB");
    let used = env.get(env.sk(), &format!("/v1/tokens/{tok}")).await;
    assert_eq!(used.body["used"], true);
    let again = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", tok.as_str())],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(
        again.error_message(),
        format!("You cannot use a Stripe token more than once: {tok}.")
    );
    let paid = env.pay(&pm.id(), "1500", &[]).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "succeeded");
}
