//! The service catalogue through the platform API.

use serde_json::json;

use crate::helpers::{both_backends, TestApp};

both_backends!(services_crud_and_prepayment_rules);

async fn services_crud_and_prepayment_rules(app: TestApp) {
    let m = app.merchant(&[]).await;
    let base = format!("/v1/admin/merchants/{m}/services");
    let a = app
        .post(&base, json!({"name": "Haircut", "price": {"amount": 2500, "currency": "eur"},
            "prepayment": {"type": "percent", "percent": 30}, "cancellation_fee": {"amount": 1000}}))
        .await
        .expect(201);
    let id = a.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("svc_"));
    assert_eq!(a.json["price"], json!({"amount": 2500, "currency": "eur"}));
    assert_eq!(
        a.json["prepayment"],
        json!({"type": "percent", "percent": 30})
    );
    assert_eq!(
        a.json["prepayment_amount"],
        json!({"amount": 750, "currency": "eur"})
    );
    assert_eq!(
        a.json["cancellation_fee"],
        json!({"amount": 1000, "currency": "eur"})
    );
    assert_eq!(a.json["active"], true);

    let b = app
        .post(&base, json!({"name": "Colour", "price": "80.00", "currency": "gbp", "prepayment": {"type": "fixed", "amount": 2000}}))
        .await
        .expect(201);
    assert_eq!(b.json["price"], json!({"amount": 8000, "currency": "gbp"}));
    assert_eq!(
        b.json["prepayment_amount"],
        json!({"amount": 2000, "currency": "gbp"})
    );
    assert_eq!(b.json["cancellation_fee"], json!(null));

    // A rule whose prepayment is below Stripe's minimum is refused with core's message.
    let r = app
        .post(&base, json!({"name": "Fringe", "price": "4.00", "currency": "usd", "prepayment": {"type": "percent", "percent": 10}}))
        .await
        .expect_error(400, "amount_too_small", Some("prepayment"));
    assert_eq!(
        r.json["error"]["message"],
        "The prepayment, 0.40 USD, is below Stripe's minimum of 0.50 USD"
    );
    app.post(
        &base,
        json!({"name": "Tiny", "price": "0.29", "currency": "gbp"}),
    )
    .await
    .expect_error(400, "amount_too_small", Some("prepayment"));
    app.post(
        &base,
        json!({"name": "Odd", "price": "12.345", "currency": "eur"}),
    )
    .await
    .expect_error(400, "invalid_amount", Some("price"));
    app.post(&base, json!({"name": "Deposit", "price": "10", "currency": "eur", "prepayment": {"type": "fixed", "amount": 5000}}))
        .await
        .expect_error(400, "invalid_prepayment", Some("prepayment"));
    app.post(
        &base,
        json!({"name": "X", "price": "10", "currency": "xyz"}),
    )
    .await
    .expect_error(400, "invalid_currency", Some("currency"));
    assert_eq!(
        app.get(&base).await.expect(200).json["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Edits keep what is left out and re-check the whole service.
    let one = format!("{base}/{id}");
    let e = app
        .patch(&one, json!({"price": "30.00", "active": false}))
        .await
        .expect(200);
    assert_eq!(
        e.json["prepayment_amount"],
        json!({"amount": 900, "currency": "eur"})
    );
    assert_eq!(
        (e.json["name"].clone(), e.json["active"].clone()),
        (json!("Haircut"), json!(false))
    );
    app.patch(&one, json!({"price": "1.00"}))
        .await
        .expect_error(400, "amount_too_small", Some("prepayment"));
    assert_eq!(
        app.get(&one).await.expect(200).json["price"]["amount"],
        3000
    );
    let e = app
        .patch(&one, json!({"cancellation_fee": null}))
        .await
        .expect(200);
    assert_eq!(e.json["cancellation_fee"], json!(null));

    app.delete(&one).await.expect(200);
    app.get(&one).await.expect_error(404, "not_found", None);
    app.get("/v1/admin/merchants/mer_nope/services")
        .await
        .expect_error(404, "not_found", None);
    app.post(
        "/v1/admin/merchants/mer_nope/services",
        json!({"name": "X", "price": "10", "currency": "eur"}),
    )
    .await
    .expect_error(404, "not_found", None);
}
