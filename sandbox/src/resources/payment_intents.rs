//! PaymentIntents: create, retrieve (also with the publishable key and `client_secret`), update,
//! confirm (also Stripe.js's confirm with the client secret), capture (partial allowed), cancel,
//! list; automatic payment methods (Stripe's default: the account's types that suit the
//! currency and capture method, and a `return_url` at every confirmation unless redirects are
//! refused); the test cards' outcomes (success, declines with the 402 `card_error` that embeds the
//! PaymentIntent, 3-D Secure `requires_action` with `next_action`), the 3-D Secure challenge's
//! completion or failure, and the expiry of authorised, uncaptured PaymentIntents after 7 days.

use serde_json::{json, Value};

use crate::auth::KeyKind;
use crate::cards::{self, Behavior, Decline};
use crate::currency;
use crate::errors::{ApiError, ApiResult};
use crate::form::{self, Params};
use crate::resources::intents::{
    attach_to_customer, challenged_payment_method, consume_unattached, decline_error,
    three_ds_action, without, Kind, Route,
};
use crate::resources::{charges, disputes, get_customer, payment_methods};
use crate::state::{
    merge_metadata, update_metadata, AllowRedirects, Ctx, Method, PaymentIntent, PaymentMethod,
    Render, RequestInfo, Store,
};
use crate::table::{list, Query};

/// An uncaptured authorisation lasts this long (Stripe: 7 days for online card payments).
pub const CAPTURE_WINDOW_SECS: i64 = 7 * 86_400;

/// How Stripe's messages and codes name a PaymentIntent.
const INTENT: Kind = Kind {
    object: "PaymentIntent",
    name: "payment_intent",
    missing_payment_method: "You cannot confirm this PaymentIntent because it's missing a payment method. You can \
        either update the PaymentIntent with a payment method and then confirm it again, or confirm it again \
        directly with a payment method.",
};

/// What a publishable key does not see: Stripe leaves out the server-side fields.
const SERVER_SIDE: &[&str] = &[
    "amount_capturable",
    "amount_received",
    "application",
    "application_fee_amount",
    "customer",
    "customer_account",
    "latest_charge",
    "metadata",
    "on_behalf_of",
    "review",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
    "payment_method_options",
];

