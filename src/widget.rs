//! The mounted widget: owns the DOM, the state machine, the listeners and Stripe's Payment
//! and Express Checkout Elements, feeds the machine what happens and runs the effects it asks
//! for.
//!
//! Listeners and Stripe handlers are owned values stored here and dropped on unmount; the
//! closures hold only a `Weak` reference to the widget, so nothing keeps it alive and an
//! answer that arrives after unmount finds nothing to update. No `RefCell` borrow is held
//! across an `await` or while a DOM event is dispatched to the host page (whose handler may
//! call `unmount`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Promise;
use slotpay_core::{CheckoutToken, Locale};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, Element};

use crate::api::{Api, Call, Source};
use crate::dom::{Listener, Ui};
use crate::i18n::{problem_text, Words};
use crate::js::{as_function, format_money, get, get_string, object, random_bytes, sleep};
use crate::key::uuid_v4;
use crate::machine::{Effect, Event, Input, Machine, Phase, Problem};
use crate::stripe::Payment;
use crate::task::{spawn, wait};

/// What `mount` was asked for, already checked.
pub struct Options {
    /// Which checkout.
    pub source: Source,
    /// The embedder's locale (`data-locale`, `locale`).
    pub locale: Option<Locale>,
    /// The slotpay server.
    pub api: Api,
    /// The stylesheet's URL.
    pub style_url: String,
    /// The loader's fetch of the view (a promise of a `Response`).
    pub view: Option<Promise>,
    /// The loader's fetch of the words it expects the checkout to speak (a promise of the
    /// parsed body, or `null`).
    pub words: Option<Promise>,
    /// A promise of the global `Stripe` function, from the loader.
    pub stripe: Option<Promise>,
    /// The loader found Stripe's `redirect_status` in the page's address: the client came
    /// back from their bank.
    pub returned: bool,
}

/// The widget's state, shared by its listeners through `Weak` references.
struct State {
    machine: Machine,
    ui: Ui,
    api: Api,
    payment: Option<Payment>,
    listeners: Vec<Listener>,
    stripe_factory: Option<Promise>,
    alive: bool,
}

type Shared = Rc<RefCell<State>>;

/// A mounted widget; `unmount` (or dropping it) removes everything it added.
pub struct Mounted {
    state: Shared,
}

