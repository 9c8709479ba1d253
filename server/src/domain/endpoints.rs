//! The booking platform's webhook endpoints: where slotpay sends its events. Each has a
//! Standard Webhooks signing secret (`whsec_` and the base64 of 32 random bytes), shown in
//! full when it is made, rotated or explicitly revealed, and encrypted at rest like every
//! other secret. A rotation keeps the old secret signing beside the new one for
//! [`ROTATION_OVERLAP_SECS`], so a platform can switch without missing a message.
//!
//! A URL is refused when it is not absolute `http(s)`, carries credentials or a fragment, is
//! longer than [`MAX_URL`], or (unless `SLOTPAY_WEBHOOK_ALLOW_PRIVATE`) names a loopback,
//! private or link-local address: the server is not to be made to call into its own network.
//! Names are checked as written; a public name that resolves to a private address is not
//! caught here.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use slotpay_core::standard_webhooks::SigningKey;
use slotpay_core::{ApiError, ErrorCode};

use super::{double_option, load_merchant, new_id, Checker, DomainError};
use crate::db::{self, EndpointRecord};
use crate::model::EventType;
use crate::secrets::Binding;
use crate::state::AppState;

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;
/// How long the secret before a rotation keeps signing.
pub const ROTATION_OVERLAP_SECS: i64 = 86_400;
const MAX_DESCRIPTION: usize = 200;
const MAX_ENDPOINTS: usize = 50;

/// A new endpoint.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// Where to POST events.
    pub url: String,
    /// The event types wanted (all when absent or empty).
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Only this merchant's events.
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// A note.
    #[serde(default)]
    pub description: Option<String>,
}

/// A change of an endpoint: absent fields stay.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    /// A new URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New event types (`[]` or `null`: all).
    #[serde(default, deserialize_with = "double_option")]
    pub events: Option<Option<Vec<String>>>,
    /// Disables (no new deliveries; pending ones wait) or enables it.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// A new note (`null` removes it).
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
}

/// An endpoint as the API shows it; `secret` only when it was just made, rotated or
/// revealed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    /// `we_...`.
    #[schema(value_type = crate::schemas::EndpointId)]
    pub id: String,
    /// Where events go.
    pub url: String,
    /// The platform's note.
    pub description: Option<String>,
    /// Only this merchant's events, when set.
    pub merchant_id: Option<String>,
    /// The event types sent (every type when empty).
    pub events: Vec<EventType>,
    /// Whether deliveries are stopped.
    pub disabled: bool,
    /// The signing secret (`whsec_...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the secret before the last rotation signs too.
    pub previous_secret_until: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn view(r: &EndpointRecord, secret: Option<String>) -> EndpointView {
    let now = db::now();
    EndpointView {
        id: r.id.clone(),
        url: r.url.clone(),
        description: r.description.clone(),
        merchant_id: r.merchant_id.clone(),
        events: r.events.clone(),
        disabled: r.disabled,
        secret,
        previous_secret_until: r.previous_secret_until.filter(|t| *t > now),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Whether an address is one a public endpoint cannot have: loopback, private, link-local,
/// unspecified, shared (100.64/10), unique-local or multicast.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Parses an endpoint URL (see the module documentation).
pub fn parse_url(input: &str, allow_private: bool) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        ApiError::new(ErrorCode::InvalidRequest, format!("The url {why}")).with_param("url")
    };
    let input = input.trim();
    if input.len() > MAX_URL {
        return Err(refuse(&format!("must be at most {MAX_URL} characters")));
    }
    let url = url::Url::parse(input)
        .map_err(|_| refuse("must be an absolute http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("must be an absolute http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must not carry a user name or password (put a token in the path or query)",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse("must not have a #fragment"));
    }
    let internal = match url.host() {
        None => return Err(refuse("must name a host")),
        Some(url::Host::Ipv4(ip)) => is_internal(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal")
        }
    };
    if internal && !allow_private {
        return Err(refuse(
            "names a loopback or private address; slotpay sends webhooks to public addresses only",
        ));
    }
    Ok(url.to_string())
}

/// Parses event type names: every unknown one is named in one error.
pub fn parse_events(input: Option<&[String]>) -> Result<Vec<EventType>, ApiError> {
    let Some(names) = input else {
        return Ok(Vec::new());
    };
    let mut unknown = Vec::new();
    let mut out = Vec::new();
    for name in names {
        match EventType::parse(name.trim()) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => unknown.push(name.as_str()),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "Unknown event types: {}. Known types: {}",
                unknown.join(", "),
                known.join(", ")
            ),
        )
        .with_param("events"));
    }
    Ok(out)
}

