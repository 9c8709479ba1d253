//! Sign-in (the admin token, or an operator's name and password) and sign-out. Failed
//! sign-ins are counted per client address and operator name ([`crate::admin::throttle`])
//! and logged without what was typed.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use secrecy::SecretString;

use super::form::Fields;
use super::{done, render, safe_next, FormData, Page};
use crate::admin::sessions::{self, Session};
use crate::admin::{admin_token_matches, operators};
use crate::client_addr;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    lang: &'static str,
    next: String,
    notice: Option<&'static str>,
    f: Fields,
}

fn page_with(next: String, f: Fields, notice: Option<&'static str>) -> SignInPage {
    SignInPage {
        lang: "en",
        next,
        notice,
        f,
    }
}

/// `GET /admin/sign-in`: the two sign-in forms (or straight on, when signed in).
pub async fn page(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let next = safe_next(q.get("next").map(String::as_str));
    if sessions::from_headers(&state, &parts.headers)
        .await?
        .is_some()
    {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = q
        .contains_key("signed_out")
        .then_some("You are signed out.");
    render(StatusCode::OK, &page_with(next, Fields::default(), notice))
}

fn client_ip(state: &AppState, parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_addr::client_ip(peer, &parts.headers, &state.config.trusted_proxies)
}

/// `POST /admin/sign-in`: checks the token or the operator's password, then starts a
/// session and goes to `next`.
pub async fn sign_in(
    State(state): State<AppState>,
    parts: Parts,
    Extension(form): Extension<FormData>,
) -> Page {
    let ip = client_ip(&state, &parts);
    let next = safe_next(form.get("next"));
    let by_operator = form.get("method") == Some("operator");
    let operator = form.text("operator").trim().to_owned();
    let mut keys = vec![format!("ip:{ip}")];
    if by_operator && !operator.is_empty() {
        keys.push(format!("operator:{operator}"));
    }
    let method = if by_operator { "operator" } else { "token" };
    let mut f = Fields::default();
    if by_operator {
        f.set("operator", operator.clone());
    }

    // Counted as a failure now, before the (slow) check: attempts sent at once cannot
    // all be checked before the first failure counts. A success forgets it.
    if let Err(wait) = state.sign_in_throttle.attempt(&keys) {
        tracing::warn!(%ip, method, "admin sign-in refused: too many failed attempts");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        f.refuse(
            None,
            "too_many_sign_ins",
            format!("Too many failed sign-ins. Try again in {minutes} minutes."),
        );
        let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page_with(next, f, None))?;
        response.headers_mut().insert(
            header::RETRY_AFTER,
            wait.as_secs().max(1).to_string().parse().expect("digits"),
        );
        return Ok(response);
    }

    let signed_in: Option<Option<String>> = if by_operator {
        let password = SecretString::from(form.text("password"));
        operators::verify(&state, &operator, password)
            .await?
            .then(|| Some(operator.clone()))
    } else {
        admin_token_matches(&state, form.text("token").trim()).then_some(None)
    };

    let Some(who) = signed_in else {
        // Never what was typed: a token or password pasted in the wrong field stays out.
        tracing::warn!(%ip, method, "admin sign-in failed");
        if by_operator {
            f.refuse(
                Some("password"),
                "sign_in_failed",
                "The operator name or the password is wrong.",
            );
        } else {
            f.refuse(
                Some("token"),
                "sign_in_failed",
                "This is not the admin token.",
            );
        }
        return render(StatusCode::UNAUTHORIZED, &page_with(next, f, None));
    };
    state.sign_in_throttle.succeeded(&keys);
    let new = sessions::create(&state, who.as_deref()).await?;
    tracing::info!(%ip, operator = who.as_deref().unwrap_or("-"), "admin signed in");
    let mut response = Redirect::to(&next).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, sessions::set_cookie(&state, &new));
    Ok(response)
}

/// `POST /admin/sign-out`: ends the session and removes the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Page {
    sessions::delete(&state, &session).await?;
    tracing::info!(
        operator = session.operator.as_deref().unwrap_or("-"),
        "admin signed out"
    );
    let mut response = done(&state, &session, Vec::new(), "/admin/sign-in?signed_out=1").await?;
    response
        .headers_mut()
        .insert(header::SET_COOKIE, sessions::clear_cookie(&state));
    Ok(response)
}
