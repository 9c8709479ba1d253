//! SetupIntents (saving a card for later, e.g. cancellation fees): create, retrieve (also with
//! the publishable key and `client_secret`), update, confirm (3-D Secure `requires_action` on the
//! 3155/3184/3220 cards, declines as 402 `card_error` with the SetupIntent), cancel, list; the
//! challenge's completion (PaymentMethod attached and set up for off-session use) or failure.

use serde_json::{json, Map, Value};

use crate::auth::KeyKind;
use crate::cards::{self, Behavior};
use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::{get_customer, payment_methods};
use crate::state::{merge_metadata, Ctx, PaymentMethod, Render, SetupIntent, Store};
use crate::table::{list, Query};

const AUTH_FAILURE_MESSAGE: &str =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

/// Renders a SetupIntent like Stripe's object.
pub fn render(si: &SetupIntent) -> Value {
    json!({
        "id": si.id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": null,
        "cancellation_reason": si.cancellation_reason,
        "client_secret": si.client_secret,
        "created": si.created,
        "customer": si.customer,
        "description": si.description,
        "excluded_payment_method_types": null,
        "flow_directions": null,
        "last_setup_error": si.last_setup_error,
        "latest_attempt": si.latest_attempt,
        "livemode": false,
        "mandate": null,
        "metadata": si.metadata,
        "next_action": si.next_action,
        "on_behalf_of": null,
        "payment_method": si.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {"card": {"mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
        "payment_method_types": si.payment_method_types,
        "single_use_mandate": null,
        "status": si.status,
        "usage": si.usage,
    })
}

impl Render for SetupIntent {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

fn render_for(ctx: &Ctx, si: &SetupIntent) -> Value {
    let mut v = render(si);
    if ctx.caller == KeyKind::Publishable {
        if let Some(o) = v.as_object_mut() {
            for k in [
                "customer",
                "metadata",
                "on_behalf_of",
                "application",
                "mandate",
                "single_use_mandate",
                "payment_method_options",
            ] {
                o.remove(k);
            }
        }
    }
    v
}

/// The SetupIntent `id` of the caller's account.
pub fn get(ctx: &Ctx, id: &str) -> ApiResult<SetupIntent> {
    ctx.store
        .setup_intents
        .get(id)
        .filter(|s| s.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("setup_intent", id, Some("intent")))
}

fn save(ctx: &mut Ctx, si: &SetupIntent) -> Value {
    ctx.store.setup_intents.insert(si.id.clone(), si.clone());
    render(si)
}

fn check_client_secret(ctx: &Ctx, si: &SetupIntent, params: &Params) -> ApiResult<()> {
    if ctx.caller != KeyKind::Publishable {
        return Ok(());
    }
    match params.str("client_secret")? {
        Some(s) if s == si.client_secret => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "The client_secret provided does not match the client_secret associated with the SetupIntent.",
        )
        .param("client_secret")),
        None => Err(crate::auth::publishable_refused()),
    }
}

fn usage(params: &Params) -> ApiResult<Option<String>> {
    match params.str("usage")? {
        None => Ok(None),
        Some(u @ ("on_session" | "off_session")) => Ok(Some(u.to_string())),
        Some(u) => Err(ApiError::validation(
            format!("Invalid usage '{u}': must be one of on_session, off_session"),
            "parameter_invalid_string",
            "usage",
        )),
    }
}

/// `POST /v1/setup_intents`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "customer",
        "payment_method",
        "confirm",
        "usage",
        "payment_method_types",
        "metadata",
        "description",
        "return_url",
        "automatic_payment_methods",
        "payment_method_options",
        "use_stripe_sdk",
        "mandate_data",
        "payment_method_data",
    ])?;
    let customer = match params.str("customer")? {
        Some(c) => Some(get_customer(ctx, c, "customer")?.id),
        None => None,
    };
    let payment_method = match params.str("payment_method")? {
        Some(pm) => Some(payment_methods::resolve(ctx, pm, "payment_method")?.id),
        None => None,
    };
    let id = ctx.id("seti_");
    let secret = ctx.store.random(32);
    let seq = ctx.store.next_seq();
    let mut si = SetupIntent {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        client_secret: format!("{id}_secret_{secret}"),
        customer,
        status: if payment_method.is_some() {
            "requires_confirmation"
        } else {
            "requires_payment_method"
        }
        .into(),
        payment_method,
        usage: usage(params)?.unwrap_or_else(|| "off_session".into()),
        description: params.str("description")?.map(String::from),
        metadata: params.metadata()?.unwrap_or_default(),
        last_setup_error: None,
        next_action: None,
        latest_attempt: None,
        cancellation_reason: None,
        payment_method_types: params
            .string_list("payment_method_types")?
            .unwrap_or_else(|| vec!["card".into()]),
    };
    let v = save(ctx, &si);
    ctx.store.count("setup_intents_created");
    ctx.emit("setup_intent.created", v, None);
    if params.bool("confirm")?.unwrap_or(false) {
        run_confirm(ctx, &mut si, params)?;
    }
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

