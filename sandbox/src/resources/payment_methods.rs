//! PaymentMethods: create a `card` from card details (Stripe.js does this with the publishable
//! key), an `ideal`, `bancontact` or `sepa_debit` one from its details, the `pm_card_*` test
//! PaymentMethods usable wherever an id is accepted, retrieve, update, attach/detach to a
//! customer, list; and Stripe's reuse rule: a PaymentMethod used without a customer, or
//! detached, may not be used again.

use std::sync::{Arc, LazyLock};

use serde_json::{json, Map, Value};

use crate::cards::{self, Behavior};
use crate::clock::year_month;
use crate::errors::{ApiError, ApiResult};
use crate::form::{missing, Params};
use crate::resources::{card_details, empty_address, get_customer, previous_attributes, tokens};
use crate::state::{update_metadata, Ctx, Method, PaymentMethod, Render, Store};
use crate::table::{list, Query};

/// Stripe's message when a consumed PaymentMethod is used for a payment.
pub const REUSE_REFUSED: &str =
    "The provided PaymentMethod was previously used with a PaymentIntent without \
    Customer attachment, shared with a connected account without Customer attachment, or was \
    detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you \
    must attach it to a Customer first.";

const ATTACH_REFUSED: &str = "This PaymentMethod was previously used without being attached to a \
    Customer or was detached from a Customer, and may not be used again.";

/// Renders a PaymentMethod like Stripe's object.
pub fn render(pm: &PaymentMethod) -> Value {
    let kind = pm.method.kind();
    json!({
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": &*pm.billing_details,
        kind: details(&pm.method),
        "created": pm.created,
        "customer": pm.customer,
        "customer_account": null,
        "livemode": false,
        "metadata": pm.metadata,
        "type": kind,
    })
}

/// The hash of a PaymentMethod's type (`card`, `ideal`, ...), as the PaymentMethod shows it.
pub fn details(method: &Method) -> Value {
    match method {
        Method::Card(card) => card_details::render_card(card),
        Method::Ideal { bank } => json!({"bank": bank, "bic": bank.as_deref().map(ideal_bic)}),
        Method::Bancontact => json!({}),
        Method::SepaDebit {
            country,
            bank_code,
            last4,
            fingerprint,
            ..
        } => json!({
            "bank_code": bank_code,
            "branch_code": "",
            "country": country,
            "fingerprint": fingerprint,
            "generated_from": {"charge": null, "setup_attempt": null},
            "last4": last4,
        }),
    }
}

/// The iDEAL banks Stripe names (`ideal[bank]`) and their BICs.
const IDEAL_BANKS: &[(&str, &str)] = &[
    ("abn_amro", "ABNANL2A"),
    ("asn_bank", "ASNBNL21"),
    ("bunq", "BUNQNL2A"),
    ("ing", "INGBNL2A"),
    ("knab", "KNABNL2H"),
    ("rabobank", "RABONL2U"),
    ("regiobank", "RBRBNL21"),
    ("revolut", "REVOLT21"),
    ("sns_bank", "SNSBNL2A"),
    ("triodos_bank", "TRIONL2U"),
    ("van_lanschot", "FVLBNL22"),
];

fn ideal_bic(bank: &str) -> &'static str {
    IDEAL_BANKS
        .iter()
        .find(|(b, _)| *b == bank)
        .map_or("", |(_, bic)| bic)
}

