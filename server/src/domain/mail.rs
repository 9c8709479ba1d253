//! Emails to clients through the configured SMTP server (`SLOTPAY_SMTP_URL`, with `lettre`):
//! a payment link sent from the admin pages or the API, and slotpay's own receipt of every
//! paid checkout with a client email (beside Stripe's), in the merchant's language, with
//! amounts written as its clients read them and times in its time zone. Each goes as plain
//! text and as HTML, the HTML headed by the merchant's logo when it has one.
//!
//! An email is written to the database first ([`crate::db::EmailRecord`]) and sent by
//! [`run`], so a payment never waits for a mail server: receipts come from the outbox of
//! `checkout.paid` events (the change and its event are one transaction), one per checkout.
//! A send the server refuses for good (a 5xx such as an unknown mailbox) is failed at once
//! with its answer; anything else (the server down, a 4xx) is tried again after
//! [`RETRY_SECS`], then failed. Staff may send a failed email again.

use std::collections::HashSet;
use std::time::Duration;

use askama::Template;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::Deserialize;
use slotpay_core::{intl, CheckoutStatus, Email, ErrorCode, Locale};

use super::store::load;
use super::views::{email_view, link_url, EmailView};
use super::{merchants, new_id, DomainError};
use crate::db::{self, CheckoutRecord, EmailRecord, MerchantRecord};
use crate::model::{EmailKind, EmailStatus};
use crate::state::AppState;

/// Waits before the 2nd, 3rd, ... try of a send that failed for now; then it is failed.
pub const RETRY_SECS: [i64; 5] = [30, 120, 600, 1800, 7200];
/// How long a claimed email is held by the instance sending it.
const CLAIM_SECS: i64 = 120;
/// Emails sent per look.
const BATCH: i64 = 20;
/// How often due emails and new payments are looked for.
const POLL: Duration = Duration::from_secs(1);
/// How far back receipts are looked for when the server starts (payments made while it was
/// stopped get theirs; one per checkout, so looking again sends nothing twice).
const CATCH_UP_SECS: i64 = 86_400;

/// `POST /v1/admin/checkouts/{token}/send-link`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLinkInput {
    /// Where to (the checkout's client email when absent).
    pub email: Option<String>,
}

/// The words of the emails, per language.
struct Words {
    receipt_subject: &'static str,
    receipt_thanks: &'static str,
    paid: &'static str,
    for_what: &'static str,
    card: &'static str,
    paid_with: &'static str,
    booking_ref: &'static str,
    date: &'static str,
    stripe_too: &'static str,
    link_subject: &'static str,
    link_asks: &'static str,
    pay_here: &'static str,
    valid_until: &'static str,
}

const fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::En => &Words {
            receipt_subject: "Receipt: {what} at {merchant}",
            receipt_thanks: "Thank you for your payment.",
            paid: "Paid",
            for_what: "For",
            card: "Card",
            paid_with: "Paid with",
            booking_ref: "Booking reference",
            date: "Date",
            stripe_too: "Stripe, which processed the payment, sends its own receipt too.",
            link_subject: "Payment link: {what} at {merchant}",
            link_asks: "{merchant} asks you to pay {amount} for {what}.",
            pay_here: "Pay here",
            valid_until: "The link is valid until",
        },
        Locale::Fr => &Words {
            receipt_subject: "Reçu : {what} chez {merchant}",
            receipt_thanks: "Merci pour votre paiement.",
            paid: "Payé",
            for_what: "Pour",
            card: "Carte",
            paid_with: "Payé avec",
            booking_ref: "Référence de réservation",
            date: "Date",
            stripe_too: "Stripe, qui a traité le paiement, vous envoie aussi son propre reçu.",
            link_subject: "Lien de paiement : {what} chez {merchant}",
            link_asks: "{merchant} vous demande de payer {amount} pour {what}.",
            pay_here: "Payer ici",
            valid_until: "Le lien est valable jusqu'au",
        },
        Locale::De => &Words {
            receipt_subject: "Quittung: {what} bei {merchant}",
            receipt_thanks: "Vielen Dank für Ihre Zahlung.",
            paid: "Bezahlt",
            for_what: "Für",
            card: "Karte",
            paid_with: "Bezahlt mit",
            booking_ref: "Buchungsreferenz",
            date: "Datum",
            stripe_too:
                "Stripe, das die Zahlung abgewickelt hat, sendet Ihnen auch eine eigene Quittung.",
            link_subject: "Zahlungslink: {what} bei {merchant}",
            link_asks: "{merchant} bittet Sie, {amount} für {what} zu bezahlen.",
            pay_here: "Hier bezahlen",
            valid_until: "Der Link ist gültig bis",
        },
        Locale::Es => &Words {
            receipt_subject: "Recibo: {what} en {merchant}",
            receipt_thanks: "Gracias por tu pago.",
            paid: "Pagado",
            for_what: "Por",
            card: "Tarjeta",
            paid_with: "Pagado con",
            booking_ref: "Referencia de la reserva",
            date: "Fecha",
            stripe_too: "Stripe, que procesó el pago, también te envía su propio recibo.",
            link_subject: "Enlace de pago: {what} en {merchant}",
            link_asks: "{merchant} te pide que pagues {amount} por {what}.",
            pay_here: "Paga aquí",
            valid_until: "El enlace es válido hasta el",
        },
    }
}

fn fill(template: &str, merchant: &str, what: &str, amount: &str) -> String {
    template
        .replace("{merchant}", merchant)
        .replace("{what}", what)
        .replace("{amount}", amount)
}

/// The HTML part of an email: its text, paragraph by paragraph, under the merchant's logo.
#[derive(Template)]
#[template(path = "email.html")]
struct HtmlEmail<'a> {
    lang: &'a str,
    subject: &'a str,
    merchant: &'a str,
    logo: Option<&'a str>,
    /// Paragraphs, each a list of lines.
    paragraphs: Vec<Vec<&'a str>>,
}

/// The HTML of `body` (paragraphs apart by an empty line) for `merchant`'s email, headed by
/// `logo` (an absolute URL: the merchant's uploaded logo as slotpay serves it, or its logo URL).
fn html(
    e: &EmailRecord,
    merchant: Option<&MerchantRecord>,
    logo: Option<&str>,
) -> Result<String, String> {
    HtmlEmail {
        lang: &e.language,
        subject: &e.subject,
        merchant: merchant.map_or("", |m| m.name.as_str()),
        logo,
        paragraphs: e.body.split("\n\n").map(|p| p.lines().collect()).collect(),
    }
    .render()
    .map_err(|err| format!("the HTML part: {err}"))
}

/// Whether this server sends emails.
pub fn enabled(state: &AppState) -> bool {
    state.config.smtp_url.is_some()
}

