//! Payment method domains: create (`domain_name`, `enabled`), retrieve, update (`enabled`),
//! list (`domain_name`, `enabled`), validate. Elements show the wallets and Link only on a
//! registered, enabled domain. In test mode Stripe needs no Apple domain-association file; Apple
//! Pay is inactive on an IP address or `localhost`, where it never runs.

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::state::{Ctx, PaymentMethodDomain, Store};
use crate::table::{list, Query};

/// Whether a domain name is one Apple Pay can run on: a name with a dot, not an address.
fn apple_pay_possible(domain: &str) -> bool {
    domain != "localhost"
        && domain.contains('.')
        && domain.parse::<std::net::IpAddr>().is_err()
        && !domain.ends_with(".localhost")
}

/// Which wallets Elements show on a page of `domain` for `account`, as `(apple_pay,
/// google_pay)`: none unless the domain is registered and enabled on the account; Apple Pay
/// only where it can run.
pub fn wallets_at(store: &Store, account: &str, domain: &str) -> (bool, bool) {
    let registered = store
        .payment_method_domains
        .values()
        .any(|d| d.account == account && d.enabled && d.domain_name.eq_ignore_ascii_case(domain));
    (registered && apple_pay_possible(domain), registered)
}

/// Renders a domain like Stripe's object.
pub fn render(d: &PaymentMethodDomain) -> Value {
    let active = json!({"status": "active"});
    let apple_pay = if apple_pay_possible(&d.domain_name) {
        active.clone()
    } else {
        json!({"status": "inactive", "status_details": {
            "error_message": "Apple Pay runs only on a domain name served over HTTPS, not on an IP address or localhost."
        }})
    };
    json!({
        "id": d.id,
        "object": "payment_method_domain",
        "amazon_pay": active,
        "apple_pay": apple_pay,
        "created": d.created,
        "domain_name": d.domain_name,
        "enabled": d.enabled,
        "google_pay": active,
        "klarna": active,
        "link": active,
        "livemode": false,
        "paypal": active,
    })
}

fn get(ctx: &Ctx, id: &str) -> ApiResult<PaymentMethodDomain> {
    ctx.store
        .payment_method_domains
        .get(id)
        .filter(|d| d.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("payment_method_domain", id, Some("id")))
}

/// A domain name as Stripe takes it: a host, no scheme, port or path.
fn check_domain(name: &str) -> ApiResult<String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-']);
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid domain_name: {name:?} is not a domain name (no scheme, port or path)."
        ))
        .param("domain_name"))
    }
}

/// `POST /v1/payment_method_domains`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&["domain_name", "enabled"])?;
    let domain_name = check_domain(params.required_str("domain_name")?)?;
    let taken = ctx
        .store
        .payment_method_domains
        .values()
        .any(|d| d.account == ctx.account && d.domain_name == domain_name);
    if taken {
        return Err(ApiError::invalid(format!(
            "The domain {domain_name} is already registered for this account."
        ))
        .param("domain_name"));
    }
    let id = ctx.id("pmd_");
    let seq = ctx.store.next_seq();
    let d = PaymentMethodDomain {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        domain_name,
        enabled: params.bool("enabled")?.unwrap_or(true),
    };
    ctx.store.payment_method_domains.insert(id, d.clone());
    ctx.store.count("payment_method_domains_created");
    ctx.answer(render(&d), params)
}

/// `GET /v1/payment_method_domains/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let d = get(ctx, id)?;
    ctx.answer(render(&d), params)
}

/// `POST /v1/payment_method_domains/{id}` (`enabled`).
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["enabled"])?;
    let mut d = get(ctx, id)?;
    if let Some(enabled) = params.bool("enabled")? {
        d.enabled = enabled;
    }
    ctx.store
        .payment_method_domains
        .insert(id.to_owned(), d.clone());
    ctx.answer(render(&d), params)
}

/// `POST /v1/payment_method_domains/{id}/validate`: checks the domain again (the statuses are
/// the domain name's, so the answer is the same object).
pub fn validate(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let d = get(ctx, id)?;
    ctx.store.count("payment_method_domains_validated");
    ctx.answer(render(&d), params)
}

/// `GET /v1/payment_method_domains` (`domain_name`, `enabled`).
pub fn list_domains(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "domain_name",
        "enabled",
        "limit",
        "starting_after",
        "ending_before",
    ])?;
    let name = params.str("domain_name")?.map(str::to_ascii_lowercase);
    let enabled = params.bool("enabled")?;
    let keep = |d: &PaymentMethodDomain| {
        d.account == ctx.account
            && name.as_ref().is_none_or(|n| *n == d.domain_name)
            && enabled.is_none_or(|e| e == d.enabled)
    };
    list(
        &ctx.store.payment_method_domains,
        Query {
            group: None,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/payment_method_domains",
    )
}
