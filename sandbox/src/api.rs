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
use serde_json::{Map, Value};

use crate::auth::{self, KeyKind};
use crate::errors::{ApiError, ErrorType};
use crate::faults::{FaultKind, FaultRule, When};
use crate::form::{self, Params};
use crate::idempotency::{Decision, Fingerprint};
use crate::resources::{
    account, balance_transactions, charges, customers, disputes, events, payment_intents,
    payment_method_domains, payment_methods, refunds, setup_intents, tokens, webhook_endpoints,
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
    PmdCreate,
    PmdList,
    PmdGet(String),
    PmdUpdate(String),
    PmdValidate(String),
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
        ("POST", ["payment_method_domains"]) => r(PmdCreate, "payment_method_domain", false),
        ("GET", ["payment_method_domains"]) => r(PmdList, "payment_method_domain", false),
        ("GET", ["payment_method_domains", _]) => r(PmdGet(s(1)), "payment_method_domain", false),
        ("POST", ["payment_method_domains", _]) => {
            r(PmdUpdate(s(1)), "payment_method_domain", false)
        }
        ("POST", ["payment_method_domains", _, "validate"]) => {
            r(PmdValidate(s(1)), "payment_method_domain", false)
        }
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
        PmdCreate => payment_method_domains::create(ctx, params),
        PmdList => payment_method_domains::list_domains(ctx, params),
        PmdGet(id) => payment_method_domains::retrieve(ctx, id, params),
        PmdUpdate(id) => payment_method_domains::update(ctx, id, params),
        PmdValidate(id) => payment_method_domains::validate(ctx, id, params),
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

/// A request that passed routing and authentication, with the parameters its endpoint reads.
struct Accepted {
    route: Route,
    params: Params,
    account: String,
    caller: KeyKind,
}

/// The query's parameters, and the form body's too on a `POST`.
fn read_params(req: &Incoming<'_>) -> Result<Map<String, Value>, ApiError> {
    let invalid = |e: form::FormError| ApiError::invalid(e.to_string());
    let mut params = form::parse(req.query.unwrap_or_default().as_bytes()).map_err(invalid)?;
    if *req.method == Method::POST {
        params.extend(form::parse(req.body).map_err(invalid)?);
    }
    Ok(params)
}

/// The endpoint the method and path name, or Stripe's 404 for an unrecognised URL.
fn find_route(req: &Incoming<'_>) -> Result<Route, ApiError> {
    let segs: Vec<&str> = req
        .path
        .trim_start_matches("/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    route(req.method, &segs).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequest,
            format!(
                "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                req.method, req.path
            ),
        )
    })
}

/// Authenticates the key (header, or Stripe.js's `key` parameter) and authorises it for the
/// route: the account it acts for and the kind of key.
fn authenticate(
    shared: &Shared,
    req: &Incoming<'_>,
    route: &Route,
    params: &Map<String, Value>,
) -> Result<(String, KeyKind), ApiError> {
    let key_param = params.get("key").and_then(Value::as_str);
    let key = auth::extract_key(req.headers, key_param)?;
    let store = shared.lock();
    let Some(k) = store.keys.get(&key) else {
        return Err(auth::invalid_key(&key));
    };
    if k.revoked {
        return Err(auth::expired_key(&key));
    }
    if k.kind == KeyKind::Publishable && !route.publishable {
        return Err(auth::publishable_refused());
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
                return Err(auth::permission_refused(&key, &k.account, &needed));
            }
        }
    }
    Ok((k.account.clone(), k.kind))
}

/// Parses, routes and authenticates the request; drops the parameters that only carry the key
/// and Stripe.js's bookkeeping.
fn accept(shared: &Shared, req: &Incoming<'_>) -> Result<Accepted, ApiError> {
    let mut params = read_params(req)?;
    let route = find_route(req)?;
    let (account, caller) = authenticate(shared, req, &route, &params)?;
    for p in CLIENT_PARAMS.iter().chain(form::STRIPE_JS_FIELDS) {
        params.remove(*p);
    }
    Ok(Accepted {
        route,
        params: Params::new(params),
        account,
        caller,
    })
}

/// Looks the idempotency key up: `Some` answers instead of running (a replay or a refusal),
/// `None` runs the request with the key marked in flight.
fn begin_idempotent(
    shared: &Shared,
    req: &Incoming<'_>,
    accepted: &Accepted,
    key: &str,
) -> Option<Outcome> {
    let now = shared.clock.now();
    let fp = Fingerprint::new(req.path, &accepted.params.0);
    let decision = shared
        .lock()
        .idempotency
        .begin(&accepted.account, key, fp, now);
    match decision {
        Decision::Proceed => None,
        Decision::Replay {
            status,
            body,
            original_request,
        } => Some(Outcome::Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            body,
            replay_of: Some(original_request),
        }),
        Decision::Refuse(e) => Some(error(&e, req.request_id)),
    }
}