fn parse_description(input: Option<&str>) -> Result<Option<String>, ApiError> {
    match input.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => super::parse_name(d, "description", MAX_DESCRIPTION).map(Some),
    }
}

/// A new secret, and its ciphertext for endpoint `id`.
fn new_secret(state: &AppState, id: &str, column: &str) -> (String, String) {
    use rand::RngCore;
    let mut key = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let secret = SigningKey::secret_of(&key);
    let stored = state.cipher.encrypt(&secret, binding(id, column));
    (secret, stored)
}

/// Where an endpoint's secret column is bound in its ciphertext.
fn binding<'a>(id: &'a str, column: &'a str) -> Binding<'a> {
    Binding {
        table: "webhook_endpoints",
        row: id,
        column,
    }
}

/// An endpoint's current secret, decrypted.
fn current_secret(state: &AppState, r: &EndpointRecord) -> Result<SecretString, DomainError> {
    state
        .cipher
        .decrypt(&r.secret_enc, binding(&r.id, "secret_enc"))
        .map_err(|e| DomainError::Internal(format!("endpoint secret: {e}")))
}

/// The stored endpoint, or `not_found`.
async fn load(state: &AppState, id: &str) -> Result<EndpointRecord, DomainError> {
    state
        .db
        .get_endpoint(id)
        .await?
        .ok_or_else(|| DomainError::refused(ErrorCode::NotFound, "No webhook endpoint has this id"))
}

/// Adds an endpoint; its view carries the secret, this once.
pub async fn create(state: &AppState, input: EndpointInput) -> Result<EndpointView, DomainError> {
    let mut c = Checker::default();
    let url = c.check(parse_url(&input.url, state.config.webhook_allow_private));
    let events = c.check(parse_events(input.events.as_deref()));
    let description = c.check(parse_description(input.description.as_deref()));
    c.finish()?;
    let (Some(url), Some(events), Some(description)) = (url, events, description) else {
        return Err(DomainError::Internal("checked fields missing".into()));
    };
    if let Some(m) = &input.merchant_id {
        load_merchant(state, m).await?;
    }
    if state.db.list_endpoints().await?.len() >= MAX_ENDPOINTS {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            format!("At most {MAX_ENDPOINTS} webhook endpoints; delete one first"),
        ));
    }
    let id = new_id("we_");
    let (secret, secret_enc) = new_secret(state, &id, "secret_enc");
    let now = db::now();
    let r = EndpointRecord {
        id,
        url,
        description,
        merchant_id: input.merchant_id,
        events,
        disabled: false,
        secret_enc,
        previous_secret_enc: None,
        previous_secret_until: None,
        created_at: now,
        updated_at: now,
    };
    state.db.insert_endpoint(&r).await?;
    tracing::info!(endpoint = %r.id, "webhook endpoint added");
    Ok(view(&r, Some(secret)))
}

/// Every endpoint.
pub async fn list(state: &AppState) -> Result<Vec<EndpointView>, DomainError> {
    Ok(state
        .db
        .list_endpoints()
        .await?
        .iter()
        .map(|r| view(r, None))
        .collect())
}

/// One endpoint.
pub async fn get(state: &AppState, id: &str) -> Result<EndpointView, DomainError> {
    Ok(view(&load(state, id).await?, None))
}

