//! Defences against what an attacker tries on a public checkout server: framing, plain-HTTP
//! downgrades, and (below) the abuses the security model lists.

use serde_json::{json, Value};
use slotpay_core::webhook_signature::signature_header;
use slotpay_server::config::{RateLimit, WindowLimit};
use slotpay_server::domain::reconcile;
use stripe_sandbox::Knobs;

use crate::helpers::{spawn_app, Backend, PayMerchant, TestApp};

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

/// Requests from an origin the merchant did not register are rate limited before anything
/// reads the database for them: a flood from a hostile page costs the database nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_comes_before_cors() {
    let app = spawn_app(
        Backend::Sqlite,
        Box::new(|c| {
            c.rate_limit_ip = RateLimit {
                burst: 3,
                per_second: 0.01,
            }
        }),
    )
    .await
    .unwrap();
    let view = "/v1/checkouts/cs_0123456789abcdef0123456789abcdef";
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = app
            .request(
                reqwest::Method::GET,
                view,
                None,
                &[("origin", "https://hostile.example")],
            )
            .await;
        codes.push(r.status.as_u16());
    }
    assert_eq!(codes, [403, 403, 403, 429, 429, 429], "{codes:?}");
    app.teardown().await;
}

/// Anyone may make a checkout from a merchant's catalogue (the script-tag embed): the ones
/// nobody tried to pay are deleted a day after they expire, so junk does not pile up. A
/// platform's checkout, or one with a pay attempt, is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_anonymous_checkouts_are_purged() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let svc = app
        .service(
            &m.id,
            json!({"name": "Cut", "price": "40.00", "currency": "eur"}),
        )
        .await;
    let from_catalogue = || async {
        let r = app
            .post(
                &format!("/v1/merchants/{}/checkouts", m.id),
                json!({"service_id": svc}),
            )
            .await
            .expect(201);
        r.json["token"].as_str().unwrap().to_owned()
    };
    let (junk, tried) = (from_catalogue().await, from_catalogue().await);
    let pm = app.card("4000000000000002").await;
    app.pay(&tried, &pm, "k").await.expect(402);
    let platform = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let now = slotpay_server::db::now();
    let day = 86_400;
    for t in [&junk, &tried, &platform] {
        sqlx::query("UPDATE checkouts SET expires_at = $1 WHERE token = $2")
            .bind(now - day - 1)
            .bind(t)
            .execute(app.state.db.pool())
            .await
            .unwrap();
    }
    let report = reconcile::reconcile(&app.state, now).await;
    assert_eq!(report.purged, 1, "{report:?}");
    assert!(app.state.db.get_checkout(&junk).await.unwrap().is_none());
    assert!(app.state.db.get_checkout(&tried).await.unwrap().is_some());
    assert!(app
        .state
        .db
        .get_checkout(&platform)
        .await
        .unwrap()
        .is_some());
    app.teardown().await;
}

/// Posts a Stripe event about `object` to `merchant`'s webhook endpoint, signed with its
/// secret, and waits until it is processed.
async fn deliver(app: &TestApp, merchant: &PayMerchant, kind: &str, object: Value) {
    let now = slotpay_server::db::now();
    let id = format!("evt_owner_{}", hex::encode(rand::random::<[u8; 8]>()));
    let body = json!({"id": id, "object": "event", "type": kind, "created": now,
        "data": {"object": object}})
    .to_string();
    let signature = signature_header(now, &[&merchant.webhook_secret], body.as_bytes());
    let r = reqwest::Client::new()
        .post(format!("{}/v1/webhooks/stripe/{}", app.url, merchant.id))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.settle_webhooks().await;
}

