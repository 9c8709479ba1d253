//! A merchant's Stripe integration, as the System Guide walks through it: the External
//! Integrations list; add (Stripe, a name, the keys, an optional signing secret, the mode,
//! the accepted card brands, "activate now") with Save and Cancel; edit (an empty key field
//! keeps the stored key); delete after a confirmation; activate and deactivate; the details
//! (status Active or Error with its reason, last verification, masked keys, webhook URL
//! and where the signing secret came from) with "Verify now". Every key error is shown next
//! to its field and nothing is saved then; secrets typed are never sent back.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use secrecy::SecretString;
use slotpay_core::{ApiError, CardBrand, ErrorCode, MethodType, PublishableKey};

use super::form::{same, Fields};
use super::views::{integration_status, mode_label, public_message, Local};
use super::{
    done, merchant_chrome, render, safe_next, AdminError, Chrome, ConfirmPage, FormData, Page,
};
use crate::admin::sessions::{Flash, Session};
use crate::domain::integrations::{self, IntegrationInput, IntegrationView};
use crate::domain::{DomainError, Warning};
use crate::model::SecretSource;
use crate::state::AppState;

/// The brands a merchant can accept, as the form lists them: every brand core knows but
/// `Unknown`, which `CardBrand::ALL` lists last.
const BRANDS: &[CardBrand] = CardBrand::ALL
    .split_last()
    .expect("CardBrand::ALL is not empty")
    .1;

/// The fields the form shows again as typed: never the secret key or the signing secret
/// (nor the publishable key field when what was typed there is not a publishable key).
const KEPT: &[&str] = &[
    "provider",
    "name",
    "publishable_key",
    "mode",
    "card_brands",
    "payment_methods",
    "wallets",
    "activate",
    "active",
];

/// An integration as the pages show it.
struct Shown {
    v: IntegrationView,
    status: &'static str,
    status_class: &'static str,
    mode: &'static str,
    last_verified: String,
    brands: String,
    methods: String,
    secret_source: &'static str,
    key_kind: &'static str,
}

impl Shown {
    fn of(v: IntegrationView, l: &Local) -> Shown {
        let (status, status_class) = integration_status(&v);
        Shown {
            status,
            status_class,
            mode: mode_label(v.mode),
            last_verified: l.when_opt(v.last_verified_at),
            brands: v
                .card_brands
                .iter()
                .map(|b| b.display_name())
                .collect::<Vec<_>>()
                .join(", "),
            methods: {
                let names: Vec<_> = v.payment_methods.iter().map(|m| m.display_name()).collect();
                let wallets = if v.wallets {
                    "Apple Pay and Google Pay with cards"
                } else {
                    "no wallets"
                };
                format!("{}; {wallets}", names.join(", "))
            },
            key_kind: match v.key_kind {
                slotpay_core::KeyKind::Restricted => "restricted key",
                _ => "secret key",
            },
            secret_source: match v.webhook.secret_source {
                Some(SecretSource::Api) => "Registered through Stripe's API by slotpay",
                Some(SecretSource::Manual) => "Pasted by hand",
                None => "None yet: activating registers the endpoint",
            },
            v,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/integrations.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    integration: Option<Shown>,
}

#[derive(Template)]
#[template(path = "admin/integration.html")]
struct DetailsPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    i: Shown,
}

#[derive(Template)]
#[template(path = "admin/integration_form.html")]
struct FormPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    /// The stored integration when editing.
    stored: Option<IntegrationView>,
    f: Fields,
    brands: &'static [CardBrand],
}

