//! A merchant's Stripe integration through the platform API: each key error, trimming,
//! masked views, verification (Active, Error for a revoked key and for a restricted key
//! missing a permission), webhook registration, the signing secret pasted by hand, edits
//! that keep keys, deactivate/activate, delete; and secrets at rest.

use serde_json::{json, Value};
use slotpay_server::domain::integrations::WEBHOOK_EVENTS;

use crate::helpers::{both_backends, register_secret, TestApp};

both_backends!(
    key_errors_save_nothing,
    trimming_is_reported_and_views_are_masked,
    verification_active_then_error_when_revoked,
    restricted_key_missing_a_permission,
    activation_registers_the_webhook_endpoint,
    signing_secret_by_hand_without_the_webhook_permission,
    edits_keep_keys_and_key_changes_need_reactivation,
    deactivate_and_activate_again,
    delete_keeps_the_merchant,
    no_plaintext_secret_at_rest,
);

const PK_LIVE: &str = "pk_live_51HqLyjWDarjtT1zdABCD4242";
const SK_LIVE: &str = "sk_live_51HqLyjWDarjtT1zdSECRET4242";

fn path(merchant: &str) -> String {
    format!("/v1/admin/merchants/{merchant}/integration")
}

fn last4(key: &str) -> &str {
    &key[key.len() - 4..]
}

async fn key_errors_save_nothing(app: TestApp) {
    let m = app.merchant(&[]).await;
    let pk = app.sandbox.publishable_key.clone();
    let sk = app.sandbox.secret_key.clone();
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (
            json!({"secret_key": sk, "mode": "sandbox"}),
            "invalid_publishable_key",
            Some("publishable_key"),
        ),
        (
            json!({"publishable_key": pk, "mode": "sandbox"}),
            "invalid_secret_key",
            Some("secret_key"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": "sk_test_abcd efgh12345678", "mode": "sandbox"}),
            "key_contains_whitespace",
            Some("secret_key"),
        ),
        (
            json!({"publishable_key": "pk_tset_abcdefgh1234", "secret_key": sk, "mode": "sandbox"}),
            "unknown_key_prefix",
            Some("publishable_key"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": "ak_test_abcdefgh12345678", "mode": "sandbox"}),
            "unknown_key_prefix",
            Some("secret_key"),
        ),
        (
            json!({"publishable_key": sk, "secret_key": sk, "mode": "sandbox"}),
            "secret_key_in_publishable_field",
            Some("publishable_key"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": pk, "mode": "sandbox"}),
            "publishable_key_in_secret_field",
            Some("secret_key"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": "sk_test_abc", "mode": "sandbox"}),
            "invalid_secret_key",
            Some("secret_key"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": SK_LIVE, "mode": "sandbox"}),
            "mixed_key_modes",
            None,
        ),
        (
            json!({"publishable_key": PK_LIVE, "secret_key": SK_LIVE, "mode": "sandbox"}),
            "key_mode_mismatch",
            Some("mode"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk, "mode": "live"}),
            "key_mode_mismatch",
            Some("mode"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk, "mode": "test"}),
            "invalid_request",
            Some("mode"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk}),
            "invalid_request",
            Some("mode"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk, "mode": "sandbox", "webhook_secret": "sk_test_notasecret123"}),
            "unknown_key_prefix",
            Some("webhook_secret"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk, "mode": "sandbox", "webhook_secret": "whsec_x"}),
            "invalid_webhook_secret",
            Some("webhook_secret"),
        ),
        (
            json!({"publishable_key": pk, "secret_key": sk, "mode": "sandbox", "card_brands": ["visa", "maestro"]}),
            "invalid_request",
            Some("card_brands[1]"),
        ),
    ];
    for (body, code, param) in cases {
        let r = app.put(&path(&m), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(
            (r.code(), r.json["error"]["param"].as_str()),
            (code, param),
            "{body}: {}",
            r.text
        );
        app.get(&path(&m))
            .await
            .expect_error(404, "not_found", None);
    }
    // A key pasted into the wrong field is named in the message, and never repeated.
    let r = app
        .put(
            &path(&m),
            json!({"publishable_key": pk, "secret_key": pk, "mode": "sandbox"}),
        )
        .await;
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("publishable key (pk_...)"),
        "{}",
        r.text
    );

    // On an existing integration, a refused edit changes nothing.
    app.sandbox_integration(&m, &sk).await.expect(200);
    let before = app.get(&path(&m)).await.expect(200).json;
    app.put(&path(&m), json!({"secret_key": "rk_live_abcdefgh12345678"}))
        .await
        .expect_error(400, "mixed_key_modes", None);
    app.put(&path(&m), json!({"mode": "live"}))
        .await
        .expect_error(400, "key_mode_mismatch", Some("mode"));
    app.put(
        &path(&m),
        json!({"name": "Mine", "publishable_key": "pk_test_short"}),
    )
    .await
    .expect_error(400, "invalid_publishable_key", Some("publishable_key"));
    assert_eq!(app.get(&path(&m)).await.json, before);
    // The integration of a merchant that does not exist.
    app.put(&path("mer_nope"), json!({"mode": "off"}))
        .await
        .expect_error(404, "not_found", None);
}

