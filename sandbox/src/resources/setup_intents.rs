//! SetupIntents (saving a card for later, e.g. cancellation fees): create, retrieve (also with
//! the publishable key and `client_secret`), update, confirm (3-D Secure `requires_action` on the
//! 3155/3184/3220 cards, declines as 402 `card_error` with the SetupIntent), cancel, list; the
//! challenge's completion (PaymentMethod attached and set up for off-session use) or failure.

use serde_json::{json, Value};

use crate::auth::KeyKind;
use crate::cards::{self, Behavior};
use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::intents::{
    attach_to_customer, challenged_payment_method, consume_unattached, decline_error,
    three_ds_action, without, Kind, Route,
};
use crate::resources::{get_customer, payment_methods};
use crate::state::{update_metadata, Ctx, PaymentMethod, Render, SetupIntent, Store};
use crate::table::{list, Query};

/// How Stripe's messages and codes name a SetupIntent.
const INTENT: Kind = Kind {
    object: "SetupIntent",
    name: "setup_intent",
    missing_payment_method:
        "You cannot confirm this SetupIntent because it's missing a payment method. Update the \
        SetupIntent with a payment method and then confirm it again.",
};

/// What a publishable key does not see: Stripe leaves out the server-side fields.
const SERVER_SIDE: &[&str] = &[
    "customer",
    "metadata",
    "on_behalf_of",
    "application",
    "mandate",
    "single_use_mandate",
    "payment_method_options",
];

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

/// What the caller sees: a publishable key less than the others.
fn render_for(ctx: &Ctx, si: &SetupIntent) -> Value {
    let v = render(si);
    if ctx.caller == KeyKind::Publishable {
        without(v, SERVER_SIDE)
    } else {
        v
    }
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

fn run_confirm(ctx: &mut Ctx, si: &mut SetupIntent, params: &Params) -> ApiResult<()> {
    INTENT.check_confirmable(&si.status)?;
    let pm = INTENT.payment_method(ctx, params, si.payment_method.as_deref())?;
    if let (Some(owner), Some(c)) = (&pm.customer, &si.customer) {
        if owner != c {
            return Err(ApiError::invalid(
                "The payment method you provided has already been attached to a customer.",
            )
            .param("payment_method"));
        }
    }
    let number = match INTENT.route(&pm, &si.payment_method_types, params)? {
        Route::Card(card) => card.number.clone(),
        _ => {
            return Err(ApiError::invalid(format!(
                "The sandbox sets up cards only: a {} SetupIntent is not built.",
                pm.method.kind()
            ))
            .param("payment_method"))
        }
    };
    si.payment_method = Some(pm.id.clone());
    si.latest_attempt = Some(ctx.id("setatt_"));
    match cards::details(&number).behavior {
        Behavior::Decline(d) => {
            let mut pm = pm;
            consume_unattached(ctx, &mut pm);
            let pm_json = payment_methods::render(&pm);
            si.status = "requires_payment_method".into();
            si.payment_method = None;
            si.next_action = None;
            si.last_setup_error = Some(decline_error(d, &pm_json));
            let v = save(ctx, si);
            ctx.emit("setup_intent.setup_failed", v, None);
            Err(INTENT.card_declined(d, render_for(ctx, si), pm_json))
        }
        b if b.needs_3ds() => {
            let next_action = three_ds_action(ctx, &si.id, &si.client_secret);
            si.status = "requires_action".into();
            si.last_setup_error = None;
            si.next_action = Some(next_action);
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
        attach_to_customer(ctx, &mut pm, customer);
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
    INTENT.check_client_secret(ctx, &si.client_secret, params)?;
    run_confirm(ctx, &mut si, params)?;
    let v = render_for(ctx, &si);
    ctx.answer(v, params)
}

/// `GET /v1/setup_intents/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["client_secret"])?;
    let si = get(ctx, id)?;
    INTENT.check_client_secret(ctx, &si.client_secret, params)?;
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
        update_metadata(&mut si.metadata, m);
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
        return Err(INTENT.unexpected_state(format!(
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
    let pm = challenged_payment_method(ctx, si.payment_method.as_deref())?;
    succeed(ctx, si, pm);
    Ok(())
}

/// The 3-D Secure challenge was failed.
pub fn fail_3ds(ctx: &mut Ctx, si: &mut SetupIntent) -> ApiResult<()> {
    let pm = challenged_payment_method(ctx, si.payment_method.as_deref())?;
    si.status = "requires_payment_method".into();
    si.payment_method = None;
    si.next_action = None;
    si.last_setup_error = Some(INTENT.authentication_failure(&pm));
    let v = save(ctx, si);
    ctx.emit("setup_intent.setup_failed", v, None);
    Ok(())
}
