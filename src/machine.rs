//! The checkout's state machine: which phase the widget is in (loading, ready, paying, 3-D
//! Secure, paid, failed, ...), how each outside answer moves it, and which effects (calls to
//! Stripe.js and the server, focus moves, DOM events) it asks for; and which of the server's
//! error codes the widget tells apart.
//!
//! Pure: no DOM, no network, no clock. The browser glue (`widget.rs`) feeds it inputs and
//! runs the effects it returns, so every rule here is tested natively.

use slotpay_core::{
    check_chargeable, hold, ApiError, ChargeError, CheckoutStatus, CheckoutView, Email, ErrorCode,
    IntegrationMode, Locale, MethodType, Money, PayRequest, PayResponse, PayStatus,
    PaymentMethodId, Receipt, ReturnUrl,
};

/// How long to wait before asking again about a payment Stripe is still processing.
pub const PROCESSING_POLL_MS: u32 = 2_000;

/// How many times to ask about a processing payment before leaving it to the emailed receipt.
pub const PROCESSING_POLLS: u32 = 5;

/// The server's error codes the widget tells apart: those with a sentence of their own (see
/// `i18n::for_error`), those that move the checkout (see [`Machine`]), and the amount codes
/// the widget also finds itself. Every other code is a [`Problem::Server`], shown in the
/// server's own words: reading only these keeps the other codes' names out of the wasm.
pub const TOLD_APART: [ErrorCode; 21] = [
    ErrorCode::InvalidAmount,
    ErrorCode::AmountTooSmall,
    ErrorCode::AmountTooLarge,
    ErrorCode::InvalidAmountStep,
    ErrorCode::InvalidEmail,
    ErrorCode::CheckoutNotFound,
    ErrorCode::CheckoutExpired,
    ErrorCode::CheckoutAlreadyPaid,
    ErrorCode::CheckoutCanceled,
    ErrorCode::PaymentsUnavailable,
    ErrorCode::CardDeclined,
    ErrorCode::CardBrandNotAccepted,
    ErrorCode::AuthenticationRequired,
    ErrorCode::CheckoutLocked,
    ErrorCode::PaymentsPaused,
    ErrorCode::PaymentInProgress,
    ErrorCode::StripeUnavailable,
    ErrorCode::StripeError,
    ErrorCode::RateLimited,
    ErrorCode::NotFound,
    ErrorCode::InternalError,
];

/// [`TOLD_APART`]'s wire strings, in its order (made at compile time, so core's table of every
/// code's string is not linked).
const TOLD_APART_NAMES: [&str; TOLD_APART.len()] = {
    let mut names = [""; TOLD_APART.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = TOLD_APART[i].as_str();
        i += 1;
    }
    names
};

/// The code of [`TOLD_APART`] whose wire string is `s`.
pub fn told_apart(s: &str) -> Option<ErrorCode> {
    let i = TOLD_APART_NAMES.iter().position(|name| *name == s)?;
    Some(TOLD_APART[i])
}

/// `code`'s wire string, for a code of [`TOLD_APART`] (`internal_error` for any other, which
/// no problem holds).
fn code_name(code: ErrorCode) -> &'static str {
    match TOLD_APART.iter().position(|c| *c == code) {
        Some(i) => TOLD_APART_NAMES[i],
        None => const { ErrorCode::InternalError.as_str() },
    }
}

/// Why something did not work, kept as data so it can be worded in any language later.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Problem {
    /// The server refused, with a code this widget tells apart ([`TOLD_APART`]).
    Api(ApiError),
    /// The server failed with another code (its message says why), or without a readable
    /// body.
    Server {
        /// The code as sent, if any.
        code: Option<String>,
        /// The server's message, if any.
        message: Option<String>,
    },
    /// The amount cannot be charged (core's rule), found before any call.
    Charge(ChargeError),
    /// The email address does not parse.
    Email,
    /// Stripe.js refused the payment details (incomplete number, past expiry date, ...).
    Card {
        /// Stripe's code, e.g. `incomplete_number`.
        code: Option<String>,
        /// Stripe's message, already in the Payment Element's language.
        message: String,
    },
    /// The server could not be reached, even after retrying.
    Unreachable,
    /// Stripe.js could not be loaded or refused to start.
    StripeJs,
}

impl Problem {
    /// The stable code a host page sees in `slotpay:failed`: the server's code, or one of
    /// the widget's own (`network_error`, `stripe_js_unavailable`, `card_error`).
    pub fn code(&self) -> &str {
        match self {
            Problem::Api(error) => code_name(error.code),
            Problem::Server { code, .. } => code.as_deref().unwrap_or("internal_error"),
            Problem::Charge(error) => code_name(error.code()),
            Problem::Email => const { ErrorCode::InvalidEmail.as_str() },
            Problem::Card { code, .. } => code.as_deref().unwrap_or("card_error"),
            Problem::Unreachable => "network_error",
            Problem::StripeJs => "stripe_js_unavailable",
        }
    }
}

/// Where the checkout is, as the client sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Waiting for the checkout view or Stripe.js (a skeleton is shown).
    Loading,
    /// The form, with the last problem the client can fix there (bad email, network).
    Ready(Option<Problem>),
    /// Creating the card token and asking the server to pay: the button is disabled.
    Paying,
    /// 3-D Secure: Stripe.js shows the bank's challenge, then the server is asked again.
    Authenticating,
    /// Stripe is still processing, or the client came back from their bank; the server is
    /// asked again a few times.
    Processing,
    /// A payment that settles days later (SEPA Debit) is under way: the booking is reserved,
    /// the confirmation follows by email.
    Pending,
    /// Paid; the receipt when the server sent one.
    Paid(Option<Receipt>),
    /// The payment failed; the client may try another card.
    Failed(Problem),
    /// The amount cannot be charged; nothing can be done here.
    Refused(Problem),
    /// The merchant's online payments are off.
    Unavailable,
    /// The checkout expired.
    Expired,
    /// The merchant canceled the checkout.
    Canceled,
    /// The checkout could not be shown (unknown token, server down, Stripe.js missing).
    Broken(Problem),
}