fn unexpected(message: String) -> ApiError {
    ApiError::state(message, "setup_intent_unexpected_state")
}

fn run_confirm(ctx: &mut Ctx, si: &mut SetupIntent, params: &Params) -> ApiResult<()> {
    match si.status.as_str() {
        "requires_payment_method" | "requires_confirmation" | "requires_action" => {}
        "succeeded" => {
            return Err(unexpected(
                "You cannot confirm this SetupIntent because it has already succeeded after being previously confirmed.".into(),
            ))
        }
        s => {
            return Err(unexpected(format!(
                "You cannot confirm this SetupIntent because it has a status of {s}. Only a SetupIntent with one of the \
                 following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action."
            )))
        }
    }
    let pm = if let Some(id) = params.str("payment_method")? {
        payment_methods::resolve(ctx, id, "payment_method")?
    } else if let Some(data) = params.object("payment_method_data")? {
        let mut p = Params::new(data.clone());
        for k in [
            "payment_user_agent",
            "time_on_page",
            "guid",
            "muid",
            "sid",
            "referrer",
        ] {
            p.take(k);
        }
        let v = payment_methods::create(ctx, &p)?;
        let id = v["id"].as_str().unwrap_or_default().to_string();
        payment_methods::resolve(ctx, &id, "payment_method_data")?
    } else if let Some(id) = si.payment_method.clone() {
        payment_methods::resolve(ctx, &id, "payment_method")?
    } else {
        return Err(unexpected(
            "You cannot confirm this SetupIntent because it's missing a payment method. Update the SetupIntent with a \
             payment method and then confirm it again."
                .into(),
        ));
    };
    if pm.consumed {
        return Err(ApiError::invalid(payment_methods::REUSE_REFUSED).param("payment_method"));
    }
    if let (Some(owner), Some(c)) = (&pm.customer, &si.customer) {
        if owner != c {
            return Err(ApiError::invalid(
                "The payment method you provided has already been attached to a customer.",
            )
            .param("payment_method"));
        }
    }
    si.payment_method = Some(pm.id.clone());
    si.latest_attempt = Some(ctx.id("setatt_"));
    match cards::details(&pm.card.number).behavior {
        Behavior::Decline(d) => {
            let mut pm = pm;
            if pm.customer.is_none() {
                pm.consumed = true;
                ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
            }
            let pm_json = payment_methods::render(&pm);
            si.status = "requires_payment_method".into();
            si.payment_method = None;
            si.next_action = None;
            si.last_setup_error = Some(json!({
                "code": d.code,
                "decline_code": d.decline_code,
                "doc_url": format!("https://stripe.com/docs/error-codes/{}", d.code.replace('_', "-")),
                "message": d.message,
                "payment_method": pm_json,
                "type": "card_error",
            }));
            let v = save(ctx, si);
            ctx.emit("setup_intent.setup_failed", v, None);
            Err(ApiError::card(d.message, d.code)
                .decline_code(d.decline_code)
                .with("setup_intent", render_for(ctx, si))
                .with("payment_method", pm_json)
                .with("payment_method_type", json!("card")))
        }
        b if b.needs_3ds() => {
            let source = ctx.id("src_");
            si.status = "requires_action".into();
            si.last_setup_error = None;
            si.next_action = Some(json!({
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": format!("{}/v3/3ds/challenge.html?intent={}&client_secret={}", ctx.store.base_url, si.id, si.client_secret),
                    "source": source,
                },
            }));
            let v = save(ctx, si);
            ctx.emit("setup_intent.requires_action", v, None);
            Ok(())
        }
        _ => {
            succeed(ctx, si, pm);
            Ok(())
        }
    }
}

