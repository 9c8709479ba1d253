//! The Stripe HTTP client: one `send` that every call goes through, with the pinned
//! `Stripe-Version`, the key as a sensitive bearer header, an `Idempotency-Key` on every
//! POST, a per-request timeout, and bounded retries with exponential backoff and jitter on
//! connection errors, timeouts, 429 and 5xx, keeping the same idempotency key so a retried
//! request is applied once. Only the calls slotpay makes are here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::de::DeserializeOwned;
use slotpay_core::ServerKey;
use tracing::{debug, instrument, warn};
use url::Url;

use super::error::{parse_error_body, StripeApiError, StripeError, StripeErrorKind};
use super::types::{
    Account, BalanceTransaction, CancellationReason, Charge, Customer, Deleted, Form,
    IdempotencyKey, List, PaymentIntent, PaymentMethod, PaymentMethodDomain, Refund,
    WebhookEndpoint,
};
use crate::metrics::Metrics;

/// The API version slotpay is written against: the one the official `stripe` npm SDK in
/// `node_modules` pins, so the conformance tests and this client agree.
pub const STRIPE_VERSION: &str = "2026-10-28.endive";

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How the client talks to Stripe.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.stripe.com` or the sandbox's URL; paths start with `/v1/`.
    pub api_base: Url,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First retry delay, doubled per attempt, with ±50% jitter.
    pub retry_base: Duration,
}

/// The client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StripeClient {
    http: reqwest::Client,
    config: ClientConfig,
    metrics: Arc<Metrics>,
}

impl StripeClient {
    /// A client with its own connection pool.
    pub fn new(config: ClientConfig, metrics: Arc<Metrics>) -> StripeClient {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("slotpay/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        StripeClient {
            http,
            config,
            metrics,
        }
    }

    /// `GET /v1/account`: the account the key belongs to.
    pub async fn retrieve_account(&self, key: &ServerKey) -> Result<Account, StripeError> {
        self.send(
            "retrieve_account",
            key,
            Method::GET,
            "/v1/account",
            &Form::new(),
            None,
        )
        .await
    }

    /// `POST /v1/webhook_endpoints`: registers `url` for `events`; the answer carries the
    /// signing secret (the only time Stripe shows it).
    pub async fn create_webhook_endpoint(
        &self,
        key: &ServerKey,
        url: &str,
        events: &[&str],
        merchant_id: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<WebhookEndpoint, StripeError> {
        let form = Form::new()
            .push("url", url)
            .push_list("enabled_events", events)
            .push("api_version", STRIPE_VERSION)
            .push("description", "slotpay")
            .push_map("metadata", "slotpay_merchant_id", merchant_id);
        self.send(
            "create_webhook_endpoint",
            key,
            Method::POST,
            "/v1/webhook_endpoints",
            &form,
            Some(idempotency_key),
        )
        .await
    }

    /// `GET /v1/webhook_endpoints` (first 100).
    pub async fn list_webhook_endpoints(
        &self,
        key: &ServerKey,
    ) -> Result<List<WebhookEndpoint>, StripeError> {
        let form = Form::new().push("limit", "100");
        self.send(
            "list_webhook_endpoints",
            key,
            Method::GET,
            "/v1/webhook_endpoints",
            &form,
            None,
        )
        .await
    }

    /// `GET /v1/payment_method_domains?domain_name=`: the account's registration of one domain.
    pub async fn find_payment_method_domain(
        &self,
        key: &ServerKey,
        domain_name: &str,
    ) -> Result<Option<PaymentMethodDomain>, StripeError> {
        let form = Form::new().push("domain_name", domain_name);
        let list: List<PaymentMethodDomain> = self
            .send(
                "list_payment_method_domains",
                key,
                Method::GET,
                "/v1/payment_method_domains",
                &form,
                None,
            )
            .await?;
        Ok(list.data.into_iter().next())
    }

    /// `POST /v1/payment_method_domains`.
    pub async fn create_payment_method_domain(
        &self,
        key: &ServerKey,
        domain_name: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentMethodDomain, StripeError> {
        let form = Form::new().push("domain_name", domain_name);
        self.send(
            "create_payment_method_domain",
            key,
            Method::POST,
            "/v1/payment_method_domains",
            &form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_method_domains/{id}/validate`: Stripe checks the domain again.
    pub async fn validate_payment_method_domain(
        &self,
        key: &ServerKey,
        id: &str,
    ) -> Result<PaymentMethodDomain, StripeError> {
        let path = format!("/v1/payment_method_domains/{}/validate", path_segment(id));
        self.send(
            "validate_payment_method_domain",
            key,
            Method::POST,
            &path,
            &Form::new(),
            None,
        )
        .await
    }

    /// `DELETE /v1/webhook_endpoints/{id}`.
    pub async fn delete_webhook_endpoint(
        &self,
        key: &ServerKey,
        id: &str,
    ) -> Result<Deleted, StripeError> {
        let path = format!("/v1/webhook_endpoints/{}", path_segment(id));
        self.send(
            "delete_webhook_endpoint",
            key,
            Method::DELETE,
            &path,
            &Form::new(),
            None,
        )
        .await
    }

    /// `GET /v1/payment_methods/{id}`: the card's brand before charging it.
    pub async fn retrieve_payment_method(
        &self,
        key: &ServerKey,
        id: &str,
    ) -> Result<PaymentMethod, StripeError> {
        let path = format!("/v1/payment_methods/{}", path_segment(id));
        self.send(
            "retrieve_payment_method",
            key,
            Method::GET,
            &path,
            &Form::new(),
            None,
        )
        .await
    }

    /// `POST /v1/customers`: a Customer for a card saved for later fees.
    pub async fn create_customer(
        &self,
        key: &ServerKey,
        form: &Form,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Customer, StripeError> {
        self.send(
            "create_customer",
            key,
            Method::POST,
            "/v1/customers",
            form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_intents`.
    pub async fn create_payment_intent(
        &self,
        key: &ServerKey,
        form: &Form,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.send(
            "create_payment_intent",
            key,
            Method::POST,
            "/v1/payment_intents",
            form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}` (update).
    pub async fn update_payment_intent(
        &self,
        key: &ServerKey,
        id: &str,
        form: &Form,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}", path_segment(id));
        self.send(
            "update_payment_intent",
            key,
            Method::POST,
            &path,
            form,
            Some(idempotency_key),
        )
        .await
    }

    /// `GET /v1/payment_intents/{id}` with `expand[]` paths (`latest_charge`).
    pub async fn retrieve_payment_intent(
        &self,
        key: &ServerKey,
        id: &str,
        expand: &[&str],
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}", path_segment(id));
        let form = Form::new().push_list("expand", expand);
        self.send(
            "retrieve_payment_intent",
            key,
            Method::GET,
            &path,
            &form,
            None,
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/confirm`.
    pub async fn confirm_payment_intent(
        &self,
        key: &ServerKey,
        id: &str,
        form: &Form,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}/confirm", path_segment(id));
        self.send(
            "confirm_payment_intent",
            key,
            Method::POST,
            &path,
            form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/capture` (`amount_to_capture` for a partial capture).
    pub async fn capture_payment_intent(
        &self,
        key: &ServerKey,
        id: &str,
        amount: Option<i64>,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}/capture", path_segment(id));
        let mut form = Form::new();
        if let Some(a) = amount {
            form = form.push("amount_to_capture", a.to_string());
        }
        self.send(
            "capture_payment_intent",
            key,
            Method::POST,
            &path,
            &form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/cancel` (releases an authorisation: there is no void).
    pub async fn cancel_payment_intent(
        &self,
        key: &ServerKey,
        id: &str,
        reason: CancellationReason,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}/cancel", path_segment(id));
        let form = Form::new().push("cancellation_reason", reason.as_str());
        self.send(
            "cancel_payment_intent",
            key,
            Method::POST,
            &path,
            &form,
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(
        &self,
        key: &ServerKey,
        form: &Form,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Refund, StripeError> {
        self.send(
            "create_refund",
            key,
            Method::POST,
            "/v1/refunds",
            form,
            Some(idempotency_key),
        )
        .await
    }

    /// `GET /v1/charges/{id}`.
    pub async fn retrieve_charge(&self, key: &ServerKey, id: &str) -> Result<Charge, StripeError> {
        let path = format!("/v1/charges/{}", path_segment(id));
        self.send(
            "retrieve_charge",
            key,
            Method::GET,
            &path,
            &Form::new(),
            None,
        )
        .await
    }

    /// `GET /v1/balance_transactions/{id}`: Stripe's fee of a charge.
    pub async fn retrieve_balance_transaction(
        &self,
        key: &ServerKey,
        id: &str,
    ) -> Result<BalanceTransaction, StripeError> {
        let path = format!("/v1/balance_transactions/{}", path_segment(id));
        self.send(
            "retrieve_balance_transaction",
            key,
            Method::GET,
            &path,
            &Form::new(),
            None,
        )
        .await
    }

    /// Whether a restricted key has the permission an endpoint needs, asked without side
    /// effects: a request Stripe refuses for its parameters (or a missing object) when the
    /// permission is there, and with 403 before looking at them when it is not. `Ok(None)`
    /// when allowed, `Ok(Some(error))` with Stripe's 403 when not.
    pub async fn probe_permission(
        &self,
        key: &ServerKey,
        method: Method,
        path: &str,
    ) -> Result<Option<StripeApiError>, StripeError> {
        let idem = (method == Method::POST).then(|| IdempotencyKey::random("probe"));
        match self
            .send::<serde_json::Value>(
                "probe_permission",
                key,
                method,
                path,
                &Form::new(),
                idem.as_ref(),
            )
            .await
        {
            Ok(_) => Ok(None),
            Err(StripeError::Api(e)) if e.status == 403 => Ok(Some(e)),
            Err(StripeError::Api(e)) if e.status == 400 || e.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends one request, retrying as the module documentation says, and decodes the answer.
    #[instrument(name = "stripe", skip(self, key, form, idempotency_key), fields(op = operation, %method, path))]
    pub async fn send<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        key: &ServerKey,
        method: Method,
        path: &str,
        form: &Form,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<T, StripeError> {
        let started = Instant::now();
        let generated;
        let idempotency_key = match (idempotency_key, method == Method::POST) {
            (Some(k), _) => Some(k),
            (None, true) => {
                // Every POST carries a key; one made here still protects this call's retries.
                generated = IdempotencyKey::random(operation);
                Some(&generated)
            }
            (None, false) => None,
        };
        let mut attempt = 0;
        let result = loop {
            let (result, should_retry) = self
                .attempt(key, &method, path, form, idempotency_key)
                .await;
            let retry = match (&result, should_retry) {
                (Ok(_), _) => false,
                (Err(_), Some(header)) => header,
                (Err(e), None) => e.is_retryable(),
            };
            if !retry || attempt >= self.config.max_retries {
                break result;
            }
            let delay = self.backoff(attempt);
            if let Err(e) = &result {
                warn!(attempt, delay_ms = delay.as_millis() as u64, error = %e, "retrying Stripe call");
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        };
        // Decoded straight from the bytes into the caller's type: a `serde_json::Value` in
        // between (parsed, then taken apart again) showed in the pay bench's profile.
        let result = match result {
            Ok((status, body)) => serde_json::from_slice(&body).map_err(|e| StripeError::Decode {
                status,
                message: e.to_string(),
            }),
            Err(e) => Err(e),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome_label(),
        };
        self.metrics
            .stripe_call(operation, outcome, started.elapsed());
        result
    }

    /// One HTTP exchange: a 2xx answer's status and body, else the error. The flag is
    /// Stripe's `Stripe-Should-Retry` header, when present.
    async fn attempt(
        &self,
        key: &ServerKey,
        method: &Method,
        path: &str,
        form: &Form,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> (Result<(u16, bytes::Bytes), StripeError>, Option<bool>) {
        let mut url = format!(
            "{}/{}",
            self.config.api_base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .expect("parsed keys are ASCII without spaces");
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Stripe-Version", HeaderValue::from_static(STRIPE_VERSION));
        if let Some(k) = idempotency_key {
            if let Ok(v) = HeaderValue::from_str(k.as_str()) {
                headers.insert("Idempotency-Key", v);
            }
        }
        let mut request = self.http.request(method.clone(), &url);
        if *method == Method::POST {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            request = request.body(form.encode());
        } else if !form.is_empty() {
            url.push('?');
            url.push_str(&form.encode());
            request = self.http.request(method.clone(), &url);
        }
        let response = match request.headers(headers).send().await {
            Ok(r) => r,
            Err(e) => {
                return (
                    Err(StripeError::Transport {
                        timeout: e.is_timeout(),
                        // The base names where it tried (the path and query are left out).
                        message: format!("{} at {}", e.without_url(), self.config.api_base),
                    }),
                    None,
                );
            }
        };
        let status = response.status().as_u16();
        let should_retry = response
            .headers()
            .get("Stripe-Should-Retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let request_id = response
            .headers()
            .get("Request-Id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return (
                    Err(StripeError::Transport {
                        timeout: e.is_timeout(),
                        // The base names where it tried (the path and query are left out).
                        message: format!("{} at {}", e.without_url(), self.config.api_base),
                    }),
                    should_retry,
                );
            }
        };
        debug!(status, request_id, "Stripe answered");
        if (200..300).contains(&status) {
            return (Ok((status, body)), should_retry);
        }
        let error = match parse_error_body(status, &body) {
            Some(e) => StripeError::Api(e),
            None if status == 429 || status >= 500 => StripeError::Api(StripeApiError {
                status,
                kind: if status == 429 {
                    StripeErrorKind::RateLimitError
                } else {
                    StripeErrorKind::ApiError
                },
                code: None,
                decline_code: None,
                message: format!("HTTP {status} without an error object"),
                param: None,
                payment_intent: None,
            }),
            None => StripeError::Decode {
                status,
                message: "error answer without Stripe's error object".into(),
            },
        };
        (Err(error), should_retry)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry_base.saturating_mul(1 << attempt.min(10));
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        base.mul_f64(jitter).min(MAX_BACKOFF)
    }
}

/// Percent-encodes an id for a path segment (ids are `[A-Za-z0-9_]`, but a stored value is
/// never trusted to be).
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