/// An event reaches a merchant's endpoint signed with that merchant's secret, but names a
/// cancellation fee or a charge of another merchant (two merchants on one Stripe account, or
/// a merchant forging events with its own secret): nothing of the other merchant changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_change_only_their_merchants_records() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let (a, b) = (app.pay_merchant(None).await, app.pay_merchant(None).await);
    let offer =
        json!({"name": "Cut", "price": "40.00", "currency": "eur", "cancellation_fee": "20.00"});
    let svc = app.service(&a.id, offer).await;
    let token = app.checkout(&a.id, json!({"service_id": svc})).await;
    let pm = app.card("4242424242424242").await;
    app.pay_at(None, &token, &pm, "pay", true).await.expect(200);
    let fee = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/admin/checkouts/{token}/cancellation-fee"),
            Some(json!({"amount": 2000})),
            &[("idempotency-key", "fee-1")],
        )
        .await
        .expect(200);
    let (fee_id, fee_pi) = (
        fee.json["id"].as_str().unwrap().to_owned(),
        fee.json["payment_intent_id"].as_str().unwrap().to_owned(),
    );
    // The fee's answer was lost: slotpay still has it pending, Stripe charged it.
    sqlx::query("UPDATE cancellation_fees SET status = 'pending' WHERE id = $1")
        .bind(&fee_id)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let fee_event = json!({"id": fee_pi, "object": "payment_intent", "status": "succeeded",
        "metadata": {"slotpay_fee": fee_id}});
    deliver(&app, &b, "payment_intent.succeeded", fee_event.clone()).await;
    let detail = format!("/v1/admin/checkouts/{token}");
    let fee_status =
        app.get(&detail).await.expect(200).json["cancellation_fees"][0]["status"].clone();
    assert_eq!(fee_status, "pending", "B's endpoint moved A's fee");
    deliver(&app, &a, "payment_intent.succeeded", fee_event).await;
    let fee_status =
        app.get(&detail).await.expect(200).json["cancellation_fees"][0]["status"].clone();
    assert_eq!(fee_status, "succeeded");

    // A dispute on A's charge, told to B's endpoint: B gets no dispute, A's is not touched.
    let charge = app.stored(&token).await.charge_id.unwrap();
    let dispute = app.sandbox.open_dispute(&charge, None).unwrap();
    deliver(&app, &b, "charge.dispute.created", dispute.clone()).await;
    assert!(app
        .state
        .db
        .merchant_disputes(&b.id)
        .await
        .unwrap()
        .is_empty());
    assert!(app
        .state
        .db
        .merchant_disputes(&a.id)
        .await
        .unwrap()
        .is_empty());
    deliver(&app, &a, "charge.dispute.created", dispute.clone()).await;
    let mut won = dispute.clone();
    won["status"] = json!("won");
    deliver(&app, &b, "charge.dispute.closed", won).await;
    let disputes = app.state.db.merchant_disputes(&a.id).await.unwrap();
    assert_eq!(disputes.len(), 1);
    assert_eq!(
        disputes[0].status.as_str(),
        "needs_response",
        "B closed A's dispute"
    );
    assert!(app
        .state
        .db
        .merchant_disputes(&b.id)
        .await
        .unwrap()
        .is_empty());
    app.teardown().await;
}

/// The SQLite database holds every merchant's (encrypted) keys and every client's email:
/// its files are readable by the server's user only, however the umask is set.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    app.merchant(&[]).await;
    let db = app.sqlite_file.clone().unwrap();
    let mut files = vec![db.clone()];
    let wal = db.with_extension("db-wal");
    if wal.exists() {
        files.push(wal);
    }
    for f in files {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", f.display());
    }
    app.teardown().await;
}

