//! Minimum and maximum charge amounts and decimals rules per currency, as Stripe answers them.

mod common;

use common::*;

async fn create(env: &Env, amount: &str, currency: &str) -> Resp {
    env.post(
        env.sk(),
        "/v1/payment_intents",
        &[("amount", amount), ("currency", currency)],
    )
    .await
}

#[tokio::test]
async fn minimums_per_currency_with_stripes_message() {
    let env = start().await;
    for (currency, below, at, message) in [
        ("usd", "49", "50", "Amount must be at least $0.50 usd"),
        ("eur", "49", "50", "Amount must be at least €0.50 eur"),
        ("gbp", "29", "30", "Amount must be at least £0.30 gbp"),
        ("jpy", "49", "50", "Amount must be at least ¥50 jpy"),
        (
            "huf",
            "17499",
            "17500",
            "Amount must be at least Ft175.00 huf",
        ),
        ("mxn", "999", "1000", "Amount must be at least $10.00 mxn"),
    ] {
        let r = create(&env, below, currency).await;
        assert_eq!(r.status, 400, "{currency}");
        assert_eq!(r.error_code(), Some("amount_too_small"), "{currency}");
        assert_eq!(r.body["error"]["param"], "amount");
        assert_eq!(r.error_message(), message);
        assert_eq!(create(&env, at, currency).await.status, 200, "{currency}");
    }
}

#[tokio::test]
async fn currencies_without_a_minimum_convert_to_the_settlement_currency() {
    let env = start().await;
    let r = create(&env, "5000", "pkr").await;
    assert_eq!(r.error_code(), Some("amount_too_small"));
    assert!(
        r.error_message()
            .starts_with("Amount must convert to at least 50 cents. "),
        "{}",
        r.error_message()
    );
    assert_eq!(create(&env, "50000", "pkr").await.status, 200);
}

#[tokio::test]
async fn eight_digit_maximum_and_decimals_rules() {
    let env = start().await;
    let r = create(&env, "100000000", "usd").await;
    assert_eq!(r.error_code(), Some("amount_too_large"));
    assert_eq!(r.error_message(), "Amount must be no more than $999,999.99");
    assert_eq!(create(&env, "99999999", "usd").await.status, 200);
    // Three-decimal currencies: last digit 0.
    assert_eq!(
        create(&env, "5125", "kwd").await.error_code(),
        Some("invalid_amount")
    );
    assert_eq!(create(&env, "5120", "kwd").await.status, 200);
    // ISK and UGX: whole units only, in two-decimal form.
    let r = create(&env, "10050", "isk").await;
    assert_eq!(
        r.error_code(),
        Some("invalid_charge_amount_no_decimal_compatible")
    );
    assert!(r
        .error_message()
        .contains("Currency ISK has become effectively zero-decimal"));
    assert_eq!(create(&env, "10000", "isk").await.status, 200);
    assert_eq!(
        create(&env, "500050", "ugx").await.error_code(),
        Some("invalid_charge_amount_no_decimal_compatible")
    );
    assert_eq!(create(&env, "0", "usd").await.status, 400);
    assert_eq!(create(&env, "-5", "usd").await.status, 400);
    let bad = create(&env, "1000", "xyz").await;
    assert!(bad.error_message().starts_with("Invalid currency: xyz."));
}

#[tokio::test]
async fn the_minimum_follows_the_settlement_currency() {
    let env = start().await;
    env.sb
        .update_account(
            &env.sb.account_id,
            stripe_sandbox::AccountUpdate {
                default_currency: Some("gbp".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let r = create(&env, "5000", "pkr").await;
    assert!(
        r.error_message()
            .starts_with("Amount must convert to at least 30 pence."),
        "{}",
        r.error_message()
    );
}
