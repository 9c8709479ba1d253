//! Events: `GET /v1/events` (filter by `type`, `types[]`, `created`) and `GET /v1/events/{id}`.

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::state::{list, Ctx, Event, Row};

/// Renders an event like Stripe's event object.
pub fn render(e: &Event) -> Value {
    let mut data = json!({"object": e.object});
    if let Some(prev) = &e.previous_attributes {
        data["previous_attributes"] = prev.clone();
    }
    json!({
        "id": e.id,
        "object": "event",
        "api_version": e.api_version,
        "created": e.created,
        "data": data,
        "livemode": false,
        "pending_webhooks": e.pending_webhooks,
        "request": {"id": e.request_id, "idempotency_key": e.idempotency_key},
        "type": e.event_type,
    })
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
    let rows = ctx
        .store
        .events
        .values()
        .filter(|e| e.account == ctx.account && matches_type(&e.event_type) && created(e.created))
        .map(|e| Row {
            created: e.created,
            seq: e.seq,
            id: e.id.clone(),
            value: render(e),
        })
        .collect();
    list(rows, params, "/v1/events")
}
