//! Every object the sandbox returns for the thirteen resources carries every top-level field of
//! the same resource in Stripe's published fixtures (`tests/fixtures/stripe-fixtures3.json`,
//! copied from Stripe's OpenAPI repository).

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

fn fixtures() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stripe-fixtures3.json"
    ))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["resources"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, obj)| {
            (
                name.clone(),
                obj.as_object().unwrap().keys().cloned().collect(),
            )
        })
        .collect()
}

fn check(
    fixtures: &BTreeMap<String, Vec<String>>,
    resource: &str,
    what: &str,
    obj: &Value,
    seen: &mut BTreeMap<String, usize>,
) {
    let wanted = fixtures
        .get(resource)
        .unwrap_or_else(|| panic!("no fixture for {resource}"));
    assert_eq!(obj["object"], resource, "{what}: {obj}");
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|k| obj.get(k.as_str()).is_none())
        .collect();
    assert!(missing.is_empty(), "{what} ({resource}) lacks {missing:?}");
    *seen.entry(resource.to_string()).or_default() += 1;
}

#[tokio::test]
async fn every_resource_carries_every_fixture_field() {
    let env = start().await;
    let fx = fixtures();
    assert_eq!(fx.len(), 13);
    let mut seen = BTreeMap::new();
    let sk = env.sk().to_string();
    let hook = receiver(&[]).await;
    let we = env
        .post(
            &sk,
            "/v1/webhook_endpoints",
            &[("url", hook.url.as_str()), ("enabled_events[]", "*")],
        )
        .await;
    check(
        &fx,
        "webhook_endpoint",
        "created endpoint",
        &we.body,
        &mut seen,
    );
    check(
        &fx,
        "webhook_endpoint",
        "retrieved endpoint",
        &env.get(&sk, &format!("/v1/webhook_endpoints/{}", we.id()))
            .await
            .body,
        &mut seen,
    );

    let pmd = env
        .post(
            &sk,
            "/v1/payment_method_domains",
            &[("domain_name", "salon.example")],
        )
        .await;
    check(
        &fx,
        "payment_method_domain",
        "created domain",
        &pmd.body,
        &mut seen,
    );

    check(
        &fx,
        "account",
        "GET /v1/account",
        &env.get(&sk, "/v1/account").await.body,
        &mut seen,
    );
    let cus = env
        .post(
            &sk,
            "/v1/customers",
            &[("email", "f@example.com"), ("name", "F")],
        )
        .await;
    check(&fx, "customer", "created customer", &cus.body, &mut seen);
    let cus_id = cus.id();
    check(
        &fx,
        "customer",
        "updated customer",
        &env.post(
            &sk,
            &format!("/v1/customers/{cus_id}"),
            &[("phone", "+331")],
        )
        .await
        .body,
        &mut seen,
    );

    let pm = env.card("4242424242424242").await;
    let pm_obj = env.get(&sk, &format!("/v1/payment_methods/{pm}")).await;
    check(
        &fx,
        "payment_method",
        "retrieved pm",
        &pm_obj.body,
        &mut seen,
    );
    let attached = env
        .post(
            &sk,
            &format!("/v1/payment_methods/{pm}/attach"),
            &[("customer", &cus_id)],
        )
        .await;
    check(
        &fx,
        "payment_method",
        "attached pm",
        &attached.body,
        &mut seen,
    );

    // PaymentIntents in each state.
    let open = env
        .post(
            &sk,
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd")],
        )
        .await;
    check(
        &fx,
        "payment_intent",
        "requires_payment_method",
        &open.body,
        &mut seen,
    );
    let paid = env.pay(&pm, "2000", &[("customer", &cus_id)]).await;
    check(&fx, "payment_intent", "succeeded", &paid.body, &mut seen);
    let three = env.pay("pm_card_authenticationRequired", "2000", &[]).await;
    check(
        &fx,
        "payment_intent",
        "requires_action",
        &three.body,
        &mut seen,
    );
    let declined = env.pay("pm_card_chargeDeclined", "2000", &[]).await;
    check(
        &fx,
        "payment_intent",
        "declined (in the error)",
        &declined.body["error"]["payment_intent"],
        &mut seen,
    );
    let auth = env
        .pay("pm_card_visa", "2000", &[("capture_method", "manual")])
        .await;
    check(
        &fx,
        "payment_intent",
        "requires_capture",
        &auth.body,
        &mut seen,
    );
    let canceled = env
        .post(
            &sk,
            &format!("/v1/payment_intents/{}/cancel", auth.id()),
            &[],
        )
        .await;
    check(&fx, "payment_intent", "canceled", &canceled.body, &mut seen);
    for pi in env.get(&sk, "/v1/payment_intents?limit=100").await.body["data"]
        .as_array()
        .unwrap()
    {
        check(&fx, "payment_intent", "listed", pi, &mut seen);
    }

    // Charges, succeeded and failed, expanded and listed.
    let charge = paid.body["latest_charge"].as_str().unwrap().to_string();
    check(
        &fx,
        "charge",
        "retrieved charge",
        &env.get(&sk, &format!("/v1/charges/{charge}")).await.body,
        &mut seen,
    );
    let failed = declined.body["error"]["charge"].as_str().unwrap();
    check(
        &fx,
        "charge",
        "failed charge",
        &env.get(&sk, &format!("/v1/charges/{failed}")).await.body,
        &mut seen,
    );
    let expanded = env
        .get(
            &sk,
            &format!("/v1/payment_intents/{}?expand[]=latest_charge", paid.id()),
        )
        .await;
    check(
        &fx,
        "charge",
        "expanded latest_charge",
        &expanded.body["latest_charge"],
        &mut seen,
    );

    // Refunds and balance transactions.
    let refund = env
        .post(
            &sk,
            "/v1/refunds",
            &[("charge", &charge), ("amount", "500")],
        )
        .await;
    check(&fx, "refund", "created refund", &refund.body, &mut seen);
    check(
        &fx,
        "refund",
        "retrieved refund",
        &env.get(&sk, &format!("/v1/refunds/{}", refund.id()))
            .await
            .body,
        &mut seen,
    );
    let txn = env.get(&sk, &format!("/v1/charges/{charge}")).await.body["balance_transaction"]
        .as_str()
        .unwrap()
        .to_string();
    check(
        &fx,
        "balance_transaction",
        "charge txn",
        &env.get(&sk, &format!("/v1/balance_transactions/{txn}"))
            .await
            .body,
        &mut seen,
    );
    let rtxn = refund.body["balance_transaction"].as_str().unwrap();
    check(
        &fx,
        "balance_transaction",
        "refund txn",
        &env.get(&sk, &format!("/v1/balance_transactions/{rtxn}"))
            .await
            .body,
        &mut seen,
    );

    // SetupIntents.
    let si = env
        .post(
            &sk,
            "/v1/setup_intents",
            &[
                ("customer", &cus_id),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    check(&fx, "setup_intent", "succeeded setup", &si.body, &mut seen);
    let si2 = env.post(&sk, "/v1/setup_intents", &[]).await;
    check(
        &fx,
        "setup_intent",
        "new setup",
        &env.get(&sk, &format!("/v1/setup_intents/{}", si2.id()))
            .await
            .body,
        &mut seen,
    );

    // Tokens (Stripe.js's `createToken`), and the card object they carry.
    let tok = env
        .post(
            &env.sb.publishable_key,
            "/v1/tokens",
            &[
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "8"),
                ("card[exp_year]", "2040"),
                ("card[cvc]", "123"),
                ("card[name]", "Jenny Rosen"),
            ],
        )
        .await;
    check(&fx, "token", "created token", &tok.body, &mut seen);
    check(
        &fx,
        "token",
        "retrieved token",
        &env.get(&sk, &format!("/v1/tokens/{}", tok.id())).await.body,
        &mut seen,
    );
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stripe-fixtures3.json"
    ))
    .unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    let card_fields = fixture["resources"]["token"]["card"].as_object().unwrap();
    let missing: Vec<&String> = card_fields
        .keys()
        .filter(|k| tok.body["card"].get(k.as_str()).is_none())
        .collect();
    assert!(missing.is_empty(), "the token's card lacks {missing:?}");

    // Disputes.
    let d = env
        .control(
            &format!(
                "/_sandbox/charges/{}/dispute",
                env.pay("pm_card_visa", "3000", &[]).await.body["latest_charge"]
                    .as_str()
                    .unwrap()
            ),
            json!({}),
        )
        .await;
    check(&fx, "dispute", "opened dispute", &d.body, &mut seen);
    check(
        &fx,
        "dispute",
        "retrieved dispute",
        &env.get(&sk, &format!("/v1/disputes/{}", d.id())).await.body,
        &mut seen,
    );

    // Events, from the API and as delivered, with their data.object.
    let events = env.get(&sk, "/v1/events?limit=100").await;
    for ev in events.body["data"].as_array().unwrap() {
        check(&fx, "event", "listed event", ev, &mut seen);
        let obj = &ev["data"]["object"];
        let kind = obj["object"].as_str().unwrap();
        check(
            &fx,
            kind,
            &format!("data.object of {}", ev["type"]),
            obj,
            &mut seen,
        );
    }
    let hits = hook.wait_until(5, |h| h.len() >= 10).await;
    for h in hits {
        check(&fx, "event", "delivered event", &h.json(), &mut seen);
    }
    for name in fx.keys() {
        assert!(
            seen.get(name).copied().unwrap_or(0) > 0,
            "no {name} was checked"
        );
    }
}
