//! What confirming a PaymentIntent and confirming a SetupIntent share: the client-secret check of
//! Stripe.js's calls, which statuses may be confirmed, the PaymentMethod a confirmation uses, the
//! 3-D Secure challenge (its `next_action`, and the PaymentMethod it was started with), what a
//! failed attempt does to an unattached PaymentMethod, saving the card on the customer, and the
//! error hashes and answers of a declined card and of a failed challenge.

use serde_json::{json, Map, Value};

use crate::auth::{self, KeyKind};
use crate::cards::Decline;
use crate::errors::{ApiError, ApiResult};
use crate::form::{Params, STRIPE_JS_FIELDS};
use crate::resources::payment_methods;
use crate::state::{CardInfo, Ctx, Method, PaymentMethod};

const AUTH_FAILURE_MESSAGE: &str =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

/// Which intent it is, as Stripe's messages, codes and error objects name it.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// `PaymentIntent`, as messages name it.
    pub object: &'static str,
    /// `payment_intent`, as error codes start and as an error object's member holding it.
    pub name: &'static str,
    /// The message of a confirmation with no PaymentMethod given or set.
    pub missing_payment_method: &'static str,
}

impl Kind {
    /// 400 `{name}_unexpected_state`.
    pub fn unexpected_state(self, message: impl Into<String>) -> ApiError {
        ApiError::state(message, &format!("{}_unexpected_state", self.name))
    }

    /// With a publishable key, the `client_secret` must be given and match.
    pub fn check_client_secret(
        self,
        ctx: &Ctx,
        client_secret: &str,
        params: &Params,
    ) -> ApiResult<()> {
        if ctx.caller != KeyKind::Publishable {
            return Ok(());
        }
        match params.str("client_secret")? {
            Some(s) if s == client_secret => Ok(()),
            Some(_) => Err(ApiError::invalid(format!(
                "The client_secret provided does not match the client_secret associated with the {}.",
                self.object
            ))
            .param("client_secret")),
            None => Err(auth::publishable_refused()),
        }
    }

    /// Only an intent waiting for a PaymentMethod, a confirmation or an action may be confirmed.
    pub fn check_confirmable(self, status: &str) -> ApiResult<()> {
        match status {
            "requires_payment_method" | "requires_confirmation" | "requires_action" => Ok(()),
            "succeeded" => Err(self.unexpected_state(format!(
                "You cannot confirm this {} because it has already succeeded after being previously confirmed.",
                self.object
            ))),
            s => Err(self.unexpected_state(format!(
                "You cannot confirm this {o} because it has a status of {s}. Only a {o} with one of the \
                 following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.",
                o = self.object
            ))),
        }
    }

    /// The PaymentMethod a confirmation uses: `payment_method`, else one made from
    /// `payment_method_data` (what Stripe.js's confirm calls send with a card element), else the
    /// intent's own (`current`). A used-up one is refused.
    pub fn payment_method(
        self,
        ctx: &mut Ctx,
        params: &Params,
        current: Option<&str>,
    ) -> ApiResult<PaymentMethod> {
        let pm = if let Some(id) = params.str("payment_method")? {
            payment_methods::resolve(ctx, id, "payment_method")?
        } else if let Some(data) = params.object("payment_method_data")? {
            payment_method_from_data(ctx, data)?
        } else if let Some(id) = current {
            payment_methods::resolve(ctx, id, "payment_method")?
        } else {
            return Err(self.unexpected_state(self.missing_payment_method));
        };
        if pm.consumed {
            return Err(ApiError::invalid(payment_methods::REUSE_REFUSED).param("payment_method"));
        }
        Ok(pm)
    }

