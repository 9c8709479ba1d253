//! Admin sessions: created at sign-in, found from the cookie, deleted at sign-out or when
//! they expire. The cookie holds 256 random bits; the `admin_sessions` table holds only their
//! SHA-256, the per-session CSRF token (a synchronizer token every admin form carries), and
//! the flash messages the next page shows (set by a POST before it redirects), and, for a
//! session signed in with the admin token, a keyed fingerprint of that token.

use axum::http::{header, HeaderMap, HeaderValue};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::db::{self, DbError};
use crate::state::AppState;

/// The cookie's name.
pub const COOKIE: &str = "slotpay_admin";
/// The cookie's path: the admin pages only.
pub const COOKIE_PATH: &str = "/admin";
/// How long a session lasts after sign-in (12 hours), whatever is done meanwhile.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

/// A signed-in session.
#[derive(Clone)]
pub struct Session {
    id_hash: String,
    /// The operator, or `None` for the admin token.
    pub operator: Option<String>,
    csrf_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("operator", &self.operator)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The CSRF token the session's forms carry.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// Whether a form's token is this session's, compared in constant time.
    pub fn csrf_matches(&self, given: Option<&str>) -> bool {
        let Some(given) = given else {
            return false;
        };
        let want = Sha256::digest(self.csrf_token.as_bytes());
        let got = Sha256::digest(given.as_bytes());
        bool::from(want.ct_eq(&got))
    }

    /// Who is signed in, for people.
    pub fn who(&self) -> String {
        match &self.operator {
            Some(name) => name.clone(),
            None => "admin (token)".to_owned(),
        }
    }
}

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlashKind {
    /// The action was done.
    Success,
    /// Something to know (a key trimmed).
    Info,
    /// The action was not done, or not entirely.
    Error,
}

/// A message for the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// What it is.
    pub kind: FlashKind,
    /// For people.
    pub text: String,
}

impl Flash {
    /// A success message.
    pub fn success(text: impl Into<String>) -> Flash {
        Flash {
            kind: FlashKind::Success,
            text: text.into(),
        }
    }

    /// Something to know.
    pub fn info(text: impl Into<String>) -> Flash {
        Flash {
            kind: FlashKind::Info,
            text: text.into(),
        }
    }

    /// An error.
    pub fn error(text: impl Into<String>) -> Flash {
        Flash {
            kind: FlashKind::Error,
            text: text.into(),
        }
    }

    /// `success`, `info` or `error` (a CSS class).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Error => "error",
        }
    }
}

fn hash_id(cookie_value: &str) -> String {
    hex::encode(Sha256::digest(cookie_value.as_bytes()))
}

fn random_value() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new session and the cookie value that names it (shown once, in `Set-Cookie`).
pub struct NewSession {
    /// The cookie's value.
    pub cookie_value: SecretString,
    /// The session.
    pub session: Session,
}

/// Starts a session for the admin token (`operator: None`) or an operator; expired
/// sessions are swept on the way.
pub async fn create(state: &AppState, operator: Option<&str>) -> Result<NewSession, DbError> {
    let now = db::now();
    let pool = state.db.pool();
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    let value = random_value();
    let session = Session {
        id_hash: hash_id(&value),
        operator: operator.map(str::to_owned),
        csrf_token: random_value(),
        expires_at: now + SESSION_TTL_SECS,
    };
    // A token session names the token it was signed in with (see `from_headers`).
    let credential = operator
        .is_none()
        .then(|| state.admin_token_fingerprint.clone());
    sqlx::query(
        "INSERT INTO admin_sessions (id_hash, operator, csrf_token, flash, created_at, \
         expires_at, credential) VALUES ($1, $2, $3, NULL, $4, $5, $6)",
    )
    .bind(&session.id_hash)
    .bind(session.operator.clone())
    .bind(&session.csrf_token)
    .bind(now)
    .bind(session.expires_at)
    .bind(credential)
    .execute(pool)
    .await?;
    Ok(NewSession {
        cookie_value: SecretString::from(value),
        session,
    })
}

