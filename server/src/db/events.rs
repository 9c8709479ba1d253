//! The `stripe_events` table: each Stripe event once per merchant that received it (PRIMARY
//! KEY `(merchant_id, event_id)`: merchants sharing one Stripe account each receive every
//! event of it), stored before the webhook is answered and processed after; unprocessed rows
//! are picked up again on start and periodically, so an event is not lost when the process
//! stops.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::AnyPool;

use super::batch::{all_failed, placeholders};
use super::{col, Db, DbError};

const TABLE: &str = "stripe_events";
const COLUMNS: &str = "event_id, merchant_id, event_type, object_id, checkout_token, created, \
    payload, received_at, processed_at, attempts, last_error";

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// `evt_...`.
    pub event_id: String,
    /// The merchant whose endpoint received it.
    pub merchant_id: String,
    /// `payment_intent.succeeded`, ...
    pub event_type: String,
    /// The id of the object it is about.
    pub object_id: Option<String>,
    /// The checkout it concerned, once processed.
    pub checkout_token: Option<String>,
    /// Stripe's `created` (unix seconds).
    pub created: i64,
    /// The raw body as received.
    pub payload: String,
    /// Unix seconds.
    pub received_at: i64,
    /// When it was applied.
    pub processed_at: Option<i64>,
    /// Processing attempts.
    pub attempts: i64,
    /// Why the last processing failed.
    pub last_error: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<EventRecord, DbError> {
    Ok(EventRecord {
        event_id: col(row, TABLE, "event_id")?,
        merchant_id: col(row, TABLE, "merchant_id")?,
        event_type: col(row, TABLE, "event_type")?,
        object_id: col(row, TABLE, "object_id")?,
        checkout_token: col(row, TABLE, "checkout_token")?,
        created: col(row, TABLE, "created")?,
        payload: col(row, TABLE, "payload")?,
        received_at: col(row, TABLE, "received_at")?,
        processed_at: col(row, TABLE, "processed_at")?,
        attempts: col(row, TABLE, "attempts")?,
        last_error: col(row, TABLE, "last_error")?,
    })
}

/// A processed event to mark (see [`Db::mark_event_processed`]).
pub(crate) struct Processed {
    merchant_id: String,
    event_id: String,
    checkout_token: Option<String>,
    now: i64,
}

/// At most this many rows per batched statement.
pub(crate) const BATCH: usize = 64;

/// One `INSERT ... RETURNING` for a batch of events; a repeated event (merchant and id) in
/// the batch is a duplicate of its first occurrence. When the statement fails, each row is tried alone, so
/// one bad row cannot fail the others.
pub(crate) fn insert_batch(
    pool: AnyPool,
    rows: Vec<EventRecord>,
) -> BoxFuture<'static, Vec<Result<bool, DbError>>> {
    Box::pin(async move {
        let mut seen = HashSet::new();
        let unique: Vec<&EventRecord> = rows.iter().filter(|e| seen.insert(key(e))).collect();
        // The outcome of each distinct event: inserted now (true), stored before (false), or
        // the error that stored nothing.
        let mut outcome: HashMap<Key, Result<bool, DbError>> = HashMap::new();
        match insert_rows(&pool, &unique).await {
            Ok(keys) => {
                for e in &unique {
                    outcome.insert(key(e), Ok(keys.contains(&owned_key(e))));
                }
            }
            Err(e) if unique.len() == 1 => {
                outcome.insert(key(unique[0]), Err(e));
            }
            Err(_) => {
                for e in &unique {
                    let alone = insert_rows(&pool, &[e])
                        .await
                        .map(|keys| keys.contains(&owned_key(e)));
                    outcome.insert(key(e), alone);
                }
            }
        }
        // The first occurrence of an event gets its outcome; a repeat is a duplicate of a
        // row that exists, or fails like its first occurrence when nothing was stored.
        let mut answered = HashSet::new();
        rows.iter()
            .map(|e| {
                let first = answered.insert(key(e));
                match outcome.get(&key(e)) {
                    Some(Ok(inserted)) => Ok(first && *inserted),
                    _ if first => outcome
                        .remove(&key(e))
                        .unwrap_or(Err(DbError::Conflict("event not stored"))),
                    _ => Err(DbError::Conflict("event not stored")),
                }
            })
            .collect()
    })
}

/// What identifies a stored event: the merchant that received it and Stripe's id.
type Key<'a> = (&'a str, &'a str);

fn key(e: &EventRecord) -> Key<'_> {
    (&e.merchant_id, &e.event_id)
}

fn owned_key(e: &EventRecord) -> (String, String) {
    (e.merchant_id.clone(), e.event_id.clone())
}

