//! Bindings to the documented part of Stripe.js v3 the widget uses, Stripe's deferred-intent
//! flow with the server confirming: `Stripe(key, {locale})`, `stripe.elements({mode: 'payment',
//! amount, currency, paymentMethodCreation: 'manual', paymentMethodTypes, appearance, locale})`,
//! `elements.create('payment', {business, wallets})` and `elements.create('expressCheckout',
//! {emailRequired, buttonType})`, the Elements' `mount`, `on`, `focus`, `clear` and `destroy`,
//! `elements.update` and `elements.submit`,
//! `stripe.createPaymentMethod({elements, params})` and `stripe.handleNextAction`. Nothing else,
//! so the real `https://js.stripe.com/v3/` and the sandbox's copy both fit.
//!
//! Every call is `catch`: Stripe.js throws `IntegrationError` for misuse, and a JavaScript
//! exception must not unwind through wasm while the widget's state is borrowed.

use js_sys::{Function, Object, Promise};
use slotpay_core::{CheckoutView, Email, MethodType, PaymentMethodId};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::Element;

use crate::js::{get, get_string, object};
use crate::machine::Problem;
use crate::task::wait;

#[wasm_bindgen]
extern "C" {
    /// A `Stripe(publishableKey)` instance.
    #[derive(Clone)]
    pub type Stripe;

    #[wasm_bindgen(method, catch)]
    fn elements(this: &Stripe, options: &Object) -> Result<Elements, JsValue>;

    #[wasm_bindgen(method, catch, js_name = createPaymentMethod)]
    fn create_payment_method(this: &Stripe, data: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = handleNextAction)]
    fn handle_next_action(this: &Stripe, options: &Object) -> Result<Promise, JsValue>;

    /// A `stripe.elements()` group.
    #[derive(Clone)]
    pub type Elements;

    #[wasm_bindgen(method, catch)]
    fn create(this: &Elements, kind: &str, options: &Object) -> Result<StripeElement, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn update(this: &Elements, options: &Object) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn submit(this: &Elements) -> Result<Promise, JsValue>;

    /// The Payment Element or the Express Checkout Element.
    pub type StripeElement;

    #[wasm_bindgen(method, catch)]
    fn mount(this: &StripeElement, container: &Element) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn on(this: &StripeElement, event: &str, handler: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn clear(this: &StripeElement) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn destroy(this: &StripeElement) -> Result<(), JsValue>;
}

/// Stripe's Appearance API variables and the widget's custom properties they come from
/// (slotpay.css resolves each from the page's `--slotpay-*`, the merchant's choices and its
/// defaults).
const VARIABLES: [(&str, &str); 6] = [
    ("colorPrimary", "--sp-color-primary"),
    ("colorText", "--sp-color-text"),
    ("colorBackground", "--sp-color-background"),
    ("colorDanger", "--sp-color-danger"),
    ("fontFamily", "--sp-font-family"),
    ("borderRadius", "--sp-radius"),
];

/// `{theme, variables}` for `stripe.elements`, from `read` (a custom property's resolved
/// value): `theme` is `night` for a dark checkout (`--sp-stripe-theme`), else `stripe`; the
/// variables only with the values that are set.
pub fn appearance(read: impl Fn(&str) -> js_sys::JsString) -> Object {
    let variables = Object::new();
    for (key, property) in VARIABLES {
        let value = read(property);
        // A non-empty string is truthy: no binding for `length`.
        if value.is_truthy() {
            let _ = js_sys::Reflect::set(&variables, &key.into(), &value);
        }
    }
    #[expect(
        clippy::cmp_owned,
        reason = "`JsString == &str` copies the JavaScript string into the wasm; this compares in JavaScript"
    )]
    let theme = if read("--sp-stripe-theme") == js_sys::JsString::from("night") {
        "night"
    } else {
        "stripe"
    };
    object(&[("theme", theme.into()), ("variables", variables.into())])
}