/// `slotpay master-key rotate`: every secret re-encrypted under a new key in one
/// transaction; interrupted at any point, the servers refuse to start and running it again
/// finishes it, whichever side of the commit it stopped on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_key_rotates_and_survives_interruption() {
    use slotpay_server::key_rotation::{rotate, Rotated};
    let app = spawn_app(Backend::Sqlite, Box::new(|c| c.master_key = None))
        .await
        .unwrap();
    let m = app.pay_merchant(None).await;
    let dir = app.config.data_dir.clone();
    let (key_file, next_file) = (dir.join("master.key"), dir.join("master.key.next"));
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    let ciphertexts = || async {
        let row = sqlx::query(
            "SELECT secret_key_enc, webhook_secret_enc FROM integrations WHERE merchant_id = $1",
        )
        .bind(&m.id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        use sqlx::Row;
        (
            row.try_get::<String, _>(0).unwrap(),
            row.try_get::<String, _>(1).unwrap(),
        )
    };
    let integration_readable = |config: slotpay_server::Config| {
        let (id, token) = (m.id.clone(), app.admin_token.clone());
        async move {
            let server = slotpay_server::serve(config).await?;
            let r = reqwest::Client::new()
                .get(format!(
                    "{}/v1/admin/merchants/{id}/integration",
                    server.local_url()
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            server.stop().await;
            Ok::<_, slotpay_server::StartError>(status)
        }
    };
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let (old_key, old_text) = (read(&key_file), ciphertexts().await);

    let done = rotate(&config).await.unwrap();
    assert_eq!(
        done,
        Rotated {
            reencrypted: 2,
            already: 0
        }
    );
    let new_key = read(&key_file);
    assert_ne!(new_key, old_key);
    assert!(!next_file.exists());
    let new_text = ciphertexts().await;
    assert!(new_text.0 != old_text.0 && new_text.1 != old_text.1);
    assert_eq!(integration_readable(config.clone()).await.unwrap(), 200);

    // Stopped after the commit, before the rename: the old key in place, the new one beside.
    std::fs::write(&key_file, &old_key).unwrap();
    std::fs::write(&next_file, &new_key).unwrap();
    let refused = integration_readable(config.clone()).await.unwrap_err();
    assert!(
        refused.to_string().contains("master-key rotate"),
        "{refused}"
    );
    let done = rotate(&config).await.unwrap();
    assert_eq!(
        done,
        Rotated {
            reencrypted: 0,
            already: 2
        }
    );
    assert_eq!(read(&key_file), new_key);
    assert_eq!(integration_readable(config.clone()).await.unwrap(), 200);

    // Stopped before the commit: the new key written, nothing re-encrypted yet.
    let planned = slotpay_server::secrets::MasterKey::generate();
    std::fs::write(
        &next_file,
        secrecy::ExposeSecret::expose_secret(&planned.to_hex()),
    )
    .unwrap();
    let done = rotate(&config).await.unwrap();
    assert_eq!(
        done,
        Rotated {
            reencrypted: 2,
            already: 0
        }
    );
    assert_eq!(
        read(&key_file).trim(),
        secrecy::ExposeSecret::expose_secret(&planned.to_hex())
    );
    assert_eq!(integration_readable(config).await.unwrap(), 200);
    app.teardown().await;
}

/// Behind the TLS proxy every deployment has, the socket address is the proxy's: with
/// `SLOTPAY_TRUSTED_PROXIES`, the client address is the last one the trusted proxies name in
/// `X-Forwarded-For` or `Forwarded` (one client no longer starves all); without it, or from
/// an address that is not a trusted proxy, those headers are ignored (a client cannot pick
/// its own bucket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_count_the_client_behind_a_trusted_proxy() {
    let tight = RateLimit {
        burst: 2,
        per_second: 0.01,
    };
    let statuses = |app: TestApp, headers: Vec<(&'static str, String)>| async move {
        let mut out = Vec::new();
        for (name, value) in headers {
            let r = app
                .request(
                    reqwest::Method::GET,
                    "/v1/checkouts/cs_0123456789abcdef0123456789abcdef",
                    None,
                    &[(name, value.as_str())],
                )
                .await;
            out.push(r.status.as_u16());
        }
        out
    };
    let each_its_own: Vec<(&'static str, String)> = (1..=4)
        .map(|i| ("x-forwarded-for", format!("203.0.113.{i}")))
        .collect();

    // Not configured: the header is the client's word, ignored.
    let app = spawn_app(Backend::Sqlite, Box::new(move |c| c.rate_limit_ip = tight))
        .await
        .unwrap();
    assert_eq!(
        statuses(app.clone(), each_its_own.clone()).await,
        [404, 404, 429, 429]
    );
    app.teardown().await;

    let app = spawn_app(
        Backend::Sqlite,
        Box::new(move |c| {
            c.rate_limit_ip = tight;
            c.trusted_proxies = vec![
                "127.0.0.0/8".parse().unwrap(),
                "10.1.0.0/16".parse().unwrap(),
            ];
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        statuses(app.clone(), each_its_own).await,
        [404, 404, 404, 404]
    );
    // Addresses a client prepends are not believed: the last untrusted one is the client.
    let spoofed: Vec<(&'static str, String)> = (1..=3)
        .map(|i| {
            (
                "x-forwarded-for",
                format!("198.51.100.{i}, 203.0.113.9, 10.1.2.3"),
            )
        })
        .collect();
    assert_eq!(statuses(app.clone(), spoofed).await, [404, 404, 429]);
    let forwarded: Vec<(&'static str, String)> = (1..=3)
        .map(|_| ("forwarded", "for=203.0.113.77;proto=https".to_owned()))
        .collect();
    assert_eq!(statuses(app.clone(), forwarded).await, [404, 404, 429]);
    app.teardown().await;
}

/// The client agreed to cancellation fees "up to" the offer shown: no fee above it, and no
/// more in all than it, whatever keys staff (or a stolen admin token) use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fees_stay_within_the_consent() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let svc = app
        .service(
            &m.id,
            json!({"name": "Cut", "price": "40.00", "currency": "usd", "cancellation_fee": "5.00"}),
        )
        .await;
    let token = app.checkout(&m.id, json!({"service_id": svc})).await;
    let pm = app.card("4242424242424242").await;
    app.pay_at(None, &token, &pm, "pay", true).await.expect(200);
    let fee = |amount: i64, key: &'static str| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            app.request(
                reqwest::Method::POST,
                &format!("/v1/admin/checkouts/{token}/cancellation-fee"),
                Some(json!({"amount": amount})),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let intents_before = app.sandbox.counter("payment_intents_created");
    for key in ["big-1", "big-2", "big-3"] {
        fee(90_000, key)
            .await
            .expect_error(409, "fee_exceeds_consent", Some("amount"));
    }
    assert_eq!(
        app.sandbox.counter("payment_intents_created"),
        intents_before,
        "nothing was charged"
    );
    fee(300, "a").await.expect(200);
    fee(300, "b")
        .await
        .expect_error(409, "fee_exceeds_consent", Some("amount"));
    fee(200, "c").await.expect(200);
    let detail = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    let charged: i64 = detail.json["cancellation_fees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "succeeded")
        .map(|f| f["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(charged, 500);
    app.teardown().await;
}

/// Limits tight enough to see in a test.
fn card_testing_limits(c: &mut slotpay_server::Config) {
    c.max_declines_per_checkout = 3;
    c.merchant_decline_budget = WindowLimit {
        count: 5,
        window: std::time::Duration::from_secs(600),
    };
    c.catalogue_checkouts_per_client = WindowLimit {
        count: 4,
        window: std::time::Duration::from_secs(600),
    };
    c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
}

/// A card-testing bot on one checkout: after the cap of declined cards the checkout takes
/// no more payments (its view says so too), so even a good card is refused and nothing more
/// reaches Stripe. A paid checkout's view is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_stops_after_its_declines() {
    let app = spawn_app(Backend::Sqlite, Box::new(card_testing_limits))
        .await
        .unwrap();
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    for i in 0..3 {
        let pm = app.card("4000000000000002").await;
        app.pay(&token, &pm, &format!("bot-{i}")).await.expect(402);
    }
    let at_stripe = app.sandbox.counter("charges_failed");
    let pm = app.card("4242424242424242").await;
    let r = app.pay(&token, &pm, "good").await;
    r.expect_error(403, "checkout_locked", None);
    app.get(&format!("/v1/checkouts/{token}"))
        .await
        .expect_error(403, "checkout_locked", None);
    assert_eq!(app.sandbox.counter("charges_failed"), at_stripe);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 0);
    let admin = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert_eq!(admin.json["declined_attempts"], 3);
    app.teardown().await;
}

/// A bot spreading stolen cards over many checkouts of one merchant: once the merchant's
/// decline budget is spent, its new pay attempts are refused before Stripe is called, while
/// another merchant's clients pay as usual. Catalogue checkouts are limited per client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_under_attack_pauses_alone() {
    let app = spawn_app(Backend::Sqlite, Box::new(card_testing_limits))
        .await
        .unwrap();
    a_merchant_under_attack_pauses_alone_on(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_under_attack_pauses_alone_postgres() {
    let Some(app) = spawn_app(Backend::Postgres, Box::new(card_testing_limits)).await else {
        return;
    };
    a_merchant_under_attack_pauses_alone_on(app).await;
}

async fn a_merchant_under_attack_pauses_alone_on(app: TestApp) {
    let (attacked, other) = (app.pay_merchant(None).await, app.pay_merchant(None).await);
    let mut answers = Vec::new();
    for i in 0..8 {
        let token = app
            .checkout(
                &attacked.id,
                json!({"amount": 2500, "currency": "eur", "description": "x"}),
            )
            .await;
        let pm = app.card("4000000000000002").await;
        answers.push(
            app.pay(&token, &pm, &format!("bot-{i}"))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(
        answers,
        [402, 402, 402, 402, 402, 429, 429, 429],
        "{answers:?}"
    );
    assert_eq!(
        app.sandbox.counter("charges_failed"),
        5,
        "the budget, no more"
    );
    let token = app
        .checkout(
            &other.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "honest").await.expect(200);

    // Catalogue checkouts: 4 per client address, another address has its own count.
    let svc = app
        .service(
            &other.id,
            json!({"name": "Cut", "price": "40.00", "currency": "eur"}),
        )
        .await;
    let path = format!("/v1/merchants/{}/checkouts", other.id);
    let create = |client: &'static str| {
        let (app, path, svc) = (app.clone(), path.clone(), svc.clone());
        async move {
            app.request(
                reqwest::Method::POST,
                &path,
                Some(json!({"service_id": svc})),
                &[("x-forwarded-for", client)],
            )
            .await
            .status
            .as_u16()
        }
    };
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(create("203.0.113.5").await);
    }
    assert_eq!(made, [201, 201, 201, 201, 429]);
    assert_eq!(create("203.0.113.6").await, 201);
    app.teardown().await;
}
