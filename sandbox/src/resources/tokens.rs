//! Tokens (type `card`): `POST /v1/tokens`, which Stripe.js's `createToken` calls with the
//! publishable key, and `GET /v1/tokens/{id}`. A token is single-use, as Stripe's: creating a
//! PaymentMethod from it (`card[token]`) uses it up. Bank account, PII, account and person
//! tokens are not modelled (slotpay takes cards only).

use serde_json::{json, Map, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::{missing, Params};
use crate::resources::{card_details, empty_address};
use crate::state::{CardInfo, Ctx, Token};

/// The card fields of a token besides the card itself (`card[name]`, `card[address_*]`).
const HOLDER_FIELDS: &[&str] = &[
    "name",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_zip",
    "address_country",
    "currency",
];

/// The brand as Stripe's card object (not the PaymentMethod) spells it.
fn card_brand(brand: &str) -> &'static str {
    match brand {
        "visa" => "Visa",
        "mastercard" => "MasterCard",
        "amex" => "American Express",
        "discover" => "Discover",
        "jcb" => "JCB",
        "diners" => "Diners Club",
        "unionpay" => "UnionPay",
        _ => "Unknown",
    }
}

/// Renders a token like Stripe's token object (its `card` as Stripe's card object).
pub fn render(t: &Token) -> Value {
    let field = |k: &str| t.holder.get(k).cloned().unwrap_or(Value::Null);
    let check = |k: &str| {
        if t.holder.contains_key(k) {
            json!("unchecked")
        } else {
            Value::Null
        }
    };
    let pm_card = card_details::render_card(&t.card);
    let mut card = json!({
        "id": t.card_id,
        "object": "card",
        "address_city": field("address_city"),
        "address_country": field("address_country"),
        "address_line1": field("address_line1"),
        "address_line1_check": check("address_line1"),
        "address_line2": field("address_line2"),
        "address_state": field("address_state"),
        "address_zip": field("address_zip"),
        "address_zip_check": check("address_zip"),
        "brand": card_brand(&t.card.brand),
        "country": t.card.country,
        "cvc_check": pm_card["checks"]["cvc_check"],
        "dynamic_last4": null,
        "exp_month": t.card.exp_month,
        "exp_year": t.card.exp_year,
        "fingerprint": t.card.fingerprint,
        "funding": t.card.funding,
        "last4": t.card.last4,
        "metadata": {},
        "name": field("name"),
        "networks": {"preferred": null},
        "regulated_status": null,
        "tokenization_method": null,
        "wallet": null,
    });
    if let Some(c) = t.holder.get("currency") {
        card["currency"] = c.clone();
    }
    json!({
        "id": t.id,
        "object": "token",
        "card": card,
        "client_ip": null,
        "created": t.created,
        "livemode": false,
        "type": "card",
        "used": t.used,
    })
}

/// `POST /v1/tokens` (`card[number|exp_month|exp_year|cvc|name|address_*|currency]`).
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "card",
        "bank_account",
        "pii",
        "account",
        "person",
        "cvc_update",
        "customer",
    ])?;
    if let Some(other) = ["bank_account", "pii", "account", "person", "cvc_update"]
        .into_iter()
        .find(|k| params.has(k))
    {
        return Err(ApiError::invalid(format!(
            "The sandbox creates card tokens only; `{other}` tokens are not modelled."
        ))
        .param(other));
    }
    let card_params = params.object("card")?.ok_or_else(|| missing("card"))?;
    let card = card_details::parse_card(card_params, ctx.now)?;
    let holder: Map<String, Value> = HOLDER_FIELDS
        .iter()
        .filter_map(|k| {
            card_params
                .get(*k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (k.to_string(), json!(s)))
        })
        .collect();
    let id = ctx.id("tok_");
    let card_id = ctx.id("card_");
    let seq = ctx.store.next_seq();
    let token = Token {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        card_id,
        card,
        holder,
        used: false,
    };
    let v = render(&token);
    ctx.store.tokens.insert(id, token);
    ctx.store.count("tokens_created");
    Ok(v)
}

/// `GET /v1/tokens/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let t = ctx
        .store
        .tokens
        .get(id)
        .filter(|t| t.account == ctx.account)
        .ok_or_else(|| ApiError::missing("token", id, Some("token")))?;
    Ok(render(t))
}

/// Uses a token up for a PaymentMethod (`card[token]`): its card, and billing details from the
/// card's name and address.
pub fn redeem(ctx: &mut Ctx, id: &str, param: &str) -> ApiResult<(CardInfo, Map<String, Value>)> {
    let account = ctx.account.clone();
    let t = ctx
        .store
        .tokens
        .get_mut(id)
        .filter(|t| t.account == account)
        .ok_or_else(|| ApiError::missing("token", id, Some(param)))?;
    if t.used {
        return Err(ApiError::invalid(format!(
            "You cannot use a Stripe token more than once: {id}."
        ))
        .param(param));
    }
    t.used = true;
    let h = |k: &str| t.holder.get(k).cloned();
    let mut billing = Map::new();
    if let Some(n) = h("name") {
        billing.insert("name".into(), n);
    }
    let mut address = empty_address();
    let mut any = false;
    for (from, to) in [
        ("address_line1", "line1"),
        ("address_line2", "line2"),
        ("address_city", "city"),
        ("address_state", "state"),
        ("address_zip", "postal_code"),
        ("address_country", "country"),
    ] {
        if let Some(v) = h(from) {
            address[to] = v;
            any = true;
        }
    }
    if any {
        billing.insert("address".into(), address);
    }
    Ok((t.card.clone(), billing))
}
