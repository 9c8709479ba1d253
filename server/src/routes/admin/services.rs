//! A merchant's services: the list, add and edit (name, price, prepayment rule, optional
//! cancellation fee, offered or not) and delete after a confirmation. A rule whose
//! prepayment lands below Stripe's minimum is refused by the catalogue with core's
//! message, shown next to the rule.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::json;
use slotpay_core::{Currency, Money, PrepaymentRule};

use super::form::{minor_units, Fields};
use super::views::{decimal, rule_label, Local};
use super::{done, merchant_chrome, render, Chrome, ConfirmPage, FormData, Page};
use crate::admin::sessions::{Flash, Session};
use crate::domain::catalogue::{self, AmountInput, ServiceInput, ServiceView};
use crate::domain::DomainError;
use crate::state::AppState;

/// A service as the list shows it.
struct Row {
    s: ServiceView,
    price: String,
    rule: String,
    fee: String,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    services: Vec<Row>,
}

#[derive(Template)]
#[template(path = "admin/service_form.html")]
struct FormPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    /// `None` when adding.
    service_id: Option<String>,
    f: Fields,
}

impl FormPage {
    fn rules(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("full", "Full price"),
            ("percent", "A percentage of the price"),
            ("fixed", "A fixed deposit"),
        ]
    }
}

fn base(merchant_id: &str) -> String {
    format!("/admin/merchants/{merchant_id}/services")
}

/// `GET .../services`.
pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "services").await?;
    let l = Local::of(&merchant);
    let shown = |m: Money| l.money(m.minor(), m.currency());
    let services = catalogue::list(&state, &merchant.id)
        .await?
        .into_iter()
        .map(|s| Row {
            price: shown(s.price),
            rule: format!(
                "{} ({} online)",
                rule_label(&s.prepayment, s.price.currency(), &l),
                shown(s.prepayment_amount)
            ),
            fee: s.cancellation_fee.map_or_else(|| "—".to_owned(), shown),
            s,
        })
        .collect();
    let page = ListPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        services,
    };
    render(StatusCode::OK, &page)
}

async fn form_page(
    state: &AppState,
    session: &Session,
    merchant_id: &str,
    service_id: Option<String>,
    f: Fields,
    status: StatusCode,
) -> Page {
    let (chrome, merchant) = merchant_chrome(state, session, merchant_id, "services").await?;
    let page = FormPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        service_id,
        f,
    };
    render(status, &page)
}

/// `GET .../services/new`.
pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let mut f = Fields::default();
    f.set("currency", "EUR")
        .set("prepayment", "full")
        .set("active", "on");
    form_page(&state, &session, &merchant_id, None, f, StatusCode::OK).await
}

const KEPT: &[&str] = &[
    "name",
    "price",
    "currency",
    "prepayment",
    "percent",
    "deposit",
    "cancellation_fee",
    "active",
];

/// The field of the chosen rule, where a refused rule is shown.
fn rule_field(form: &FormData) -> String {
    match form.get("prepayment") {
        Some("percent") => "percent".into(),
        Some("fixed") => "deposit".into(),
        _ => "prepayment".into(),
    }
}

/// The catalogue's input of the form; amounts are decimals in the service's currency (a
/// deposit is turned into minor units by core's parser, the rule wants them).
fn input_of(form: &FormData, editing: bool, f: &mut Fields) -> ServiceInput {
    let currency_text = form.text("currency");
    let prepayment = match form.get("prepayment") {
        Some("percent") => match form.text("percent").trim().parse::<u32>() {
            Ok(percent) => Some(json!({"type": "percent", "percent": percent})),
            Err(_) => {
                f.refuse(
                    Some("percent"),
                    "invalid_prepayment",
                    "Give the percentage as a whole number from 1 to 100",
                );
                None
            }
        },
        Some("fixed") => match Currency::parse(currency_text.trim()) {
            Ok(c) => match minor_units(&form.text("deposit"), c, "deposit") {
                Ok(amount) => Some(json!({"type": "fixed", "amount": amount})),
                Err(e) => {
                    f.refuse_api(&e, &|p| Some(p.to_owned()));
                    None
                }
            },
            // The catalogue names the currency's problem.
            Err(_) => None,
        },
        _ => Some(json!({"type": "full"})),
    };
    let cancellation_fee = match form.given("cancellation_fee") {
        Some(text) => Some(Some(AmountInput::Decimal(text))),
        None if editing => Some(None),
        None => None,
    };
    ServiceInput {
        name: Some(form.text("name")),
        price: Some(AmountInput::Decimal(form.text("price"))),
        currency: Some(currency_text),
        prepayment,
        cancellation_fee,
        active: Some(form.checked("active")),
    }
}

