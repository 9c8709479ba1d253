//! The `payment_attempts` table: one row per (checkout, client `Idempotency-Key`), numbered
//! per checkout. The attempt number makes the Stripe idempotency key of its confirmation, so a
//! client retrying with the same key reuses the attempt (and Stripe replays instead of acting
//! twice); the stored answer is replayed once the attempt has finished.

use std::sync::LazyLock;

use sqlx::any::AnyRow;

use super::abuse::{window_start, WindowCounts};
use super::checkouts::{from_row as checkout_from_row, COLUMNS as CHECKOUT_COLUMNS};
use super::{col, CheckoutRecord, Db, DbError};

const TABLE: &str = "payment_attempts";

/// An attempt as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The checkout.
    pub checkout_token: String,
    /// 1, 2, ... per checkout.
    pub attempt: i64,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: String,
    /// Hash of the request body: the same key with another body is refused.
    pub request_hash: String,
    /// HTTP status of the final answer, once there is one.
    pub response_status: Option<i64>,
    /// The final answer's JSON body.
    pub response: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<AttemptRecord, DbError> {
    Ok(AttemptRecord {
        checkout_token: col(row, TABLE, "checkout_token")?,
        attempt: col(row, TABLE, "attempt")?,
        idempotency_key: col(row, TABLE, "idempotency_key")?,
        request_hash: col(row, TABLE, "request_hash")?,
        response_status: col(row, TABLE, "response_status")?,
        response: col(row, TABLE, "response")?,
    })
}

const COLUMNS: &str =
    "checkout_token, attempt, idempotency_key, request_hash, response_status, response";

/// A counter of the checkout's merchant read with it: the counter's key is `key_prefix`
/// followed by the merchant's id, its windows `window` seconds long, read for `now`.
#[derive(Clone, Copy, Debug)]
pub struct MerchantCounter<'a> {
    /// The key before the merchant's id.
    pub key_prefix: &'a str,
    /// The moment it is read for.
    pub now: i64,
    /// The windows' length in seconds.
    pub window: i64,
}

/// What a pay request reads first.
#[derive(Clone, Debug)]
pub struct PayReading {
    /// The checkout.
    pub checkout: CheckoutRecord,
    /// The attempt of the request's key, if it made one.
    pub attempt: Option<AttemptRecord>,
    /// The merchant counter's counts.
    pub merchant_counts: WindowCounts,
}

impl Db {
    /// The attempt a client key made on a checkout.
    pub async fn get_attempt(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Option<AttemptRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payment_attempts WHERE checkout_token = $1 AND idempotency_key = $2"
        ))
        .bind(token)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A checkout, the attempt a client key made on it and the counts of a counter of its
    /// merchant, in one statement: what a pay request reads first (a replay of a finished
    /// attempt is answered from it; the merchant's declines may pause it).
    pub async fn checkout_with_attempt(
        &self,
        token: &str,
        idempotency_key: &str,
        merchant_counter: MerchantCounter<'_>,
    ) -> Result<Option<PayReading>, DbError> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let counted = |name: &str, start: &str| {
                format!(
                    "COALESCE((SELECT count FROM abuse_counters \
                     WHERE key = $3 || checkouts.merchant_id AND window_start = {start}), 0) \
                     AS {name}"
                )
            };
            // The attempt's columns keep their names: no column of `checkouts` has one of them.
            format!(
                "SELECT {CHECKOUT_COLUMNS}, {COLUMNS}, {}, {} FROM checkouts LEFT JOIN \
                 (SELECT {COLUMNS} FROM payment_attempts \
                 WHERE checkout_token = $1 AND idempotency_key = $2) AS a \
                 ON checkout_token = token WHERE token = $1",
                counted("counted_now", "$4"),
                counted("counted_before", "$5"),
            )
        });
        let current = window_start(merchant_counter.now, merchant_counter.window);
        let row = sqlx::query(&SQL)
            .bind(token)
            .bind(idempotency_key)
            .bind(merchant_counter.key_prefix)
            .bind(current)
            .bind(current - merchant_counter.window)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let checkout = checkout_from_row(&row)?;
        let attempt = match col::<Option<i64>>(&row, TABLE, "attempt")? {
            Some(_) => Some(from_row(&row)?),
            None => None,
        };
        let merchant_counts = WindowCounts {
            current: col(&row, TABLE, "counted_now")?,
            previous: col(&row, TABLE, "counted_before")?,
        };
        Ok(Some(PayReading {
            checkout,
            attempt,
            merchant_counts,
        }))
    }

    /// The attempt of a client key: a new one numbered after the last, or the stored one.
    /// Two requests racing for the same key or number meet a UNIQUE constraint; the loser
    /// reads again. The insert comes first: the caller has just looked for the key.
    pub async fn attempt_for_key(
        &self,
        token: &str,
        idempotency_key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<AttemptRecord, DbError> {
        for _ in 0..20 {
            let inserted = sqlx::query(&format!(
                "INSERT INTO payment_attempts (checkout_token, attempt, idempotency_key, \
                 request_hash, created_at, updated_at) \
                 SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3, $4, $4 \
                 FROM payment_attempts WHERE checkout_token = $1 RETURNING {COLUMNS}"
            ))
            .bind(token)
            .bind(idempotency_key)
            .bind(request_hash)
            .bind(now)
            .fetch_one(&self.pool)
            .await;
            match inserted.map_err(DbError::from) {
                Ok(row) => return from_row(&row),
                Err(e) if e.is_unique_violation() => {
                    if let Some(a) = self.get_attempt(token, idempotency_key).await? {
                        return Ok(a);
                    }
                    // Another key took the number: number again.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(DbError::Conflict(
            "too many concurrent attempts on this checkout",
        ))
    }

    /// Stores an attempt's final answer (the first one stays: a replay answers it).
    pub async fn finish_attempt(
        &self,
        token: &str,
        attempt: i64,
        status: u16,
        response: &str,
        now: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE payment_attempts SET response_status = $3, response = $4, updated_at = $5 \
             WHERE checkout_token = $1 AND attempt = $2 AND response IS NULL",
        )
        .bind(token)
        .bind(attempt)
        .bind(i64::from(status))
        .bind(response)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many attempts a checkout had.
    pub async fn count_attempts(&self, token: &str) -> Result<i64, DbError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM payment_attempts WHERE checkout_token = $1")
                .bind(token)
                .fetch_one(&self.pool)
                .await?;
        col(&row, TABLE, "n")
    }
}
