//! The `disputes` table: each Stripe dispute once, with the newest status its events said
//! (a final status, `won` or `lost`, is never replaced by an older one).

use sqlx::any::AnyRow;

use slotpay_core::{Currency, Money};

use super::outbox::{write_events, PlatformEvent};
use super::{col, parsed_col, Db, DbError};
use crate::stripe::DisputeStatus;

const TABLE: &str = "disputes";
const COLUMNS: &str = "id, merchant_id, checkout_token, charge_id, amount, currency, reason, \
    status, stripe_created, event_created, updated_at";

/// A dispute as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeRecord {
    /// `dp_...`.
    pub id: String,
    /// The merchant.
    pub merchant_id: String,
    /// The checkout, when the charge is one of slotpay's.
    pub checkout_token: Option<String>,
    /// `ch_...`.
    pub charge_id: String,
    /// The disputed amount.
    pub amount: Money,
    /// Stripe's reason.
    pub reason: Option<String>,
    /// Stripe's status.
    pub status: DisputeStatus,
    /// When it was opened (Stripe's `created`).
    pub stripe_created: i64,
    /// `created` of the event that set the status.
    pub event_created: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<DisputeRecord, DbError> {
    Ok(DisputeRecord {
        id: col(row, TABLE, "id")?,
        merchant_id: col(row, TABLE, "merchant_id")?,
        checkout_token: col(row, TABLE, "checkout_token")?,
        charge_id: col(row, TABLE, "charge_id")?,
        amount: Money::from_minor(
            col(row, TABLE, "amount")?,
            parsed_col(row, TABLE, "currency", |s| Currency::parse(s).ok())?,
        ),
        reason: col(row, TABLE, "reason")?,
        status: DisputeStatus::parse(&col::<String>(row, TABLE, "status")?),
        stripe_created: col(row, TABLE, "stripe_created")?,
        event_created: col(row, TABLE, "event_created")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

impl Db {
    /// Stores a dispute, or updates the stored one when it is the same merchant's, `d` is not
    /// older, and it does not undo a final status. `events` gives the events of the write
    /// from the status stored before (`None`: a new dispute); they are written with it.
    pub async fn upsert_dispute(
        &self,
        d: &DisputeRecord,
        events: impl Fn(Option<&DisputeStatus>) -> Vec<PlatformEvent>,
    ) -> Result<(), DbError> {
        for _ in 0..3 {
            match self.get_dispute(&d.id).await? {
                None => {
                    let mut tx = self.pool.begin().await?;
                    let done = sqlx::query(&format!(
                        "INSERT INTO disputes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                         $9, $10, $11) ON CONFLICT DO NOTHING"
                    ))
                    .bind(&d.id)
                    .bind(&d.merchant_id)
                    .bind(&d.checkout_token)
                    .bind(&d.charge_id)
                    .bind(d.amount.minor())
                    .bind(d.amount.currency().code())
                    .bind(&d.reason)
                    .bind(d.status.as_str())
                    .bind(d.stripe_created)
                    .bind(d.event_created)
                    .bind(d.updated_at)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 1 {
                        let made = write_events(&mut tx, &events(None)).await?;
                        tx.commit().await?;
                        self.made_deliveries(made);
                        return Ok(());
                    }
                    tx.rollback().await?;
                }
                Some(old) => {
                    let undoes_final = old.status.is_final() && !d.status.is_final();
                    let others = old.merchant_id != d.merchant_id;
                    if d.event_created < old.event_created || undoes_final || others {
                        return Ok(());
                    }
                    // The checks above again, in the statement: another event may have been
                    // applied since the read (events of one second are applied concurrently).
                    let mut tx = self.pool.begin().await?;
                    let done = sqlx::query(
                        "UPDATE disputes SET status = $2, amount = $3, reason = $4, \
                         event_created = $5, updated_at = $6, \
                         checkout_token = COALESCE(checkout_token, $7) \
                         WHERE id = $1 AND merchant_id = $8 AND event_created <= $5 \
                         AND (status NOT IN ('won', 'lost', 'warning_closed') \
                              OR $2 IN ('won', 'lost', 'warning_closed'))",
                    )
                    .bind(&d.id)
                    .bind(d.status.as_str())
                    .bind(d.amount.minor())
                    .bind(&d.reason)
                    .bind(d.event_created)
                    .bind(d.updated_at)
                    .bind(&d.checkout_token)
                    .bind(&d.merchant_id)
                    .execute(&mut *tx)
                    .await?;
                    let mut made = 0;
                    if done.rows_affected() == 1 {
                        made = write_events(&mut tx, &events(Some(&old.status))).await?;
                    }
                    tx.commit().await?;
                    self.made_deliveries(made);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// One dispute.
    pub async fn get_dispute(&self, id: &str) -> Result<Option<DisputeRecord>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM disputes WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A checkout's disputes.
    pub async fn list_disputes(&self, token: &str) -> Result<Vec<DisputeRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM disputes WHERE checkout_token = $1 ORDER BY stripe_created, id"
        ))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A merchant's disputes.
    pub async fn merchant_disputes(
        &self,
        merchant_id: &str,
    ) -> Result<Vec<DisputeRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM disputes WHERE merchant_id = $1 ORDER BY stripe_created, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
