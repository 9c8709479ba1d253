//! The `stripe_events` table: each Stripe event id once (PRIMARY KEY), stored before the
//! webhook is answered and processed after; unprocessed rows are picked up again on start and
//! periodically, so an event is not lost when the process stops.

use sqlx::any::AnyRow;

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

impl Db {
    /// Stores an event; false when its id was stored before (a duplicate delivery).
    pub async fn insert_event(&self, e: &EventRecord) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO stripe_events (event_id, merchant_id, event_type, object_id, created, \
             payload, received_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, 0) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&e.event_id)
        .bind(&e.merchant_id)
        .bind(&e.event_type)
        .bind(&e.object_id)
        .bind(e.created)
        .bind(&e.payload)
        .bind(e.received_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One event.
    pub async fn get_event(&self, event_id: &str) -> Result<Option<EventRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM stripe_events WHERE event_id = $1"
        ))
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Marks an event applied, with the checkout it concerned.
    pub async fn mark_event_processed(
        &self,
        event_id: &str,
        checkout_token: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE stripe_events SET processed_at = $2, checkout_token = COALESCE($3, checkout_token), \
             attempts = attempts + 1, last_error = NULL WHERE event_id = $1",
        )
        .bind(event_id)
        .bind(now)
        .bind(checkout_token)
        .execute(&self.pool)
        .await?;
        Ok(())
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
