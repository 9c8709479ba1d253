//! `slotpay master-key rotate`: re-encrypts every secret at rest under a new master key, in
//! one database transaction, safe to interrupt at any point.
//!
//! 1. The new key is written to `<data dir>/master.key.next` (0600) before anything else;
//!    a rotation that finds one there goes on with it.
//! 2. One transaction re-encrypts each secret column of each integration and each platform
//!    webhook endpoint: a value that decrypts with the current key is re-encrypted under the
//!    new one; a value that already decrypts with the new key (a rotation that committed,
//!    then stopped) is left.
//! 3. `master.key.next` is renamed over `master.key` (atomic).
//!
//! A server refuses to start while `master.key.next` exists
//! (`secrets::check_no_rotation_pending`), so no process runs with a key the database may no
//! longer be under; running the command again finishes the rotation.
//! Stop the servers first: each holds the key it started with. Admin sessions signed in
//! with the admin token end (their fingerprint is keyed by the master key).

use secrecy::ExposeSecret;
use sqlx::Row;

use crate::app;
use crate::config::Config;
use crate::secrets::{self, Binding, Cipher, MasterKey, SecretsError};

/// Every ciphertext slotpay stores: each table with its key column and its secret columns.
const SECRET_TABLES: [(&str, &str, &[&str]); 2] = [
    (
        "integrations",
        "merchant_id",
        &[
            "secret_key_enc",
            "webhook_secret_enc",
            "previous_webhook_secret_enc",
        ],
    ),
    (
        "webhook_endpoints",
        "id",
        &["secret_enc", "previous_secret_enc"],
    ),
];

/// What a rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-encrypted now.
    pub reencrypted: usize,
    /// Values found already under the new key (an interrupted rotation finished).
    pub already: usize,
}

/// Rotates the master key of `config`'s data directory (see the module documentation).
pub async fn rotate(config: &Config) -> Result<Rotated, String> {
    if config.master_key.is_some() {
        return Err(
            "SLOTPAY_MASTER_KEY is set: rotation replaces the key file in the data \
             directory; unset SLOTPAY_MASTER_KEY and put the key in <data dir>/master.key first"
                .into(),
        );
    }
    let dir = &config.data_dir;
    let current = MasterKey::load(dir).map_err(|e| e.to_string())?;
    let next = match MasterKey::load_next(dir).map_err(|e| e.to_string())? {
        Some(next) => next,
        None => MasterKey::create_next(dir).map_err(|e| e.to_string())?,
    };
    let db = app::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let done = reencrypt(db.pool(), &Cipher::new(&current), &Cipher::new(&next)).await;
    db.close().await;
    let done = done?;
    secrets::promote_next(dir).map_err(|e| e.to_string())?;
    Ok(done)
}

/// Re-encrypts every secret column under `next`, in one transaction.
async fn reencrypt(
    pool: &sqlx::AnyPool,
    current: &Cipher,
    next: &Cipher,
) -> Result<Rotated, String> {
    let failed = |e: sqlx::Error| format!("database: {e}");
    let mut tx = pool.begin().await.map_err(failed)?;
    let mut done = Rotated {
        reencrypted: 0,
        already: 0,
    };
    for (table, key, columns) in SECRET_TABLES {
        let rows = sqlx::query(&format!(
            "SELECT {key}, {} FROM {table}",
            columns.join(", ")
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(failed)?;
        for row in rows {
            let id: String = row.try_get(key).map_err(failed)?;
            for &column in columns {
                let Some(stored) = row.try_get::<Option<String>, _>(column).map_err(failed)? else {
                    continue;
                };
                let binding = Binding {
                    table,
                    row: &id,
                    column,
                };
                let plain = match current.decrypt(&stored, binding) {
                    Ok(plain) => plain,
                    Err(SecretsError::Decrypt) if next.decrypt(&stored, binding).is_ok() => {
                        done.already += 1;
                        continue;
                    }
                    Err(e) => {
                        return Err(format!(
                            "{table}.{column} of {id} does not decrypt with the current \
                             or the new master key ({e}); nothing was changed"
                        ))
                    }
                };
                let sql = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2");
                sqlx::query(&sql)
                    .bind(next.encrypt(plain.expose_secret(), binding))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                done.reencrypted += 1;
            }
        }
    }
    tx.commit().await.map_err(failed)?;
    Ok(done)
}