async fn save(
    state: &AppState,
    session: &Session,
    form: &FormData,
    merchant_id: &str,
    service_id: Option<String>,
) -> Page {
    let mut f = Fields::default();
    f.keep(form, KEPT);
    let input = input_of(form, service_id.is_some(), &mut f);
    if !f.has_errors() {
        let result = match &service_id {
            Some(id) => catalogue::update(state, merchant_id, id, input).await,
            None => catalogue::create(state, merchant_id, input).await,
        };
        match result {
            Ok(s) => {
                let what = if service_id.is_some() {
                    "updated"
                } else {
                    "added"
                };
                return done(
                    state,
                    session,
                    vec![Flash::success(format!("Service {} {what}", s.name))],
                    &base(merchant_id),
                )
                .await;
            }
            Err(e @ DomainError::NotFound(_)) => return Err(e.into()),
            Err(e) => {
                let rule = rule_field(form);
                f.refuse_domain(e, &|p| {
                    Some(if p == "prepayment" {
                        rule.clone()
                    } else {
                        p.to_owned()
                    })
                });
            }
        }
    }
    form_page(
        state,
        session,
        merchant_id,
        service_id,
        f,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST .../services`.
pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    save(&state, &session, &form, &merchant_id, None).await
}

/// `GET .../services/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path((merchant_id, service_id)): Path<(String, String)>,
) -> Page {
    let s = catalogue::get(&state, &merchant_id, &service_id).await?;
    let currency = s.price.currency();
    let mut f = Fields::default();
    f.set("name", s.name.clone())
        .set("price", decimal(s.price.minor(), currency))
        .set("currency", currency.code().to_uppercase());
    match s.prepayment {
        PrepaymentRule::Full => f.set("prepayment", "full"),
        PrepaymentRule::Percent { percent } => f
            .set("prepayment", "percent")
            .set("percent", percent.to_string()),
        PrepaymentRule::Fixed { amount } => f
            .set("prepayment", "fixed")
            .set("deposit", decimal(amount, currency)),
    };
    if let Some(fee) = s.cancellation_fee {
        f.set("cancellation_fee", decimal(fee.minor(), currency));
    }
    if s.active {
        f.set("active", "on");
    }
    form_page(
        &state,
        &session,
        &merchant_id,
        Some(s.id),
        f,
        StatusCode::OK,
    )
    .await
}

/// `POST .../services/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path((merchant_id, service_id)): Path<(String, String)>,
) -> Page {
    catalogue::get(&state, &merchant_id, &service_id).await?;
    save(&state, &session, &form, &merchant_id, Some(service_id)).await
}

/// `GET .../services/{id}/delete`.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path((merchant_id, service_id)): Path<(String, String)>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "services").await?;
    let s = catalogue::get(&state, &merchant.id, &service_id).await?;
    let page = ConfirmPage {
        lang: "en",
        chrome,
        title: "Delete service?".into(),
        question: format!("Are you sure you want to delete the service {}?", s.name),
        detail: "Clients can no longer book and pay for it online. Payments already made stay."
            .into(),
        action: format!("{}/{}/delete", base(&merchant.id), s.id),
        confirm_label: "Delete service".into(),
        cancel_href: base(&merchant.id),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST .../services/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path((merchant_id, service_id)): Path<(String, String)>,
) -> Page {
    let s = catalogue::get(&state, &merchant_id, &service_id).await?;
    catalogue::delete(&state, &merchant_id, &service_id).await?;
    done(
        &state,
        &session,
        vec![Flash::success(format!("Service {} deleted", s.name))],
        &base(&merchant_id),
    )
    .await
}
