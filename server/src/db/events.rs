//! The `stripe_events` table: each Stripe event id once (PRIMARY KEY), stored before the
//! webhook is answered and processed after; unprocessed rows are picked up again on start and
//! periodically, so an event is not lost when the process stops.

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
pub(crate) type Processed = (String, Option<String>, i64);

/// At most this many rows per batched statement.
pub(crate) const BATCH: usize = 64;

/// One `INSERT ... RETURNING` for a batch of events; a repeated id in the batch is a
/// duplicate of its first occurrence. When the statement fails, each row is tried alone, so
/// one bad row cannot fail the others.
pub(crate) fn insert_batch(
    pool: AnyPool,
    rows: Vec<EventRecord>,
) -> BoxFuture<'static, Vec<Result<bool, DbError>>> {
    Box::pin(async move {
        let mut seen = HashSet::new();
        let unique: Vec<&EventRecord> = rows
            .iter()
            .filter(|e| seen.insert(e.event_id.as_str()))
            .collect();
        // The outcome of each distinct id: inserted now (true), stored before (false), or
        // the error that stored nothing.
        let mut outcome: HashMap<&str, Result<bool, DbError>> = HashMap::new();
        match insert_rows(&pool, &unique).await {
            Ok(ids) => {
                for e in &unique {
                    outcome.insert(&e.event_id, Ok(ids.contains(&e.event_id)));
                }
            }
            Err(e) if unique.len() == 1 => {
                outcome.insert(&unique[0].event_id, Err(e));
            }
            Err(_) => {
                for e in &unique {
                    let alone = insert_rows(&pool, &[e])
                        .await
                        .map(|ids| ids.contains(&e.event_id));
                    outcome.insert(&e.event_id, alone);
                }
            }
        }
        // The first occurrence of an id gets its outcome; a repeat is a duplicate of a row
        // that exists, or fails like its first occurrence when nothing was stored.
        let mut answered = HashSet::new();
        rows.iter()
            .map(|e| {
                let first = answered.insert(e.event_id.as_str());
                match outcome.get(e.event_id.as_str()) {
                    Some(Ok(inserted)) => Ok(first && *inserted),
                    _ if first => outcome
                        .remove(e.event_id.as_str())
                        .unwrap_or(Err(DbError::Conflict("event not stored"))),
                    _ => Err(DbError::Conflict("event not stored")),
                }
            })
            .collect()
    })
}

async fn insert_rows(pool: &AnyPool, rows: &[&EventRecord]) -> Result<HashSet<String>, DbError> {
    const PER_ROW: usize = 8;
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, 0)", placeholders(i * PER_ROW + 1, PER_ROW)))
        .collect();
    let sql = format!(
        "INSERT INTO stripe_events (event_id, merchant_id, event_type, object_id, created, \
         payload, received_at, processed_at, attempts) VALUES {} \
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
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
        .map(|row| col(row, TABLE, "event_id"))
        .collect()
}

/// One `UPDATE` marking a batch of events processed (each with the checkout it concerned).
pub(crate) fn mark_batch(
    pool: AnyPool,
    done: Vec<Processed>,
) -> BoxFuture<'static, Vec<Result<(), DbError>>> {
    Box::pin(async move {
        let now = done.iter().map(|d| d.2).max().unwrap_or(0);
        let cases: Vec<String> = (0..done.len())
            .map(|i| format!("WHEN ${} THEN ${}", 2 * i + 2, 2 * i + 3))
            .collect();
        let ids: Vec<String> = (0..done.len()).map(|i| format!("${}", 2 * i + 2)).collect();
        let sql = format!(
            "UPDATE stripe_events SET processed_at = $1, \
             checkout_token = COALESCE(CASE event_id {} END, checkout_token), \
             attempts = attempts + 1, last_error = NULL WHERE event_id IN ({})",
            cases.join(" "),
            ids.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now);
        for (id, token, _) in &done {
            q = q.bind(id).bind(token);
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
    /// Stores an event; false when its id was stored before (a duplicate delivery).
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
        event_id: &str,
        checkout_token: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        self.batches
            .events_done
            .submit((event_id.to_owned(), checkout_token.map(str::to_owned), now))
            .await
    }

    /// Records a failed processing (it is tried again later).
    pub async fn mark_event_failed(&self, event_id: &str, error: &str) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE stripe_events SET attempts = attempts + 1, last_error = $2 WHERE event_id = $1",
        )
        .bind(event_id)
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