impl FormPage {
    /// The ways to pay besides card, for the form.
    fn other_methods(&self) -> [(MethodType, &'static str); 3] {
        method_choices()
    }

    fn publishable_hint(&self) -> String {
        match &self.stored {
            Some(v) => format!(
                "pk_test_... or pk_live_..., from the API keys page of your Stripe Dashboard. Leave empty to keep the stored key ({}).",
                v.publishable_key
            ),
            None => "pk_test_... or pk_live_..., from the API keys page of your Stripe Dashboard.".into(),
        }
    }

    fn secret_hint(&self) -> String {
        match &self.stored {
            Some(v) => format!(
                "A restricted key (rk_...) is best; a secret key (sk_...) works too. Leave empty to keep the stored key ({}).",
                v.secret_key
            ),
            None => "A restricted key (rk_...) is best; a secret key (sk_...) works too.".into(),
        }
    }

    fn webhook_hint(&self) -> String {
        let base = "Only when your key cannot register webhook endpoints: paste the signing secret (whsec_...) of the endpoint you added in your Stripe Dashboard.";
        match self
            .stored
            .as_ref()
            .and_then(|v| v.webhook.signing_secret.clone())
        {
            Some(masked) => format!("{base} Leave empty to keep the stored one ({masked})."),
            None => base.into(),
        }
    }

    fn modes(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &MODES
    }

    fn manual_secret(&self) -> bool {
        self.stored
            .as_ref()
            .is_some_and(|v| v.webhook.secret_source == Some(SecretSource::Manual))
    }
}

/// The modes, as the form offers them: value, label, hint.
const MODES: [(&str, &str, &str); 3] = [
    ("off", "Off", "Online payment is hidden."),
    (
        "sandbox",
        "Sandbox",
        "Test keys only; test cards work, no money moves.",
    ),
    ("live", "Live (on)", "Live keys only; clients pay for real."),
];

fn base(merchant_id: &str) -> String {
    format!("/admin/merchants/{merchant_id}")
}

/// `GET .../integrations`: the External Integrations list (one Stripe integration per
/// merchant).
pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "integration").await?;
    let integration = match integrations::get(&state, &merchant.id).await {
        Ok(v) => Some(Shown::of(v, &Local::of(&merchant))),
        Err(DomainError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let page = ListPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        integration,
    };
    render(StatusCode::OK, &page)
}

async fn form_page(
    state: &AppState,
    session: &Session,
    merchant_id: &str,
    stored: Option<IntegrationView>,
    f: Fields,
    status: StatusCode,
) -> Page {
    let (chrome, merchant) = merchant_chrome(state, session, merchant_id, "integration").await?;
    let page = FormPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        stored,
        f,
        brands: BRANDS,
    };
    render(status, &page)
}

/// The ways to pay besides card, each with when a checkout offers it (core's rules, which the
/// tests hold these words to).
fn method_choices() -> [(MethodType, &'static str); 3] {
    [
        (
            MethodType::Ideal,
            "Dutch bank payments, in euros up to €50,000, taken at once (not for a later \
             capture). The client approves the payment at their bank and comes back.",
        ),
        (
            MethodType::Bancontact,
            "Belgian bank payments, in euros, taken at once (not for a later capture). The \
             client approves the payment at their bank and comes back.",
        ),
        (
            MethodType::SepaDebit,
            "A debit from the client's bank account, in euros up to €10,000, taken at once (not \
             for a later capture). The outcome is known days later: the booking waits as \
             processing until then.",
        ),
    ]
}

/// `GET .../integrations/new`: the add form (Stripe preselected, activation on).
pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let mut f = Fields::default();
    f.set("provider", "stripe")
        .set("name", "Stripe")
        .set("mode", "sandbox")
        .set("activate", "on");
    for b in integrations::DEFAULT_CARD_BRANDS {
        f.add("card_brands", b.as_str());
    }
    f.add("payment_methods", MethodType::Card.as_str())
        .set("wallets", "on");
    form_page(&state, &session, &merchant_id, None, f, StatusCode::OK).await
}

/// The domain input of the form. Blank key fields are left for the domain to judge (an
/// empty key is an error when adding and keeps the stored key when editing).
fn input_of(form: &FormData) -> IntegrationInput {
    let webhook_secret = match form.given("webhook_secret") {
        Some(s) => Some(Some(SecretString::from(s))),
        None if form.checked("remove_webhook_secret") => Some(None),
        None => None,
    };
    IntegrationInput {
        name: Some(form.text("name")),
        publishable_key: Some(form.text("publishable_key")),
        secret_key: Some(SecretString::from(form.text("secret_key"))),
        webhook_secret,
        mode: Some(form.text("mode")),
        card_brands: Some(form.all("card_brands")),
        // The form always sends card (a hidden field); a post without any keeps the stored.
        payment_methods: Some(form.all("payment_methods")).filter(|m| !m.is_empty()),
        wallets: Some(form.checked("wallets")),
    }
}

/// The values the form shows again. The publishable key field only when it holds a
/// publishable key: a secret pasted there is not echoed.
fn kept(form: &FormData) -> Fields {
    let mut f = Fields::default();
    f.keep(form, KEPT);
    if PublishableKey::parse(&form.text("publishable_key")).is_err() {
        f.set("publishable_key", "");
    }
    f
}