async fn store(
    state: &AppState,
    r: &CheckoutRecord,
    kind: EmailKind,
    recipient: String,
    subject: String,
    body: String,
    locale: Locale,
) -> Result<Option<EmailRecord>, DomainError> {
    let now = db::now();
    let e = EmailRecord {
        id: new_id("em_"),
        merchant_id: r.merchant_id.clone(),
        checkout_token: Some(r.token.clone()),
        kind,
        recipient,
        subject,
        body,
        language: locale.as_str().to_owned(),
        status: EmailStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    Ok(state.db.insert_email(&e).await?.then_some(e))
}

/// Writes the receipt of a paid checkout with a client email (none twice).
async fn receipt(state: &AppState, r: &CheckoutRecord) -> Result<(), DomainError> {
    let Some(to) = r.customer_email.clone() else {
        return Ok(());
    };
    let merchant = merchants::get(state, &r.merchant_id).await?;
    let w = words(merchant.locale);
    let paid = intl::localized(r.paid_amount(), merchant.locale);
    let mut lines = vec![
        merchant.name.clone(),
        String::new(),
        w.receipt_thanks.to_owned(),
        String::new(),
        format!("{}: {paid}", w.paid),
        format!("{}: {}", w.for_what, r.description),
    ];
    match (&r.card, r.method) {
        (Some(card), _) => lines.push(format!("{}: {card}", w.card)),
        (None, Some(method)) => lines.push(format!("{}: {}", w.paid_with, method.display_name())),
        (None, None) => {}
    }
    if let Some(b) = &r.booking_ref {
        lines.push(format!("{}: {b}", w.booking_ref));
    }
    lines.push(format!(
        "{}: {}",
        w.date,
        merchant
            .time_zone
            .format(r.paid_at.unwrap_or(r.updated_at), "%Y-%m-%d")
    ));
    lines.extend([String::new(), w.stripe_too.to_owned()]);
    let subject = fill(w.receipt_subject, &merchant.name, &r.description, "");
    store(
        state,
        r,
        EmailKind::Receipt,
        to,
        subject,
        lines.join("\n"),
        merchant.locale,
    )
    .await?;
    Ok(())
}

/// Sends a payment link to the client: to `input.email`, or to the checkout's client email.
pub async fn send_link(
    state: &AppState,
    token: &str,
    input: SendLinkInput,
) -> Result<EmailView, DomainError> {
    if !enabled(state) {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            "This server sends no emails: set SLOTPAY_SMTP_URL to send payment links",
        ));
    }
    let r = load(state, token).await?;
    if !r.is_link || !matches!(r.status, CheckoutStatus::Open | CheckoutStatus::Failed) {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            "Only an open payment link can be sent",
        ));
    }
    let to = match input.email.as_deref().or(r.customer_email.as_deref()) {
        Some(e) => Email::parse(e).map_err(|e| {
            DomainError::Refused(slotpay_core::ApiError::from(e).with_param("email"))
        })?,
        None => {
            return Err(DomainError::refused_at(
                ErrorCode::InvalidRequest,
                "Give the client's email: this payment link has none",
                "email",
            ))
        }
    };
    let merchant = merchants::get(state, &r.merchant_id).await?;
    let w = words(merchant.locale);
    let amount = intl::localized(r.amount, merchant.locale);
    let mut lines = vec![
        fill(w.link_asks, &merchant.name, &r.description, &amount),
        String::new(),
        format!("{}: {}", w.pay_here, link_url(state, &r.token)),
    ];
    if let Some(until) = r.expires_at {
        let until = merchant.time_zone.format(until, "%Y-%m-%d %H:%M %Z");
        lines.push(format!("{} {until}.", w.valid_until));
    }
    if let Some(b) = &r.booking_ref {
        lines.push(format!("{}: {b}", w.booking_ref));
    }
    let subject = fill(w.link_subject, &merchant.name, &r.description, &amount);
    let stored = store(
        state,
        &r,
        EmailKind::Link,
        to.as_str().to_owned(),
        subject,
        lines.join("\n"),
        merchant.locale,
    )
    .await?
    .ok_or_else(|| DomainError::Internal("a link email not stored".into()))?;
    Ok(email_view(&stored))
}

/// Makes a failed email due again.
pub async fn retry(state: &AppState, id: &str) -> Result<(), DomainError> {
    if state.db.retry_email(id, db::now()).await? {
        return Ok(());
    }
    match state.db.email_status(id).await? {
        None => Err(DomainError::NotFound("email")),
        Some(_) => Err(DomainError::refused(
            ErrorCode::Conflict,
            "Only a failed email can be sent again",
        )),
    }
}

/// The sender: `SLOTPAY_MAIL_FROM`, or slotpay at the public URL's host.
fn sender(state: &AppState) -> Result<Mailbox, String> {
    let text = match &state.config.mail_from {
        Some(from) => from.clone(),
        None => format!(
            "slotpay <noreply@{}>",
            state.public_url.host_str().unwrap_or("localhost")
        ),
    };
    text.parse::<Mailbox>()
        .map_err(|e| format!("the sender {text:?}: {e}"))
}