    /// How a confirmation goes on, after Stripe's checks on the PaymentMethod's type: a type
    /// the intent does not allow is refused, a bank redirect needs a `return_url` and SEPA
    /// Debit a mandate.
    pub fn route<'a>(
        self,
        pm: &'a PaymentMethod,
        allowed: &[String],
        params: &Params,
    ) -> ApiResult<Route<'a>> {
        let kind = pm.method.kind();
        if !allowed.iter().any(|t| t == kind) {
            return Err(ApiError::invalid(format!(
                "The PaymentMethod provided ({kind}) is not allowed for this {o}. Please attach a \
                 PaymentMethod of one of the following types: {types}. Alternatively update the \
                 allowed payment_method_types for this {o} to include \"{kind}\".",
                o = self.object,
                types = allowed.join(", "),
            ))
            .param("payment_method"));
        }
        match &pm.method {
            Method::Card(card) => Ok(Route::Card(card)),
            Method::Ideal { .. } | Method::Bancontact => match params.str("return_url")? {
                Some(url) => Ok(Route::Redirect(url.to_owned())),
                None => Err(ApiError::invalid(format!(
                    "A return_url must be specified because this {o}'s PaymentMethod ({kind}) \
                     needs a redirect to the customer's bank to succeed.",
                    o = self.object
                ))
                .param("return_url")),
            },
            Method::SepaDebit { .. } if params.object("mandate_data")?.is_none() => {
                Err(ApiError::invalid(
                    "A mandate is required to confirm a sepa_debit payment: pass \
                     mandate_data[customer_acceptance] with the customer's acceptance.",
                )
                .param("mandate_data"))
            }
            Method::SepaDebit { fails, .. } => Ok(Route::Debit { fails: *fails }),
        }
    }

    /// The 402 `card_error` of a declined card, with the intent (rendered for the caller) and the
    /// PaymentMethod.
    pub fn card_declined(self, decline: Decline, intent: Value, pm_json: Value) -> ApiError {
        ApiError::card(decline.message, decline.code)
            .decline_code(decline.decline_code)
            .with(self.name, intent)
            .with("payment_method", pm_json)
            .with("payment_method_type", json!("card"))
    }

    /// The `last_payment_error` / `last_setup_error` of a failed 3-D Secure challenge.
    pub fn authentication_failure(self, pm: &PaymentMethod) -> Value {
        let code = format!("{}_authentication_failure", self.name);
        json!({
            "code": code,
            "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
            "message": AUTH_FAILURE_MESSAGE,
            "payment_method": payment_methods::render(pm),
            "type": "invalid_request_error",
        })
    }
}

/// How a confirmation with a PaymentMethod goes on.
pub enum Route<'a> {
    /// A card: its test number decides.
    Card(&'a CardInfo),
    /// A bank redirect (iDEAL, Bancontact): the client approves at the bank, then comes back
    /// to this URL.
    Redirect(String),
    /// A SEPA Debit: `processing` until it settles, then succeeded or failed.
    Debit {
        /// Whether it fails when it settles.
        fails: bool,
    },
}

/// A PaymentMethod from `payment_method_data[type]=card&payment_method_data[card][...]`.
fn payment_method_from_data(ctx: &mut Ctx, data: &Map<String, Value>) -> ApiResult<PaymentMethod> {
    let mut p = Params::new(data.clone());
    for k in STRIPE_JS_FIELDS {
        p.take(k);
    }
    let v = payment_methods::create(ctx, &p)?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    payment_methods::resolve(ctx, &id, "payment_method_data")
}

/// `value` without the members named in `keys` (what a publishable key or the challenge page
/// does not see).
pub fn without(mut value: Value, keys: &[&str]) -> Value {
    if let Some(o) = value.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    value
}

/// The `next_action` that starts the 3-D Secure challenge: Stripe.js opens the challenge page
/// for the intent.
pub fn three_ds_action(ctx: &mut Ctx, intent: &str, client_secret: &str) -> Value {
    let source = ctx.id("src_");
    json!({
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": format!("{}/v3/3ds/challenge.html?intent={intent}&client_secret={client_secret}", ctx.store.base_url),
            "source": source,
        },
    })
}

/// The PaymentMethod the 3-D Secure challenge of an intent was started with.
pub fn challenged_payment_method(ctx: &mut Ctx, id: Option<&str>) -> ApiResult<PaymentMethod> {
    payment_methods::resolve(ctx, id.unwrap_or_default(), "payment_method")
}

/// A failed attempt uses up a PaymentMethod that no customer holds: Stripe refuses it again.
pub fn consume_unattached(ctx: &mut Ctx, pm: &mut PaymentMethod) {
    if pm.customer.is_none() {
        pm.consumed = true;
        ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
    }
}

/// Saves the card on the intent's customer when it is on none yet (`payment_method.attached`).
pub fn attach_to_customer(ctx: &mut Ctx, pm: &mut PaymentMethod, customer: &str) {
    if pm.customer.is_none() {
        pm.customer = Some(customer.to_string());
        ctx.store.payment_methods.insert(pm.id.clone(), pm.clone());
        let v = payment_methods::render(pm);
        ctx.emit("payment_method.attached", v, None);
    }
}

/// The `last_payment_error` / `last_setup_error` of a declined card.
pub fn decline_error(decline: Decline, pm_json: &Value) -> Value {
    json!({
        "code": decline.code,
        "decline_code": decline.decline_code,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", decline.code.replace('_', "-")),
        "message": decline.message,
        "payment_method": pm_json,
        "type": "card_error",
    })
}