/// Changes an endpoint.
pub async fn update(
    state: &AppState,
    id: &str,
    patch: EndpointPatch,
) -> Result<EndpointView, DomainError> {
    let mut r = load(state, id).await?;
    let mut c = Checker::default();
    if let Some(url) = &patch.url {
        if let Some(url) = c.check(parse_url(url, state.config.webhook_allow_private)) {
            r.url = url;
        }
    }
    if let Some(events) = &patch.events {
        if let Some(events) = c.check(parse_events(events.as_deref())) {
            r.events = events;
        }
    }
    if let Some(description) = &patch.description {
        if let Some(d) = c.check(parse_description(description.as_deref())) {
            r.description = d;
        }
    }
    c.finish()?;
    if let Some(disabled) = patch.disabled {
        r.disabled = disabled;
    }
    r.updated_at = db::now();
    if !state.db.update_endpoint(&r).await? {
        return Err(DomainError::refused(
            ErrorCode::NotFound,
            "No webhook endpoint has this id",
        ));
    }
    if !r.disabled {
        state.db.deliveries_made().notify_one();
    }
    Ok(view(&r, None))
}

/// Deletes an endpoint and its deliveries.
pub async fn delete(state: &AppState, id: &str) -> Result<(), DomainError> {
    if !state.db.delete_endpoint(id).await? {
        return Err(DomainError::refused(
            ErrorCode::NotFound,
            "No webhook endpoint has this id",
        ));
    }
    tracing::info!(endpoint = %id, "webhook endpoint deleted");
    Ok(())
}

/// A new secret; the old one signs beside it for [`ROTATION_OVERLAP_SECS`].
pub async fn rotate_secret(state: &AppState, id: &str) -> Result<EndpointView, DomainError> {
    let mut r = load(state, id).await?;
    let now = db::now();
    let old = current_secret(state, &r)?;
    r.previous_secret_enc = Some(
        state
            .cipher
            .encrypt(old.expose_secret(), binding(&r.id, "previous_secret_enc")),
    );
    r.previous_secret_until = Some(now + ROTATION_OVERLAP_SECS);
    let (secret, stored) = new_secret(state, &r.id, "secret_enc");
    r.secret_enc = stored;
    r.updated_at = now;
    state.db.update_endpoint(&r).await?;
    tracing::info!(endpoint = %r.id, "webhook endpoint secret rotated");
    Ok(view(&r, Some(secret)))
}

/// The endpoint with its current secret.
pub async fn reveal_secret(state: &AppState, id: &str) -> Result<EndpointView, DomainError> {
    let r = load(state, id).await?;
    let secret = current_secret(state, &r)?;
    tracing::info!(endpoint = %r.id, "webhook endpoint secret revealed");
    Ok(view(&r, Some(secret.expose_secret().to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ok = |u: &str| parse_url(u, false);
        assert_eq!(
            ok("https://book.example/hooks?t=1").unwrap(),
            "https://book.example/hooks?t=1"
        );
        for bad in [
            "ftp://book.example/",
            "/relative",
            "https://user:pw@book.example/",
            "https://book.example/#x",
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:192.168.0.1]/",
        ] {
            let e = ok(bad).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("url"), "{bad}");
        }
        assert!(parse_url("http://127.0.0.1:9000/", true).is_ok());
        assert!(parse_url(&format!("https://a.example/{}", "x".repeat(MAX_URL)), true).is_err());
    }

    #[test]
    fn event_types() {
        assert_eq!(parse_events(None).unwrap(), vec![]);
        assert_eq!(
            parse_events(Some(&["checkout.paid".into(), "checkout.paid".into()])).unwrap(),
            vec![EventType::CheckoutPaid]
        );
        let e = parse_events(Some(&[
            "checkout.paid".into(),
            "checkout.payed".into(),
            "x".into(),
        ]))
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("events"));
        assert!(e.message.contains("checkout.payed, x"), "{}", e.message);
    }
}
