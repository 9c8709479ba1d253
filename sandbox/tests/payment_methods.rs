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
