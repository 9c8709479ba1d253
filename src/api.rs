//! Calls to the slotpay server's public API: the checkout view (fetched, created from the
//! catalogue, or already started by the loader), the checkout's words, pay with an
//! idempotency key, refresh.
//!
//! Network failures, 5xx and 429 answers are retried with the same request (and so the same
//! `Idempotency-Key`) on the schedule in `key.rs`; every other answer is final. Bodies are
//! parsed by the browser (`Response.json()`) and read into core's wire types by `wire.rs`, so
//! no JSON parser is compiled into the wasm.

use js_sys::Promise;
use slotpay_core::{CheckoutToken, CheckoutView, Locale, PayRequest, PayResponse};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, RequestInit, Response};

use crate::i18n::Words;
use crate::js::{get, get_string, object, sleep};
use crate::key::{is_retryable_status, RETRY_DELAYS_MS};
use crate::machine::Problem;
use crate::task::wait;
use crate::wire::{self, Read};

/// How long one request may take before it is abandoned and retried.
const REQUEST_TIMEOUT_MS: u32 = 20_000;

/// Which checkout to show: an existing one, or a new one for a service of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `GET /v1/checkouts/{token}`.
    Checkout(CheckoutToken),
    /// `POST /v1/merchants/{merchant}/checkouts {"service_id": service}`.
    Service {
        /// The merchant's id (`mer_...`).
        merchant: String,
        /// The service's id (`svc_...`).
        service: String,
    },
}

/// The slotpay server, by its base URL.
#[derive(Clone, Debug)]
pub struct Api {
    base: String,
}

impl Api {
    /// The API at `base` (`https://pay.example.com` or `.../`).
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL followed by `path`'s parts.
    pub fn url(&self, path: &[&str]) -> String {
        let mut url = self.base.clone();
        for part in path {
            url.push_str(part);
        }
        url
    }

    /// The checkout's view. `started` is the loader's fetch of the same request (a promise
    /// of a `Response`), used as the first try.
    pub async fn view(
        &self,
        source: &Source,
        started: Option<Promise>,
    ) -> Result<CheckoutView, Problem> {
        let call = match source {
            Source::Checkout(token) => {
                Call::new("GET", self.url(&["/v1/checkouts/", token.as_str()]))
            }
            Source::Service { merchant, service } => {
                let merchant: String = js_sys::encode_uri_component(merchant).into();
                let url = self.url(&["/v1/merchants/", &merchant, "/checkouts"]);
                let body = object(&[("service_id", service.as_str().into())]);
                Call::new("POST", url).json(&body)
            }
        };
        decode(send(&call, started).await?, wire::checkout_view)
    }

    /// `locale`'s words: `loaded` (the loader's fetch, a promise of the parsed body or `null`)
    /// when they are that language's, else `GET /words/{locale}.json`. `None` when neither
    /// gives them.
    pub async fn words(&self, locale: Locale, loaded: Option<Promise>) -> Option<Words> {
        let of_locale = |body: JsValue| wire::words(&body).ok().filter(|w| w.speaks(locale));
        if let Some(promise) = loaded {
            if let Some(words) = wait(promise).await.ok().and_then(of_locale) {
                return Some(words);
            }
        }
        let url = self.url(&["/words/", locale.as_str(), ".json"]);
        // `Response.ok` is a 2xx status: read from `status`, which `send` reads too.
        let response = Call::new("GET", url)
            .fetch()
            .await
            .filter(|r| (200..300).contains(&r.status()))?;
        of_locale(read_json(response).await)
    }

    /// `POST /v1/checkouts/{token}/pay` with `key` as `Idempotency-Key`; sent by
    /// [`Call::pay_response`].
    pub fn pay(&self, token: &CheckoutToken, request: &PayRequest, key: &str) -> Call {
        let body = object(&[
            ("payment_method", request.payment_method.as_str().into()),
            ("email", request.email.as_str().into()),
            ("save_card", request.save_card.into()),
            // Left out (`undefined`) when there is none.
            (
                "return_url",
                request.return_url.as_ref().map(|u| u.as_str()).into(),
            ),
        ]);
        let url = self.url(&["/v1/checkouts/", token.as_str(), "/pay"]);
        Call::new("POST", url)
            .json(&body)
            .header("Idempotency-Key", key)
    }