/// Renders a PaymentIntent like Stripe's object.
pub fn render(_store: &Store, pi: &PaymentIntent) -> Value {
    json!({
        "id": pi.id,
        "object": "payment_intent",
        "amount": pi.amount,
        "amount_capturable": pi.amount_capturable,
        "amount_details": {"tip": {}},
        "amount_received": pi.amount_received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": pi.automatic_payment_methods.map(|redirects| {
            json!({"allow_redirects": redirects.as_str(), "enabled": true})
        }),
        "canceled_at": pi.canceled_at,
        "cancellation_reason": pi.cancellation_reason,
        "capture_method": pi.capture_method,
        "client_secret": pi.client_secret,
        "confirmation_method": pi.confirmation_method,
        "created": pi.created,
        "currency": pi.currency,
        "customer": pi.customer,
        "customer_account": null,
        "description": pi.description,
        "excluded_payment_method_types": null,
        "last_payment_error": pi.last_payment_error,
        "latest_charge": pi.latest_charge,
        "livemode": false,
        "managed_payments": null,
        "metadata": pi.metadata,
        "next_action": pi.next_action,
        "on_behalf_of": null,
        "payment_method": pi.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {
            "card": {"installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": pi.payment_method_types,
        "processing": null,
        "receipt_email": pi.receipt_email,
        "review": null,
        "setup_future_usage": pi.setup_future_usage,
        "shipping": null,
        "source": null,
        "statement_descriptor": pi.statement_descriptor,
        "statement_descriptor_suffix": pi.statement_descriptor_suffix,
        "status": pi.status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

impl Render for PaymentIntent {
    fn render(&self, store: &Store) -> Value {
        render(store, self)
    }
}

/// What the caller sees: a publishable key less than the others.
fn render_for(ctx: &Ctx, pi: &PaymentIntent) -> Value {
    let v = render(ctx.store, pi);
    if ctx.caller == KeyKind::Publishable {
        without(v, SERVER_SIDE)
    } else {
        v
    }
}

/// The PaymentIntent `id` of the caller's account.
pub fn get(ctx: &Ctx, id: &str, param: &str) -> ApiResult<PaymentIntent> {
    ctx.store
        .payment_intents
        .get(id)
        .filter(|p| p.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("payment_intent", id, Some(param)))
}

fn save(ctx: &mut Ctx, pi: &PaymentIntent) -> Value {
    ctx.store.payment_intents.insert(pi.id.clone(), pi.clone());
    render(ctx.store, pi)
}

fn one_of(params: &Params, name: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
    match params.str(name)? {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(ApiError::validation(
            format!(
                "Invalid {name} '{v}': must be one of {}",
                allowed.join(", ")
            ),
            "parameter_invalid_string",
            name,
        )),
    }
}

const CREATE_FIELDS: &[&str] = &[
    "amount",
    "currency",
    "payment_method",
    "confirm",
    "capture_method",
    "customer",
    "setup_future_usage",
    "off_session",
    "receipt_email",
    "description",
    "metadata",
    "statement_descriptor_suffix",
    "statement_descriptor",
    "payment_method_types",
    "automatic_payment_methods",
    "confirmation_method",
    "return_url",
    "error_on_requires_action",
    "payment_method_options",
    "payment_method_data",
    "use_stripe_sdk",
    "shipping",
    "mandate_data",
];

fn descriptor_suffix(params: &Params) -> ApiResult<Option<String>> {
    match params.str("statement_descriptor_suffix")? {
        Some(s) if s.chars().count() > 22 => Err(ApiError::validation(
            "The statement descriptor suffix must be at most 22 characters long.",
            "parameter_invalid_string",
            "statement_descriptor_suffix",
        )),
        other => Ok(other.map(String::from)),
    }
}

/// A new PaymentIntent's parameters, checked (in Stripe's order) before it gets an id.
struct NewIntent {
    amount: i64,
    currency: String,
    capture_method: String,
    confirmation_method: String,
    setup_future_usage: Option<String>,
    confirm: bool,
    customer: Option<String>,
    automatic: Option<AllowRedirects>,
    types: Vec<String>,
    suffix: Option<String>,
    payment_method: Option<String>,
}

/// `amount` in `currency`, within the amounts the account may charge.
fn amount_and_currency(ctx: &Ctx, params: &Params) -> ApiResult<(i64, String)> {
    let amount = params.required_int("amount")?;
    let currency = currency::parse(params.required_str("currency")?, "currency")?;
    let settlement = ctx.store.settlement_currency(&ctx.account);
    currency::check_amount(amount, &currency, &settlement, "amount")?;
    Ok((amount, currency))
}

/// The payment method types every sandbox account has turned on, card first.
const ACCOUNT_TYPES: &[&str] = &["card", "ideal", "bancontact", "sepa_debit"];

/// The types that send the client to their bank's page to pay.
const REDIRECT_TYPES: &[&str] = &["ideal", "bancontact"];

/// Why type `t` cannot pay an intent in `currency` with `capture_method`, if it cannot: iDEAL,
/// Bancontact and SEPA Debit take euros only and no separate capture; the sandbox knows no
/// other type than those and card.
fn unfit(t: &str, currency: &str, capture_method: &str) -> Option<ApiError> {
    match t {
        "card" => None,
        "ideal" | "bancontact" | "sepa_debit" if currency != "eur" => Some(
            ApiError::invalid(format!(
                "The currency provided ({currency}) is invalid for one or more payment method \
                 types provided ({t}). Payment method {t} supports only eur."
            ))
            .param("payment_method_types"),
        ),
        "ideal" | "bancontact" | "sepa_debit" if capture_method == "manual" => Some(
            ApiError::invalid(format!(
                "The payment method type {t} does not support capture_method=manual."
            ))
            .param("capture_method"),
        ),
        "ideal" | "bancontact" | "sepa_debit" => None,
        bad => Some(
            ApiError::invalid(format!(
                "The payment method type \"{bad}\" is invalid. The sandbox supports card, \
                 ideal, bancontact and sepa_debit."
            ))
            .param("payment_method_types"),
        ),
    }
}

/// `payment_method_types`: `card`, and `ideal`, `bancontact` and `sepa_debit`, which take euros
/// only and no separate capture.
fn payment_method_types(
    params: &Params,
    currency: &str,
    capture_method: &str,
) -> ApiResult<Option<Vec<String>>> {
    let types = params.string_list("payment_method_types")?;
    for t in types.iter().flatten() {
        if let Some(e) = unfit(t, currency, capture_method) {
            return Err(e);
        }
    }
    Ok(types)
}

/// The `payment_method_types` of an intent with automatic payment methods, as Stripe derives
/// them: the account's types that can pay its currency with its capture method, less those
/// that redirect when redirects are not allowed.
fn automatic_types(currency: &str, capture_method: &str, redirects: AllowRedirects) -> Vec<String> {
    ACCOUNT_TYPES
        .iter()
        .filter(|t| unfit(t, currency, capture_method).is_none())
        .filter(|t| redirects == AllowRedirects::Always || !REDIRECT_TYPES.contains(t))
        .map(|t| t.to_string())
        .collect()
}

/// What `automatic_payment_methods` asks of a new PaymentIntent.
enum Automatic {
    /// Not given: enabled unless `payment_method_types` are given (Stripe's default since API
    /// version 2023-08-16).
    Unsaid,
    /// `enabled=false`.
    Off,
    /// `enabled=true`, with `allow_redirects` (`always` unless given).
    On(AllowRedirects),
}

/// `automatic_payment_methods[enabled]` (required in the hash) and
/// `automatic_payment_methods[allow_redirects]`.
fn automatic_payment_methods(params: &Params) -> ApiResult<Automatic> {
    const NAME: &str = "automatic_payment_methods";
    let Some(hash) = params.object(NAME)? else {
        return Ok(Automatic::Unsaid);
    };
    if let Some(k) = hash
        .keys()
        .find(|k| !matches!(k.as_str(), "enabled" | "allow_redirects"))
    {
        let name = format!("{NAME}[{k}]");
        return Err(ApiError::validation(
            format!("Received unknown parameter: {name}"),
            "parameter_unknown",
            &name,
        ));
    }
    let hash = Params::new(hash.clone());
    let enabled_param = format!("{NAME}[enabled]");
    let enabled = match hash.bool("enabled") {
        Ok(Some(enabled)) => enabled,
        Ok(None) => return Err(form::missing(&enabled_param)),
        Err(e) => return Err(e.param(&enabled_param)),
    };
    if !enabled {
        return Ok(Automatic::Off);
    }
    let redirects_param = format!("{NAME}[allow_redirects]");
    let redirects = match hash.str("allow_redirects") {
        Ok(None | Some("always")) => AllowRedirects::Always,
        Ok(Some("never")) => AllowRedirects::Never,
        Ok(Some(v)) => {
            return Err(ApiError::validation(
                format!("Invalid {redirects_param} '{v}': must be one of always, never"),
                "parameter_invalid_string",
                &redirects_param,
            ))
        }
        Err(e) => return Err(e.param(&redirects_param)),
    };
    Ok(Automatic::On(redirects))
}

/// Stripe's refusal of parameters that exclude each other, its `param` the first of `names`.
fn only_one_of(names: &[&str]) -> ApiError {
    let mut e = ApiError::invalid(format!(
        "You may only specify one of these parameters: {}.",
        names.join(", ")
    ))
    .param(names[0]);
    e.saved = false;
    e
}

/// Stripe's refusal to confirm an intent that accepts redirect-based payment methods without a
/// `return_url`, whichever PaymentMethod pays (a card too).
const RETURN_URL_NEEDED: &str = "This PaymentIntent is configured to accept payment methods \
    enabled in your Dashboard. Because some of these payment methods might redirect your \
    customer off of your page, you must provide a `return_url`. If you don't want to accept \
    redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and \
    `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and \
    Payment Intents.";

/// Checks the parameters of `POST /v1/payment_intents` that decide the new PaymentIntent, and
/// looks up its customer and PaymentMethod.
fn check_create(ctx: &mut Ctx, params: &Params) -> ApiResult<NewIntent> {
    let (amount, currency) = amount_and_currency(ctx, params)?;
    let capture_method = one_of(
        params,
        "capture_method",
        &["automatic", "automatic_async", "manual"],
    )?
    .unwrap_or_else(|| "automatic_async".into());
    let confirmation_method = one_of(params, "confirmation_method", &["automatic", "manual"])?
        .unwrap_or_else(|| "automatic".into());
    let setup_future_usage = one_of(params, "setup_future_usage", &["on_session", "off_session"])?;
    let automatic = automatic_payment_methods(params)?;
    if !matches!(automatic, Automatic::Unsaid) && params.has("payment_method_types") {
        return Err(only_one_of(&[
            "automatic_payment_methods",
            "payment_method_types",
        ]));
    }
    let confirm = params.bool("confirm")?.unwrap_or(false);
    if params.has("off_session") && !confirm {
        return Err(ApiError::validation(
            "You may only specify `off_session` when `confirm=true`.",
            "parameter_invalid_string",
            "off_session",
        ));
    }
    let customer = match params.str("customer")? {
        Some(c) => Some(get_customer(ctx, c, "customer")?.id),
        None => None,
    };
    let types = payment_method_types(params, &currency, &capture_method)?;
    let automatic = match automatic {
        Automatic::On(redirects) => Some(redirects),
        Automatic::Off => None,
        Automatic::Unsaid => types.is_none().then_some(AllowRedirects::Always),
    };
    if automatic.is_some() && confirmation_method == "manual" {
        return Err(only_one_of(&[
            "automatic_payment_methods",
            "confirmation_method",
        ]));
    }
    let types = match (types, automatic) {
        (Some(types), _) => types,
        (None, Some(redirects)) => automatic_types(&currency, &capture_method, redirects),
        (None, None) => vec!["card".into()],
    };
    let suffix = descriptor_suffix(params)?;
    let payment_method = match params.str("payment_method")? {
        Some(pm) => Some(payment_methods::resolve(ctx, pm, "payment_method")?.id),
        None => None,
    };
    Ok(NewIntent {
        amount,
        currency,
        capture_method,
        confirmation_method,
        setup_future_usage,
        confirm,
        customer,
        automatic,
        types,
        suffix,
        payment_method,
    })
}

/// The new PaymentIntent: an id and client secret, the checked parameters and the free-text
/// ones.
fn new_intent(ctx: &mut Ctx, params: &Params, new: NewIntent) -> ApiResult<PaymentIntent> {
    let id = ctx.id("pi_");
    let secret = ctx.store.random(25);
    let seq = ctx.store.next_seq();
    Ok(PaymentIntent {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        amount: new.amount,
        currency: new.currency,
        status: if new.payment_method.is_some() {
            "requires_confirmation"
        } else {
            "requires_payment_method"
        }
        .into(),
        capture_method: new.capture_method,
        confirmation_method: new.confirmation_method,
        client_secret: format!("{id}_secret_{secret}"),
        customer: new.customer,
        payment_method: new.payment_method,
        description: params.str("description")?.map(String::from),
        metadata: params.metadata()?.unwrap_or_default(),
        receipt_email: params.str("receipt_email")?.map(String::from),
        setup_future_usage: new.setup_future_usage,
        statement_descriptor_suffix: new.suffix,
        statement_descriptor: params.str("statement_descriptor")?.map(String::from),
        latest_charge: None,
        last_payment_error: None,
        next_action: None,
        amount_capturable: 0,
        amount_received: 0,
        canceled_at: None,
        cancellation_reason: None,
        automatic_payment_methods: new.automatic,
        payment_method_types: new.types,
        off_session: false,
        capture_before: None,
        settles_at: None,
    })
}

/// `POST /v1/payment_intents`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(CREATE_FIELDS)?;
    let new = check_create(ctx, params)?;
    let confirm = new.confirm;
    let mut pi = new_intent(ctx, params, new)?;
    let v = save(ctx, &pi);
    ctx.store.count("payment_intents_created");
    ctx.emit("payment_intent.created", v, None);
    if confirm {
        let off_session = off_session_flag(params)?;
        run_confirm(ctx, &mut pi, params, off_session)?;
    }
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

/// `off_session=true|false|one_off|recurring`.
fn off_session_flag(params: &Params) -> ApiResult<bool> {
    match params.str("off_session")? {
        None | Some("false") => Ok(false),
        Some("true") | Some("one_off") | Some("recurring") => Ok(true),
        Some(v) => Err(ApiError::validation(
            format!("Invalid boolean: {v}"),
            "parameter_invalid_boolean",
            "off_session",
        )),
    }
}

/// The confirmation: checks the state and the PaymentMethod, then runs the card's outcome.
fn run_confirm(
    ctx: &mut Ctx,
    pi: &mut PaymentIntent,
    params: &Params,
    off_session: bool,
) -> ApiResult<()> {
    INTENT.check_confirmable(&pi.status)?;
    if pi.automatic_payment_methods == Some(AllowRedirects::Always)
        && params.str("return_url")?.is_none()
    {
        return Err(
            ApiError::invalid(RETURN_URL_NEEDED).with("payment_intent", render_for(ctx, pi))
        );
    }
    if let Some(sfu) = one_of(params, "setup_future_usage", &["on_session", "off_session"])? {
        pi.setup_future_usage = Some(sfu);
    }
    if params.has("receipt_email") {
        pi.receipt_email = params.str("receipt_email")?.map(String::from);
    }
    let pm = INTENT.payment_method(ctx, params, pi.payment_method.as_deref())?;
    if let Some(owner) = &pm.customer {
        if pi.customer.as_ref() != Some(owner) {
            return Err(ApiError::invalid(format!(
                "The provided PaymentMethod ({}) is attached to a Customer ({owner}); pass that Customer in the `customer` \
                 parameter of the PaymentIntent to use it.",
                pm.id
            ))
            .param("payment_method"));
        }
    }
    pi.off_session = off_session;
    let number = match INTENT.route(&pm, &pi.payment_method_types, params)? {
        Route::Card(card) => card.number.clone(),
        Route::Redirect(return_url) => return redirect_to_bank(ctx, pi, &pm, &return_url),
        Route::Debit { .. } => {
            debit(ctx, pi, &pm);
            return Ok(());
        }
    };
    pi.payment_method = Some(pm.id.clone());
    let behavior = cards::details(&number).behavior;
    let outcome = match behavior {
        Behavior::Decline(d) => Err(d),
        Behavior::AttachThenDecline => Err(cards::GENERIC_DECLINE),
        b if b.needs_3ds() => {
            if off_session {
                if b == Behavior::ThreeDsUnlessSetUp && pm.set_up {
                    Ok(false)
                } else {
                    Err(cards::AUTHENTICATION_REQUIRED)
                }
            } else {
                return require_action(ctx, pi, &pm);
            }
        }
        _ => Ok(false),
    };
    match outcome {
        Ok(three_ds) => {
            succeed(ctx, pi, pm, three_ds);
            Ok(())
        }
        Err(decline) => Err(decline_payment(ctx, pi, pm, decline)),
    }
}

/// How long a SEPA Debit stays `processing` (sandbox time) before it settles; the control API
/// settles one at once.
pub const DEBIT_SETTLE_SECS: i64 = 60;

/// What a failing test IBAN's debit fails with.
const DEBIT_FAILED: Decline = Decline {
    code: "insufficient_funds",
    decline_code: "insufficient_funds",
    message: "The customer's account has insufficient funds to cover this payment.",
};

/// A bank redirect (iDEAL, Bancontact): `requires_action` with `next_action.redirect_to_url`,
/// the sandbox's bank page, which sends the client back to `return_url`.
fn redirect_to_bank(
    ctx: &mut Ctx,
    pi: &mut PaymentIntent,
    pm: &PaymentMethod,
    return_url: &str,
) -> ApiResult<()> {
    let url = format!(
        "{}/_sandbox/bank/{}?client_secret={}",
        ctx.store.base_url, pi.id, pi.client_secret
    );
    pi.status = "requires_action".into();
    pi.payment_method = Some(pm.id.clone());
    pi.last_payment_error = None;
    pi.next_action = Some(json!({
        "type": "redirect_to_url",
        "redirect_to_url": {"return_url": return_url, "url": url},
    }));
    let v = save(ctx, pi);
    ctx.emit("payment_intent.requires_action", v, None);
    Ok(())
}

/// A SEPA Debit: a pending charge and the PaymentIntent `processing` until it settles
/// ([`DEBIT_SETTLE_SECS`] later, or at once through the control API).
fn debit(ctx: &mut Ctx, pi: &mut PaymentIntent, pm: &PaymentMethod) {
    let charge = charges::pending(ctx, pi, pm);
    pi.status = "processing".into();
    pi.payment_method = Some(pm.id.clone());
    pi.latest_charge = Some(charge.id);
    pi.last_payment_error = None;
    pi.next_action = None;
    pi.settles_at = Some(ctx.now + DEBIT_SETTLE_SECS);
    let v = save(ctx, pi);
    ctx.emit("payment_intent.processing", v, None);
}

/// A `processing` debit settles: its charge and the PaymentIntent succeed, or fail when the
/// IBAN is one of Stripe's failing test IBANs.
pub fn settle(ctx: &mut Ctx, pi: &mut PaymentIntent) -> ApiResult<()> {
    if pi.status != "processing" {
        return Err(INTENT.unexpected_state(format!(
            "This PaymentIntent is not processing a debit (status: {}).",
            pi.status
        )));
    }
    let charge = pi.latest_charge.clone().unwrap_or_default();
    let mut pm = challenged_payment_method(ctx, pi.payment_method.as_deref())?;
    pi.settles_at = None;
    if matches!(pm.method, Method::SepaDebit { fails: true, .. }) {
        charges::settle(ctx, &charge, Some(DEBIT_FAILED))?;
        consume_unattached(ctx, &mut pm);
        let pm_json = payment_methods::render(&pm);
        pi.status = "requires_payment_method".into();
        pi.payment_method = None;
        let mut error = decline_error(DEBIT_FAILED, &pm_json);
        error["charge"] = json!(charge);
        pi.last_payment_error = Some(error);
        let v = save(ctx, pi);
        ctx.emit("payment_intent.payment_failed", v, None);
    } else {
        charges::settle(ctx, &charge, None)?;
        keep_payment_method(ctx, pi, &mut pm);
        pi.status = "succeeded".into();
        pi.amount_received = pi.amount;
        let v = save(ctx, pi);
        ctx.emit("payment_intent.succeeded", v, None);
    }
    Ok(())
}

/// The client's answer at the sandbox's bank page: the payment authorised (it succeeds) or
/// failed (`requires_payment_method`, `payment_intent.payment_failed`). Checks the client
/// secret and that the PaymentIntent awaits this redirect; returns the URL to send the client
/// back to, with Stripe's `payment_intent`, `payment_intent_client_secret` and
/// `redirect_status` parameters.
pub fn bank_answer(
    ctx: &mut Ctx,
    id: &str,
    client_secret: &str,
    authorize: bool,
) -> ApiResult<String> {
    let mut pi = get(ctx, id, "intent")?;
    if pi.client_secret != client_secret {
        return Err(ApiError::invalid(
            "The client_secret does not match this PaymentIntent.",
        ));
    }
    let return_url = pi
        .next_action
        .as_ref()
        .filter(|_| pi.status == "requires_action")
        .and_then(|a| a["redirect_to_url"]["return_url"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            INTENT.unexpected_state(format!(
                "This PaymentIntent is not awaiting a bank redirect (status: {}).",
                pi.status
            ))
        })?;
    let pm = challenged_payment_method(ctx, pi.payment_method.as_deref())?;
    if authorize {
        succeed(ctx, &mut pi, pm, false);
    } else {
        let error = json!({
            "code": "payment_intent_payment_attempt_failed",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-payment-attempt-failed",
            "message": "The latest payment attempt of this PaymentIntent has failed or been \
                canceled, and the attached payment method has been removed. You can try \
                confirming again with a new payment method.",
            "payment_method": payment_methods::render(&pm),
            "type": "invalid_request_error",
        });
        not_approved(ctx, &mut pi, pm, error);
    }
    let sep = if return_url.contains('?') { '&' } else { '?' };
    let status = if authorize { "succeeded" } else { "failed" };
    Ok(format!(
        "{return_url}{sep}payment_intent={}&payment_intent_client_secret={}&redirect_status={status}",
        pi.id, pi.client_secret
    ))
}

fn require_action(ctx: &mut Ctx, pi: &mut PaymentIntent, pm: &PaymentMethod) -> ApiResult<()> {
    let next_action = three_ds_action(ctx, &pi.id, &pi.client_secret);
    pi.status = "requires_action".into();
    pi.payment_method = Some(pm.id.clone());
    pi.last_payment_error = None;
    pi.next_action = Some(next_action);
    let v = save(ctx, pi);
    ctx.emit("payment_intent.requires_action", v, None);
    Ok(())
}

/// A declined attempt: a failed charge, `requires_payment_method` with `last_payment_error`,
/// `charge.failed` + `payment_intent.payment_failed`, and the 402 to answer.
fn decline_payment(
    ctx: &mut Ctx,
    pi: &mut PaymentIntent,
    mut pm: PaymentMethod,
    decline: Decline,
) -> ApiError {
    let charge = charges::create(ctx, pi, &pm, false, Some(decline), false);
    consume_unattached(ctx, &mut pm);
    let pm_json = payment_methods::render(&pm);
    pi.status = "requires_payment_method".into();
    pi.payment_method = None;
    pi.next_action = None;
    pi.latest_charge = Some(charge.id.clone());
    let mut error = decline_error(decline, &pm_json);
    error["charge"] = json!(charge.id);
    pi.last_payment_error = Some(error);
    let v = save(ctx, pi);
    ctx.emit("payment_intent.payment_failed", v, None);
    let shown = render_for(ctx, pi);
    INTENT
        .card_declined(decline, shown, pm_json)
        .with("charge", json!(charge.id))
}

/// A successful attempt: the charge (captured or authorised), the PaymentIntent `succeeded` or
/// `requires_capture`, the card saved when `setup_future_usage` asks for it.
fn succeed(ctx: &mut Ctx, pi: &mut PaymentIntent, mut pm: PaymentMethod, three_ds: bool) {
    let manual = pi.capture_method == "manual";
    let charge = charges::create(ctx, pi, &pm, !manual, None, three_ds);
    keep_payment_method(ctx, pi, &mut pm);
    pi.latest_charge = Some(charge.id.clone());
    pi.last_payment_error = None;
    pi.next_action = None;
    if manual {
        pi.status = "requires_capture".into();
        pi.amount_capturable = pi.amount;
        pi.capture_before = Some(charge.created + CAPTURE_WINDOW_SECS);
    } else {
        pi.status = "succeeded".into();
        pi.amount_received = pi.amount;
    }
    let v = save(ctx, pi);
    ctx.emit(
        if manual {
            "payment_intent.amount_capturable_updated"
        } else {
            "payment_intent.succeeded"
        },
        v,
        None,
    );
    if pm.card().map(|c| cards::details(&c.number).behavior) == Some(Behavior::Dispute) {
        disputes::open(ctx, &charge.id, "fraudulent");
    }
}

/// After a payment succeeds: the PaymentMethod saved on the customer when
/// `setup_future_usage` asks for it, else used up unless a customer holds it.
fn keep_payment_method(ctx: &mut Ctx, pi: &mut PaymentIntent, pm: &mut PaymentMethod) {
    match (&pi.customer, &pi.setup_future_usage) {
        (Some(customer), Some(_)) => {
            attach_to_customer(ctx, pm, customer);
            pm.set_up = true;
        }
        _ => {
            if pm.customer.is_none() {
                pm.consumed = true;
            }
        }
    }
    ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    pi.payment_method = Some(pm.id.clone());
}

/// `POST /v1/payment_intents/{id}/confirm`.
pub fn confirm(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "payment_method",
        "payment_method_data",
        "off_session",
        "setup_future_usage",
        "receipt_email",
        "return_url",
        "client_secret",
        "use_stripe_sdk",
        "error_on_requires_action",
        "payment_method_options",
        "mandate_data",
        "shipping",
        "expected_payment_method_type",
        "capture_method",
    ])?;
    let mut pi = get(ctx, id, "intent")?;
    INTENT.check_client_secret(ctx, &pi.client_secret, params)?;
    let off_session = off_session_flag(params)?;
    run_confirm(ctx, &mut pi, params, off_session)?;
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

/// `GET /v1/payment_intents/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["client_secret"])?;
    let pi = get(ctx, id, "intent")?;
    INTENT.check_client_secret(ctx, &pi.client_secret, params)?;
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

/// The parameters `POST /v1/payment_intents/{id}` accepts.
const UPDATE_FIELDS: &[&str] = &[
    "amount",
    "currency",
    "customer",
    "description",
    "metadata",
    "payment_method",
    "receipt_email",
    "setup_future_usage",
    "statement_descriptor_suffix",
    "statement_descriptor",
    "capture_method",
    "payment_method_types",
    "shipping",
    "payment_method_options",
    "payment_method_data",
];

/// Refuses to change what decides the payment once the PaymentIntent is no longer open
/// (awaiting a payment method, confirmation or action).
fn check_updatable(pi: &PaymentIntent, params: &Params) -> ApiResult<()> {
    let open = matches!(
        pi.status.as_str(),
        "requires_payment_method" | "requires_confirmation" | "requires_action"
    );
    for field in [
        "amount",
        "currency",
        "customer",
        "payment_method",
        "setup_future_usage",
        "capture_method",
        "payment_method_types",
    ] {
        if params.has(field) && !open {
            return Err(INTENT.unexpected_state(format!(
                "This PaymentIntent's {field} could not be updated because it has a status of {}. You may only update the \
                 {field} of a PaymentIntent with one of the following statuses: requires_payment_method, \
                 requires_confirmation, requires_action.",
                pi.status
            )));
        }
    }
    Ok(())
}

/// A new `amount` or `currency`, checked together against the amounts the account may charge.
fn update_amount(ctx: &Ctx, pi: &mut PaymentIntent, params: &Params) -> ApiResult<()> {
    if params.has("currency") {
        pi.currency = currency::parse(params.required_str("currency")?, "currency")?;
    }
    if params.has("amount") {
        pi.amount = params.required_int("amount")?;
    }
    if params.has("amount") || params.has("currency") {
        let settlement = ctx.store.settlement_currency(&ctx.account);
        currency::check_amount(pi.amount, &pi.currency, &settlement, "amount")?;
    }
    Ok(())
}

/// The other fields an update may set: customer, descriptions, receipt email, future usage,
/// capture method, metadata.
fn update_details(ctx: &Ctx, pi: &mut PaymentIntent, params: &Params) -> ApiResult<()> {
    if params.has("customer") {
        pi.customer = match params.str("customer")? {
            Some(c) => Some(get_customer(ctx, c, "customer")?.id),
            None => None,
        };
    }
    if params.has("description") {
        pi.description = params.str("description")?.map(String::from);
    }
    if params.has("receipt_email") {
        pi.receipt_email = params.str("receipt_email")?.map(String::from);
    }
    if params.has("setup_future_usage") {
        pi.setup_future_usage =
            one_of(params, "setup_future_usage", &["on_session", "off_session"])?;
    }
    if params.has("capture_method") {
        pi.capture_method = one_of(
            params,
            "capture_method",
            &["automatic", "automatic_async", "manual"],
        )?
        .unwrap_or_else(|| "automatic_async".into());
    }
    if params.has("statement_descriptor_suffix") {
        pi.statement_descriptor_suffix = descriptor_suffix(params)?;
    }
    if params.has("statement_descriptor") {
        pi.statement_descriptor = params.str("statement_descriptor")?.map(String::from);
    }
    if let Some(m) = params.metadata()? {
        update_metadata(&mut pi.metadata, m);
    }
    Ok(())
}

/// `POST /v1/payment_intents/{id}`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(UPDATE_FIELDS)?;
    let mut pi = get(ctx, id, "intent")?;
    check_updatable(&pi, params)?;
    update_amount(ctx, &mut pi, params)?;
    update_details(ctx, &mut pi, params)?;
    if let Some(redirects) = pi.automatic_payment_methods {
        // Stripe derives the types again from the new currency or capture method.
        pi.payment_method_types = automatic_types(&pi.currency, &pi.capture_method, redirects);
    }
    if let Some(pm) = params.str("payment_method")? {
        pi.payment_method = Some(payment_methods::resolve(ctx, pm, "payment_method")?.id);
        pi.status = "requires_confirmation".into();
        pi.next_action = None;
    }
    save(ctx, &pi);
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

/// `POST /v1/payment_intents/{id}/capture`.
pub fn capture(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "amount_to_capture",
        "metadata",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "final_capture",
    ])?;
    let mut pi = get(ctx, id, "intent")?;
    if pi.status != "requires_capture" {
        return Err(INTENT.unexpected_state(format!(
            "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the \
             following statuses may be captured: requires_capture.",
            pi.status
        )));
    }
    let amount = match params.int("amount_to_capture")? {
        None => pi.amount_capturable,
        Some(a) if a < 1 => {
            return Err(ApiError::validation(
                "This value must be greater than or equal to 1.",
                "parameter_invalid_integer",
                "amount_to_capture",
            ))
        }
        Some(a) if a > pi.amount_capturable => {
            return Err(ApiError::invalid(format!(
                "The amount to capture ({}) is greater than the PaymentIntent's amount_capturable ({}).",
                currency::format(a, &pi.currency),
                currency::format(pi.amount_capturable, &pi.currency)
            ))
            .code("amount_too_large")
            .param("amount_to_capture"))
        }
        Some(a) => a,
    };
    currency::check_decimals(amount, &pi.currency, "amount_to_capture")?;
    if let Some(m) = params.metadata()? {
        merge_metadata(&mut pi.metadata, m);
    }
    if params.has("statement_descriptor_suffix") {
        pi.statement_descriptor_suffix = descriptor_suffix(params)?;
    }
    let charge_id = pi.latest_charge.clone().unwrap_or_default();
    charges::capture(ctx, &charge_id, amount)?;
    pi.status = "succeeded".into();
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    let v = save(ctx, &pi);
    ctx.emit("payment_intent.succeeded", v, None);
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

fn cancel_in_place(
    ctx: &mut Ctx,
    pi: &mut PaymentIntent,
    reason: Option<String>,
    charge_event: &str,
) -> ApiResult<()> {
    if pi.status == "requires_capture" {
        if let Some(charge) = pi.latest_charge.clone() {
            charges::release(ctx, &charge, charge_event)?;
        }
    }
    pi.status = "canceled".into();
    pi.canceled_at = Some(ctx.now);
    pi.cancellation_reason = reason;
    pi.amount_capturable = 0;
    pi.next_action = None;
    let v = save(ctx, pi);
    ctx.emit("payment_intent.canceled", v, None);
    Ok(())
}

/// `POST /v1/payment_intents/{id}/cancel`.
pub fn cancel(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["cancellation_reason"])?;
    let mut pi = get(ctx, id, "intent")?;
    let reason = one_of(
        params,
        "cancellation_reason",
        &[
            "duplicate",
            "fraudulent",
            "requested_by_customer",
            "abandoned",
        ],
    )?;
    match pi.status.as_str() {
        "requires_payment_method" | "requires_capture" | "requires_confirmation" | "requires_action" | "processing" => {}
        s => {
            return Err(INTENT.unexpected_state(format!(
                "You cannot cancel this PaymentIntent because it has a status of {s}. Only a PaymentIntent with one of the \
                 following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, \
                 requires_action, processing."
            )))
        }
    }
    cancel_in_place(ctx, &mut pi, reason, "charge.refunded")?;
    let v = render_for(ctx, &pi);
    ctx.answer(v, params)
}