/// Runs until the process stops (only when `SLOTPAY_SMTP_URL` is set): writes the receipts
/// of new payments and sends what is due.
pub async fn run(state: AppState) {
    let Some(url) = state.config.smtp_url.clone() else {
        return;
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret()) {
        Ok(t) => t.timeout(Some(Duration::from_secs(20))).build(),
        Err(e) => {
            // The URL was checked at start; lettre's own reading refused it.
            tracing::error!(error = %e, "SLOTPAY_SMTP_URL not usable: no emails are sent");
            return;
        }
    };
    let from = match sender(&state) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "no emails are sent");
            return;
        }
    };
    let mut cursor = Cursor {
        since: db::now() - CATCH_UP_SECS,
        done: HashSet::new(),
    };
    loop {
        write_receipts(&state, &mut cursor).await;
        let now = db::now();
        match state.db.claim_emails(now, now + CLAIM_SECS, BATCH).await {
            Ok(due) => {
                for e in due {
                    send(&state, &transport, &from, e).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "due emails not read"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Where the receipts' reading of paid checkouts is: the second it reads from, and the
/// checkouts of that second it has done (events of one second may come in two reads).
struct Cursor {
    since: i64,
    done: HashSet<String>,
}

/// Writes the receipts of the checkouts paid since the cursor, and moves it on.
async fn write_receipts(state: &AppState, cursor: &mut Cursor) {
    let paid = match state.db.paid_since(cursor.since).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "paid checkouts not read for receipts");
            return;
        }
    };
    for (token, at) in paid {
        if at == cursor.since && cursor.done.contains(&token) {
            continue;
        }
        match load(state, &token).await {
            Ok(r) => {
                if let Err(e) = receipt(state, &r).await {
                    // From this one on, read again at the next look.
                    tracing::warn!(%token, error = %e, "receipt not written; tried again");
                    return;
                }
            }
            Err(e) => tracing::warn!(%token, error = %e, "paid checkout not read for its receipt"),
        }
        if at > cursor.since {
            cursor.since = at;
            cursor.done.clear();
        }
        cursor.done.insert(token);
    }
}

async fn send(
    state: &AppState,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    e: EmailRecord,
) {
    // The logo as the merchant has it now; a merchant that cannot be read sends without one.
    let merchant = state.db.get_merchant(&e.merchant_id).await.ok().flatten();
    let logo = merchant
        .as_ref()
        .and_then(|m| merchants::shown_logo_url(state, m));
    let message = e
        .recipient
        .parse::<Mailbox>()
        .map_err(|err| format!("the address: {err}"))
        .and_then(|to| Ok((to, html(&e, merchant.as_ref(), logo.as_deref())?)))
        .and_then(|(to, html)| {
            Message::builder()
                .from(from.clone())
                .to(to)
                .subject(e.subject.clone())
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("Content-Language"),
                    e.language.clone(),
                ))
                .multipart(MultiPart::alternative_plain_html(e.body.clone(), html))
                .map_err(|err| format!("the message: {err}"))
        });
    let outcome = match message {
        Ok(m) => transport.send(m).await.map_err(|err| {
            let permanent = err.is_permanent();
            (err.to_string(), permanent)
        }),
        Err(err) => Err((err, true)),
    };
    let written = match outcome {
        Ok(_) => {
            tracing::info!(email = %e.id, kind = %e.kind, "email sent");
            state.db.finish_email(&e.id, Ok(db::now())).await
        }
        Err((error, permanent)) => {
            let retry_at = (!permanent)
                .then(|| RETRY_SECS.get(e.attempts as usize))
                .flatten()
                .map(|wait| db::now() + wait);
            tracing::warn!(email = %e.id, %error, retried = retry_at.is_some(), "email not sent");
            state.db.finish_email(&e.id, Err((&error, retry_at))).await
        }
    };
    if let Err(err) = written {
        // The claim runs out and the email is sent again: at least once.
        tracing::warn!(email = %e.id, error = %err, "an email's outcome not written");
    }
}