impl Render for PaymentMethod {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

/// Stripe's all-null `billing_details`, shared by every PaymentMethod made without details (the
/// `pm_card_*` ones above all).
static NO_BILLING_DETAILS: LazyLock<Arc<Value>> =
    LazyLock::new(|| Arc::new(empty_billing_details()));

fn empty_billing_details() -> Value {
    json!({"address": empty_address(), "email": null, "name": null, "phone": null, "tax_id": null})
}

/// `billing_details` from parameters, over Stripe's all-null template.
pub fn billing_details(given: Option<&Map<String, Value>>) -> Arc<Value> {
    if given.is_none_or(|m| m.is_empty()) {
        return NO_BILLING_DETAILS.clone();
    }
    let mut bd = empty_billing_details();
    if let Some(m) = given {
        for k in ["email", "name", "phone"] {
            if let Some(Value::String(s)) = m.get(k) {
                bd[k] = if s.is_empty() { Value::Null } else { json!(s) };
            }
        }
        if let Some(Value::Object(addr)) = m.get("address") {
            for k in ["city", "country", "line1", "line2", "postal_code", "state"] {
                if let Some(Value::String(s)) = addr.get(k) {
                    bd["address"][k] = if s.is_empty() { Value::Null } else { json!(s) };
                }
            }
        }
    }
    Arc::new(bd)
}

fn insert(
    ctx: &mut Ctx,
    method: Method,
    billing: Arc<Value>,
    metadata: Map<String, Value>,
) -> PaymentMethod {
    let id = ctx.id("pm_");
    let seq = ctx.store.next_seq();
    let pm = PaymentMethod {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        customer: None,
        billing_details: billing,
        method,
        metadata,
        consumed: false,
        set_up: false,
    };
    ctx.store.payment_methods.insert(id, pm.clone());
    ctx.store.count("payment_methods_created");
    pm
}

/// A new PaymentMethod for a `pm_card_*` test id.
fn from_test_id(ctx: &mut Ctx, number: &str) -> PaymentMethod {
    let (year, month) = year_month(ctx.now);
    let card = card_details::card_info(number, i64::from(month), year + 1, true);
    insert(ctx, Method::Card(card), billing_details(None), Map::new())
}

/// The PaymentMethod an id names: a `pm_card_*` test id makes a new one each time (as Stripe
/// does), anything else must exist in the caller's account.
pub fn resolve(ctx: &mut Ctx, id: &str, param: &str) -> ApiResult<PaymentMethod> {
    if let Some(number) = cards::test_payment_method(id) {
        return Ok(from_test_id(ctx, number));
    }
    ctx.store
        .payment_methods
        .get(id)
        .filter(|p| p.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("PaymentMethod", id, Some(param)))
}

/// `POST /v1/payment_methods`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "type",
        "card",
        "ideal",
        "bancontact",
        "sepa_debit",
        "billing_details",
        "metadata",
        "allow_redisplay",
        "customer",
        "payment_method",
    ])?;
    let kind = params.required_str("type")?;
    if kind != "card" {
        let method = bank_method(kind, params)?;
        let bd = billing_details(params.object("billing_details")?);
        let pm = insert(ctx, method, bd, params.metadata()?.unwrap_or_default());
        return ctx.answer(render(&pm), params);
    }
    let card_params = params.object("card")?.ok_or_else(|| missing("card"))?;
    // `card[token]`: a PaymentMethod from a card token (Stripe.js's `createToken`), which uses
    // the token up; its holder's name and address become the billing details unless given.
    let (card, token_billing) = match card_params.get("token").and_then(Value::as_str) {
        Some(tok) => {
            let (card, billing) = tokens::redeem(ctx, tok, "card[token]")?;
            (card, Some(billing))
        }
        None => (card_details::parse_card(card_params, ctx.now)?, None),
    };
    let bd = match params.object("billing_details")? {
        Some(given) => billing_details(Some(given)),
        None => billing_details(token_billing.as_ref()),
    };
    let pm = insert(
        ctx,
        Method::Card(card),
        bd,
        params.metadata()?.unwrap_or_default(),
    );
    ctx.answer(render(&pm), params)
}

/// A card PaymentMethod from a wallet (`apple_pay`, `google_pay`), as the wallet sheet of
/// Stripe.js makes one; the card is a test card number.
pub fn from_wallet(ctx: &mut Ctx, wallet: &str, number: &str) -> ApiResult<PaymentMethod> {
    let wallet = match wallet {
        "apple_pay" => "apple_pay",
        "google_pay" => "google_pay",
        other => {
            return Err(ApiError::invalid(format!(
                "Wallets are apple_pay and google_pay, not {other}"
            ))
            .param("wallet"))
        }
    };
    let (year, month) = year_month(ctx.now);
    let mut card = card_details::card_info(number, i64::from(month), year + 1, false);
    card.wallet = Some(wallet);
    Ok(insert(
        ctx,
        Method::Card(card),
        billing_details(None),
        Map::new(),
    ))
}

