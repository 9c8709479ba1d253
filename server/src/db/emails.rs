//! The `emails` table: emails to clients, written before they are sent. A due email is
//! claimed by moving its `next_attempt_at` forward with one conditional update (so two
//! instances never send one email at once, and an instance killed mid-send leaves it due
//! again after the claim); its outcome is written after the send. One receipt per checkout
//! (a unique index): writing it twice is a no-op.

use sqlx::any::AnyRow;

use super::{col, parsed_col, Db, DbError};
use crate::model::{EmailKind, EmailStatus};

const TABLE: &str = "emails";
const COLUMNS: &str = "id, merchant_id, checkout_token, kind, recipient, subject, body, language, \
    status, attempts, next_attempt_at, last_error, created_at, sent_at";

/// An email as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailRecord {
    /// `em_...`.
    pub id: String,
    /// Whose client it is for.
    pub merchant_id: String,
    /// The checkout it is about.
    pub checkout_token: Option<String>,
    /// A payment link or a receipt.
    pub kind: EmailKind,
    /// The client's address.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Its plain-text body.
    pub body: String,
    /// Its language (`Content-Language`).
    pub language: String,
    /// Where it is.
    pub status: EmailStatus,
    /// Sends tried.
    pub attempts: i64,
    /// When it is due (or its claim ends), unix seconds.
    pub next_attempt_at: i64,
    /// What the last failed send met.
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When the SMTP server took it.
    pub sent_at: Option<i64>,
}

fn from_row(row: &AnyRow) -> Result<EmailRecord, DbError> {
    Ok(EmailRecord {
        id: col(row, TABLE, "id")?,
        merchant_id: col(row, TABLE, "merchant_id")?,
        checkout_token: col(row, TABLE, "checkout_token")?,
        kind: parsed_col(row, TABLE, "kind", EmailKind::parse)?,
        recipient: col(row, TABLE, "recipient")?,
        subject: col(row, TABLE, "subject")?,
        body: col(row, TABLE, "body")?,
        language: col(row, TABLE, "language")?,
        status: parsed_col(row, TABLE, "status", EmailStatus::parse)?,
        attempts: col(row, TABLE, "attempts")?,
        next_attempt_at: col(row, TABLE, "next_attempt_at")?,
        last_error: col(row, TABLE, "last_error")?,
        created_at: col(row, TABLE, "created_at")?,
        sent_at: col(row, TABLE, "sent_at")?,
    })
}

impl Db {
    /// Stores an email to send; false when it is a checkout's second receipt.
    pub async fn insert_email(&self, e: &EmailRecord) -> Result<bool, DbError> {
        let done = sqlx::query(&format!(
            "INSERT INTO emails ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING"
        ))
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(&e.checkout_token)
        .bind(e.kind.as_str())
        .bind(&e.recipient)
        .bind(&e.subject)
        .bind(&e.body)
        .bind(&e.language)
        .bind(e.status.as_str())
        .bind(e.attempts)
        .bind(e.next_attempt_at)
        .bind(&e.last_error)
        .bind(e.created_at)
        .bind(e.sent_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims up to `limit` pending emails due at `now` until `until`: each is moved forward
    /// by one conditional update, so only one claimant gets it.
    pub async fn claim_emails(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<EmailRecord>, DbError> {
        let due = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM emails WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in &due {
            let mut e = from_row(row)?;
            let took = sqlx::query(
                "UPDATE emails SET next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
            )
            .bind(until)
            .bind(&e.id)
            .bind(e.next_attempt_at)
            .execute(&self.pool)
            .await?;
            if took.rows_affected() == 1 {
                e.next_attempt_at = until;
                claimed.push(e);
            }
        }
        Ok(claimed)
    }

    /// Writes a send's outcome: sent, or failed with `error` and due again at `retry_at`
    /// (`None`: given up).
    pub async fn finish_email(
        &self,
        id: &str,
        outcome: Result<i64, (&str, Option<i64>)>,
    ) -> Result<(), DbError> {
        let q = match outcome {
            Ok(sent_at) => sqlx::query(
                "UPDATE emails SET status = 'sent', sent_at = $2, attempts = attempts + 1, \
                 last_error = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(sent_at),
            Err((error, retry_at)) => sqlx::query(
                "UPDATE emails SET status = $2, attempts = attempts + 1, last_error = $3, \
                 next_attempt_at = COALESCE($4, next_attempt_at) WHERE id = $1",
            )
            .bind(id)
            .bind(if retry_at.is_some() {
                EmailStatus::Pending.as_str()
            } else {
                EmailStatus::Failed.as_str()
            })
            .bind(error)
            .bind(retry_at),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    /// Makes a failed email due again at `now` (staff asked to send it again); false when it
    /// is not failed.
    pub async fn retry_email(&self, id: &str, now: i64) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE emails SET status = 'pending', next_attempt_at = $2, attempts = 0 \
             WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An email's state, if there is such an email.
    pub async fn email_status(&self, id: &str) -> Result<Option<EmailStatus>, DbError> {
        let row = sqlx::query("SELECT status FROM emails WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| parsed_col(r, TABLE, "status", EmailStatus::parse))
            .transpose()
    }

    /// The emails about a checkout, oldest first.
    pub async fn emails_for_checkout(&self, token: &str) -> Result<Vec<EmailRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM emails WHERE checkout_token = $1 ORDER BY created_at, id"
        ))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The checkouts paid (their `checkout.paid` event written) at or after `since`, with
    /// when: the receipts' source, read from the outbox of events to platforms.
    pub async fn paid_since(&self, since: i64) -> Result<Vec<(String, i64)>, DbError> {
        let rows = sqlx::query(
            "SELECT checkout_token, created_at FROM platform_events \
             WHERE type = 'checkout.paid' AND created_at >= $1 AND checkout_token IS NOT NULL \
             ORDER BY created_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    col(row, "platform_events", "checkout_token")?,
                    col(row, "platform_events", "created_at")?,
                ))
            })
            .collect()
    }
}
