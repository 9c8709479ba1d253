//! Rows are parsed where they are read: a stored value that does not parse back (a manual
//! edit, a bug in another version) is an error naming the table and column, never guessed
//! into the nearest value (an unknown locale taken as English, an unknown error code shown
//! as it is, a lease taken from an unknown status as one taken from `open`). Statuses and
//! modes have CHECK constraints in the schema as well; these columns do not.

use serde_json::json;
use slotpay_server::db::DbError;

use crate::helpers::{both_backends, TestApp};

both_backends!(a_value_that_does_not_parse_is_an_error_not_a_guess);

/// Overwrites one column of one row, as a manual edit would.
async fn edit(app: &TestApp, table: &str, column: &str, value: &str, key: (&str, &str)) {
    let sql = format!("UPDATE {table} SET {column} = $1 WHERE {} = $2", key.0);
    let done = sqlx::query(&sql)
        .bind(value)
        .bind(key.1)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{table}.{column}");
}

/// The storage error of reading a corrupt row, with what it names.
fn corrupt(e: DbError) -> String {
    match e {
        DbError::Corrupt { table, detail } => format!("{table}: {detail}"),
        other => panic!("not reported as corrupt: {other}"),
    }
}

async fn a_value_that_does_not_parse_is_an_error_not_a_guess(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let view = format!("/v1/checkouts/{token}");
    app.get(&view).await.expect(200);

    // A locale nobody wrote: the client is not shown English instead.
    edit(&app, "merchants", "locale", "xx", ("id", &m.id)).await;
    let e = app.state.db.get_merchant(&m.id).await.unwrap_err();
    assert_eq!(corrupt(e), "merchants: locale: \"xx\"");
    app.get(&view)
        .await
        .expect_error(500, "internal_error", None);
    edit(&app, "merchants", "locale", "fr", ("id", &m.id)).await;
    app.get(&view).await.expect(200);

    // A look nobody chose from the lists is not passed on to the checkout as a guess.
    for (column, value) in [
        ("corners", "round"),
        ("font", "papyrus"),
        ("color_scheme", "Dark"),
    ] {
        edit(&app, "merchants", column, value, ("id", &m.id)).await;
        let e = app.state.db.get_merchant(&m.id).await.unwrap_err();
        assert_eq!(corrupt(e), format!("merchants: {column}: \"{value}\""));
        app.get(&view)
            .await
            .expect_error(500, "internal_error", None);
        sqlx::query(&format!(
            "UPDATE merchants SET {column} = NULL WHERE id = $1"
        ))
        .bind(&m.id)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    }
    app.get(&view).await.expect(200);

    // A verification error code nobody wrote is not shown to the platform as one.
    let integration = format!("/v1/admin/merchants/{}/integration", m.id);
    edit(
        &app,
        "integrations",
        "status",
        "error",
        ("merchant_id", &m.id),
    )
    .await;
    edit(
        &app,
        "integrations",
        "status_code",
        "key_gone",
        ("merchant_id", &m.id),
    )
    .await;
    let e = app.state.db.get_integration(&m.id).await.unwrap_err();
    assert_eq!(corrupt(e), "integrations: status_code: \"key_gone\"");
    app.get(&integration)
        .await
        .expect_error(500, "internal_error", None);
    edit(
        &app,
        "integrations",
        "status_code",
        "api_key_expired",
        ("merchant_id", &m.id),
    )
    .await;
    let shown = app.get(&integration).await.expect(200);
    assert_eq!(shown.json["status_reason"]["code"], "api_key_expired");

    // A lease with some of its columns empty, or taken from a status nobody wrote, is
    // neither a lease nor an unleased checkout.
    let at = ("token", token.as_str());
    edit(&app, "checkouts", "lease_from", "paidd", at).await;
    let e = app.state.db.get_checkout(&token).await.unwrap_err();
    assert_eq!(
        corrupt(e),
        "checkouts: a lease with some of its columns empty"
    );
    for (column, value) in [("lease_until", "1"), ("lease_attempt", "1")] {
        let sql = format!("UPDATE checkouts SET {column} = {value} WHERE token = $1");
        sqlx::query(&sql)
            .bind(&token)
            .execute(app.state.db.pool())
            .await
            .unwrap();
    }
    let e = app.state.db.get_checkout(&token).await.unwrap_err();
    assert_eq!(corrupt(e), "checkouts: lease_from paidd");
    app.get(&view)
        .await
        .expect_error(500, "internal_error", None);
    edit(&app, "checkouts", "lease_from", "open", at).await;
    assert_eq!(
        app.stored(&token).await.lease.map(|l| l.from.as_str()),
        Some("open")
    );

    // A logo whose hash is not one, or is not its bytes' (a manual edit), is neither shown
    // as the merchant's nor served under that hash.
    let png = crate::logos::png();
    let up = crate::logos::upload(&app, &m.id, "image/png", png.clone())
        .await
        .expect(200);
    let hash = up.json["logo_upload"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let logo_at = ("merchant_id", m.id.as_str());
    edit(&app, "merchant_logos", "sha256", "not-a-hash", logo_at).await;
    let e = app.state.db.get_merchant(&m.id).await.unwrap_err();
    assert_eq!(corrupt(e), "merchant_logos: logo_sha256: \"not-a-hash\"");
    let merchant = format!("/v1/admin/merchants/{}", m.id);
    app.get(&merchant)
        .await
        .expect_error(500, "internal_error", None);
    let other = "0".repeat(64);
    edit(&app, "merchant_logos", "sha256", &other, logo_at).await;
    let e = app
        .state
        .db
        .merchant_logo(
            &m.id,
            &slotpay_server::logo::LogoHash::parse(&other).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        corrupt(e),
        format!("merchant_logos: bytes: not the image/png image of hash {other}")
    );
    app.get(&format!("/logos/{}/{other}.png", m.id))
        .await
        .expect_error(500, "internal_error", None);
    edit(&app, "merchant_logos", "sha256", &hash, logo_at).await;
    app.get(&merchant).await.expect(200);
    assert_eq!(
        app.client
            .get(format!("{}/logos/{}/{hash}.png", app.url, m.id))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec(),
        png
    );
}