async fn trimming_is_reported_and_views_are_masked(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    let r = app
        .put(
            &path(&m),
            json!({"name": "Stripe FR", "publishable_key": format!("  {}", app.sandbox.publishable_key),
                   "secret_key": format!("{sk} \n"), "mode": "sandbox"}),
        )
        .await
        .expect(200);
    let warnings = r.json["warnings"].as_array().unwrap();
    assert!(
        warnings.contains(&json!({"code": "key_trimmed", "field": "secret_key",
        "message": "Surrounding spaces were removed from the secret key"})),
        "{}",
        r.text
    );
    assert!(
        warnings.iter().any(|w| w["field"] == "publishable_key"),
        "{}",
        r.text
    );
    assert_eq!(r.json["secret_key"], format!("sk_test_...{}", last4(&sk)));
    assert_eq!(
        r.json["publishable_key"],
        format!("pk_test_...{}", last4(&app.sandbox.publishable_key))
    );
    assert_eq!(r.json["status"], "unverified");
    assert_eq!(r.json["active"], false);
    assert_eq!(r.json["mode"], "sandbox");
    assert_eq!(r.json["key_kind"], "secret");
    assert_eq!(
        r.json["card_brands"],
        json!(["visa", "mastercard", "amex", "discover"])
    );
    assert_eq!(
        r.json["webhook"]["url"],
        format!("{}/v1/webhooks/stripe/{m}", app.url)
    );
    assert!(
        !r.text.contains(&app.sandbox.publishable_key),
        "even the publishable key is masked"
    );
    // The stored key is the trimmed one: Stripe accepts it.
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "active", "{}", v.text);
    let view = app.get(&path(&m)).await.expect(200);
    assert!(view.json.get("warnings").is_none());
    assert_eq!(view.json["name"], "Stripe FR");
}

async fn verification_active_then_error_when_revoked(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "active", "{}", v.text);
    assert_eq!(v.json["account"]["id"], app.sandbox.account_id.as_str());
    assert_eq!(v.json["account"]["country"], "US");
    assert_eq!(v.json["account"]["default_currency"], "usd");
    assert!(v.json["last_verified_at"].as_i64().unwrap() > 1_700_000_000);
    assert!(v.json.get("status_reason").is_none());

    app.sandbox.revoke_key(&sk).unwrap();
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "error", "{}", v.text);
    assert_eq!(v.json["status_reason"]["code"], "api_key_expired");
    let reason = v.json["status_reason"]["message"].as_str().unwrap();
    assert!(reason.starts_with("Expired API Key provided"), "{reason}");
    assert!(
        reason.contains(&format!("sk_test_...{}", last4(&sk))),
        "masked to the last 4: {reason}"
    );
    // Activation verifies first and leaves it inactive with the error visible.
    app.post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect_error(400, "api_key_expired", Some("secret_key"));
    let view = app.get(&path(&m)).await.expect(200);
    assert_eq!(
        (view.json["active"].clone(), view.json["status"].clone()),
        (json!(false), json!("error"))
    );
    assert_eq!(view.json["status_reason"]["code"], "api_key_expired");
    assert_eq!(view.json["payments_available"], false);

    // An unknown key is an invalid key.
    let other = app.merchant(&[]).await;
    let unknown = "sk_test_51NotAKeyTheSandboxKnows0000";
    register_secret(unknown);
    app.sandbox_integration(&other, unknown).await.expect(200);
    let v = app
        .post(&format!("{}/verify", path(&other)), json!({}))
        .await
        .expect(200);
    assert_eq!(
        v.json["status_reason"]["code"], "invalid_secret_key",
        "{}",
        v.text
    );
    app.post(&format!("{}/verify", path("mer_nope")), json!({}))
        .await
        .expect_error(404, "not_found", None);
}

