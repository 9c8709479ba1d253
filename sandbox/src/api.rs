//! The `/v1` REST pipeline, in Stripe's order: parse the form, route, authenticate the key
//! (publishable keys only on Stripe.js's endpoints, restricted keys by permission), apply the
//! idempotency layer, inject faults before, execute, save for replay, inject faults after, and
//! answer with `Request-Id` (and `Idempotent-Replayed` on replays), or mark the answer for the
//! server to close the connection instead ([`ResetConnection`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{self, KeyKind};
use crate::errors::{ApiError, ErrorType};
use crate::faults::{FaultKind, FaultRule, When};
use crate::form::{self, Params};
use crate::idempotency::{Decision, Fingerprint};
use crate::resources::{
    account, balance_transactions, charges, customers, disputes, events, payment_intents,
    payment_methods, refunds, setup_intents, tokens, webhook_endpoints,
};
use crate::shared::Shared;
use crate::state::{Ctx, RequestInfo, DEFAULT_API_VERSION};

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub struct ResetConnection;

/// One endpoint of the REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Account,
    PmCreate,
    PmList,
    PmGet(String),
    PmUpdate(String),
    PmAttach(String),
    PmDetach(String),
    CusCreate,
    CusList,
    CusGet(String),
    CusUpdate(String),
    CusDelete(String),
    CusPaymentMethods(String),
    PiCreate,
    PiList,
    PiGet(String),
    PiUpdate(String),
    PiConfirm(String),
    PiCapture(String),
    PiCancel(String),
    ChList,
    ChGet(String),
    ChUpdate(String),
    SiCreate,
    SiList,
    SiGet(String),
    SiUpdate(String),
    SiConfirm(String),
    SiCancel(String),
    ReCreate,
    ReList,
    ReGet(String),
    ReUpdate(String),
    WeCreate,
    WeList,
    WeGet(String),
    WeUpdate(String),
    WeDelete(String),
    EvList,
    EvGet(String),
    DpList,
    DpGet(String),
    TxnGet(String),
    TokCreate,
    TokGet(String),
}

struct Route {
    op: Op,
    /// The restricted-key permission stem (`payment_intent`), none for `/v1/account`.
    resource: Option<&'static str>,
    /// Whether a publishable key may call it (Stripe.js's endpoints).
    publishable: bool,
}

fn route(method: &Method, segs: &[&str]) -> Option<Route> {
    use Op::*;
    let r = |op, resource, publishable| {
        Some(Route {
            op,
            resource: Some(resource),
            publishable,
        })
    };
    let s = |i: usize| segs[i].to_string();
    match (method.as_str(), segs) {
        ("GET", ["account"]) => Some(Route {
            op: Account,
            resource: None,
            publishable: false,
        }),
        ("POST", ["payment_methods"]) => r(PmCreate, "payment_method", true),
        ("GET", ["payment_methods"]) => r(PmList, "payment_method", false),
        ("GET", ["payment_methods", _]) => r(PmGet(s(1)), "payment_method", false),
        ("POST", ["payment_methods", _]) => r(PmUpdate(s(1)), "payment_method", false),
        ("POST", ["payment_methods", _, "attach"]) => r(PmAttach(s(1)), "payment_method", false),
        ("POST", ["payment_methods", _, "detach"]) => r(PmDetach(s(1)), "payment_method", false),
        ("POST", ["customers"]) => r(CusCreate, "customer", false),
        ("GET", ["customers"]) => r(CusList, "customer", false),
        ("GET", ["customers", _]) => r(CusGet(s(1)), "customer", false),
        ("POST", ["customers", _]) => r(CusUpdate(s(1)), "customer", false),
        ("DELETE", ["customers", _]) => r(CusDelete(s(1)), "customer", false),
        ("GET", ["customers", _, "payment_methods"]) => {
            r(CusPaymentMethods(s(1)), "customer", false)
        }
        ("POST", ["payment_intents"]) => r(PiCreate, "payment_intent", false),
        ("GET", ["payment_intents"]) => r(PiList, "payment_intent", false),
        ("GET", ["payment_intents", _]) => r(PiGet(s(1)), "payment_intent", true),
        ("POST", ["payment_intents", _]) => r(PiUpdate(s(1)), "payment_intent", false),
        ("POST", ["payment_intents", _, "confirm"]) => r(PiConfirm(s(1)), "payment_intent", true),
        ("POST", ["payment_intents", _, "capture"]) => r(PiCapture(s(1)), "payment_intent", false),
        ("POST", ["payment_intents", _, "cancel"]) => r(PiCancel(s(1)), "payment_intent", false),
        ("GET", ["charges"]) => r(ChList, "charge", false),
        ("GET", ["charges", _]) => r(ChGet(s(1)), "charge", false),
        ("POST", ["charges", _]) => r(ChUpdate(s(1)), "charge", false),
        ("POST", ["setup_intents"]) => r(SiCreate, "setup_intent", false),
        ("GET", ["setup_intents"]) => r(SiList, "setup_intent", false),
        ("GET", ["setup_intents", _]) => r(SiGet(s(1)), "setup_intent", true),
        ("POST", ["setup_intents", _]) => r(SiUpdate(s(1)), "setup_intent", false),
        ("POST", ["setup_intents", _, "confirm"]) => r(SiConfirm(s(1)), "setup_intent", true),
        ("POST", ["setup_intents", _, "cancel"]) => r(SiCancel(s(1)), "setup_intent", false),
        ("POST", ["refunds"]) => r(ReCreate, "refund", false),
        ("GET", ["refunds"]) => r(ReList, "refund", false),
        ("GET", ["refunds", _]) => r(ReGet(s(1)), "refund", false),
        ("POST", ["refunds", _]) => r(ReUpdate(s(1)), "refund", false),
        ("POST", ["webhook_endpoints"]) => r(WeCreate, "webhook", false),
        ("GET", ["webhook_endpoints"]) => r(WeList, "webhook", false),
        ("GET", ["webhook_endpoints", _]) => r(WeGet(s(1)), "webhook", false),
        ("POST", ["webhook_endpoints", _]) => r(WeUpdate(s(1)), "webhook", false),
        ("DELETE", ["webhook_endpoints", _]) => r(WeDelete(s(1)), "webhook", false),
        ("GET", ["events"]) => r(EvList, "event", false),
        ("GET", ["events", _]) => r(EvGet(s(1)), "event", false),
        ("GET", ["disputes"]) => r(DpList, "dispute", false),
        ("GET", ["disputes", _]) => r(DpGet(s(1)), "dispute", false),
        ("GET", ["balance_transactions", _]) => r(TxnGet(s(1)), "balance", false),
        ("POST", ["tokens"]) => r(TokCreate, "token", true),
        ("GET", ["tokens", _]) => r(TokGet(s(1)), "token", false),
        _ => None,
    }
}