impl Phase {
    /// True while a payment is in flight: the form is locked.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Phase::Paying | Phase::Authenticating | Phase::Processing
        )
    }
}

/// Something that happened: an answer, a client action.
#[derive(Clone, PartialEq, Eq, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one input at a time, moved straight into the machine: boxing the view buys nothing"
)]
pub enum Input {
    /// The checkout's public view arrived.
    ViewLoaded(CheckoutView),
    /// The checkout's view could not be had.
    ViewFailed(Problem),
    /// Stripe.js is loaded and the Payment Element is mounted.
    StripeLoaded,
    /// Stripe.js could not be loaded or started.
    StripeFailed,
    /// The Payment Element said it is ready for typing.
    CardReady,
    /// The client pressed Pay.
    Submit {
        /// The email field as typed.
        email: String,
        /// Whether the save-card box is ticked.
        save_card: bool,
    },
    /// `elements.submit()` then `stripe.createPaymentMethod` answered: the PaymentMethod and
    /// its type.
    PaymentMethod(Result<(PaymentMethodId, MethodType), Problem>),
    /// The server answered a pay or refresh request.
    Answer(Result<PayResponse, Problem>),
    /// `stripe.handleNextAction` finished (3-D Secure; a bank redirect leaves the page
    /// instead): true when Stripe.js says it failed.
    Confirmed(bool),
    /// The client pressed "Try another card".
    TryAgain,
    /// A second passed on a short hold: the time now (unix seconds).
    Tick(i64),
}

/// What the host page is told, as a DOM event on the host element.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    /// `slotpay:ready`: the form can be used.
    Ready,
    /// `slotpay:succeeded`: the checkout was paid here.
    Succeeded,
    /// `slotpay:failed`: a payment failed or the checkout cannot be paid.
    Failed(Problem),
}

/// Work the machine asks the glue to do.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Effect {
    /// Load Stripe.js and mount the Payment Element with the view's publishable key.
    LoadStripe,
    /// `elements.submit()`, then `stripe.createPaymentMethod({elements, params:
    /// {billing_details: {email}}})`.
    CreatePaymentMethod(Email),
    /// `POST /v1/checkouts/{token}/pay` with a new idempotency key, retried with that key.
    Pay(PayRequest),
    /// `stripe.handleNextAction({clientSecret})`.
    HandleNextAction(String),
    /// `POST /v1/checkouts/{token}/refresh` after waiting this long.
    Refresh {
        /// Milliseconds to wait first.
        after_ms: u32,
    },
    /// Empty the Payment Element for another try.
    ClearCard,
    /// Move focus to the email field.
    FocusEmail,
    /// Move focus to the Payment Element.
    FocusCard,
    /// Tell the host page.
    Emit(Event),
    /// Feed [`Input::Tick`] with the time after this many milliseconds.
    Tick {
        /// Milliseconds to wait first.
        after_ms: u32,
    },
}

/// The checkout's state and its transitions.
#[derive(Debug)]
pub struct Machine {
    phase: Phase,
    view: Option<CheckoutView>,
    /// The locale the embedder asked for (`data-locale`, `locale` option).
    requested: Option<Locale>,
    /// The page's `<html lang>`.
    page: Option<Locale>,
    card_ready: bool,
    ready_sent: bool,
    /// The email and save-card choice of the attempt in flight.
    attempt: Option<(Email, bool)>,
    /// The way to pay of the attempt in flight, once its PaymentMethod is made.
    method: Option<MethodType>,
    /// The address of the page the widget is on, where a bank sends the client back.
    page_url: Option<String>,
    /// The client came back from their bank to this page, or found an attempt waiting for
    /// them: the server is asked how it went before the form shows.
    returned: bool,
    /// Stripe.js said 3-D Secure failed, until the server confirms.
    stripe_error: bool,
    polls: u32,
    /// The time of the last tick, while a short hold is counted down.
    now: Option<i64>,
    /// The hold ran out while the widget showed it.
    hold_lapsed: bool,
}

impl Machine {
    /// A machine in [`Phase::Loading`]. `requested` is the embedder's locale, `page` the
    /// page's; see [`Machine::locale`].
    pub fn new(requested: Option<Locale>, page: Option<Locale>) -> Machine {
        Machine {
            phase: Phase::Loading,
            view: None,
            requested,
            page,
            card_ready: false,
            ready_sent: false,
            attempt: None,
            method: None,
            page_url: None,
            returned: false,
            stripe_error: false,
            polls: 0,
            now: None,
            hold_lapsed: false,
        }
    }

    /// The address of the page the widget is on (`location.href`), where a bank sends the
    /// client back, and whether the client just came back from their bank to it (Stripe's
    /// `redirect_status` in the address). Whatever the address says, only the server's answer
    /// moves the checkout.
    pub fn set_page(&mut self, href: &str, returned: bool) {
        self.returned = returned;
        self.page_url = Some(href.to_owned());
    }

    /// Seconds left on the checkout's short hold, while the client can still pay; `None`
    /// before the first tick, for links that live for days, and once paid or closed.
    pub fn hold_left(&self) -> Option<i64> {
        let counting = matches!(
            self.phase,
            Phase::Loading | Phase::Ready(_) | Phase::Failed(_)
        ) || self.phase.is_busy();
        let left = hold::seconds_left(self.view.as_ref()?.expires_at, self.now?)?;
        counting.then_some(left)
    }

    /// True when the checkout closed because its hold ran out here (a booking page's slot
    /// released), rather than a link found expired.
    pub fn hold_lapsed(&self) -> bool {
        self.hold_lapsed
    }

    /// The current phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The checkout's view, once loaded.
    pub fn view(&self) -> Option<&CheckoutView> {
        self.view.as_ref()
    }

    /// The widget's language: the embedder's choice, else the checkout's, else the page's,
    /// else English.
    pub fn locale(&self) -> Locale {
        self.locale_with(self.view.as_ref())
    }

    /// The language once `input` is taken: the one a loaded view brings, before it is shown.
    pub fn locale_after(&self, input: &Input) -> Locale {
        match input {
            Input::ViewLoaded(view) => self.locale_with(Some(view)),
            _ => self.locale(),
        }
    }