/// The events inserted (those stored before are left as they are).
async fn insert_rows(
    pool: &AnyPool,
    rows: &[&EventRecord],
) -> Result<HashSet<(String, String)>, DbError> {
    const PER_ROW: usize = 8;
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, 0)", placeholders(i * PER_ROW + 1, PER_ROW)))
        .collect();
    let sql = format!(
        "INSERT INTO stripe_events (event_id, merchant_id, event_type, object_id, created, \
         payload, received_at, processed_at, attempts) VALUES {} \
         ON CONFLICT (merchant_id, event_id) DO NOTHING RETURNING merchant_id, event_id",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for e in rows {
        q = q
            .bind(&e.event_id)
            .bind(&e.merchant_id)
            .bind(&e.event_type)
            .bind(&e.object_id)
            .bind(e.created)
            .bind(&e.payload)
            .bind(e.received_at)
            .bind(e.processed_at);
    }
    let inserted = q.fetch_all(pool).await?;
    inserted
        .iter()
        .map(|row| {
            Ok((
                col(row, TABLE, "merchant_id")?,
                col(row, TABLE, "event_id")?,
            ))
        })
        .collect()
}

/// One `UPDATE` marking a batch of events processed (each with the checkout it concerned).
pub(crate) fn mark_batch(
    pool: AnyPool,
    done: Vec<Processed>,
) -> BoxFuture<'static, Vec<Result<(), DbError>>> {
    Box::pin(async move {
        let now = done.iter().map(|d| d.now).max().unwrap_or(0);
        // Row i binds $3i+2 (merchant), $3i+3 (event id), $3i+4 (checkout).
        let which = |i: usize| {
            format!(
                "(merchant_id = ${} AND event_id = ${})",
                3 * i + 2,
                3 * i + 3
            )
        };
        let cases: Vec<String> = (0..done.len())
            .map(|i| format!("WHEN {} THEN ${}", which(i), 3 * i + 4))
            .collect();
        let rows: Vec<String> = (0..done.len()).map(which).collect();
        let sql = format!(
            "UPDATE stripe_events SET processed_at = $1, \
             checkout_token = COALESCE(CASE {} END, checkout_token), \
             attempts = attempts + 1, last_error = NULL WHERE {}",
            cases.join(" "),
            rows.join(" OR ")
        );
        let mut q = sqlx::query(&sql).bind(now);
        for d in &done {
            q = q
                .bind(&d.merchant_id)
                .bind(&d.event_id)
                .bind(&d.checkout_token);
        }
        match q.execute(&pool).await {
            Ok(_) => done.iter().map(|_| Ok(())).collect(),
            Err(e) => {
                let e = DbError::from(e);
                tracing::warn!(error = %e, events = done.len(), "webhooks not marked processed; they are processed again");
                all_failed(e, done.len(), "the batch marking these events failed")
            }
        }
    })
}

impl Db {
    /// Stores an event; false when the merchant's endpoint received it before (a duplicate
    /// delivery).
    /// Concurrent calls share one statement (see [`super::batch`]); each returns once its
    /// row is written. An event stored with `processed_at` set is never processed.
    pub async fn insert_event(&self, e: &EventRecord) -> Result<bool, DbError> {
        self.batches.events_in.submit(e.clone()).await
    }

    /// Marks an event applied, with the checkout it concerned. Concurrent calls share one
    /// statement (an event left unmarked by a crash is only processed again: applying is
    /// idempotent).
    pub async fn mark_event_processed(
        &self,
        e: &EventRecord,
        checkout_token: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        self.batches
            .events_done
            .submit(Processed {
                merchant_id: e.merchant_id.clone(),
                event_id: e.event_id.clone(),
                checkout_token: checkout_token.map(str::to_owned),
                now,
            })
            .await
    }

    /// Records a failed processing (it is tried again later).
    pub async fn mark_event_failed(&self, e: &EventRecord, error: &str) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE stripe_events SET attempts = attempts + 1, last_error = $3 \
             WHERE merchant_id = $1 AND event_id = $2",
        )
        .bind(&e.merchant_id)
        .bind(&e.event_id)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Unprocessed events received before `received_before` with fewer than `max_attempts`
    /// tries, oldest first.
    pub async fn pending_events(
        &self,
        received_before: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<EventRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM stripe_events WHERE processed_at IS NULL \
             AND received_at <= $1 AND attempts < $2 ORDER BY received_at, created LIMIT $3"
        ))
        .bind(received_before)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The events that concerned a checkout, oldest first.
    pub async fn events_for_checkout(&self, token: &str) -> Result<Vec<EventRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM stripe_events WHERE checkout_token = $1 ORDER BY created, received_at"
        ))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