async fn restricted_key_missing_a_permission(app: TestApp) {
    let m = app.merchant(&[]).await;
    let rk = app
        .sandbox
        .create_restricted_key(&[
            "payment_intents:write",
            "payment_methods:read",
            "customers:write",
            "charges:read",
        ])
        .unwrap();
    register_secret(&rk);
    app.sandbox_integration(&m, &rk).await.expect(200);
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "error", "{}", v.text);
    assert_eq!(v.json["key_kind"], "restricted");
    assert_eq!(v.json["status_reason"]["code"], "key_missing_permission");
    assert_eq!(
        v.json["status_reason"]["missing_permissions"],
        json!(["rak_refund_write"])
    );
    let message = v.json["status_reason"]["message"].as_str().unwrap();
    assert!(message.contains("rak_refund_write"), "{message}");
    app.post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect_error(400, "key_missing_permission", Some("secret_key"));

    // The sandbox's own restricted key has every permission slotpay needs.
    let rk_ok = app.sandbox.restricted_key.clone();
    app.put(&path(&m), json!({"secret_key": rk_ok}))
        .await
        .expect(200);
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "active", "{}", v.text);
    assert_eq!(
        v.json["secret_key"],
        format!("rk_test_...{}", last4(&rk_ok))
    );
}

async fn activation_registers_the_webhook_endpoint(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    let a = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(
        (a.json["active"].clone(), a.json["status"].clone()),
        (json!(true), json!("active")),
        "{}",
        a.text
    );
    assert_eq!(a.json["payments_available"], true);
    let hook = &a.json["webhook"];
    assert_eq!(hook["secret_source"], "api");
    let endpoint_id = hook["endpoint_id"].as_str().unwrap();
    assert!(endpoint_id.starts_with("we_"));

    let secret = app.stored_webhook_secret(&m).await.unwrap();
    register_secret(&secret);
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        hook["signing_secret"],
        format!("whsec_...{}", last4(&secret))
    );

    // The endpoint exists at Stripe with our URL and the events.
    let list = app.stripe_get(&sk, "/v1/webhook_endpoints").await;
    let endpoints = list["data"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1, "{list}");
    assert_eq!(endpoints[0]["id"], endpoint_id);
    assert_eq!(
        endpoints[0]["url"],
        format!("{}/v1/webhooks/stripe/{m}", app.url)
    );
    assert_eq!(endpoints[0]["enabled_events"], json!(WEBHOOK_EVENTS));
    assert_eq!(endpoints[0]["metadata"]["slotpay_merchant_id"], m.as_str());

    // The log says so (and the capture that the secret grep relies on works).
    let logs = crate::helpers::captured_logs();
    assert!(
        logs.contains("webhook endpoint registered") && logs.contains(endpoint_id),
        "logs are captured"
    );

    // Stored encrypted.
    let stored = app.state.db.get_integration(&m).await.unwrap().unwrap();
    assert!(stored
        .webhook_secret_enc
        .as_deref()
        .unwrap()
        .starts_with("v1:"));
    assert!(stored.secret_key_enc.starts_with("v1:"));
}

