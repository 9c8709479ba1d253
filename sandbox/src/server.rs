//! The HTTP server: the router (`/v1` REST API with CORS for Stripe.js, `/v3` Stripe.js stand-in
//! assets, `/_sandbox` control API), and an accept loop on hyper so an injected fault can close a
//! connection without any answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::api::{self, ResetConnection};
use crate::assets;
use crate::control;
use crate::shared::Shared;

#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by an injected fault")
    }
}

impl std::error::Error for Reset {}

fn asset_response(path: &str) -> Response {
    match assets::asset(path) {
        None => (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-cache")],
            "Not Found",
        )
            .into_response(),
        Some(a) => {
            let mut r = Response::new(Body::from(a.body));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            if a.content_type.starts_with("text/html") {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'self'; frame-ancestors *"),
                );
            }
            r
        }
    }
}

async fn stripe_js() -> Response {
    asset_response("")
}

async fn stripe_js_file(Path(path): Path<String>) -> Response {
    asset_response(&path)
}

async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "stripe-sandbox: an offline stand-in for Stripe's REST API (/v1), Stripe.js (/v3/) and a control API (/_sandbox/).\n",
    )
        .into_response()
}

/// Stripe.js calls the REST API from the merchant's page: any origin, Stripe's headers.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("stripe-version"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("stripe-account"),
        ])
        .expose_headers([
            HeaderName::from_static("request-id"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("original-request"),
            HeaderName::from_static("stripe-version"),
        ])
        .max_age(Duration::from_secs(300))
}

/// The whole application.
pub fn app(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v1/{*path}", any(api::handle))
        .layer(cors())
        .with_state(shared.clone());
    let three_ds = control::three_ds_routes()
        .layer(cors())
        .with_state(shared.clone());
    // Stripe's CDN sends Stripe.js and its pages compressed; so does the stand-in, so a page's
    // load over a slow link (the bench's phone profile) is timed as it would be with Stripe.
    let stripe_js = Router::new()
        .route("/v3", get(stripe_js))
        .route("/v3/", get(stripe_js))
        .route("/v3/{*path}", get(stripe_js_file))
        .layer(CompressionLayer::new());
    Router::new()
        .route("/", get(index))
        .merge(stripe_js)
        .merge(api)
        .merge(three_ds)
        .merge(control::routes().with_state(shared))
}

/// Serves `app` on `listener` until the task is aborted. Each connection is served by hyper
/// directly so that a [`ResetConnection`] answer closes it with nothing written.
pub async fn serve(listener: TcpListener, app: Router) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    let resp = match app.oneshot(req.map(Body::new)).await {
                        Ok(r) => r,
                        Err(e) => match e {},
                    };
                    if resp.extensions().get::<ResetConnection>().is_some() {
                        Err(Reset)
                    } else {
                        Ok::<_, Reset>(resp)
                    }
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
