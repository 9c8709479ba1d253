//! Calls to the slotpay server's public API: the checkout view (fetched, created from the
//! catalogue, or already started by the loader), pay with an idempotency key, refresh.
//!
//! Network failures, 5xx and 429 answers are retried with the same request (and so the same
//! `Idempotency-Key`) on the schedule in `key.rs`; every other answer is final. Bodies are
//! read with `Response.json()` and turned into core's wire types by `serde_wasm_bindgen`, so
//! no JSON parser is compiled into the wasm.

use gloo_net::http::{Request, RequestBuilder, Response};
use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use slotpay_core::{CheckoutToken, CheckoutView, ErrorBody, PayRequest, PayResponse};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js::{get, get_string, object, sleep};
use crate::key::{is_retryable_status, RETRY_DELAYS_MS};
use crate::machine::Problem;

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

    fn url(&self, path: &[&str]) -> String {
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
        let answer = match source {
            Source::Checkout(token) => {
                let url = self.url(&["/v1/checkouts/", token.as_str()]);
                send(|| build(Request::get(&url), None), started).await?
            }
            Source::Service { merchant, service } => {
                let merchant: String = js_sys::encode_uri_component(merchant).into();
                let url = self.url(&["/v1/merchants/", &merchant, "/checkouts"]);
                let body = json(&object(&[("service_id", service.as_str().into())]).into());
                send(|| build(Request::post(&url), Some(&body)), started).await?
            }
        };
        decode(answer)
    }

    /// `POST /v1/checkouts/{token}/pay` with `key` as `Idempotency-Key`.
    pub async fn pay(
        &self,
        token: &CheckoutToken,
        request: &PayRequest,
        key: &str,
    ) -> Result<PayResponse, Problem> {
        let body = json(&to_js(request));
        let url = self.url(&["/v1/checkouts/", token.as_str(), "/pay"]);
        let pay = || build(Request::post(&url).header("Idempotency-Key", key), Some(&body));
        decode(send(pay, None).await?)
    }

    /// `POST /v1/checkouts/{token}/refresh`, after 3-D Secure.
    pub async fn refresh(&self, token: &CheckoutToken) -> Result<PayResponse, Problem> {
        let url = self.url(&["/v1/checkouts/", token.as_str(), "/refresh"]);
        decode(send(|| build(Request::post(&url), None), None).await?)
    }
}

/// `JSON.stringify(value)`.
fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}

/// A request with a timeout, and a JSON body when given.
fn build(builder: RequestBuilder, json_body: Option<&str>) -> Option<Request> {
    let signal = web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
    let builder = builder.abort_signal(Some(&signal));
    match json_body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body)
            .ok(),
        None => builder.build().ok(),
    }
}

/// A JSON value of a wire type, as a plain JavaScript object.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// What came back: the HTTP status and the JSON body (`null` when not JSON).
struct Answer {
    status: u16,
    body: JsValue,
}

/// Sends `request()` (a fresh request per try, same headers and body), after `started` if
/// given, retrying network failures, 5xx and 429 on the schedule; the last answer wins.
async fn send(
    request: impl Fn() -> Option<Request>,
    started: Option<Promise>,
) -> Result<Answer, Problem> {
    let mut last: Option<Answer> = None;
    let mut started = started;
    for attempt in 0..=RETRY_DELAYS_MS.len() {
        if attempt > 0 {
            sleep(RETRY_DELAYS_MS[attempt - 1]).await;
        }
        let response = match started.take() {
            Some(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|r| r.dyn_into::<web_sys::Response>().ok())
                .map(Response::from),
            None => match request() {
                Some(request) => request.send().await.ok(),
                None => None,
            },
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
    let raw: web_sys::Response = response.into();
    match raw.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// The body as `T` (a 2xx, or a 402 that carries a `PayResponse`), else the error it holds.
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, Problem> {
    if let Ok(value) = serde_wasm_bindgen::from_value::<T>(answer.body.clone()) {
        if (200..300).contains(&answer.status) || answer.status == 402 {
            return Ok(value);
        }
    }
    if let Ok(body) = serde_wasm_bindgen::from_value::<ErrorBody>(answer.body.clone()) {
        return Err(Problem::Api(body.error));
    }
    // A code this widget does not know yet, or no JSON at all: the server's words, if any.
    let error = get(&answer.body, "error");
    Err(Problem::Server {
        code: get_string(&error, "code"),
        message: get_string(&error, "message"),
    })
}
