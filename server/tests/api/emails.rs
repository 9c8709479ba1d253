//! Emails to clients through a real SMTP server (npm's smtp-server, `tests/support/smtp-sink.mjs`,
//! started by the test): slotpay's receipt of a paid checkout in the merchant's language, one
//! per checkout, headed by its logo (an uploaded one before its logo URL), naming how the client paid; a payment link sent by the API; an address the server refuses for good is
//! failed with its answer and can be sent again; a server without SMTP refuses to send a
//! link.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::admin_pages::Browser;
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::payment_methods::{at_the_bank, choose, ideal, pay_as, refresh, sepa, settle_debit};

/// The SMTP sink: its SMTP port and the URL listing what it received.
struct Sink {
    _child: Child,
    smtp: u16,
    mails: String,
}

async fn sink() -> Sink {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new("node")
        .arg(root.join("tests/support/smtp-sink.mjs"))
        .current_dir(&root)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the SMTP sink (npm ci installs smtp-server)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the SMTP sink starts")
        .unwrap()
        .expect("the SMTP sink prints its ports");
    let port = |name: &str| -> u16 {
        line.split_whitespace()
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    Sink {
        smtp: port("smtp"),
        mails: format!("http://127.0.0.1:{}/mails", port("http")),
        _child: child,
    }
}

impl Sink {
    /// The mails to `to`, once there are `n` of them.
    async fn wait_for(&self, to: &str, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let got: Vec<Value> = reqwest::get(format!("{}?to={to}", self.mails))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} mails to {to} did not arrive");
    }
}

async fn app_with_smtp(backend: Backend, sink: &Sink) -> Option<TestApp> {
    let url = format!("smtp://127.0.0.1:{}", sink.smtp);
    spawn_app(
        backend,
        Box::new(move |c| {
            c.smtp_url = Some(url.into());
            c.mail_from = Some("Salon bookings <pay@salon.example>".into());
        }),
    )
    .await
}

