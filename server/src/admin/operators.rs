//! Operators: people who sign in to the admin pages with a name and a password instead of
//! the admin token. Passwords are stored as Argon2id PHC strings (`$argon2id$v=19$...`, a
//! random salt each), hashed and checked off the async threads. Setting a password ends
//! the operator's sessions.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};
use slotpay_core::{ApiError, ErrorCode};
use sqlx::Row;

use crate::db::{self, DbError};
use crate::domain::{parse_name, DomainError};
use crate::state::AppState;

/// Longest operator name.
pub const MAX_NAME: usize = 64;
/// Shortest password.
pub const MIN_PASSWORD: usize = 12;
/// Longest password (hashing cost stays bounded).
pub const MAX_PASSWORD: usize = 1024;

/// An operator as listed (never the hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// The sign-in name.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last password change.
    pub updated_at: i64,
}

/// Checks an operator name: 1 to 64 characters, no control characters, trimmed.
pub fn parse_operator_name(input: &str) -> Result<String, ApiError> {
    parse_name(input, "name", MAX_NAME)
}

/// Checks a new password's length (in characters).
pub fn check_password(password: &SecretString) -> Result<(), ApiError> {
    let n = password.expose_secret().chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        )
        .with_param("password"))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DomainError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DomainError::Internal(format!("password hashing task: {e}")))
}

/// An Argon2id hash of `password` with a fresh salt.
fn hash(password: &SecretString) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(format!("password hashing: {e}")))
}

/// Whether `password` matches the PHC string `stored`.
fn matches(stored: &str, password: &SecretString) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &h)
            .is_ok()
    })
}

/// Sets (or replaces) an operator's password; `true` when the operator is new. The
/// operator's sessions end.
pub async fn set_password(
    state: &AppState,
    name: &str,
    password: SecretString,
) -> Result<bool, DomainError> {
    let name = parse_operator_name(name).map_err(DomainError::Refused)?;
    check_password(&password).map_err(DomainError::Refused)?;
    let phc = blocking(move || hash(&password)).await??;
    let pool = state.db.pool();
    let now = db::now();
    let existed = sqlx::query("SELECT name FROM operators WHERE name = $1")
        .bind(&name)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from)?
        .is_some();
    sqlx::query(
        "INSERT INTO operators (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
    )
    .bind(&name)
    .bind(phc)
    .bind(now)
    .execute(pool)
    .await
    .map_err(DbError::from)?;
    sqlx::query("DELETE FROM admin_sessions WHERE operator = $1")
        .bind(&name)
        .execute(pool)
        .await
        .map_err(DbError::from)?;
    tracing::info!(operator = %name, created = !existed, "operator password set");
    Ok(!existed)
}

/// A hash of nothing anyone knows, checked when the operator does not exist so that an
/// unknown name takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash(&SecretString::from(crate::secrets::random_token(24)))
            .unwrap_or_else(|_| String::new())
    })
}

/// Whether `name` is an operator whose password is `password`.
pub async fn verify(
    state: &AppState,
    name: &str,
    password: SecretString,
) -> Result<bool, DomainError> {
    let row = sqlx::query("SELECT password_hash FROM operators WHERE name = $1")
        .bind(name.trim())
        .fetch_optional(state.db.pool())
        .await
        .map_err(DbError::from)?;
    let stored: Option<String> = match row {
        Some(r) => Some(r.try_get("password_hash").map_err(DbError::from)?),
        None => None,
    };
    // Waits for a permit: the semaphore is never closed.
    let _permit = state.password_checks.acquire().await;
    blocking(move || match stored {
        Some(phc) => matches(&phc, &password),
        None => {
            let _ = matches(decoy(), &password);
            false
        }
    })
    .await
}

/// Every operator, by name.
pub async fn list(state: &AppState) -> Result<Vec<Operator>, DomainError> {
    let rows = sqlx::query("SELECT name, created_at, updated_at FROM operators ORDER BY name")
        .fetch_all(state.db.pool())
        .await
        .map_err(DbError::from)?;
    rows.iter()
        .map(|r| {
            Ok(Operator {
                name: r.try_get("name").map_err(DbError::from)?,
                created_at: r.try_get("created_at").map_err(DbError::from)?,
                updated_at: r.try_get("updated_at").map_err(DbError::from)?,
            })
        })
        .collect()
}

/// Removes an operator (and so its sessions); `false` when there was none.
pub async fn remove(state: &AppState, name: &str) -> Result<bool, DomainError> {
    let pool = state.db.pool();
    sqlx::query("DELETE FROM admin_sessions WHERE operator = $1")
        .bind(name.trim())
        .execute(pool)
        .await
        .map_err(DbError::from)?;
    let done = sqlx::query("DELETE FROM operators WHERE name = $1")
        .bind(name.trim())
        .execute(pool)
        .await
        .map_err(DbError::from)?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_and_differ() {
        let pw = SecretString::from("correct horse battery".to_owned());
        let a = hash(&pw).unwrap();
        let b = hash(&pw).unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(matches(&a, &pw));
        assert!(!matches(
            &a,
            &SecretString::from("correct horse battery!".to_owned())
        ));
        assert!(!matches("not a hash", &pw));
    }

    #[test]
    fn password_length_is_checked() {
        assert!(check_password(&SecretString::from("short".to_owned())).is_err());
        assert!(check_password(&SecretString::from("twelve chars".to_owned())).is_ok());
        let long = "x".repeat(MAX_PASSWORD + 1);
        assert!(check_password(&SecretString::from(long)).is_err());
    }
}
