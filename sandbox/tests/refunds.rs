//! Refunds: partial, full, over-refund refused with Stripe's wording, and the charge's
//! `amount_refunded` / `refunded` following.

mod common;

use common::*;

#[tokio::test]
async fn partial_then_rest_then_refused() {
    let env = start().await;
    let pi = env.pay("pm_card_visa", "5000", &[]).await;
    let id = pi.id();
    let charge = pi.body["latest_charge"].as_str().unwrap().to_string();
    let over = env
        .post(
            env.sk(),
            "/v1/refunds",
            &[("payment_intent", &id), ("amount", "9390")],
        )
        .await;
    assert_eq!(over.status, 400);
    assert_eq!(
        over.error_message(),
        "Refund amount ($93.90) is greater than charge amount ($50.00)"
    );
    assert_eq!(over.body["error"]["param"], "amount");
    let r1 = env
        .post(
            env.sk(),
            "/v1/refunds",
            &[
                ("payment_intent", &id),
                ("amount", "2000"),
                ("reason", "requested_by_customer"),
            ],
        )
        .await;
    assert_eq!(r1.status, 200, "{}", r1.body);
    assert_eq!(r1.body["status"], "succeeded");
    assert_eq!(r1.body["charge"], charge.as_str());
    assert_eq!(r1.body["payment_intent"], id.as_str());
    let c = env.get(env.sk(), &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        (
            c.body["amount_refunded"].clone(),
            c.body["refunded"].clone()
        ),
        (2000.into(), false.into())
    );
    assert_eq!(c.body["refunds"]["data"][0]["id"], r1.body["id"]);
    let over = env
        .post(
            env.sk(),
            "/v1/refunds",
            &[("charge", &charge), ("amount", "3001")],
        )
        .await;
    assert_eq!(
        over.error_message(),
        "Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)"
    );
    let rest = env
        .post(env.sk(), "/v1/refunds", &[("charge", &charge)])
        .await;
    assert_eq!(rest.body["amount"], 3000, "no amount refunds what remains");
    let c = env.get(env.sk(), &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        (
            c.body["amount_refunded"].clone(),
            c.body["refunded"].clone()
        ),
        (5000.into(), true.into())
    );
    let done = env
        .post(
            env.sk(),
            "/v1/refunds",
            &[("charge", &charge), ("amount", "1")],
        )
        .await;
    assert_eq!(done.error_code(), Some("charge_already_refunded"));
    assert_eq!(
        done.error_message(),
        format!("Charge {charge} has already been refunded.")
    );
    let listed = env
        .get(env.sk(), &format!("/v1/refunds?payment_intent={id}"))
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    let got = env.get(env.sk(), &format!("/v1/refunds/{}", r1.id())).await;
    assert_eq!(got.body["amount"], 2000);
    let updated = env
        .post(
            env.sk(),
            &format!("/v1/refunds/{}", r1.id()),
            &[("metadata[ticket]", "T-1")],
        )
        .await;
    assert_eq!(updated.body["metadata"]["ticket"], "T-1");
    let events = env
        .get(env.sk(), "/v1/events?type=charge.refund.updated")
        .await;
    assert_eq!(
        events.body["data"][0]["data"]["object"]["id"],
        r1.body["id"]
    );
    assert_eq!(
        events.body["data"][0]["data"]["previous_attributes"]["metadata"],
        serde_json::json!({})
    );
    let refunded = env.get(env.sk(), "/v1/events?type=charge.refunded").await;
    assert_eq!(refunded.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(env.sb.counter("refunds"), 2);
}

#[tokio::test]
async fn refunds_need_a_captured_successful_charge() {
    let env = start().await;
    let auth = env
        .pay("pm_card_visa", "5000", &[("capture_method", "manual")])
        .await;
    let r = env
        .post(env.sk(), "/v1/refunds", &[("payment_intent", &auth.id())])
        .await;
    assert_eq!(r.status, 400);
    let failed = env.pay("pm_card_chargeDeclined", "5000", &[]).await;
    let charge = failed.body["error"]["charge"].as_str().unwrap();
    assert_eq!(
        env.post(env.sk(), "/v1/refunds", &[("charge", charge)])
            .await
            .status,
        400
    );
    assert_eq!(
        env.post(env.sk(), "/v1/refunds", &[]).await.error_code(),
        Some("parameter_missing")
    );
    // Partial capture: only the captured part can be refunded.
    let pi = env
        .pay("pm_card_visa", "5000", &[("capture_method", "manual")])
        .await;
    env.post(
        env.sk(),
        &format!("/v1/payment_intents/{}/capture", pi.id()),
        &[("amount_to_capture", "1500")],
    )
    .await;
    let over = env
        .post(
            env.sk(),
            "/v1/refunds",
            &[("payment_intent", &pi.id()), ("amount", "1501")],
        )
        .await;
    assert_eq!(
        over.error_message(),
        "Refund amount ($15.01) is greater than charge amount ($15.00)"
    );
    assert_eq!(
        env.post(env.sk(), "/v1/refunds", &[("payment_intent", &pi.id())])
            .await
            .body["amount"],
        1500
    );
}
