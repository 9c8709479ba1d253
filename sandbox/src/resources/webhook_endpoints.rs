//! Webhook endpoints: create (`url`, `enabled_events[]`; the `secret` is returned only then),
//! list, retrieve, update, delete.

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::state::{update_metadata, Ctx, WebhookEndpoint};
use crate::table::{list, Query};

/// The event types the sandbox emits (and accepts in `enabled_events`, besides `*`).
pub const EVENT_TYPES: &[&str] = &[
    "charge.captured",
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refund.updated",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "customer.created",
    "customer.deleted",
    "customer.updated",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "refund.created",
    "refund.failed",
    "refund.updated",
    "setup_intent.canceled",
    "setup_intent.created",
    "setup_intent.requires_action",
    "setup_intent.setup_failed",
    "setup_intent.succeeded",
];

/// Renders an endpoint (without its secret, as every answer but the creation's).
pub fn render(e: &WebhookEndpoint) -> Value {
    json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": e.api_version,
        "application": null,
        "created": e.created,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "livemode": false,
        "metadata": e.metadata,
        "status": e.status,
        "url": e.url,
    })
}

fn get(ctx: &Ctx, id: &str) -> ApiResult<WebhookEndpoint> {
    ctx.store
        .webhook_endpoints
        .get(id)
        .filter(|e| e.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("webhook endpoint", id, Some("id")))
}

fn events(params: &Params) -> ApiResult<Option<Vec<String>>> {
    let Some(list) = params.string_list("enabled_events")? else {
        return Ok(None);
    };
    for (i, e) in list.iter().enumerate() {
        if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
            return Err(ApiError::validation(
                format!(
                    "Invalid enabled_events[{i}]: must be one of {}",
                    EVENT_TYPES.join(", ")
                ),
                "parameter_invalid_string",
                &format!("enabled_events[{i}]"),
            ));
        }
    }
    Ok(Some(list))
}

fn check_url(url: &str) -> ApiResult<()> {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        _ => Err(ApiError::validation(
            "Invalid URL: URL must be publicly accessible.",
            "url_invalid",
            "url",
        )),
    }
}

/// `POST /v1/webhook_endpoints`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "api_version",
        "connect",
    ])?;
    let url = params.required_str("url")?.to_string();
    check_url(&url)?;
    let enabled = events(params)?.ok_or_else(|| crate::form::missing("enabled_events"))?;
    let id = ctx.id("we_");
    let secret = format!("whsec_{}", ctx.store.random(32));
    let seq = ctx.store.next_seq();
    let e = WebhookEndpoint {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        url,
        enabled_events: enabled,
        secret: secret.clone(),
        previous_secrets: Vec::new(),
        description: params.str("description")?.map(String::from),
        metadata: params.metadata()?.unwrap_or_default(),
        api_version: params.str("api_version")?.map(String::from),
        status: "enabled".into(),
    };
    ctx.store.webhook_endpoints.insert(id, e.clone());
    let mut v = render(&e);
    v["secret"] = json!(secret);
    Ok(v)
}

/// `GET /v1/webhook_endpoints/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    Ok(render(&get(ctx, id)?))
}

/// `POST /v1/webhook_endpoints/{id}`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "disabled",
    ])?;
    let mut e = get(ctx, id)?;
    if let Some(url) = params.str("url")? {
        check_url(url)?;
        e.url = url.to_string();
    }
    if let Some(list) = events(params)? {
        e.enabled_events = list;
    }
    if params.has("description") {
        e.description = params.str("description")?.map(String::from);
    }
    if let Some(m) = params.metadata()? {
        update_metadata(&mut e.metadata, m);
    }
    if let Some(disabled) = params.bool("disabled")? {
        e.status = if disabled { "disabled" } else { "enabled" }.into();
    }
    ctx.store
        .webhook_endpoints
        .insert(id.to_string(), e.clone());
    Ok(render(&e))
}

/// `DELETE /v1/webhook_endpoints/{id}`.
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    get(ctx, id)?;
    ctx.store.webhook_endpoints.remove(id);
    Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
}

/// `GET /v1/webhook_endpoints`.
pub fn list_endpoints(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&["limit", "starting_after", "ending_before"])?;
    let keep = |e: &WebhookEndpoint| e.account == ctx.account;
    list(
        &ctx.store.webhook_endpoints,
        Query {
            group: None,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/webhook_endpoints",
    )
}
