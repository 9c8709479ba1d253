//! Events: `GET /v1/events` (filter by `type`, `types[]`, `created`) and `GET /v1/events/{id}`.

use std::fmt::Write;

use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::state::{Ctx, Event, Render, Store};
use crate::table::{list, Query};

/// A JSON string literal.
fn quoted(s: &str) -> String {
    Value::from(s).to_string()
}

/// `null` or a JSON string literal.
fn quoted_opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "null".to_string(), quoted)
}

/// The event as Stripe sends it to webhook endpoints: compact JSON, keys in the order
/// `serde_json` writes a rendered object (sorted), the object snapshot spliced in as stored.
pub fn payload(e: &Event) -> String {
    let mut out = String::with_capacity(e.object.len() + 400);
    let _ = write!(
        out,
        "{{\"api_version\":{},\"created\":{},\"data\":{{\"object\":{}",
        quoted(&e.api_version),
        e.created,
        e.object
    );
    if let Some(prev) = &e.previous_attributes {
        let _ = write!(out, ",\"previous_attributes\":{prev}");
    }
    let _ = write!(
        out,
        "}},\"id\":{},\"livemode\":false,\"object\":\"event\",\"pending_webhooks\":{},\
         \"request\":{{\"id\":{},\"idempotency_key\":{}}},\"type\":{}}}",
        quoted(&e.id),
        e.undelivered.len(),
        quoted_opt(&e.request_id),
        quoted_opt(&e.idempotency_key),
        quoted(&e.event_type)
    );
    out
}

/// Renders an event like Stripe's event object (for the API: parsed back from [`payload`], so
/// what the API answers and what webhooks carry cannot differ).
pub fn render(e: &Event) -> Value {
    serde_json::from_str(&payload(e)).unwrap_or(Value::Null)
}

impl Render for Event {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

/// `GET /v1/events/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let e = ctx
        .store
        .events
        .get(id)
        .filter(|e| e.account == ctx.account)
        .ok_or_else(|| ApiError::missing("event", id, Some("id")))?;
    Ok(render(e))
}

fn created_filter(params: &Params) -> ApiResult<Box<dyn Fn(i64) -> bool>> {
    match params.get("created") {
        None => Ok(Box::new(|_| true)),
        Some(Value::String(_)) => {
            let at = params.int("created")?.unwrap_or_default();
            Ok(Box::new(move |c| c == at))
        }
        Some(Value::Object(m)) => {
            let bound = |k: &str| -> ApiResult<Option<i64>> {
                match m.get(k).and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => s.parse().map(Some).map_err(|_| {
                        ApiError::validation(
                            format!("Invalid integer: {s}"),
                            "parameter_invalid_integer",
                            &format!("created[{k}]"),
                        )
                    }),
                }
            };
            let (gt, gte, lt, lte) = (bound("gt")?, bound("gte")?, bound("lt")?, bound("lte")?);
            Ok(Box::new(move |c| {
                gt.is_none_or(|b| c > b)
                    && gte.is_none_or(|b| c >= b)
                    && lt.is_none_or(|b| c < b)
                    && lte.is_none_or(|b| c <= b)
            }))
        }
        Some(_) => Err(ApiError::validation(
            "Invalid created",
            "parameter_invalid_integer",
            "created",
        )),
    }
}

/// `GET /v1/events`.
pub fn list_events(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "type",
        "types",
        "created",
        "delivery_success",
    ])?;
    let one = params.str("type")?.map(str::to_string);
    let many = params.string_list("types")?;
    let created = created_filter(params)?;
    let matches_type = |t: &str| {
        let by_one = one.as_deref().is_none_or(|want| {
            if let Some(prefix) = want.strip_suffix('*') {
                t.starts_with(prefix)
            } else {
                t == want
            }
        });
        let by_many = many.as_ref().is_none_or(|l| l.iter().any(|x| x == t));
        by_one && by_many
    };
    let account = ctx.account.clone();
    let keep =
        |e: &Event| e.account == account && matches_type(&e.event_type) && created(e.created);
    list(
        &ctx.store.events,
        Query {
            group: None,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/events",
    )
}