/// The details of an `ideal`, `bancontact` or `sepa_debit` PaymentMethod, checked as Stripe
/// checks them: a known iDEAL bank, a holder's name for Bancontact, and for SEPA Debit an IBAN
/// that passes its checksum and the holder's name and email.
fn bank_method(kind: &str, params: &Params) -> ApiResult<Method> {
    let billing = params.object("billing_details")?;
    let given = |k: &str| {
        billing
            .and_then(|b| b.get(k))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    let need = |k: &str, why: &str| -> ApiResult<()> {
        if given(k) {
            Ok(())
        } else {
            Err(ApiError::invalid(format!(
                "Missing required param: billing_details[{k}]. {why}"
            ))
            .param(&format!("billing_details[{k}]")))
        }
    };
    match kind {
        "ideal" => {
            let bank = params
                .object("ideal")?
                .and_then(|i| i.get("bank"))
                .and_then(Value::as_str);
            if bank.is_some_and(|b| !IDEAL_BANKS.iter().any(|(k, _)| *k == b)) {
                return Err(ApiError::invalid(format!(
                    "Invalid ideal[bank]: must be one of {}",
                    IDEAL_BANKS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .param("ideal[bank]"));
            }
            Ok(Method::Ideal {
                bank: bank.map(str::to_owned),
            })
        }
        "bancontact" => {
            need("name", "Bancontact needs the account holder's name.")?;
            Ok(Method::Bancontact)
        }
        "sepa_debit" => {
            let iban = params
                .object("sepa_debit")?
                .and_then(|s| s.get("iban"))
                .and_then(Value::as_str)
                .ok_or_else(|| missing("sepa_debit[iban]"))?;
            let iban: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
            let iban = iban.to_ascii_uppercase();
            if !iban_valid(&iban) {
                return Err(ApiError::invalid(format!("Invalid IBAN: {iban}"))
                    .code("invalid_bank_account_iban")
                    .param("sepa_debit[iban]"));
            }
            need("name", "SEPA Direct Debit needs the account holder's name.")?;
            need(
                "email",
                "SEPA Direct Debit needs the account holder's email.",
            )?;
            Ok(Method::SepaDebit {
                country: iban[..2].to_owned(),
                bank_code: iban[4..12.min(iban.len())].to_owned(),
                last4: iban[iban.len() - 4..].to_owned(),
                fingerprint: card_details::fingerprint(&iban),
                fails: FAILING_IBANS.contains(&iban.as_str()),
            })
        }
        other => Err(ApiError::invalid(format!(
            "Invalid type: the sandbox makes PaymentMethods of type card, ideal, bancontact and \
             sepa_debit, not `{other}`."
        ))
        .param("type")),
    }
}

/// Stripe's test IBANs whose debits fail when they settle (the others succeed).
pub const FAILING_IBANS: &[&str] = &[
    "AT861904300235473202",
    "DE62370400440532013001",
    "NL91ABNA0417164300",
];

/// An IBAN's ISO 13616 checksum: country, two check digits, 11 to 30 letters and digits, and
/// the whole (rearranged, letters as numbers) leaving 1 modulo 97.
fn iban_valid(iban: &str) -> bool {
    let b = iban.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let rearranged = b[4..].iter().chain(&b[..4]);
    let rest = rearranged.fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A' + 10)) % 97
        }
    });
    rest == 1
}

/// `GET /v1/payment_methods/{id}`. A `pm_card_*` test id is resolved as everywhere else: Stripe
/// answers a PaymentMethod of that test card under a fresh `pm_...` id (the test id is a
/// template, not an object), so a server can check the brand before charging the same test id.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let pm = resolve(ctx, id, "id")?;
    let v = render(&pm);
    ctx.answer(v, params)
}