/// Shows a refusal on the form: each error at its field; a key-mode mix (about both keys)
/// at the secret key.
fn refusal_fields(form: &FormData, e: DomainError) -> Fields {
    let mut f = kept(form);
    let at_secret = |mut e: ApiError| {
        if e.param.is_none() && e.code == ErrorCode::MixedKeyModes {
            e.param = Some("secret_key".into());
        }
        e
    };
    match e {
        DomainError::Invalid(errors) => {
            for err in errors.all() {
                f.refuse_api(&at_secret(err.clone()), &same);
            }
        }
        DomainError::Refused(err) => f.refuse_api(&at_secret(err), &same),
        other => f.refuse_domain(other, &same),
    }
    f
}

fn warnings_to_flash(warnings: &[Warning], skip: &[&str]) -> Vec<Flash> {
    warnings
        .iter()
        .filter(|w| !skip.contains(&w.code))
        .map(|w| {
            if w.code == "not_activated" {
                Flash::error(w.message.clone())
            } else {
                Flash::info(w.message.clone())
            }
        })
        .collect()
}

/// `POST .../integrations`: Save integration. A key Stripe refuses is not added.
pub async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    if form.get("provider") != Some("stripe") {
        let mut f = kept(&form);
        f.refuse(
            Some("provider"),
            "invalid_request",
            "Choose Stripe, the only integration available",
        );
        return form_page(
            &state,
            &session,
            &merchant_id,
            None,
            f,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match integrations::add(
        &state,
        &merchant_id,
        input_of(&form),
        form.checked("activate"),
    )
    .await
    {
        Ok(v) => {
            let mut flash = vec![Flash::success("Integration added")];
            if v.active {
                flash.push(Flash::success("Integration activated"));
            }
            flash.extend(warnings_to_flash(&v.warnings, &[]));
            done(
                &state,
                &session,
                flash,
                &format!("{}/integration", base(&merchant_id)),
            )
            .await
        }
        Err(DomainError::NotFound("merchant")) => Err(DomainError::NotFound("merchant").into()),
        Err(e) => {
            form_page(
                &state,
                &session,
                &merchant_id,
                None,
                refusal_fields(&form, e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET .../integration`: the details.
pub async fn details(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "integration").await?;
    let v = integrations::get(&state, &merchant.id).await?;
    let i = Shown::of(v, &Local::of(&merchant));
    let page = DetailsPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        i,
    };
    render(StatusCode::OK, &page)
}

/// `GET .../integration/edit`: the form with the stored values (keys stay empty).
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let v = integrations::get(&state, &merchant_id).await?;
    let mut f = Fields::default();
    f.set("provider", "stripe")
        .set("name", v.name.clone())
        .set("mode", v.mode.as_str());
    if v.active {
        f.set("active", "on");
    }
    for b in &v.card_brands {
        f.add("card_brands", b.as_str());
    }
    for m in &v.payment_methods {
        f.add("payment_methods", m.as_str());
    }
    if v.wallets {
        f.set("wallets", "on");
    }
    form_page(&state, &session, &merchant_id, Some(v), f, StatusCode::OK).await
}

/// `POST .../integration`: Save integration (edit); then switches it on or off as the
/// "Active" switch says.
pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let stored = integrations::get(&state, &merchant_id).await?;
    let v = match integrations::set(&state, &merchant_id, input_of(&form)).await {
        Ok(v) => v,
        Err(e) => {
            return form_page(
                &state,
                &session,
                &merchant_id,
                Some(stored),
                refusal_fields(&form, e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let want_active = form.checked("active");
    let mut flash = vec![Flash::success("Integration updated")];
    let skip: &[&str] = if want_active {
        &["verification_required"]
    } else {
        &[]
    };
    flash.extend(warnings_to_flash(&v.warnings, skip));
    if want_active && !v.active {
        match integrations::activate(&state, &merchant_id).await {
            Ok(a) => {
                flash.push(Flash::success("Integration activated"));
                flash.extend(warnings_to_flash(&a.warnings, &[]));
            }
            Err(e) => flash.push(Flash::error(format!(
                "Not activated: {}",
                public_message(e)
            ))),
        }
    } else if !want_active && v.active {
        integrations::deactivate(&state, &merchant_id).await?;
        flash.push(Flash::success("Integration deactivated"));
    }
    done(
        &state,
        &session,
        flash,
        &format!("{}/integration", base(&merchant_id)),
    )
    .await
}

/// `GET .../integration/delete`: "Are you sure?".
pub async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "integration").await?;
    let v = integrations::get(&state, &merchant.id).await?;
    let page = ConfirmPage {
        lang: "en",
        chrome,
        title: "Delete integration?".into(),
        question: format!(
            "Are you sure you want to delete the integration {} of {}?",
            v.name, merchant.name
        ),
        detail: "Clients can no longer pay online. The merchant, its services and its payments stay; the webhook endpoint slotpay registered at Stripe is removed.".into(),
        action: format!("{}/integration/delete", base(&merchant.id)),
        confirm_label: "Delete integration".into(),
        cancel_href: format!("{}/integration", base(&merchant.id)),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST .../integration/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let deleted = integrations::delete(&state, &merchant_id).await?;
    let mut flash = vec![Flash::success("Integration deleted")];
    flash.extend(
        deleted
            .warnings
            .iter()
            .map(|w| Flash::error(w.message.clone())),
    );
    done(
        &state,
        &session,
        flash,
        &format!("{}/integrations", base(&merchant_id)),
    )
    .await
}

/// Where an action returns: the page it was posted from (`back`), or the details.
fn back(form: &FormData, merchant_id: &str) -> String {
    match form.get("back") {
        Some(b) => safe_next(Some(b)),
        None => format!("{}/integration", base(merchant_id)),
    }
}

async fn action(
    state: &AppState,
    session: &Session,
    to: String,
    result: Result<Vec<Flash>, DomainError>,
) -> Page {
    let flash = match result {
        Ok(flash) => flash,
        Err(e @ DomainError::NotFound(_)) => return Err(AdminError::Domain(e)),
        Err(e) => vec![Flash::error(public_message(e))],
    };
    done(state, session, flash, &to).await
}

/// `POST .../integration/verify`: "Verify now".
pub async fn verify(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let result = integrations::verify(&state, &merchant_id).await.map(|v| {
        vec![match (&v.status_reason, &v.account) {
            (Some(reason), _) => Flash::error(format!("Verification failed: {}", reason.message)),
            (None, Some(account)) => Flash::success(format!(
                "Verified: Stripe accepts the key (account {})",
                account.id
            )),
            (None, None) => Flash::success("Verified: Stripe accepts the key"),
        }]
    });
    action(&state, &session, back(&form, &merchant_id), result).await
}

/// `POST .../integration/activate`.
pub async fn activate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let result = match integrations::activate(&state, &merchant_id).await {
        Ok(v) => {
            let mut flash = vec![Flash::success("Integration activated")];
            flash.extend(warnings_to_flash(&v.warnings, &[]));
            Ok(flash)
        }
        Err(e @ DomainError::NotFound(_)) => Err(e),
        Err(e) => Ok(vec![Flash::error(format!(
            "Not activated: {}",
            public_message(e)
        ))]),
    };
    action(&state, &session, back(&form, &merchant_id), result).await
}

/// `POST .../integration/deactivate`.
pub async fn deactivate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let result = integrations::deactivate(&state, &merchant_id)
        .await
        .map(|_| vec![Flash::success("Integration deactivated")]);
    action(&state, &session, back(&form, &merchant_id), result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way to pay but card is a choice, and its words say what core's rules do: the
    /// limit, the redirect to the bank, the wait for the outcome.
    #[test]
    fn the_choices_say_what_the_rules_do() {
        let listed: Vec<_> = method_choices().iter().map(|(m, _)| *m).collect();
        let others: Vec<_> = MethodType::ALL
            .iter()
            .copied()
            .filter(|m| *m != MethodType::Card)
            .collect();
        assert_eq!(listed, others);
        for (m, words) in method_choices() {
            assert_eq!(
                words.contains("in euros"),
                m.only_currency() == Some(slotpay_core::Currency::Eur),
                "{words}"
            );
            assert_eq!(
                words.contains("not for a later capture"),
                !m.separate_capture(),
                "{words}"
            );
            if let Some(max) = m.largest_minor() {
                let euros = (max / 100).to_string();
                let (thousands, rest) = euros.split_at(euros.len() - 3);
                assert!(words.contains(&format!("€{thousands},{rest}")), "{words}");
            }
            assert_eq!(words.contains("at their bank"), m.redirects(), "{words}");
            assert_eq!(words.contains("days later"), m.settles_later(), "{words}");
        }
    }
}