fn execute(ctx: &mut Ctx, op: &Op, params: &Params) -> Result<Value, ApiError> {
    use Op::*;
    match op {
        Account => {
            params.allow(&[])?;
            let a = ctx
                .store
                .accounts
                .get(&ctx.account)
                .ok_or_else(|| ApiError::invalid("account vanished"))?;
            Ok(account::render(a))
        }
        PmCreate => payment_methods::create(ctx, params),
        PmList => payment_methods::list_for(ctx, params),
        PmGet(id) => payment_methods::retrieve(ctx, id, params),
        PmUpdate(id) => payment_methods::update(ctx, id, params),
        PmAttach(id) => payment_methods::attach(ctx, id, params),
        PmDetach(id) => payment_methods::detach(ctx, id, params),
        CusCreate => customers::create(ctx, params),
        CusList => customers::list_customers(ctx, params),
        CusGet(id) => customers::retrieve(ctx, id, params),
        CusUpdate(id) => customers::update(ctx, id, params),
        CusDelete(id) => customers::delete(ctx, id),
        CusPaymentMethods(id) => customers::list_payment_methods(ctx, id, params),
        PiCreate => payment_intents::create(ctx, params),
        PiList => payment_intents::list_intents(ctx, params),
        PiGet(id) => payment_intents::retrieve(ctx, id, params),
        PiUpdate(id) => payment_intents::update(ctx, id, params),
        PiConfirm(id) => payment_intents::confirm(ctx, id, params),
        PiCapture(id) => payment_intents::capture(ctx, id, params),
        PiCancel(id) => payment_intents::cancel(ctx, id, params),
        ChList => charges::list_charges(ctx, params),
        ChGet(id) => charges::retrieve(ctx, id, params),
        ChUpdate(id) => charges::update(ctx, id, params),
        SiCreate => setup_intents::create(ctx, params),
        SiList => setup_intents::list_intents(ctx, params),
        SiGet(id) => setup_intents::retrieve(ctx, id, params),
        SiUpdate(id) => setup_intents::update(ctx, id, params),
        SiConfirm(id) => setup_intents::confirm(ctx, id, params),
        SiCancel(id) => setup_intents::cancel(ctx, id, params),
        ReCreate => refunds::create(ctx, params),
        ReList => refunds::list_refunds(ctx, params),
        ReGet(id) => refunds::retrieve(ctx, id, params),
        ReUpdate(id) => refunds::update(ctx, id, params),
        WeCreate => webhook_endpoints::create(ctx, params),
        WeList => webhook_endpoints::list_endpoints(ctx, params),
        WeGet(id) => webhook_endpoints::retrieve(ctx, id, params),
        WeUpdate(id) => webhook_endpoints::update(ctx, id, params),
        WeDelete(id) => webhook_endpoints::delete(ctx, id),
        EvList => events::list_events(ctx, params),
        EvGet(id) => events::retrieve(ctx, id, params),
        DpList => disputes::list_disputes(ctx, params),
        DpGet(id) => disputes::retrieve(ctx, id, params),
        TxnGet(id) => balance_transactions::retrieve(ctx, id, params),
        TokCreate => tokens::create(ctx, params),
        TokGet(id) => tokens::retrieve(ctx, id, params),
    }
}