/// A mounted Payment Element, the Express Checkout Element above it when the checkout takes
/// wallets, and the Stripe instance and group that made them. Dropping it destroys the
/// elements (their iframes leave the page) and frees their event handlers.
pub struct Payment {
    handles: Handles,
    element: StripeElement,
    express: Option<StripeElement>,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// The Stripe instance and the Elements group of a Payment Element: JavaScript handles, cloned
/// into the calls that wait for Stripe (no borrow of the widget is held while they wait).
#[derive(Clone)]
pub struct Handles {
    stripe: Stripe,
    elements: Elements,
}

impl Payment {
    /// `Stripe(key, {locale})`, an Elements group for a deferred intent (the server creates
    /// and confirms the PaymentIntent later) for `view`'s amount and ways to pay, with
    /// `appearance`: its Payment Element (the merchant named in SEPA Debit's mandate) mounted in
    /// `container`, and, unless the merchant switched wallets off, the Express Checkout Element
    /// (Apple Pay and Google Pay buttons, which ask the wallet for the client's email) in
    /// `express`; the wallets show there, not among the Payment Element's tabs. `factory` is
    /// the global `Stripe` function.
    pub fn mount(
        factory: &Function,
        publishable_key: &str,
        locale: &str,
        appearance: Object,
        view: &CheckoutView,
        container: &Element,
        express: &Element,
    ) -> Result<Payment, JsValue> {
        let options = object(&[("locale", locale.into())]);
        let stripe: Stripe = factory
            .call2(&JsValue::NULL, &publishable_key.into(), &options)?
            .unchecked_into();
        let types: js_sys::Array = view
            .payment_methods
            .iter()
            .map(|m| JsValue::from(m.as_str()))
            .collect();
        let group = object(&[
            ("mode", "payment".into()),
            ("amount", (view.amount.minor() as f64).into()),
            ("currency", view.amount.currency().code().into()),
            ("paymentMethodCreation", "manual".into()),
            ("paymentMethodTypes", types.into()),
            ("appearance", appearance.into()),
            ("locale", locale.into()),
        ]);
        let elements = stripe.elements(&group)?;
        let never = object(&[("applePay", "never".into()), ("googlePay", "never".into())]);
        let business = object(&[("name", view.merchant_name.as_str().into())]);
        let element = elements.create(
            "payment",
            &object(&[("business", business.into()), ("wallets", never.into())]),
        )?;
        element.mount(container)?;
        let express = if view.wallets {
            let book = object(&[("applePay", "book".into()), ("googlePay", "book".into())]);
            let options = object(&[("emailRequired", true.into()), ("buttonType", book.into())]);
            let made = elements.create("expressCheckout", &options)?;
            made.mount(express)?;
            Some(made)
        } else {
            None
        };
        Ok(Payment {
            handles: Handles { stripe, elements },
            element,
            express,
            handlers: Vec::new(),
        })
    }

    /// Calls `handler` with each of the `events` of the Payment Element (`ready`), or of the
    /// Express Checkout Element when there is one (`ready`, `confirm`), for as long as it
    /// lives.
    pub fn on(&mut self, express: bool, events: &[&str], handler: impl FnMut(JsValue) + 'static) {
        let element = if express {
            let Some(express) = &self.express else { return };
            express
        } else {
            &self.element
        };
        let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
        for event in events {
            let _ = element.on(event, closure.as_ref().unchecked_ref());
        }
        self.handlers.push(closure);
    }

    /// Applies a new appearance (the stylesheet loaded after the element was made).
    pub fn set_appearance(&self, appearance: Object) {
        let _ = self
            .handles
            .elements
            .update(&object(&[("appearance", appearance.into())]));
    }

    /// Moves focus into the element's first field.
    pub fn focus(&self) {
        crate::js::focus(&self.element);
    }

    /// Empties the fields for another try.
    pub fn clear(&self) {
        let _ = self.element.clear();
    }

    /// The handles the payment calls need.
    pub fn handles(&self) -> Handles {
        self.handles.clone()
    }
}

impl Handles {
    /// `elements.submit()` (the fields checked, their errors shown by the element), then
    /// `stripe.createPaymentMethod({elements, params: {billing_details: {email}}})`.
    pub async fn create_payment_method(
        &self,
        email: &Email,
    ) -> Result<(PaymentMethodId, MethodType), Problem> {
        let mut result = settle(self.elements.submit()).await;
        if get(&result, "error").is_undefined() {
            let billing = object(&[("email", email.as_str().into())]);
            let params = object(&[("billing_details", billing.into())]);
            let data = object(&[
                ("elements", self.elements.clone().into()),
                ("params", params.into()),
            ]);
            result = settle(self.stripe.create_payment_method(&data)).await;
        }
        let method = get(&result, "paymentMethod");
        let id = get_string(&method, "id").and_then(|id| PaymentMethodId::parse(&id).ok());
        let kind = get_string(&method, "type").and_then(|t| MethodType::parse(&t));
        match (id, kind) {
            (Some(id), Some(kind)) => Ok((id, kind)),
            _ => Err(card_problem(&result)),
        }
    }

    /// `stripe.handleNextAction({clientSecret})`: 3-D Secure in Stripe's modal, or the bank's
    /// page (the client leaves and comes back to the return URL). True when it failed.
    pub async fn handle_next_action(&self, client_secret: &str) -> bool {
        let options = object(&[("clientSecret", client_secret.into())]);
        let error = get(
            &settle(self.stripe.handle_next_action(&options)).await,
            "error",
        );
        !error.is_undefined() && !error.is_null()
    }
}

impl Drop for Payment {
    fn drop(&mut self) {
        let _ = self.element.destroy();
        if let Some(express) = &self.express {
            let _ = express.destroy();
        }
    }
}

/// Awaits a Stripe.js call: its result, or `{error}` when it threw (an `IntegrationError`) or
/// rejected, the shape Stripe.js resolves failures with.
async fn settle(call: Result<Promise, JsValue>) -> JsValue {
    let outcome = match call {
        Ok(promise) => wait(promise).await,
        Err(error) => Err(error),
    };
    outcome.unwrap_or_else(|error| object(&[("error", error)]).into())
}

/// Stripe's `{error: {code, message}}` as a problem with the payment details.
fn card_problem(result: &JsValue) -> Problem {
    let error = get(result, "error");
    match get_string(&error, "message") {
        Some(message) => Problem::Card {
            code: get_string(&error, "code"),
            message,
        },
        None => Problem::StripeJs,
    }
}