    /// `POST /v1/checkouts/{token}/refresh`, after 3-D Secure; sent by
    /// [`Call::pay_response`].
    pub fn refresh(&self, token: &CheckoutToken) -> Call {
        let url = self.url(&["/v1/checkouts/", token.as_str(), "/refresh"]);
        Call::new("POST", url)
    }
}

/// One request, sent afresh on each try (same method, headers and body).
pub struct Call {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, JsValue)>,
    /// The body, a JavaScript string (kept in JavaScript), or `undefined` for none.
    body: JsValue,
}

impl Call {
    fn new(method: &'static str, url: String) -> Call {
        Call {
            method,
            url,
            headers: Vec::new(),
            body: JsValue::UNDEFINED,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    /// Sends a pay or refresh request (retried as [`send`] does) and reads its answer.
    pub async fn pay_response(&self) -> Result<PayResponse, Problem> {
        decode(send(self, None).await?, wire::pay_response)
    }

    /// A JSON body: `JSON.stringify(value)`.
    fn json(mut self, value: &js_sys::Object) -> Call {
        self.body = js_sys::JSON::stringify(value).map_or(JsValue::UNDEFINED, JsValue::from);
        self.header("Content-Type", "application/json")
    }

    /// `fetch(url, {method, headers, body, signal})`, with a timeout; `None` when it fails
    /// on the network (or times out).
    async fn fetch(&self) -> Option<Response> {
        // A plain object is a `RequestInit` dictionary; building it with `Reflect.set` saves
        // the wasm a binding per field.
        let signal = AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
        let init = object(&[
            ("method", self.method.into()),
            ("headers", object(&self.headers).into()),
            ("body", self.body.clone()),
            ("signal", signal.into()),
        ])
        .unchecked_into::<RequestInit>();
        wait(crate::js::fetch(&self.url, &init))
            .await
            .ok()?
            .dyn_into()
            .ok()
    }
}

/// What came back: the HTTP status and the JSON body (`null` when not JSON).
struct Answer {
    status: u16,
    body: JsValue,
}

/// Sends `call` (a fresh request per try), after `started` if given, retrying network
/// failures, 5xx and 429 on the schedule; the last answer wins.
async fn send(call: &Call, started: Option<Promise>) -> Result<Answer, Problem> {
    let mut last: Option<Answer> = None;
    let mut started = started;
    for attempt in 0..=RETRY_DELAYS_MS.len() {
        if attempt > 0 {
            sleep(RETRY_DELAYS_MS[attempt - 1]).await;
        }
        let response = match started.take() {
            Some(promise) => wait(promise)
                .await
                .ok()
                .and_then(|r| r.dyn_into::<Response>().ok()),
            None => call.fetch().await,
        };
        let Some(response) = response else { continue };
        let answer = Answer {
            status: response.status(),
            body: read_json(response).await,
        };
        if !is_retryable_status(answer.status) {
            return Ok(answer);
        }
        last = Some(answer);
    }
    match last {
        // The server kept answering 5xx: its own words (stripe_unavailable) if it sent any.
        Some(answer) if !get(&answer.body, "error").is_undefined() => Ok(answer),
        _ => Err(Problem::Unreachable),
    }
}

async fn read_json(response: Response) -> JsValue {
    match response.json() {
        Ok(promise) => wait(promise).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// The body as `T` (a 2xx, or a 402 that carries a `PayResponse`), else the error it holds.
fn decode<T>(answer: Answer, read: fn(&JsValue) -> Read<T>) -> Result<T, Problem> {
    let success = (200..300).contains(&answer.status) || answer.status == 402;
    if success {
        if let Ok(value) = read(&answer.body) {
            return Ok(value);
        }
    }
    Err(refusal(&answer.body))
}

/// The error a body holds; kept out of `decode`, of which the wasm has one copy per type it
/// reads.
#[inline(never)]
fn refusal(body: &JsValue) -> Problem {
    let error = get(body, "error");
    if let Ok(error) = wire::api_error(&error) {
        return Problem::Api(error);
    }
    // A code this widget does not tell apart, or no JSON at all: the server's words, if any.
    Problem::Server {
        code: get_string(&error, "code"),
        message: get_string(&error, "message"),
    }
}