/// The live session a request's cookie names, if any. A session signed in with the admin
/// token lives only as long as that token: one made with a token since replaced (or before
/// sessions named their token) is no session.
pub async fn from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, DbError> {
    let Some(value) = cookie_value(headers) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT id_hash, operator, csrf_token, expires_at FROM admin_sessions \
         WHERE id_hash = $1 AND expires_at > $2 AND (operator IS NOT NULL OR credential = $3)",
    )
    .bind(hash_id(&value))
    .bind(db::now())
    .bind(&state.admin_token_fingerprint)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Session {
        id_hash: row.try_get("id_hash")?,
        operator: row.try_get("operator")?,
        csrf_token: row.try_get("csrf_token")?,
        expires_at: row.try_get("expires_at")?,
    }))
}

/// Ends a session.
pub async fn delete(state: &AppState, session: &Session) -> Result<(), DbError> {
    sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1")
        .bind(&session.id_hash)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

/// Leaves messages for the session's next page.
pub async fn set_flash(
    state: &AppState,
    session: &Session,
    flash: &[Flash],
) -> Result<(), DbError> {
    let json = serde_json::to_string(flash).expect("flash messages serialise");
    sqlx::query("UPDATE admin_sessions SET flash = $2 WHERE id_hash = $1")
        .bind(&session.id_hash)
        .bind(json)
        .execute(state.db.pool())
        .await?;
    Ok(())
}

/// Takes the session's messages (a page shows them once).
pub async fn take_flash(state: &AppState, session: &Session) -> Result<Vec<Flash>, DbError> {
    let row = sqlx::query("SELECT flash FROM admin_sessions WHERE id_hash = $1")
        .bind(&session.id_hash)
        .fetch_optional(state.db.pool())
        .await?;
    let text: Option<String> = match row {
        Some(r) => r.try_get("flash")?,
        None => None,
    };
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    sqlx::query("UPDATE admin_sessions SET flash = NULL WHERE id_hash = $1")
        .bind(&session.id_hash)
        .execute(state.db.pool())
        .await?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// The session cookie's value in a request, if any.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the server is reached over HTTPS (the cookie is then `Secure`).
fn secure(state: &AppState) -> bool {
    state.public_url.scheme() == "https"
}

/// `Set-Cookie` for a new session: `HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure`
/// over HTTPS, lasting as long as the session.
pub fn set_cookie(state: &AppState, new: &NewSession) -> HeaderValue {
    let mut v = format!(
        "{COOKIE}={}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age={SESSION_TTL_SECS}",
        new.cookie_value.expose_secret()
    );
    if secure(state) {
        v.push_str("; Secure");
    }
    let mut header = HeaderValue::from_str(&v).expect("cookie values are base64url");
    header.set_sensitive(true);
    header
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let mut v = format!("{COOKIE}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0");
    if secure(state) {
        v.push_str("; Secure");
    }
    HeaderValue::from_str(&v).expect("a fixed cookie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; slotpay_admin=abc_DEF; b=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("abc_DEF"));
        h.insert(header::COOKIE, HeaderValue::from_static("slotpay_admin="));
        assert_eq!(cookie_value(&h), None);
        h.insert(header::COOKIE, HeaderValue::from_static("xslotpay_admin=1"));
        assert_eq!(cookie_value(&h), None);
    }

    #[test]
    fn csrf_is_compared_whole() {
        let s = Session {
            id_hash: "h".into(),
            operator: None,
            csrf_token: "token-1234".into(),
            expires_at: 0,
        };
        assert!(s.csrf_matches(Some("token-1234")));
        assert!(!s.csrf_matches(Some("token-123")));
        assert!(!s.csrf_matches(Some("")));
        assert!(!s.csrf_matches(None));
        assert!(!format!("{s:?}").contains("token-1234"));
    }

    #[test]
    fn ids_are_random_and_stored_hashed() {
        let (a, b) = (random_value(), random_value());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in unpadded base64url");
        assert_eq!(hash_id(&a).len(), 64);
        assert_ne!(hash_id(&a), a);
    }
}