/// The stored email of `kind` about `token`, once its status is `status`.
async fn email(app: &TestApp, token: &str, kind: &str, status: &str) -> Value {
    for _ in 0..100 {
        let detail = app
            .get(&format!("/v1/admin/checkouts/{token}"))
            .await
            .expect(200);
        if let Some(e) = detail.json["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind && e["status"] == status)
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {status} {kind} email about {token}");
}

async fn receipts_and_links(backend: Backend) {
    let sink = sink().await;
    let Some(app) = app_with_smtp(backend, &sink).await else {
        return;
    };
    let m = app.pay_merchant(None).await;
    app.patch(
        &format!("/v1/admin/merchants/{}", m.id),
        json!({
            "name": "Salon Léa",
            "locale": "fr",
            "time_zone": "Europe/Paris",
            "logo_url": "https://salon.example/logo.png",
        }),
    )
    .await
    .expect(200);

    // A payment: slotpay's receipt, in French, once.
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 4500, "currency": "eur", "description": "Coupe", "booking_ref": "BK-7"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let got = sink.wait_for("lea@example.com", 1).await;
    assert_eq!(got[0]["subject"], "Reçu : Coupe chez Salon Léa");
    let text = got[0]["text"].as_str().unwrap();
    for want in [
        "Salon Léa",
        "Merci pour votre paiement.",
        "Payé: 45,00\u{a0}€",
        "Visa •••• 4242",
        "Référence de réservation: BK-7",
    ] {
        assert!(text.contains(want), "{want:?} not in {text}");
    }
    assert_eq!(got[0]["from"], "pay@salon.example");
    assert_eq!(got[0]["language"], "fr");
    // The HTML part: the merchant's logo above the same words.
    let html = got[0]["html"].as_str().unwrap().replace("&#x2f;", "/");
    assert!(
        html.contains(r#"<img src="https://salon.example/logo.png" alt="Salon Léa""#),
        "{html}"
    );
    assert!(html.contains("Référence de réservation: BK-7"), "{html}");
    // An uploaded logo heads the receipts instead, at its address under the public URL.
    let up = crate::logos::upload(&app, &m.id, "image/png", crate::logos::png())
        .await
        .expect(200);
    let logo = up.json["logo"].as_str().unwrap().to_owned();
    assert!(
        logo.starts_with(&format!(
            "{}/logos/{}/",
            app.url.trim_end_matches('/'),
            m.id
        )),
        "{logo}"
    );
    let second = app
        .checkout(
            &m.id,
            json!({"amount": 1500, "currency": "eur", "description": "Frange"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    pay_as(&app, &second, &pm, "k2", "ana@example.com", None)
        .await
        .expect(200);
    let got = sink.wait_for("ana@example.com", 1).await;
    let html = got[0]["html"].as_str().unwrap().replace("&#x2f;", "/");
    assert!(
        html.contains(&format!(r#"<img src="{logo}" alt="Salon Léa""#)),
        "{html}"
    );
    assert!(!html.contains("https://salon.example/logo.png"), "{html}");
    let sent = email(&app, &token, "receipt", "sent").await;
    assert_eq!(sent["recipient"], "lea@example.com");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.wait_for("lea@example.com", 1).await.len(),
        1,
        "one receipt"
    );

    // A payment link, sent by the API to the address given.
    let link = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "Brushing", "link": true}),
        )
        .await;
    let path = format!("/v1/admin/checkouts/{link}/send-link");
    app.post(&path, json!({}))
        .await
        .expect_error(400, "invalid_request", Some("email"));
    let queued = app
        .post(&path, json!({"email": "paul@example.com"}))
        .await
        .expect(200);
    assert_eq!(queued.json["status"], "pending");
    let got = sink.wait_for("paul@example.com", 1).await;
    assert_eq!(
        got[0]["subject"],
        "Lien de paiement : Brushing chez Salon Léa"
    );
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("20,00\u{a0}€ pour Brushing"), "{text}");
    assert!(
        text.contains(&format!("Payer ici: {}/pay/{link}", app.url)),
        "{text}"
    );
    // Valid for 7 days, written in Paris time (CET or CEST, by the season).
    assert!(text.contains(" CET.") || text.contains(" CEST."), "{text}");

    // An address the server refuses for good: failed with its answer.
    let link2 = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "x", "link": true}),
        )
        .await;
    app.post(
        &format!("/v1/admin/checkouts/{link2}/send-link"),
        json!({"email": "refused@example.com"}),
    )
    .await
    .expect(200);
    let failed = email(&app, &link2, "link", "failed").await;
    assert!(
        failed["last_error"].as_str().unwrap().contains("550"),
        "{failed}"
    );
    // Sent again on request: tried again (and refused again).
    let id = failed["id"].as_str().unwrap();
    app.post(&format!("/v1/admin/emails/{id}/retry"), json!({}))
        .await
        .expect(204);
    app.post(&format!("/v1/admin/emails/{id}/retry"), json!({}))
        .await
        .expect_error(409, "conflict", None);
    let again = email(&app, &link2, "link", "failed").await;
    assert_eq!(again["attempts"], 1, "{again}");

    // The admin page offers "Email the link" only while the client can start paying: not
    // while a payment awaits the client's authentication (sending would be refused).
    let mut b = Browser::sign_in(&app).await;
    let open = b
        .get(&format!("/admin/checkouts/{link2}"))
        .await
        .expect(200);
    assert!(open.text.contains("Email the link"), "{}", open.text);
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&link2, &pm, "3ds").await.expect(200);
    assert_eq!(r.json["status"], "requires_action", "{}", r.text);
    let waiting = b
        .get(&format!("/admin/checkouts/{link2}"))
        .await
        .expect(200);
    assert!(!waiting.text.contains("Email the link"), "{}", waiting.text);
    app.post(
        &format!("/v1/admin/checkouts/{link2}/send-link"),
        json!({"email": "paul@example.com"}),
    )
    .await
    .expect_error(409, "conflict", None);
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_links_sqlite() {
    receipts_and_links(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_links_postgres() {
    receipts_and_links(Backend::Postgres).await;
}

/// A new euro checkout of `m` on which `email` tried a card first, declined.
async fn declined_card_first(app: &TestApp, m: &str, email: &str) -> String {
    let token = app
        .checkout(
            m,
            json!({"amount": 2500, "currency": "eur", "description": "Colour"}),
        )
        .await;
    let card = app.card("4000000000000002").await;
    pay_as(app, &token, &card, "k1", email, None)
        .await
        .expect_error(402, "card_declined", None);
    token
}

/// The receipt says how the client paid: iDEAL, or a SEPA Debit settled later by Stripe's
/// webhook; not a card the client tried first and that was declined. The checkout's views say
/// the same.
async fn receipts_name_the_way_paid(backend: Backend) {
    let sink = sink().await;
    let Some(app) = app_with_smtp(backend, &sink).await else {
        return;
    };
    let m = app.pay_merchant(None).await;
    choose(&app, &m.id, json!(["card", "ideal", "sepa_debit"])).await;
    let unpaid_card = |text: &str| text.contains("Card") || text.contains("0002");

    // iDEAL, after the bank's page.
    let token = declined_card_first(&app, &m.id, "ideal@example.com").await;
    let r = pay_as(
        &app,
        &token,
        &ideal(&app).await,
        "k2",
        "ideal@example.com",
        Some("https://salon.example/book"),
    )
    .await
    .expect(200);
    assert_eq!(r.json["status"], "requires_action", "{}", r.text);
    let admin_view = || async {
        app.get(&format!("/v1/admin/checkouts/{token}"))
            .await
            .expect(200)
            .json
    };
    // Back before the bank answered: the declined card's charge is still Stripe's latest, and
    // says nothing of this attempt.
    assert_eq!(
        refresh(&app, &token).await.expect(200).json["status"],
        "requires_action"
    );
    let admin = admin_view().await;
    assert_eq!(admin["payment_method_type"], "ideal", "{admin}");
    assert!(admin["card"].is_null(), "{admin}");
    at_the_bank(&app, &token, true).await;
    let paid = refresh(&app, &token).await.expect(200);
    assert_eq!(paid.json["status"], "succeeded", "{}", paid.text);
    assert_eq!(
        paid.json["receipt"],
        json!({"method": "ideal", "amount": 2500, "currency": "eur"})
    );
    let got = sink.wait_for("ideal@example.com", 1).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("Paid with: iDEAL"), "{text}");
    assert!(!unpaid_card(text), "{text}");
    let admin = admin_view().await;
    assert_eq!(admin["payment_method_type"], "ideal", "{admin}");
    assert!(admin["card"].is_null(), "{admin}");

    // A SEPA Debit, paid when Stripe's webhook says it settled.
    let token = declined_card_first(&app, &m.id, "sepa@example.com").await;
    let r = pay_as(
        &app,
        &token,
        &sepa(&app, "DE89370400440532013000").await,
        "k2",
        "sepa@example.com",
        None,
    )
    .await
    .expect(200);
    assert_eq!(r.json["status"], "processing", "{}", r.text);
    settle_debit(&app, &token).await;
    assert_eq!(app.stored(&token).await.status.as_str(), "paid");
    let got = sink.wait_for("sepa@example.com", 1).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("Paid with: SEPA Direct Debit"), "{text}");
    assert!(!unpaid_card(text), "{text}");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_name_the_way_paid_sqlite() {
    receipts_name_the_way_paid(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_name_the_way_paid_postgres() {
    receipts_name_the_way_paid(Backend::Postgres).await;
}

/// Without `SLOTPAY_SMTP_URL` a link cannot be sent, and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_no_link_is_sent() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let link = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "x", "link": true,
                   "customer_email": "paul@example.com"}),
        )
        .await;
    let r = app
        .post(&format!("/v1/admin/checkouts/{link}/send-link"), json!({}))
        .await
        .expect_error(409, "conflict", None);
    assert!(r.text.contains("SLOTPAY_SMTP_URL"), "{}", r.text);
    app.teardown().await;
}