/// Parameters Stripe.js adds to a request besides [`form::STRIPE_JS_FIELDS`]: the key and the
/// account and version it names, and more bookkeeping; none is part of the request's meaning.
const CLIENT_PARAMS: &[&str] = &[
    "key",
    "_stripe_account",
    "_stripe_version",
    "client_attribution_metadata",
    "pasted_fields",
];

/// What the pipeline ends with.
enum Outcome {
    Answer {
        status: StatusCode,
        body: Value,
        replay_of: Option<String>,
    },
    Reset,
}

fn error(e: &ApiError, request_id: &str) -> Outcome {
    Outcome::Answer {
        status: e.status,
        body: e.body(request_id),
        replay_of: None,
    }
}

fn fault_answer(rule: &FaultRule, request_id: &str) -> Option<Outcome> {
    let e = match rule.kind {
        FaultKind::Http500 => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            "Sorry, something went wrong. We've already been notified of the problem, but if you need any help, you can reach us at support.stripe.com/contact.",
        ),
        FaultKind::Http502 => ApiError::new(StatusCode::BAD_GATEWAY, ErrorType::Api, "Bad Gateway"),
        _ => return None,
    };
    Some(error(&e, request_id))
}

/// Applies a fault rule; `Some` when it replaces the answer.
async fn apply_fault(rule: Option<FaultRule>, request_id: &str) -> Option<Outcome> {
    let rule = rule?;
    match rule.kind {
        FaultKind::Latency => {
            tokio::time::sleep(Duration::from_millis(rule.latency_ms.unwrap_or(1000))).await;
            None
        }
        FaultKind::Http500 | FaultKind::Http502 => fault_answer(&rule, request_id),
        FaultKind::Reset => Some(Outcome::Reset),
        FaultKind::Timeout => {
            tokio::time::sleep(Duration::from_millis(rule.latency_ms.unwrap_or(30_000))).await;
            Some(Outcome::Reset)
        }
    }
}

struct Incoming<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
    request_id: &'a str,
    idempotency_key: Option<String>,
    api_version: Option<String>,
}

/// An idempotency key marked in flight for a request that has not run yet: dropped before it
/// runs (a `before` fault answered, or the client hung up during an injected hold and the
/// handler was dropped), it gives the key back, so a retry runs afresh instead of getting
/// `idempotency_key_in_use` until the record expires.
struct NotRun<'a> {
    shared: &'a Arc<Shared>,
    account: &'a str,
    key: Option<&'a str>,
}

impl Drop for NotRun<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key {
            self.shared.lock().idempotency.abandon(self.account, k);
        }
    }
}

