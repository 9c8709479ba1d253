//! Customers: create, retrieve, update, delete, list (`?email=`), and their PaymentMethods
//! (`GET /v1/customers/{id}/payment_methods`).

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::{empty_address, get_customer, payment_methods, previous_attributes};
use crate::state::{update_metadata, Ctx, Customer, Render, Store};
use crate::table::{list, Query};

/// Renders a customer like Stripe's customer object.
pub fn render(c: &Customer) -> Value {
    if c.deleted {
        return json!({"id": c.id, "object": "customer", "deleted": true});
    }
    json!({
        "id": c.id,
        "object": "customer",
        "address": empty_address(),
        "balance": 0,
        "created": c.created,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": c.description,
        "discount": null,
        "email": c.email,
        "invoice_prefix": c.id.trim_start_matches("cus_").chars().take(8).collect::<String>().to_uppercase(),
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": c.default_payment_method,
            "footer": null,
            "rendering_options": null,
        },
        "livemode": false,
        "metadata": c.metadata,
        "name": c.name,
        "next_invoice_sequence": 1,
        "phone": c.phone,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

impl Render for Customer {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

const FIELDS: &[&str] = &[
    "email",
    "name",
    "phone",
    "description",
    "metadata",
    "payment_method",
    "invoice_settings",
    "address",
    "shipping",
    "preferred_locales",
];

fn default_pm(params: &Params) -> ApiResult<Option<Option<String>>> {
    match params.object("invoice_settings")? {
        Some(m) => match m.get("default_payment_method") {
            Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            _ => Ok(None),
        },
        None => Ok(None),
    }
}

/// `POST /v1/customers`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(FIELDS)?;
    let id = ctx.id("cus_");
    let seq = ctx.store.next_seq();
    let mut c = Customer {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        email: params.str("email")?.map(String::from),
        name: params.str("name")?.map(String::from),
        phone: params.str("phone")?.map(String::from),
        description: params.str("description")?.map(String::from),
        metadata: params.metadata()?.unwrap_or_default(),
        default_payment_method: None,
        deleted: false,
    };
    ctx.store.customers.insert(id.clone(), c.clone());
    ctx.store.count("customers_created");
    if let Some(pm) = params.str("payment_method")? {
        payment_methods::attach_to(ctx, pm, &id, "payment_method")?;
    }
    if let Some(dpm) = default_pm(params)? {
        if let Some(pm) = &dpm {
            check_attached(ctx, pm, &id)?;
        }
        c.default_payment_method = dpm;
        ctx.store.customers.insert(id.clone(), c.clone());
    }
    let v = render(&c);
    ctx.emit("customer.created", v.clone(), None);
    ctx.answer(v, params)
}

fn check_attached(ctx: &Ctx, pm: &str, customer: &str) -> ApiResult<()> {
    match ctx.store.payment_methods.get(pm).filter(|p| p.account == ctx.account) {
        Some(p) if p.customer.as_deref() == Some(customer) => Ok(()),
        Some(_) => Err(ApiError::invalid(format!(
            "The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer."
        ))
        .param("invoice_settings[default_payment_method]")),
        None => Err(ApiError::missing("PaymentMethod", pm, Some("invoice_settings[default_payment_method]"))),
    }
}

/// `GET /v1/customers/{id}` (deleted customers answer `{deleted: true}` as Stripe does).
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let c = ctx
        .store
        .customers
        .get(id)
        .filter(|c| c.account == ctx.account)
        .ok_or_else(|| ApiError::missing("customer", id, Some("id")))?;
    let v = render(c);
    ctx.answer(v, params)
}

/// `POST /v1/customers/{id}`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(FIELDS)?;
    let mut c = get_customer(ctx, id, "id")?;
    let before = render(&c);
    for (field, slot) in [
        ("email", &mut c.email),
        ("name", &mut c.name),
        ("phone", &mut c.phone),
        ("description", &mut c.description),
    ] {
        if params.has(field) {
            *slot = params.str(field)?.map(String::from);
        }
    }
    if let Some(m) = params.metadata()? {
        update_metadata(&mut c.metadata, m);
    }
    if let Some(pm) = params.str("payment_method")? {
        payment_methods::attach_to(ctx, pm, id, "payment_method")?;
    }
    if let Some(dpm) = default_pm(params)? {
        if let Some(pm) = &dpm {
            check_attached(ctx, pm, id)?;
        }
        c.default_payment_method = dpm;
    }
    ctx.store.customers.insert(id.to_string(), c.clone());
    let v = render(&c);
    let previous = previous_attributes(&before, &v);
    ctx.emit("customer.updated", v.clone(), Some(previous));
    ctx.answer(v, params)
}

/// `DELETE /v1/customers/{id}`.
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut c = get_customer(ctx, id, "id")?;
    let last = render(&c);
    c.deleted = true;
    ctx.store.customers.insert(id.to_string(), c);
    ctx.emit("customer.deleted", last, None);
    Ok(json!({"id": id, "object": "customer", "deleted": true}))
}

/// `GET /v1/customers`.
pub fn list_customers(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "email",
        "created",
    ])?;
    let email = params.str("email")?;
    let keep = |c: &Customer| {
        c.account == ctx.account
            && !c.deleted
            && email.is_none_or(|e| c.email.as_deref() == Some(e))
    };
    let mut v = list(
        &ctx.store.customers,
        Query {
            group: None,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/customers",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}

/// `GET /v1/customers/{id}/payment_methods`.
pub fn list_payment_methods(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    get_customer(ctx, id, "customer")?;
    let mut p = params.clone();
    p.0.insert("customer".into(), json!(id));
    let mut v = payment_methods::list_for(ctx, &p)?;
    v["url"] = json!(format!("/v1/customers/{id}/payment_methods"));
    Ok(v)
}