async fn signing_secret_by_hand_without_the_webhook_permission(app: TestApp) {
    let m = app.merchant(&[]).await;
    let rk = app
        .sandbox
        .create_restricted_key(&[
            "payment_intents:write",
            "payment_methods:read",
            "customers:write",
            "refunds:write",
            "charges:read",
        ])
        .unwrap();
    register_secret(&rk);
    app.sandbox_integration(&m, &rk).await.expect(200);
    let r = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect_error(409, "webhook_secret_required", Some("webhook_secret"));
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("rak_webhook_write"), "{message}");
    assert!(
        message.contains(&format!("{}/v1/webhooks/stripe/{m}", app.url)),
        "{message}"
    );
    let view = app.get(&path(&m)).await.expect(200);
    assert_eq!(view.json["active"], false);
    assert_eq!(view.json["status"], "active", "the key itself is fine");

    let pasted = "whsec_0123456789abcdefPASTEDbyHAND9f3e";
    register_secret(pasted);
    let set = app
        .put(&path(&m), json!({"webhook_secret": format!(" {pasted}")}))
        .await
        .expect(200);
    assert_eq!(set.json["webhook"]["secret_source"], "manual");
    assert_eq!(set.json["webhook"]["signing_secret"], "whsec_...9f3e");
    assert_eq!(set.json["warnings"][0]["field"], "webhook_secret");
    let a = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(a.json["active"], true, "{}", a.text);
    assert_eq!(a.json["webhook"]["secret_source"], "manual");
    assert!(a.json["webhook"].get("endpoint_id").is_none());
    assert_eq!(app.stored_webhook_secret(&m).await.unwrap(), pasted);
}