    fn locale_with(&self, view: Option<&CheckoutView>) -> Locale {
        self.requested
            .or(view.map(|v| v.locale))
            .or(self.page)
            .unwrap_or_default()
    }

    /// True when the sandbox badge should show.
    pub fn is_test_mode(&self) -> bool {
        self.view
            .as_ref()
            .is_some_and(|v| v.mode == IntegrationMode::Sandbox)
    }

    /// Moves the machine with `input` and says what to do next. Inputs that do not fit the
    /// phase (a second click while paying, a late answer after a failure) change nothing.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        match (&self.phase, input) {
            (Phase::Loading, Input::ViewLoaded(view)) => self.on_view(view, &mut fx),
            (Phase::Loading, Input::ViewFailed(problem)) => self.fail_closed(problem, &mut fx),
            (Phase::Loading, Input::StripeLoaded) if self.view.is_some() => {
                self.phase = Phase::Ready(None);
                self.maybe_ready(&mut fx);
            }
            (Phase::Loading, Input::StripeFailed) => {
                self.close(Phase::Broken(Problem::StripeJs), &mut fx)
            }
            (_, Input::CardReady) => {
                self.card_ready = true;
                self.maybe_ready(&mut fx);
            }
            (Phase::Ready(_), Input::Submit { email, save_card }) => {
                self.submit(&email, save_card, &mut fx)
            }
            (Phase::Paying, Input::PaymentMethod(Ok((payment_method, method)))) => {
                if let Some((email, save_card)) = self.attempt.clone() {
                    self.method = Some(method);
                    // The server makes it the way back (without an earlier return's
                    // parameters, naming the checkout).
                    let return_url = match &self.page_url {
                        Some(page) if method.redirects() => ReturnUrl::parse(page).ok(),
                        _ => None,
                    };
                    fx.push(Effect::Pay(PayRequest {
                        payment_method,
                        email,
                        save_card,
                        return_url,
                    }));
                }
            }
            (Phase::Paying, Input::PaymentMethod(Err(problem))) => {
                self.phase = Phase::Ready(Some(problem));
                fx.push(Effect::FocusCard);
            }
            (Phase::Paying | Phase::Authenticating | Phase::Processing, Input::Answer(answer)) => {
                match answer {
                    Ok(response) => self.on_answer(response, &mut fx),
                    Err(problem) => self.on_refusal(problem, &mut fx),
                }
            }
            (Phase::Authenticating, Input::Confirmed(error)) => {
                // The server has the last word on the PaymentIntent; Stripe.js's error only
                // explains a failure the server has not seen yet.
                self.stripe_error = error;
                fx.push(Effect::Refresh { after_ms: 0 });
            }
            (Phase::Failed(_), Input::TryAgain) => {
                self.phase = Phase::Ready(None);
                fx.push(Effect::ClearCard);
                fx.push(Effect::FocusCard);
            }
            (_, Input::Tick(now)) => self.tick(now, &mut fx),
            _ => {}
        }
        fx
    }

    /// A second on a short hold: once it runs out while the client has not started paying,
    /// the checkout is closed as the server will also say (a payment in flight is left to
    /// the server's answer). Ticks go on while the hold is counted down.
    fn tick(&mut self, now: i64, fx: &mut Vec<Effect>) {
        self.now = Some(now);
        let Some(left) = self.hold_left() else { return };
        if left == 0 && matches!(self.phase, Phase::Ready(_) | Phase::Failed(_)) {
            self.hold_lapsed = true;
            return self.close(Phase::Expired, fx);
        }
        fx.push(Effect::Tick { after_ms: 1_000 });
    }

    fn on_view(&mut self, view: CheckoutView, fx: &mut Vec<Effect>) {
        if view.expires_at.is_some() {
            fx.push(Effect::Tick { after_ms: 0 });
        }
        let amount = view.amount;
        let status = view.status;
        let mode = view.mode;
        let minimum = view.minimum_amount;
        let receipt = view.receipt.clone();
        self.view = Some(view);
        match status {
            CheckoutStatus::Paid
            | CheckoutStatus::Authorized
            | CheckoutStatus::PartiallyRefunded
            | CheckoutStatus::Refunded => self.phase = Phase::Paid(receipt),
            CheckoutStatus::Expired => self.close(Phase::Expired, fx),
            CheckoutStatus::Canceled => self.close(Phase::Canceled, fx),
            // A debit under way (or a payment Stripe is still processing): nothing to pay.
            CheckoutStatus::Processing => self.phase = Phase::Pending,
            CheckoutStatus::Open | CheckoutStatus::Failed | CheckoutStatus::RequiresAction => {
                if mode == IntegrationMode::Off {
                    self.close(Phase::Unavailable, fx);
                } else if let Err(error) = chargeable(amount, minimum) {
                    self.close(Phase::Refused(Problem::Charge(error)), fx);
                } else {
                    fx.push(Effect::LoadStripe);
                    // Back from the bank, or an attempt left waiting for the client (a page
                    // reloaded during 3-D Secure): the server reads Stripe; the form waits.
                    if self.returned || status == CheckoutStatus::RequiresAction {
                        self.returned = true;
                        self.phase = Phase::Processing;
                        fx.push(Effect::Refresh { after_ms: 0 });
                    }
                }
            }
        }
    }

    fn submit(&mut self, email: &str, save_card: bool, fx: &mut Vec<Effect>) {
        let Some(view) = &self.view else { return };
        let Ok(email) = Email::parse(email) else {
            self.phase = Phase::Ready(Some(Problem::Email));
            fx.push(Effect::FocusEmail);
            return;
        };
        if let Err(error) = chargeable(view.amount, view.minimum_amount) {
            return self.close(Phase::Refused(Problem::Charge(error)), fx);
        }
        // Consent counts only when the merchant offered it.
        let save_card = save_card && view.save_card.is_some();
        self.attempt = Some((email.clone(), save_card));
        self.method = None;
        self.returned = false;
        self.stripe_error = false;
        self.polls = 0;
        self.phase = Phase::Paying;
        fx.push(Effect::CreatePaymentMethod(email));
    }

    fn on_answer(&mut self, response: PayResponse, fx: &mut Vec<Effect>) {
        match response.status {
            PayStatus::Succeeded => {
                self.phase = Phase::Paid(response.receipt);
                fx.push(Effect::Emit(Event::Succeeded));
            }
            PayStatus::RequiresAction if matches!(self.phase, Phase::Authenticating) => {
                if std::mem::take(&mut self.stripe_error) {
                    // The bank's challenge failed and the server has not seen it yet.
                    self.fail(api_problem(ErrorCode::AuthenticationRequired), fx)
                } else {
                    // Stripe.js says it went through: wait for the server to catch up.
                    self.poll(fx)
                }
            }
            // Back from the bank without paying (the client left its page, or the address was
            // made up): the form again, for the same checkout.
            PayStatus::RequiresAction if self.returned => {
                self.returned = false;
                self.phase = Phase::Ready(None);
                self.maybe_ready(fx);
            }
            PayStatus::RequiresAction => match response.client_secret {
                Some(secret) => {
                    self.phase = Phase::Authenticating;
                    fx.push(Effect::HandleNextAction(secret));
                }
                None => self.fail(
                    Problem::Server {
                        code: Some(const { ErrorCode::StripeError.as_str() }.into()),
                        message: None,
                    },
                    fx,
                ),
            },
            PayStatus::Processing if self.method.is_some_and(MethodType::settles_later) => {
                self.phase = Phase::Pending
            }
            PayStatus::Processing => self.poll(fx),
            PayStatus::Failed => {
                let problem = match response.error {
                    Some(error) => Problem::Api(error),
                    None => Problem::Server {
                        code: None,
                        message: None,
                    },
                };
                self.fail(problem, fx)
            }
        }
    }

    fn on_refusal(&mut self, problem: Problem, fx: &mut Vec<Effect>) {
        match &problem {
            // Network and 5xx, after the retries: keep the form and what was typed.
            Problem::Unreachable => {
                self.phase = Phase::Ready(Some(problem.clone()));
                fx.push(Effect::Emit(Event::Failed(problem)));
            }
            Problem::Api(error) if error.code == ErrorCode::CheckoutAlreadyPaid => {
                if matches!(self.phase, Phase::Paying) {
                    // Paid in another tab or by an earlier attempt: the refresh says how.
                    self.phase = Phase::Processing;
                    fx.push(Effect::Refresh { after_ms: 0 });
                } else {
                    self.phase = Phase::Paid(None);
                }
            }
            _ => self.fail_closed(problem, fx),
        }
    }

    /// A problem that ends the checkout when it is about the checkout itself, or fails this
    /// attempt otherwise.
    fn fail_closed(&mut self, problem: Problem, fx: &mut Vec<Effect>) {
        let code = match &problem {
            Problem::Api(error) => Some(error.code),
            _ => None,
        };
        match code {
            Some(ErrorCode::CheckoutExpired) => self.close(Phase::Expired, fx),
            Some(ErrorCode::CheckoutCanceled) => self.close(Phase::Canceled, fx),
            Some(ErrorCode::PaymentsUnavailable) => self.close(Phase::Unavailable, fx),
            Some(ErrorCode::CheckoutAlreadyPaid) => self.phase = Phase::Paid(None),
            _ if matches!(self.phase, Phase::Loading) => self.close(Phase::Broken(problem), fx),
            _ => self.fail(problem, fx),
        }
    }

    fn fail(&mut self, problem: Problem, fx: &mut Vec<Effect>) {
        self.phase = Phase::Failed(problem.clone());
        fx.push(Effect::Emit(Event::Failed(problem)));
    }

    /// Ends in a phase nothing leaves, telling the host page why.
    fn close(&mut self, phase: Phase, fx: &mut Vec<Effect>) {
        let problem = match &phase {
            Phase::Refused(p) | Phase::Broken(p) => p.clone(),
            Phase::Unavailable => api_problem(ErrorCode::PaymentsUnavailable),
            Phase::Expired => api_problem(ErrorCode::CheckoutExpired),
            Phase::Canceled => api_problem(ErrorCode::CheckoutCanceled),
            _ => return self.phase = phase,
        };
        self.phase = phase;
        fx.push(Effect::Emit(Event::Failed(problem)));
    }

    fn poll(&mut self, fx: &mut Vec<Effect>) {
        self.phase = Phase::Processing;
        if self.polls < PROCESSING_POLLS {
            self.polls += 1;
            fx.push(Effect::Refresh {
                after_ms: PROCESSING_POLL_MS,
            });
        }
    }

    fn maybe_ready(&mut self, fx: &mut Vec<Effect>) {
        if self.card_ready && !self.ready_sent && matches!(self.phase, Phase::Ready(_)) {
            self.ready_sent = true;
            fx.push(Effect::Emit(Event::Ready));
        }
    }
}