impl Mounted {
    /// Builds the widget in `host` and starts loading the checkout.
    pub fn start(host: &Element, options: Options) -> Result<Mounted, JsValue> {
        // The language of the page around the widget: the nearest `lang` attribute.
        let page = host
            .closest("[lang]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|lang| Locale::parse(&lang));
        let mut ui = Ui::build(host, &options.style_url)?;
        let mut machine = Machine::new(options.locale, page);
        if let Some(href) = get_string(&crate::js::global("location"), "href") {
            machine.set_page(&href, options.returned);
        }
        ui.render(&machine);
        let state = Rc::new(RefCell::new(State {
            machine,
            ui,
            api: options.api.clone(),
            payment: None,
            listeners: Vec::new(),
            stripe_factory: options.stripe,
            alive: true,
        }));
        listen(&state);

        let weak = Rc::downgrade(&state);
        let api = options.api;
        let (source, view, words) = (options.source, options.view, options.words);
        spawn(Box::pin(async move {
            let mut input = match api.view(&source, view).await {
                Ok(view) => Input::ViewLoaded(view),
                Err(problem) => Input::ViewFailed(problem),
            };
            // The language follows from the view (the embedder's, else the checkout's, else
            // the page's): its words are fetched before the view is shown, English when they
            // cannot be had. Without any words, the checkout cannot be shown.
            let locale = match weak.upgrade() {
                Some(state) => state.borrow().machine.locale_after(&input),
                None => return,
            };
            let mut found = api.words(locale, words).await;
            if found.is_none() && locale != Locale::En {
                found = api.words(Locale::En, None).await;
            }
            match (found, weak.upgrade()) {
                (Some(words), Some(state)) => state.borrow_mut().ui.words = words,
                (None, _) if matches!(input, Input::ViewLoaded(_)) => {
                    input = Input::ViewFailed(Problem::Unreachable)
                }
                _ => {}
            }
            step(&weak, input);
        }));
        Ok(Mounted { state })
    }

    /// Removes the widget: its DOM, its listeners, the Payment Element; pending answers are
    /// ignored from now on. Calling it twice does nothing more.
    pub fn unmount(&self) {
        let (card, listeners) = {
            let Ok(mut state) = self.state.try_borrow_mut() else {
                return;
            };
            if !state.alive {
                return;
            }
            state.alive = false;
            state.ui.remove();
            (state.payment.take(), std::mem::take(&mut state.listeners))
        };
        // Dropped outside the borrow: destroying the element runs Stripe.js code.
        drop(card);
        drop(listeners);
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.unmount();
    }
}

/// The DOM listeners: Pay (form submit), "Try another card", and the stylesheet's load (to
/// theme the Payment Element with the resolved custom properties).
fn listen(state: &Shared) {
    let mut s = state.borrow_mut();
    let weak = Rc::downgrade(state);
    let submit = {
        let weak = weak.clone();
        Listener::new(
            &s.ui.form,
            "submit",
            Box::new(move |event| {
                event.unchecked_ref::<web_sys::Event>().prevent_default();
                let Some(state) = weak.upgrade() else { return };
                let input = {
                    let s = state.borrow();
                    Input::Submit {
                        email: s.ui.email.value(),
                        save_card: s.ui.consent_box.checked(),
                    }
                };
                step(&weak, input);
            }),
        )
    };
    let retry = {
        let weak = weak.clone();
        Listener::new(
            &s.ui.retry,
            "click",
            Box::new(move |_| step(&weak, Input::TryAgain)),
        )
    };
    let styled = Listener::new(
        &s.ui.link,
        "load",
        Box::new(move |_| {
            let Some(state) = weak.upgrade() else { return };
            let s = state.borrow();
            if let Some(payment) = &s.payment {
                payment.set_appearance(s.ui.appearance());
            }
        }),
    );
    s.listeners.extend([submit, retry, styled]);
}

/// Runs `f` on the Payment Element, if there is one.
fn with_payment(weak: &Weak<RefCell<State>>, f: impl FnOnce(&Payment)) {
    if let Some(state) = weak.upgrade() {
        if let Ok(s) = state.try_borrow() {
            if let Some(payment) = &s.payment {
                f(payment);
            }
        }
    }
}

/// Feeds `input` to the machine, redraws, and runs the effects.
fn step(weak: &Weak<RefCell<State>>, input: Input) {
    let Some(state) = weak.upgrade() else { return };
    let effects = {
        let Ok(mut s) = state.try_borrow_mut() else {
            return;
        };
        if !s.alive {
            return;
        }
        let before = std::mem::discriminant(s.machine.phase());
        let effects = s.machine.step(input);
        let s = &mut *s;
        s.ui.render(&s.machine);
        let phase = s.machine.phase();
        if std::mem::discriminant(phase) != before
            && matches!(phase, Phase::Paid(_) | Phase::Failed(_) | Phase::Pending)
        {
            s.ui.focus_result();
        }
        effects
    };
    for effect in effects {
        run(weak, effect);
    }
}

/// Runs one effect the machine asked for. Not inlined into `step`: a smaller wasm.
#[inline(never)]
fn run(weak: &Weak<RefCell<State>>, effect: Effect) {
    let Some(state) = weak.upgrade() else { return };
    if !state.borrow().alive {
        return;
    }
    match effect {
        Effect::LoadStripe => {
            let weak = weak.clone();
            let factory = state.borrow_mut().stripe_factory.take();
            spawn(Box::pin(async move { load_stripe(&weak, factory).await }));
        }
        Effect::CreatePaymentMethod(email) => {
            let handles = state.borrow().payment.as_ref().map(Payment::handles);
            let weak = weak.clone();
            spawn(Box::pin(async move {
                let result = match handles {
                    Some(handles) => handles.create_payment_method(&email).await,
                    None => Err(Problem::StripeJs),
                };
                step(&weak, Input::PaymentMethod(result));
            }));
        }
        Effect::Pay(request) => {
            // One key per attempt, reused by every retry of it.
            let key = random_bytes().map(uuid_v4).unwrap_or_default();
            let call = endpoint(&state, |api, token| api.pay(token, &request, &key));
            ask(weak, 0, call);
        }
        Effect::HandleNextAction(secret) => {
            let handles = state.borrow().payment.as_ref().map(Payment::handles);
            let weak = weak.clone();
            spawn(Box::pin(async move {
                let failed = match handles {
                    Some(handles) => handles.handle_next_action(&secret).await,
                    None => true,
                };
                step(&weak, Input::Confirmed(failed));
            }));
        }
        Effect::Refresh { after_ms } => {
            let call = endpoint(&state, |api, token| api.refresh(token));
            ask(weak, after_ms, call);
        }
        Effect::ClearCard => with_payment(weak, Payment::clear),
        Effect::FocusCard => with_payment(weak, Payment::focus),
        Effect::FocusEmail => state.borrow().ui.focus_email(),
        Effect::Emit(event) => emit(&state, event),
        Effect::Tick { after_ms } => {
            let weak = weak.clone();
            spawn(Box::pin(async move {
                sleep(after_ms).await;
                let now = (js_sys::Date::now() / 1000.0) as i64;
                step(&weak, Input::Tick(now));
            }));
        }
    }
}

/// The request `make` makes with the API and the checkout's token (known once the view is
/// loaded).
fn endpoint(state: &Shared, make: impl FnOnce(&Api, &CheckoutToken) -> Call) -> Option<Call> {
    let s = state.borrow();
    Some(make(&s.api, &s.machine.view()?.token))
}

/// Sends a pay or refresh `call` after `after_ms` and feeds the machine its answer (nothing
/// without a call: no view yet).
fn ask(weak: &Weak<RefCell<State>>, after_ms: u32, call: Option<Call>) {
    let Some(call) = call else { return };
    let weak = weak.clone();
    spawn(Box::pin(async move {
        sleep(after_ms).await;
        let answer = call.pay_response().await;
        step(&weak, Input::Answer(answer));
    }));
}

/// Waits for Stripe.js, mounts the Payment Element and wires its `ready`.
async fn load_stripe(weak: &Weak<RefCell<State>>, factory: Option<Promise>) {
    let factory = match factory {
        Some(promise) => wait(promise).await.ok().and_then(as_function),
        // Mounted without the loader: Stripe.js must already be on the page.
        None => as_function(crate::js::global("Stripe")),
    };
    let Some(state) = weak.upgrade() else { return };
    let payment = {
        let s = state.borrow();
        if !s.alive {
            return;
        }
        match (factory, s.machine.view()) {
            (Some(factory), Some(view)) => Payment::mount(
                &factory,
                &view.publishable_key,
                s.machine.locale().as_str(),
                s.ui.appearance(),
                view,
                &s.ui.card_host,
                &s.ui.express_host,
            )
            .ok(),
            _ => None,
        }
    };
    let Some(mut payment) = payment else {
        return step(weak, Input::StripeFailed);
    };
    let ready = weak.clone();
    payment.on(false, &["ready"], move |_| step(&ready, Input::CardReady));
    let express = weak.clone();
    payment.on(true, &["ready", "confirm"], move |event| {
        express_event(&express, &event)
    });
    state.borrow_mut().payment = Some(payment);
    step(weak, Input::StripeLoaded);
}

/// The Express Checkout Element's `ready` and `confirm` (one handler for both: a closure less
/// in the size-budgeted wasm). `ready`: its container shows once it has a button. `confirm`:
/// the client approved in their wallet. The wallet's email goes into the form, which is sent
/// as Pay sends it (the PaymentMethod then comes from the wallet); the wallet is told the
/// payment failed when that could not start (busy, no email).
fn express_event(weak: &Weak<RefCell<State>>, event: &JsValue) {
    let Some(state) = weak.upgrade() else { return };
    if get(event, "expressPaymentType").is_undefined() {
        if get(event, "availablePaymentMethods").is_truthy() {
            state.borrow().ui.show_express();
        }
        return;
    }
    let email = get_string(&get(event, "billingDetails"), "email").unwrap_or_default();
    let (ready, save_card) = {
        let s = state.borrow();
        s.ui.email.set_value(&email);
        let ready = matches!(s.machine.phase(), Phase::Ready(_));
        (ready, s.ui.consent_box.checked())
    };
    step(weak, Input::Submit { email, save_card });
    if !ready || !matches!(state.borrow().machine.phase(), Phase::Paying) {
        if let Some(failed) = as_function(get(event, "paymentFailed")) {
            let _ = failed.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Dispatches `slotpay:ready`, `slotpay:succeeded` or `slotpay:failed` on the host, bubbling
/// and composed, with no borrow held (the page's handler may unmount the widget).
fn emit(state: &Shared, event: Event) {
    let (host, name, detail) = {
        let s = state.borrow();
        let (name, fields) = match &event {
            Event::Failed(problem) => ("slotpay:failed", failure(&s.machine, &s.ui.words, problem)),
            // Ready and succeeded: the checkout, built once for both.
            Event::Ready | Event::Succeeded => {
                let mut fields = Vec::new();
                if let Some(view) = s.machine.view() {
                    fields.push(("token", view.token.as_str().into()));
                    fields.push(("amount", JsValue::from(view.amount.minor() as f64)));
                    fields.push(("currency", view.amount.currency().code().into()));
                }
                let name = if matches!(event, Event::Ready) {
                    "slotpay:ready"
                } else {
                    "slotpay:succeeded"
                };
                (name, fields)
            }
        };
        (s.ui.host.clone(), name, object(&fields))
    };
    let init = object(&[
        ("bubbles", true.into()),
        ("composed", true.into()),
        ("detail", detail.into()),
    ])
    .unchecked_into::<CustomEventInit>();
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// `slotpay:failed`'s detail: `{code, message}` (and the checkout's token when known).
fn failure(machine: &Machine, words: &Words, problem: &Problem) -> Vec<(&'static str, JsValue)> {
    let locale = words.shown(machine.locale());
    let message = problem_text(words, locale, problem, &|m| format_money(locale, m));
    let mut fields = vec![("code", problem.code().into()), ("message", message.into())];
    if let Some(view) = machine.view() {
        fields.push(("token", view.token.as_str().into()));
    }
    fields
}