/// Applies the `before` fault, if one fires: `Some` answers instead of running, and gives the
/// idempotency key back (as does the client hanging up during an injected hold).
async fn fault_before(
    shared: &Arc<Shared>,
    req: &Incoming<'_>,
    account: &str,
    idem: Option<&str>,
) -> Option<Outcome> {
    let before = shared
        .lock()
        .faults
        .pick(req.method.as_str(), req.path, When::Before);
    let mut in_flight = NotRun {
        shared,
        account,
        key: idem,
    };
    if let Some(out) = apply_fault(before, req.request_id).await {
        // `in_flight` gives the key back as it drops.
        return Some(out);
    }
    // From here the request runs to the end without waiting: it saves or gives back its key.
    in_flight.key = None;
    None
}

/// Runs the endpoint under the store's lock (after expiring what is due) and saves its answer
/// for replay, or gives the idempotency key back when the answer is not saved.
fn run(
    shared: &Shared,
    req: &Incoming<'_>,
    accepted: &Accepted,
    idem: Option<&str>,
) -> (StatusCode, Value) {
    let rid = req.request_id;
    let mut guard = shared.lock();
    let store = &mut *guard;
    let now = shared.clock.now();
    payment_intents::expire_due(store, now);
    store.expire_records(now);
    let mut ctx = Ctx {
        store,
        account: accepted.account.clone(),
        now,
        request: RequestInfo {
            id: Some(rid.to_string()),
            idempotency_key: idem.map(str::to_string),
            api_version: req.api_version.clone(),
        },
        caller: accepted.caller,
    };
    let result = execute(&mut ctx, &accepted.route.op, &accepted.params);
    let (status, body, saved) = match result {
        Ok(v) => (StatusCode::OK, v, true),
        Err(e) => (e.status, e.body(rid), e.saved),
    };
    if let Some(k) = idem {
        if saved {
            store
                .idempotency
                .finish(&accepted.account, k, status.as_u16(), &body, rid, now);
        } else {
            store.idempotency.abandon(&accepted.account, k);
        }
    }
    (status, body)
}

/// One `/v1` request through every phase: accept, idempotency, `before` faults, run, deliveries,
/// `after` faults.
async fn pipeline(shared: &Arc<Shared>, req: Incoming<'_>) -> Outcome {
    let rid = req.request_id;
    let accepted = match accept(shared, &req) {
        Ok(a) => a,
        Err(e) => return error(&e, rid),
    };
    let idem = if *req.method == Method::POST {
        req.idempotency_key.as_deref()
    } else {
        None
    };
    if let Some(k) = idem {
        if let Some(out) = begin_idempotent(shared, &req, &accepted, k) {
            return out;
        }
    }
    if let Some(out) = fault_before(shared, &req, &accepted.account, idem).await {
        return out;
    }
    let (status, body) = run(shared, &req, &accepted, idem);
    shared.flush_outbox();
    let after = shared
        .lock()
        .faults
        .pick(req.method.as_str(), req.path, When::After);
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
    let echoed_key = idempotency_key.filter(|_| method == Method::POST);
    respond(
        outcome,
        &request_id,
        api_version.as_deref(),
        echoed_key.as_deref(),
    )
}

/// The HTTP response for the pipeline's outcome: the JSON body with Stripe's headers, or the
/// mark that closes the connection.
fn respond(
    outcome: Outcome,
    request_id: &str,
    api_version: Option<&str>,
    idempotency_key: Option<&str>,
) -> Response {
    let (status, body, replay_of) = match outcome {
        Outcome::Reset => {
            let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            r.extensions_mut().insert(ResetConnection);
            return r;
        }
        Outcome::Answer {
            status,
            body,
            replay_of,
        } => (status, body, replay_of),
    };
    let text = serde_json::to_string_pretty(&body).unwrap_or_else(|_| "{}".into());
    let mut r = (status, text).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "cache-control",
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert("request-id", header(request_id));
    h.insert(
        "stripe-version",
        header(api_version.unwrap_or(DEFAULT_API_VERSION)),
    );
    if let Some(k) = idempotency_key {
        h.insert("idempotency-key", header(k));
    }
    match replay_of {
        Some(original) => {
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            h.insert("original-request", header(&original));
        }
        None => {
            h.insert("original-request", header(request_id));
        }
    }
    r
}