fn succeed(ctx: &mut Ctx, si: &mut SetupIntent, mut pm: PaymentMethod) {
    if let Some(customer) = &si.customer {
        if pm.customer.is_none() {
            pm.customer = Some(customer.clone());
            ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
            let v = payment_methods::render(&pm);
            ctx.emit("payment_method.attached", v, None);
        }
    }
    pm.set_up = true;
    ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    si.status = "succeeded".into();
    si.payment_method = Some(pm.id.clone());
    si.next_action = None;
    si.last_setup_error = None;
    let v = save(ctx, si);
    ctx.emit("setup_intent.succeeded", v, None);
}

/// `POST /v1/setup_intents/{id}/confirm`.
pub fn confirm(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "payment_method",
        "payment_method_data",
        "return_url",
        "client_secret",
        "use_stripe_sdk",
        "mandate_data",
        "payment_method_options",
    ])?;
    let mut si = get(ctx, id)?;
    check_client_secret(ctx, &si, params)?;
    run_confirm(ctx, &mut si, params)?;
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

/// `GET /v1/setup_intents/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["client_secret"])?;
    let si = get(ctx, id)?;
    check_client_secret(ctx, &si, params)?;
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

/// `POST /v1/setup_intents/{id}`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "customer",
        "description",
        "metadata",
        "payment_method",
        "payment_method_types",
    ])?;
    let mut si = get(ctx, id)?;
    if params.has("customer") {
        si.customer = match params.str("customer")? {
            Some(c) => Some(get_customer(ctx, c, "customer")?.id),
            None => None,
        };
    }
    if params.has("description") {
        si.description = params.str("description")?.map(String::from);
    }
    if let Some(m) = params.metadata()? {
        if m.is_empty() {
            si.metadata = Map::new();
        } else {
            merge_metadata(&mut si.metadata, m);
        }
    }
    if let Some(pm) = params.str("payment_method")? {
        si.payment_method = Some(payment_methods::resolve(ctx, pm, "payment_method")?.id);
        if si.status == "requires_payment_method" {
            si.status = "requires_confirmation".into();
        }
    }
    save(ctx, &si);
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

/// `POST /v1/setup_intents/{id}/cancel`.
pub fn cancel(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["cancellation_reason"])?;
    let mut si = get(ctx, id)?;
    if matches!(si.status.as_str(), "succeeded" | "canceled") {
        return Err(unexpected(format!(
            "You cannot cancel this SetupIntent because it has a status of {}. Only a SetupIntent with one of the following \
             statuses may be canceled: requires_payment_method, requires_confirmation, requires_action, processing.",
            si.status
        )));
    }
    si.status = "canceled".into();
    si.cancellation_reason = params.str("cancellation_reason")?.map(String::from);
    si.next_action = None;
    let v = save(ctx, &si);
    ctx.emit("setup_intent.canceled", v, None);
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

/// `GET /v1/setup_intents`.
pub fn list_intents(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "payment_method",
        "created",
    ])?;
    let customer = params.str("customer")?;
    let keep = |s: &SetupIntent| s.account == ctx.account;
    let mut v = list(
        &ctx.store.setup_intents,
        Query {
            group: customer,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/setup_intents",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}

/// The 3-D Secure challenge was passed.
pub fn complete_3ds(ctx: &mut Ctx, si: &mut SetupIntent) -> ApiResult<()> {
    let pm_id = si.payment_method.clone().unwrap_or_default();
    let pm = payment_methods::resolve(ctx, &pm_id, "payment_method")?;
    succeed(ctx, si, pm);
    Ok(())
}

/// The 3-D Secure challenge was failed.
pub fn fail_3ds(ctx: &mut Ctx, si: &mut SetupIntent) -> ApiResult<()> {
    let pm_id = si.payment_method.clone().unwrap_or_default();
    let pm = payment_methods::resolve(ctx, &pm_id, "payment_method")?;
    si.status = "requires_payment_method".into();
    si.payment_method = None;
    si.next_action = None;
    si.last_setup_error = Some(json!({
        "code": "setup_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
        "message": AUTH_FAILURE_MESSAGE,
        "payment_method": payment_methods::render(&pm),
        "type": "invalid_request_error",
    }));
    let v = save(ctx, si);
    ctx.emit("setup_intent.setup_failed", v, None);
    Ok(())
}