async fn pipeline(shared: &Arc<Shared>, req: Incoming<'_>) -> Outcome {
    let rid = req.request_id;
    let mut params = match form::parse(req.query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error(&ApiError::invalid(e.to_string()), rid),
    };
    if *req.method == Method::POST {
        match form::parse(req.body) {
            Ok(b) => params.extend(b),
            Err(e) => return error(&ApiError::invalid(e.to_string()), rid),
        }
    }
    let segs: Vec<&str> = req
        .path
        .trim_start_matches("/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let Some(route) = route(req.method, &segs) else {
        let e = ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequest,
            format!(
                "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                req.method, req.path
            ),
        );
        return error(&e, rid);
    };
    let key_param = params
        .get("key")
        .and_then(Value::as_str)
        .map(str::to_string);
    let key = match auth::extract_key(req.headers, key_param.as_deref()) {
        Ok(k) => k,
        Err(e) => return error(&e, rid),
    };
    // Authenticate and authorise.
    let (account, kind) = {
        let store = shared.lock();
        let Some(k) = store.keys.get(&key) else {
            return error(&auth::invalid_key(&key), rid);
        };
        if k.revoked {
            return error(&auth::expired_key(&key), rid);
        }
        if k.kind == KeyKind::Publishable && !route.publishable {
            return error(&auth::publishable_refused(), rid);
        }
        if k.kind == KeyKind::Restricted {
            if let Some(res) = route.resource {
                let level = if *req.method == Method::GET {
                    "read"
                } else {
                    "write"
                };
                let needed = format!("rak_{res}_{level}");
                if !auth::allows(&k.permissions, &needed) {
                    return error(&auth::permission_refused(&key, &k.account, &needed), rid);
                }
            }
        }
        (k.account.clone(), k.kind)
    };
    for p in CLIENT_PARAMS.iter().chain(form::STRIPE_JS_FIELDS) {
        params.remove(*p);
    }
    let params = Params::new(params);
    let now = shared.clock.now();
    let idem = if *req.method == Method::POST {
        req.idempotency_key.clone()
    } else {
        None
    };
    if let Some(k) = &idem {
        let fp = Fingerprint::new(req.path, &params.0);
        let decision = shared.lock().idempotency.begin(&account, k, fp, now);
        match decision {
            Decision::Proceed => {}
            Decision::Replay {
                status,
                body,
                original_request,
            } => {
                return Outcome::Answer {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    body,
                    replay_of: Some(original_request),
                }
            }
            Decision::Refuse(e) => return error(&e, rid),
        }
    }
    let method = req.method.as_str();
    let before = shared.lock().faults.pick(method, req.path, When::Before);
    let mut in_flight = NotRun {
        shared,
        account: &account,
        key: idem.as_deref(),
    };
    if let Some(out) = apply_fault(before, rid).await {
        // `in_flight` gives the key back as it drops.
        return out;
    }
    // From here the request runs to the end without waiting: it saves or gives back its key.
    in_flight.key = None;
    let (status, body) = {
        let mut guard = shared.lock();
        let store = &mut *guard;
        let now = shared.clock.now();
        payment_intents::expire_due(store, now);
        store.expire_records(now);
        let mut ctx = Ctx {
            store,
            account: account.clone(),
            now,
            request: RequestInfo {
                id: Some(rid.to_string()),
                idempotency_key: idem.clone(),
                api_version: req.api_version.clone(),
            },
            caller: kind,
        };
        let result = execute(&mut ctx, &route.op, &params);
        let (status, body, saved) = match result {
            Ok(v) => (StatusCode::OK, v, true),
            Err(e) => (e.status, e.body(rid), e.saved),
        };
        if let Some(k) = &idem {
            if saved {
                store
                    .idempotency
                    .finish(&account, k, status.as_u16(), &body, rid, now);
            } else {
                store.idempotency.abandon(&account, k);
            }
        }
        (status, body)
    };
    shared.flush_outbox();
    let after = shared.lock().faults.pick(method, req.path, When::After);
    if let Some(out) = apply_fault(after, rid).await {
        return out;
    }
    Outcome::Answer {
        status,
        body,
        replay_of: None,
    }
}

fn header(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The axum handler for every `/v1/...` request.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = shared.lock().new_id("req_");
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let idempotency_key = get("idempotency-key");
    let api_version = get("stripe-version");
    let path = uri.path().to_string();
    let outcome = pipeline(
        &shared,
        Incoming {
            method: &method,
            path: &path,
            query: uri.query(),
            headers: &headers,
            body: &body,
            request_id: &request_id,
            idempotency_key: idempotency_key.clone(),
            api_version: api_version.clone(),
        },
    )
    .await;
    match outcome {
        Outcome::Reset => {
            let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            r.extensions_mut().insert(ResetConnection);
            r
        }
        Outcome::Answer {
            status,
            body,
            replay_of,
        } => {
            let text = serde_json::to_string_pretty(&body).unwrap_or_else(|_| "{}".into());
            let mut r = (status, text).into_response();
            let h = r.headers_mut();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            h.insert(
                "cache-control",
                HeaderValue::from_static("no-cache, no-store"),
            );
            h.insert("request-id", header(&request_id));
            h.insert(
                "stripe-version",
                header(api_version.as_deref().unwrap_or(DEFAULT_API_VERSION)),
            );
            if method == Method::POST {
                if let Some(k) = &idempotency_key {
                    h.insert("idempotency-key", header(k));
                }
            }
            match replay_of {
                Some(original) => {
                    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
                    h.insert("original-request", header(&original));
                }
                None => {
                    h.insert("original-request", header(&request_id));
                }
            }
            r
        }
    }
}