async fn edits_keep_keys_and_key_changes_need_reactivation(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    let active = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200)
        .json;
    let first_endpoint = active["webhook"]["endpoint_id"].clone();

    // A partial edit (or empty key fields, as an HTML form sends them) keeps every key.
    let edited = app
        .put(&path(&m), json!({"name": "Renamed", "publishable_key": "", "secret_key": "", "card_brands": ["visa", "mastercard"]}))
        .await
        .expect(200)
        .json;
    assert_eq!(edited["name"], "Renamed");
    for field in [
        "secret_key",
        "publishable_key",
        "status",
        "active",
        "account",
        "webhook",
        "mode",
    ] {
        assert_eq!(edited[field], active[field], "{field}");
    }
    assert_eq!(edited["card_brands"], json!(["visa", "mastercard"]));
    let v = app
        .post(&format!("{}/verify", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(
        v.json["status"], "active",
        "the kept key still works: {}",
        v.text
    );

    // A key of another account: unverified, inactive until activated again; the old
    // endpoint is removed at Stripe with the old key.
    let other = app
        .sandbox
        .create_account(stripe_sandbox::AccountParams {
            country: Some("FR".into()),
            default_currency: Some("eur".into()),
            business_name: None,
        })
        .unwrap();
    register_secret(&other.secret_key);
    register_secret(&other.restricted_key);
    let changed = app
        .put(
            &path(&m),
            json!({"publishable_key": other.publishable_key, "secret_key": other.secret_key}),
        )
        .await
        .expect(200);
    assert_eq!(changed.json["status"], "unverified");
    assert_eq!(changed.json["active"], false);
    assert_eq!(
        changed.json["warnings"][0]["code"], "verification_required",
        "{}",
        changed.text
    );
    assert!(changed.json["webhook"].get("endpoint_id").is_none());
    let old_list = app.stripe_get(&sk, "/v1/webhook_endpoints").await;
    assert_eq!(
        old_list["data"],
        json!([]),
        "old endpoint removed: {old_list}"
    );

    let a = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    assert_eq!(a.json["account"]["default_currency"], "eur");
    assert_eq!(a.json["account"]["country"], "FR");
    assert_ne!(a.json["webhook"]["endpoint_id"], first_endpoint);
    register_secret(&app.stored_webhook_secret(&m).await.unwrap());
}

async fn deactivate_and_activate_again(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    let a = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200)
        .json;
    register_secret(&app.stored_webhook_secret(&m).await.unwrap());
    let d = app
        .post(&format!("{}/deactivate", path(&m)), json!({}))
        .await
        .expect(200)
        .json;
    assert_eq!(
        (d["active"].clone(), d["payments_available"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(d["status"], "active");
    let again = app
        .post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200)
        .json;
    assert_eq!(again["active"], true);
    assert_eq!(
        again["webhook"]["endpoint_id"], a["webhook"]["endpoint_id"],
        "the endpoint is reused"
    );
    let list = app.stripe_get(&sk, "/v1/webhook_endpoints").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    // Mode Off: active, but no payments.
    let off = app
        .put(&path(&m), json!({"mode": "off"}))
        .await
        .expect(200)
        .json;
    assert_eq!(off["payments_available"], false);
    app.post(&format!("{}/deactivate", path("mer_nope")), json!({}))
        .await
        .expect_error(404, "not_found", None);
}

async fn delete_keeps_the_merchant(app: TestApp) {
    let m = app.merchant(&["https://salon.example"]).await;
    let sk = app.sandbox.secret_key.clone();
    app.post(
        &format!("/v1/admin/merchants/{m}/services"),
        json!({"name": "Cut", "price": "25.00", "currency": "usd"}),
    )
    .await
    .expect(201);
    app.sandbox_integration(&m, &sk).await.expect(200);
    app.post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    register_secret(&app.stored_webhook_secret(&m).await.unwrap());
    let d = app.delete(&path(&m)).await.expect(200);
    assert_eq!(
        d.json,
        json!({"merchant_id": m, "deleted": true, "webhook_endpoint_deleted": true})
    );
    assert_eq!(
        app.stripe_get(&sk, "/v1/webhook_endpoints").await["data"],
        json!([])
    );
    app.get(&path(&m))
        .await
        .expect_error(404, "not_found", None);
    let merchant = app
        .get(&format!("/v1/admin/merchants/{m}"))
        .await
        .expect(200);
    assert_eq!(
        merchant.json["allowed_origins"],
        json!(["https://salon.example"])
    );
    let services = app
        .get(&format!("/v1/admin/merchants/{m}/services"))
        .await
        .expect(200);
    assert_eq!(services.json["data"].as_array().unwrap().len(), 1);
    app.delete(&path(&m))
        .await
        .expect_error(404, "not_found", None);

    // When Stripe cannot remove the endpoint, the answer says so and the rest is done.
    app.sandbox_integration(&m, &sk).await.expect(200);
    app.post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    register_secret(&app.stored_webhook_secret(&m).await.unwrap());
    app.sandbox.revoke_key(&sk).unwrap();
    let d = app.delete(&path(&m)).await.expect(200);
    assert_eq!(d.json["webhook_endpoint_deleted"], false);
    assert_eq!(
        d.json["warnings"][0]["code"], "webhook_endpoint_not_deleted",
        "{}",
        d.text
    );
    app.get(&path(&m))
        .await
        .expect_error(404, "not_found", None);
}

async fn no_plaintext_secret_at_rest(app: TestApp) {
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    app.post(&format!("{}/activate", path(&m)), json!({}))
        .await
        .expect(200);
    let webhook_secret = app.stored_webhook_secret(&m).await.unwrap();
    register_secret(&webhook_secret);
    let m2 = app.merchant(&[]).await;
    let pasted = "whsec_AtRestManualSecret0123456789abcdef";
    register_secret(pasted);
    let rk = app.sandbox.restricted_key.clone();
    app.put(&path(&m2), json!({"publishable_key": app.sandbox.publishable_key, "secret_key": rk, "mode": "sandbox", "webhook_secret": pasted}))
        .await
        .expect(200);

    let secrets = [sk.as_str(), rk.as_str(), webhook_secret.as_str(), pasted];
    let stored: String = match app.backend {
        crate::helpers::Backend::Sqlite => {
            // The database file and its write-ahead log, byte for byte.
            let file = app.sqlite_file.clone().unwrap();
            let mut bytes = std::fs::read(&file).unwrap();
            if let Ok(wal) = std::fs::read(file.with_extension("db-wal")) {
                bytes.extend(wal);
            }
            assert!(bytes.len() > 4096);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        crate::helpers::Backend::Postgres => {
            let rows = sqlx::query("SELECT row_to_json(i)::text AS row FROM integrations i")
                .fetch_all(app.state.db.pool())
                .await
                .unwrap();
            assert_eq!(rows.len(), 2);
            rows.iter()
                .map(|r| sqlx::Row::get::<String, _>(r, "row"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    assert!(
        stored.contains(&app.sandbox.publishable_key),
        "the store was read: the publishable key is plain"
    );
    for s in secrets {
        assert!(
            !stored.contains(s),
            "plaintext {}... in the database",
            &s[..10]
        );
        // Not even the part between the prefix and the last 4.
        assert!(
            !stored.contains(&s[8..s.len() - 4]),
            "part of {}... in the database",
            &s[..10]
        );
    }
}