/// `POST /v1/payment_methods/{id}`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["billing_details", "metadata", "card", "allow_redisplay"])?;
    let mut pm = resolve(ctx, id, "id")?;
    let before = render(&pm);
    if let Some(bd) = params.object("billing_details")? {
        let mut merged = pm.billing_details.as_object().cloned().unwrap_or_default();
        let fresh = billing_details(Some(bd));
        for (k, v) in fresh.as_object().into_iter().flatten() {
            if bd.contains_key(k) {
                merged.insert(k.clone(), v.clone());
            }
        }
        pm.billing_details = Arc::new(Value::Object(merged));
    }
    if let Some(m) = params.metadata()? {
        update_metadata(&mut pm.metadata, m);
    }
    if let (Some(card), Method::Card(info)) = (params.object("card")?, &mut pm.method) {
        if let Some(m) = card
            .get("exp_month")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
        {
            info.exp_month = m;
        }
        if let Some(y) = card
            .get("exp_year")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
        {
            info.exp_year = if y < 100 { y + 2000 } else { y };
        }
    }
    ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    let v = render(&pm);
    ctx.emit(
        "payment_method.updated",
        v.clone(),
        Some(previous_attributes(&before, &v)),
    );
    ctx.answer(v, params)
}

/// Attaches a PaymentMethod to a customer with Stripe's checks (consumed cards refused, declining
/// cards refused, already attached elsewhere refused) and emits `payment_method.attached`.
pub fn attach_to(
    ctx: &mut Ctx,
    pm_id: &str,
    customer: &str,
    param: &str,
) -> ApiResult<PaymentMethod> {
    get_customer(ctx, customer, "customer")?;
    let mut pm = resolve(ctx, pm_id, param)?;
    if pm.customer.as_deref() == Some(customer) {
        return Ok(pm);
    }
    if pm.customer.is_some() {
        return Err(ApiError::invalid(
            "The payment method you provided has already been attached to a customer.",
        )
        .param(param));
    }
    if pm.consumed {
        return Err(ApiError::invalid(ATTACH_REFUSED).param(param));
    }
    // Attaching runs a card check: declining test cards fail here (4000000000000341 does not).
    let behavior = pm.card().map(|c| cards::details(&c.number).behavior);
    if let Some(Behavior::Decline(d)) = behavior {
        return Err(ApiError::card(d.message, d.code)
            .decline_code(d.decline_code)
            .param(param));
    }
    pm.customer = Some(customer.to_string());
    ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    let v = render(&pm);
    ctx.emit("payment_method.attached", v, None);
    Ok(pm)
}

/// `POST /v1/payment_methods/{id}/attach`.
pub fn attach(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["customer"])?;
    let customer = params.required_str("customer")?.to_string();
    let pm = attach_to(ctx, id, &customer, "payment_method")?;
    ctx.answer(render(&pm), params)
}

/// `POST /v1/payment_methods/{id}/detach`.
pub fn detach(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let mut pm = resolve(ctx, id, "id")?;
    let Some(customer) = pm.customer.take() else {
        return Err(ApiError::invalid(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        ));
    };
    pm.consumed = true;
    pm.set_up = false;
    ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    if let Some(c) = ctx.store.customers.get_mut(&customer) {
        if c.default_payment_method.as_deref() == Some(pm.id.as_str()) {
            c.default_payment_method = None;
        }
    }
    let v = render(&pm);
    ctx.emit(
        "payment_method.detached",
        v.clone(),
        Some(json!({"customer": customer})),
    );
    ctx.answer(v, params)
}

/// `GET /v1/payment_methods?customer=...&type=card`.
pub fn list_for(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "customer",
        "type",
        "limit",
        "starting_after",
        "ending_before",
    ])?;
    let kind = params.str("type")?;
    let customer = params.str("customer")?;
    if let Some(c) = customer {
        get_customer(ctx, c, "customer")?;
    }
    // Without a customer, Stripe lists the attached ones (a one-off card is no one's to list).
    let keep = |p: &PaymentMethod| {
        p.account == ctx.account
            && p.customer.is_some()
            && kind.is_none_or(|k| k == p.method.kind())
    };
    let mut v = list(
        &ctx.store.payment_methods,
        Query {
            group: customer,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/payment_methods",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}