/// Core's rule, plus the server's own minimum for currencies core has no minimum for.
fn chargeable(amount: Money, server_minimum: Option<i64>) -> Result<(), ChargeError> {
    check_chargeable(amount)?;
    match server_minimum {
        Some(minimum) if amount.minor() < minimum => Err(ChargeError::TooSmall {
            minimum: Money::from_minor(minimum, amount.currency()),
        }),
        _ => Ok(()),
    }
}

/// A problem the widget words from its code alone (the message is never shown).
fn api_problem(code: ErrorCode) -> Problem {
    Problem::Api(ApiError::new(code, code_name(code)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{problem_text, Words};
    use slotpay_core::{
        CardBrand, CheckoutToken, Currency, Last4, Locale, PaymentMethodId, SaveCardOffer,
    };

    fn view(amount: i64, currency: Currency) -> CheckoutView {
        CheckoutView {
            token: CheckoutToken::parse("cs_abcdefghijklmnopqrstuvwx").unwrap(),
            status: CheckoutStatus::Open,
            merchant_name: "Salon Léa".into(),
            description: "Haircut".into(),
            booking_ref: None,
            amount: Money::from_minor(amount, currency),
            minimum_amount: None,
            publishable_key: "pk_test_abc".into(),
            stripe_js_url: "https://js.stripe.com/v3/".into(),
            mode: IntegrationMode::Sandbox,
            card_brands: vec![CardBrand::Visa],
            payment_methods: vec![slotpay_core::MethodType::Card],
            wallets: true,
            locale: Locale::Fr,
            save_card: None,
            email: None,
            expires_at: None,
            receipt: None,
            brand_color: None,
            appearance: Default::default(),
        }
    }

    fn receipt() -> Receipt {
        Receipt {
            method: slotpay_core::MethodType::Card,
            brand: Some(CardBrand::Visa),
            last4: Some(Last4::parse("4242").unwrap()),
            amount: Money::from_minor(1250, Currency::Eur),
            reference: Some("BK-1".into()),
        }
    }

    fn answer(status: PayStatus) -> PayResponse {
        PayResponse {
            status,
            client_secret: None,
            error: None,
            receipt: None,
        }
    }

    fn pm() -> PaymentMethodId {
        PaymentMethodId::parse("pm_card_visa").unwrap()
    }

    /// A machine in Ready with the card element ready.
    fn ready() -> Machine {
        let mut m = Machine::new(None, None);
        assert_eq!(
            m.step(Input::ViewLoaded(view(1250, Currency::Eur))),
            [Effect::LoadStripe]
        );
        assert_eq!(m.step(Input::StripeLoaded), []);
        assert_eq!(m.step(Input::CardReady), [Effect::Emit(Event::Ready)]);
        assert_eq!(m.phase(), &Phase::Ready(None));
        m
    }

    fn submit(m: &mut Machine, email: &str) -> Vec<Effect> {
        m.step(Input::Submit {
            email: email.into(),
            save_card: true,
        })
    }

    /// A machine waiting for the pay answer.
    fn paying() -> Machine {
        let mut m = ready();
        let email = Email::parse("lea@example.com").unwrap();
        assert_eq!(
            submit(&mut m, " lea@example.com"),
            [Effect::CreatePaymentMethod(email.clone())]
        );
        assert_eq!(
            m.step(Input::PaymentMethod(Ok((pm(), MethodType::Card)))),
            [Effect::Pay(PayRequest {
                payment_method: pm(),
                email,
                save_card: false, // not offered, so not sent even though ticked
                return_url: None,
            })]
        );
        m
    }

    /// A machine in Ready on a checkout held until 1,000 (unix seconds).
    fn held() -> Machine {
        let mut m = Machine::new(None, None);
        let mut v = view(1250, Currency::Eur);
        v.expires_at = Some(1_000);
        assert_eq!(
            m.step(Input::ViewLoaded(v)),
            [Effect::Tick { after_ms: 0 }, Effect::LoadStripe]
        );
        assert_eq!(m.step(Input::Tick(100)), [Effect::Tick { after_ms: 1_000 }]);
        m.step(Input::StripeLoaded);
        m.step(Input::CardReady);
        m
    }

    #[test]
    fn a_short_hold_counts_down_and_closes_when_it_runs_out() {
        let mut m = held();
        assert_eq!(m.hold_left(), Some(900));
        assert_eq!(m.step(Input::Tick(941)), [Effect::Tick { after_ms: 1_000 }]);
        assert_eq!(m.hold_left(), Some(59));
        assert!(!m.hold_lapsed());
        assert_eq!(
            m.step(Input::Tick(1_000)),
            [Effect::Emit(Event::Failed(api_problem(
                ErrorCode::CheckoutExpired
            )))]
        );
        assert_eq!(m.phase(), &Phase::Expired);
        assert!(m.hold_lapsed());
        assert_eq!(m.hold_left(), None, "no clock once closed");
        assert_eq!(m.step(Input::Tick(1_001)), [], "and no more ticks");
    }

    #[test]
    fn a_payment_in_flight_when_the_hold_runs_out_is_left_to_the_server() {
        let mut m = held();
        submit(&mut m, "lea@example.com");
        assert_eq!(m.phase(), &Phase::Paying);
        assert_eq!(
            m.step(Input::Tick(1_005)),
            [Effect::Tick { after_ms: 1_000 }]
        );
        assert_eq!(m.phase(), &Phase::Paying);
        m.step(Input::PaymentMethod(Ok((pm(), MethodType::Card))));
        m.step(Input::Answer(Ok(answer(PayStatus::Succeeded))));
        assert!(matches!(m.phase(), Phase::Paid(_)));
        assert_eq!(m.step(Input::Tick(1_006)), []);
    }

    #[test]
    fn links_that_live_for_days_are_not_counted_down() {
        let mut m = Machine::new(None, None);
        let mut v = view(1250, Currency::Eur);
        v.expires_at = Some(100 + 7 * 86_400);
        m.step(Input::ViewLoaded(v));
        assert_eq!(m.step(Input::Tick(100)), []);
        assert_eq!(m.hold_left(), None);
        // Without an expiry, no tick at all.
        let mut m = Machine::new(None, None);
        assert_eq!(
            m.step(Input::ViewLoaded(view(1250, Currency::Eur))),
            [Effect::LoadStripe]
        );
    }

    #[test]
    fn happy_path_emits_ready_then_succeeded() {
        let mut m = paying();
        let mut ok = answer(PayStatus::Succeeded);
        ok.receipt = Some(receipt());
        assert_eq!(
            m.step(Input::Answer(Ok(ok))),
            [Effect::Emit(Event::Succeeded)]
        );
        assert_eq!(m.phase(), &Phase::Paid(Some(receipt())));
        // Late answers and clicks change nothing once paid.
        assert_eq!(m.step(Input::Answer(Err(Problem::Unreachable))), []);
        assert_eq!(submit(&mut m, "a@b.co"), []);
        assert_eq!(m.phase(), &Phase::Paid(Some(receipt())));
    }

    #[test]
    fn ready_waits_for_both_stripe_and_the_card_element() {
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(view(1250, Currency::Eur)));
        // The card element may say ready before the glue reports Stripe loaded.
        assert_eq!(m.step(Input::CardReady), []);
        assert_eq!(m.step(Input::StripeLoaded), [Effect::Emit(Event::Ready)]);
        assert_eq!(m.step(Input::CardReady), [], "ready is sent once");
    }

    #[test]
    fn second_click_while_paying_does_nothing() {
        let mut m = paying();
        assert_eq!(submit(&mut m, "lea@example.com"), []);
        assert_eq!(m.phase(), &Phase::Paying);
        assert!(m.phase().is_busy());
    }

    #[test]
    fn invalid_email_is_refused_before_any_call() {
        let mut m = ready();
        assert_eq!(submit(&mut m, "lea@"), [Effect::FocusEmail]);
        assert_eq!(m.phase(), &Phase::Ready(Some(Problem::Email)));
        // Fixing it goes on.
        assert!(matches!(
            submit(&mut m, "lea@example.com")[..],
            [Effect::CreatePaymentMethod(_)]
        ));
    }

    #[test]
    fn below_minimum_is_refused_on_load_without_stripe() {
        let mut m = Machine::new(None, None);
        let fx = m.step(Input::ViewLoaded(view(49, Currency::Usd)));
        let Phase::Refused(problem) = m.phase().clone() else {
            panic!("{:?}", m.phase())
        };
        assert_eq!(problem.code(), "amount_too_small");
        assert_eq!(fx, [Effect::Emit(Event::Failed(problem))]);
        // No way to pay from here.
        assert_eq!(m.step(Input::StripeLoaded), []);
        assert_eq!(submit(&mut m, "a@b.co"), []);
    }

    #[test]
    fn the_servers_minimum_counts_for_currencies_core_does_not_list() {
        let mut v = view(900, Currency::Isk);
        v.minimum_amount = Some(10_000);
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(v));
        let Phase::Refused(Problem::Charge(ChargeError::TooSmall { minimum })) = m.phase() else {
            panic!("{:?}", m.phase())
        };
        assert_eq!(*minimum, Money::from_minor(10_000, Currency::Isk));
    }

    #[test]
    fn zero_and_three_decimal_amounts_are_payable() {
        for (amount, currency) in [(500, Currency::Jpy), (5120, Currency::Kwd)] {
            let mut m = Machine::new(None, None);
            assert_eq!(
                m.step(Input::ViewLoaded(view(amount, currency))),
                [Effect::LoadStripe]
            );
        }
        // A KWD amount off its step is refused with core's rule.
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(view(5125, Currency::Kwd)));
        assert!(matches!(
            m.phase(),
            Phase::Refused(Problem::Charge(ChargeError::InvalidStep { .. }))
        ));
    }

    #[test]
    fn three_d_secure_then_refresh() {
        let mut m = paying();
        let mut action = answer(PayStatus::RequiresAction);
        action.client_secret = Some("pi_1_secret_2".into());
        assert_eq!(
            m.step(Input::Answer(Ok(action))),
            [Effect::HandleNextAction("pi_1_secret_2".into())]
        );
        assert_eq!(m.phase(), &Phase::Authenticating);
        assert!(m.phase().is_busy());
        assert_eq!(
            m.step(Input::Confirmed(false)),
            [Effect::Refresh { after_ms: 0 }]
        );
        assert_eq!(
            m.step(Input::Answer(Ok(answer(PayStatus::Succeeded)))),
            [Effect::Emit(Event::Succeeded)]
        );
        assert_eq!(m.phase(), &Phase::Paid(None));
    }

    #[test]
    fn three_d_secure_failed_before_the_server_knows() {
        let mut m = paying();
        let mut action = answer(PayStatus::RequiresAction);
        action.client_secret = Some("pi_1_secret_2".into());
        m.step(Input::Answer(Ok(action.clone())));
        m.step(Input::Confirmed(true));
        let fx = m.step(Input::Answer(Ok(action)));
        let Phase::Failed(problem) = m.phase().clone() else {
            panic!("{:?}", m.phase())
        };
        assert_eq!(problem.code(), "authentication_required");
        assert_eq!(fx, [Effect::Emit(Event::Failed(problem))]);
        // Another card from here.
        assert_eq!(
            m.step(Input::TryAgain),
            [Effect::ClearCard, Effect::FocusCard]
        );
        assert_eq!(m.phase(), &Phase::Ready(None));
    }

    #[test]
    fn decline_fails_and_allows_another_card() {
        let mut m = paying();
        let mut failed = answer(PayStatus::Failed);
        failed.error = Some(
            ApiError::new(ErrorCode::CardDeclined, "Your card was declined.")
                .with_decline_code("generic_decline"),
        );
        let fx = m.step(Input::Answer(Ok(failed.clone())));
        let problem = Problem::Api(failed.error.unwrap());
        assert_eq!(fx, [Effect::Emit(Event::Failed(problem.clone()))]);
        assert_eq!(m.phase(), &Phase::Failed(problem));
        m.step(Input::TryAgain);
        assert!(matches!(
            submit(&mut m, "lea@example.com")[..],
            [Effect::CreatePaymentMethod(_)]
        ));
    }

    #[test]
    fn network_failure_keeps_the_form() {
        let mut m = paying();
        let fx = m.step(Input::Answer(Err(Problem::Unreachable)));
        assert_eq!(fx, [Effect::Emit(Event::Failed(Problem::Unreachable))]);
        assert_eq!(m.phase(), &Phase::Ready(Some(Problem::Unreachable)));
        assert_eq!(Problem::Unreachable.code(), "network_error");
    }

    #[test]
    fn card_validation_error_returns_to_the_form() {
        let mut m = ready();
        submit(&mut m, "lea@example.com");
        let problem = Problem::Card {
            code: Some("incomplete_number".into()),
            message: "Your card number is incomplete.".into(),
        };
        assert_eq!(
            m.step(Input::PaymentMethod(Err(problem.clone()))),
            [Effect::FocusCard]
        );
        assert_eq!(m.phase(), &Phase::Ready(Some(problem)));
    }

    #[test]
    fn processing_is_polled_a_bounded_number_of_times() {
        let mut m = paying();
        for _ in 0..PROCESSING_POLLS {
            assert_eq!(
                m.step(Input::Answer(Ok(answer(PayStatus::Processing)))),
                [Effect::Refresh {
                    after_ms: PROCESSING_POLL_MS
                }]
            );
        }
        assert_eq!(m.step(Input::Answer(Ok(answer(PayStatus::Processing)))), []);
        assert_eq!(m.phase(), &Phase::Processing);
    }

    /// Where a problem leaves the machine on load, and when paying (refused, or in a failed
    /// answer when it is the server's), with the effects it asked for; the problem itself
    /// reduced to its code and the words shown for it.
    fn outcome(problem: &Problem) -> Vec<String> {
        let words = Words::none();
        let shown = |p: &Problem| {
            // A refusal's code as the server sent it (the widget itself names only the codes
            // it tells apart).
            let code = match p {
                Problem::Api(error) => error.code.as_str(),
                p => p.code(),
            };
            let text = problem_text(&words, Locale::De, p, &|_| String::new());
            format!("{code} {text}")
        };
        let seen = |m: &Machine, fx: Vec<Effect>| {
            let phase = match m.phase() {
                Phase::Failed(p) | Phase::Broken(p) | Phase::Refused(p) => shown(p),
                phase => format!("{phase:?}"),
            };
            let fx: Vec<String> = fx
                .iter()
                .map(|e| match e {
                    Effect::Emit(Event::Failed(p)) => shown(p),
                    e => format!("{e:?}"),
                })
                .collect();
            format!("{:?} {phase} {fx:?}", std::mem::discriminant(m.phase()))
        };
        let mut on_load = Machine::new(None, None);
        let fx = on_load.step(Input::ViewFailed(problem.clone()));
        let mut out = vec![seen(&on_load, fx)];
        let mut refused = paying();
        let fx = refused.step(Input::Answer(Err(problem.clone())));
        out.push(seen(&refused, fx));
        if let Problem::Api(error) = problem {
            let mut failed = answer(PayStatus::Failed);
            failed.error = Some(error.clone());
            let mut m = paying();
            let fx = m.step(Input::Answer(Ok(failed)));
            out.push(seen(&m, fx));
        } else {
            out.push(out[1].clone());
        }
        out
    }

    /// A code the widget does not tell apart reads as the server's words, and that changes
    /// nothing: no sentence of its own, the same move of the machine, the same code for the
    /// host page. The codes told apart read back from their names.
    #[test]
    fn codes_not_told_apart_do_as_the_server_says() {
        let declines = [
            None,
            Some("insufficient_funds"),
            Some("expired_card"),
            Some("incorrect_cvc"),
            Some("incorrect_number"),
            Some("processing_error"),
            Some("authentication_required"),
            Some("test_mode_live_card"),
            Some("generic_decline"),
        ];
        for &code in ErrorCode::ALL {
            let api = Problem::Api(ApiError::new(code, "Server words"));
            if TOLD_APART.contains(&code) {
                assert_eq!(told_apart(code.as_str()), Some(code));
                assert_eq!(api.code(), code.as_str());
                continue;
            }
            assert_eq!(told_apart(code.as_str()), None);
            for decline in declines {
                assert_eq!(crate::i18n::for_error(code, decline), None, "{code:?}");
            }
            let server = Problem::Server {
                code: Some(code.as_str().into()),
                message: Some("Server words".into()),
            };
            assert_eq!(outcome(&api), outcome(&server), "{code:?}");
        }
        assert_eq!(told_apart("made_up"), None);
    }

    #[test]
    fn checkout_level_errors_close_the_checkout() {
        for (code, phase) in [
            (ErrorCode::CheckoutExpired, Phase::Expired),
            (ErrorCode::CheckoutCanceled, Phase::Canceled),
            (ErrorCode::PaymentsUnavailable, Phase::Unavailable),
        ] {
            let problem = Problem::Api(ApiError::new(code, "x"));
            // On load ...
            let mut m = Machine::new(None, None);
            let fx = m.step(Input::ViewFailed(problem.clone()));
            assert_eq!(m.phase(), &phase);
            assert!(
                matches!(&fx[..], [Effect::Emit(Event::Failed(p))] if p.code() == code.as_str())
            );
            // ... and when paying.
            let mut m = paying();
            m.step(Input::Answer(Err(problem)));
            assert_eq!(m.phase(), &phase);
        }
        let mut m = Machine::new(None, None);
        let missing = Problem::Api(ApiError::new(ErrorCode::CheckoutNotFound, "x"));
        m.step(Input::ViewFailed(missing.clone()));
        assert_eq!(m.phase(), &Phase::Broken(missing));
    }

    const PAGE: &str = "https://salon.example/book?slot=3";

    fn page() -> ReturnUrl {
        ReturnUrl::parse(PAGE).unwrap()
    }

    #[test]
    fn a_bank_redirect_sends_the_page_to_come_back_to_and_a_card_does_not() {
        for (method, return_url) in [
            (MethodType::Ideal, Some(page())),
            (MethodType::Bancontact, Some(page())),
            (MethodType::Card, None),
            (MethodType::SepaDebit, None),
        ] {
            let mut m = ready();
            m.set_page(PAGE, false);
            submit(&mut m, "lea@example.com");
            let fx = m.step(Input::PaymentMethod(Ok((pm(), method))));
            let [Effect::Pay(request)] = fx.as_slice() else {
                panic!("{method:?}: {fx:?}")
            };
            assert_eq!(request.return_url, return_url, "{method:?}");
        }
    }

    #[test]
    fn a_debit_under_way_shows_the_booking_reserved_without_asking_again() {
        let mut m = ready();
        submit(&mut m, "lea@example.com");
        m.step(Input::PaymentMethod(Ok((pm(), MethodType::SepaDebit))));
        assert_eq!(m.step(Input::Answer(Ok(answer(PayStatus::Processing)))), []);
        assert_eq!(m.phase(), &Phase::Pending);
        assert!(!m.phase().is_busy());

        let mut processing = view(1250, Currency::Eur);
        processing.status = CheckoutStatus::Processing;
        let mut m = Machine::new(None, None);
        assert_eq!(m.step(Input::ViewLoaded(processing)), []);
        assert_eq!(m.phase(), &Phase::Pending);
    }

    /// A machine whose view loaded on the page the bank sent the client back to.
    fn returned(status: CheckoutStatus) -> Machine {
        let mut m = Machine::new(None, None);
        m.set_page(PAGE, true);
        let mut v = view(1250, Currency::Eur);
        v.status = status;
        assert_eq!(
            m.step(Input::ViewLoaded(v)),
            [Effect::LoadStripe, Effect::Refresh { after_ms: 0 }]
        );
        assert_eq!(m.phase(), &Phase::Processing);
        assert_eq!(m.step(Input::StripeLoaded), []);
        assert_eq!(m.step(Input::CardReady), []);
        m
    }

    #[test]
    fn back_from_the_bank_the_server_says_how_it_went() {
        let mut m = returned(CheckoutStatus::RequiresAction);
        let mut paid = answer(PayStatus::Succeeded);
        paid.receipt = Some(receipt());
        assert_eq!(
            m.step(Input::Answer(Ok(paid))),
            [Effect::Emit(Event::Succeeded)]
        );
        assert_eq!(m.phase(), &Phase::Paid(Some(receipt())));

        let mut m = returned(CheckoutStatus::RequiresAction);
        let mut failed = answer(PayStatus::Failed);
        let refused = ApiError::new(
            ErrorCode::AuthenticationRequired,
            "Your bank did not approve",
        );
        failed.error = Some(refused.clone());
        m.step(Input::Answer(Ok(failed)));
        assert_eq!(m.phase(), &Phase::Failed(Problem::Api(refused)));
        assert_eq!(
            m.step(Input::TryAgain),
            [Effect::ClearCard, Effect::FocusCard]
        );

        // Abandoned at the bank, or an address with made-up parameters: the form again, and
        // no second trip to the bank on its own.
        let mut m = returned(CheckoutStatus::RequiresAction);
        let mut waiting = answer(PayStatus::RequiresAction);
        waiting.client_secret = Some("pi_1_secret_2".into());
        assert_eq!(
            m.step(Input::Answer(Ok(waiting))),
            [Effect::Emit(Event::Ready)]
        );
        assert_eq!(m.phase(), &Phase::Ready(None));

        // A page reloaded while an attempt waited for the client (no bank parameters): the
        // server is asked too, before any form.
        let mut m = Machine::new(None, None);
        let mut v = view(1250, Currency::Eur);
        v.status = CheckoutStatus::RequiresAction;
        assert_eq!(
            m.step(Input::ViewLoaded(v)),
            [Effect::LoadStripe, Effect::Refresh { after_ms: 0 }]
        );
        assert_eq!(m.phase(), &Phase::Processing);

        // Paid by the webhook meanwhile: the view says so, nothing is asked.
        let mut m = Machine::new(None, None);
        m.set_page(PAGE, true);
        let mut v = view(1250, Currency::Eur);
        v.status = CheckoutStatus::Paid;
        assert_eq!(m.step(Input::ViewLoaded(v)), []);
        assert!(matches!(m.phase(), Phase::Paid(_)));
    }

    #[test]
    fn statuses_in_the_view() {
        let mut paid = view(1250, Currency::Eur);
        paid.status = CheckoutStatus::Paid;
        paid.receipt = Some(receipt());
        let mut m = Machine::new(None, None);
        assert_eq!(m.step(Input::ViewLoaded(paid)), []);
        assert_eq!(m.phase(), &Phase::Paid(Some(receipt())));

        let mut expired = view(1250, Currency::Eur);
        expired.status = CheckoutStatus::Expired;
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(expired));
        assert_eq!(m.phase(), &Phase::Expired);

        let mut off = view(1250, Currency::Eur);
        off.mode = IntegrationMode::Off;
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(off));
        assert_eq!(m.phase(), &Phase::Unavailable);
        assert!(!m.is_test_mode());
    }

    #[test]
    fn already_paid_while_paying_asks_the_server() {
        let mut m = paying();
        let fx = m.step(Input::Answer(Err(Problem::Api(ApiError::new(
            ErrorCode::CheckoutAlreadyPaid,
            "x",
        )))));
        assert_eq!(fx, [Effect::Refresh { after_ms: 0 }]);
        assert_eq!(m.phase(), &Phase::Processing);
    }

    #[test]
    fn consent_is_sent_only_when_offered() {
        let mut v = view(1250, Currency::Eur);
        v.save_card = Some(SaveCardOffer {
            consent_text: "Save my card".into(),
        });
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(v));
        m.step(Input::StripeLoaded);
        submit(&mut m, "lea@example.com");
        let fx = m.step(Input::PaymentMethod(Ok((pm(), MethodType::Card))));
        assert!(matches!(
            &fx[..],
            [Effect::Pay(PayRequest {
                save_card: true,
                ..
            })]
        ));
    }

    #[test]
    fn locale_priority() {
        let mut m = Machine::new(None, Some(Locale::De));
        assert_eq!(m.locale(), Locale::De, "page while loading");
        let loaded = Input::ViewLoaded(view(1250, Currency::Eur));
        assert_eq!(
            m.locale_after(&loaded),
            Locale::Fr,
            "the view's, before it is taken"
        );
        let failed = Input::ViewFailed(Problem::Unreachable);
        assert_eq!(
            m.locale_after(&failed),
            Locale::De,
            "a failed view brings none"
        );
        m.step(loaded);
        assert_eq!(m.locale(), Locale::Fr, "then the checkout's");
        let mut m = Machine::new(Some(Locale::Es), Some(Locale::De));
        m.step(Input::ViewLoaded(view(1250, Currency::Eur)));
        assert_eq!(m.locale(), Locale::Es, "the embedder's choice wins");
        assert_eq!(Machine::new(None, None).locale(), Locale::En);
    }

    #[test]
    fn stripe_failure_breaks_the_checkout() {
        let mut m = Machine::new(None, None);
        m.step(Input::ViewLoaded(view(1250, Currency::Eur)));
        let fx = m.step(Input::StripeFailed);
        assert_eq!(fx, [Effect::Emit(Event::Failed(Problem::StripeJs))]);
        assert_eq!(m.phase(), &Phase::Broken(Problem::StripeJs));
        assert_eq!(Problem::StripeJs.code(), "stripe_js_unavailable");
    }
}