/// `GET /v1/payment_intents` (`customer`, `created` filters).
pub fn list_intents(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "created",
    ])?;
    let customer = params.str("customer")?;
    let keep = |p: &PaymentIntent| p.account == ctx.account;
    let render = |p: &PaymentIntent| render(ctx.store, p);
    let mut v = list(
        &ctx.store.payment_intents,
        Query {
            group: customer,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/payment_intents",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}

/// The 3-D Secure challenge was passed: the payment continues as Stripe's does.
pub fn complete_3ds(ctx: &mut Ctx, pi: &mut PaymentIntent) -> ApiResult<()> {
    let pm = challenged_payment_method(ctx, pi.payment_method.as_deref())?;
    succeed(ctx, pi, pm, true);
    Ok(())
}

/// The 3-D Secure challenge was failed: `requires_payment_method` with
/// `payment_intent_authentication_failure`.
pub fn fail_3ds(ctx: &mut Ctx, pi: &mut PaymentIntent) -> ApiResult<()> {
    let pm = challenged_payment_method(ctx, pi.payment_method.as_deref())?;
    let error = INTENT.authentication_failure(&pm);
    not_approved(ctx, pi, pm, error);
    Ok(())
}

/// The client did not approve the payment (3-D Secure failed, the bank refused): the
/// PaymentMethod is used up unless a customer holds it, the PaymentIntent asks for another with
/// `error`, and `payment_intent.payment_failed` is emitted.
fn not_approved(ctx: &mut Ctx, pi: &mut PaymentIntent, mut pm: PaymentMethod, error: Value) {
    consume_unattached(ctx, &mut pm);
    pi.status = "requires_payment_method".into();
    pi.payment_method = None;
    pi.next_action = None;
    pi.last_payment_error = Some(error);
    let v = save(ctx, pi);
    ctx.emit("payment_intent.payment_failed", v, None);
}

/// Cancels authorised, uncaptured PaymentIntents older than 7 days of sandbox time
/// (`charge.expired`, `payment_intent.canceled` with `cancellation_reason: automatic`), and
/// settles the debits due; returns the canceled ones.
pub fn expire_due(store: &mut Store, now: i64) -> Vec<String> {
    // The due-time index holds exactly the PaymentIntents in `requires_capture` and the
    // debits in `processing`: this runs before every request, so it must not look at others.
    let due = store.payment_intents.due_by(now);
    let mut expired = Vec::new();
    for id in due {
        let Some(account) = store.payment_intents.get(&id).map(|p| p.account.clone()) else {
            continue;
        };
        let mut ctx = Ctx {
            store,
            account,
            now,
            request: RequestInfo::default(),
            caller: KeyKind::Secret,
        };
        if let Ok(mut pi) = get(&ctx, &id, "intent") {
            if pi.status == "processing" {
                // A debit due to settle; an error leaves it processing, as found.
                let _ = settle(&mut ctx, &mut pi);
                continue;
            }
            if cancel_in_place(
                &mut ctx,
                &mut pi,
                Some("automatic".into()),
                "charge.expired",
            )
            .is_ok()
            {
                expired.push(id);
            }
        }
    }
    expired
}
