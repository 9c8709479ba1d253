//! The `refunds` table, and the reservation that keeps refunds within the captured amount:
//! a refund row is inserted in the same transaction as the conditional update
//! `amount_refunded + x <= amount_captured` on its checkout, before Stripe is called, so two
//! refunds racing (on one instance or two) cannot together exceed what was captured. A refund
//! Stripe refuses gives its reservation back in the same transaction as its status change.

use sqlx::any::AnyRow;

use super::outbox::{write_events, PlatformEvent};
use super::{col, parsed_col, parsed_opt_col, AnyQuery, Db, DbError};
use crate::model::{RefundReason, RefundStatus};

const TABLE: &str = "refunds";
const COLUMNS: &str = "id, checkout_token, idempotency_key, amount, status, stripe_refund_id, \
    failure_message, created_at, updated_at, reason";

/// A refund as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRecord {
    /// `rf_...` (or the Stripe id for refunds made outside slotpay).
    pub id: String,
    /// The checkout.
    pub checkout_token: String,
    /// The caller's key (`None` for refunds made outside slotpay).
    pub idempotency_key: Option<String>,
    /// Minor units of the checkout's currency.
    pub amount: i64,
    /// Where it is.
    pub status: RefundStatus,
    /// `re_...` once Stripe answered.
    pub stripe_refund_id: Option<String>,
    /// Stripe's reason for a failure.
    pub failure_message: Option<String>,
    /// Why it was made, when given.
    pub reason: Option<RefundReason>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<RefundRecord, DbError> {
    Ok(RefundRecord {
        id: col(row, TABLE, "id")?,
        checkout_token: col(row, TABLE, "checkout_token")?,
        idempotency_key: col(row, TABLE, "idempotency_key")?,
        amount: col(row, TABLE, "amount")?,
        status: parsed_col(row, TABLE, "status", RefundStatus::parse)?,
        stripe_refund_id: col(row, TABLE, "stripe_refund_id")?,
        failure_message: col(row, TABLE, "failure_message")?,
        reason: parsed_opt_col(row, TABLE, "reason", RefundReason::parse)?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

/// The `INSERT` of a whole row, bound by [`bind_row`], with `tail` after it.
fn insert_sql(tail: &str) -> String {
    format!(
        "INSERT INTO refunds ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) {tail}"
    )
}

fn bind_row<'q>(q: AnyQuery<'q>, r: &'q RefundRecord) -> AnyQuery<'q> {
    q.bind(&r.id)
        .bind(&r.checkout_token)
        .bind(&r.idempotency_key)
        .bind(r.amount)
        .bind(r.status.as_str())
        .bind(&r.stripe_refund_id)
        .bind(&r.failure_message)
        .bind(r.created_at)
        .bind(r.reason.map(RefundReason::as_str))
}

/// What [`Db::reserve_refund`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The row is stored and its amount reserved.
    Reserved,
    /// Less than the amount remains refundable (or nothing was captured).
    Exceeds,
    /// The key was used by a concurrent request.
    KeyTaken,
}

impl Db {
    /// Inserts a pending refund and reserves its amount on the checkout, atomically.
    pub async fn reserve_refund(&self, r: &RefundRecord) -> Result<Reservation, DbError> {
        let mut tx = self.pool.begin().await?;
        let reserved = sqlx::query(
            "UPDATE checkouts SET amount_refunded = amount_refunded + $2, updated_at = $3, \
             version = version + 1 \
             WHERE token = $1 AND amount_refunded + $2 <= amount_captured \
             AND status IN ('paid', 'partially_refunded')",
        )
        .bind(&r.checkout_token)
        .bind(r.amount)
        .bind(r.created_at)
        .execute(&mut *tx)
        .await?;
        if reserved.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Reservation::Exceeds);
        }
        let sql = insert_sql("");
        let inserted = bind_row(sqlx::query(&sql), r)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from);
        match inserted {
            Ok(_) => {
                tx.commit().await?;
                Ok(Reservation::Reserved)
            }
            Err(e) if e.is_unique_violation() => {
                tx.rollback().await?;
                Ok(Reservation::KeyTaken)
            }
            Err(e) => Err(e),
        }
    }

    /// Moves a refund from `from` to `to` (with Stripe's id and a failure reason); when it
    /// stops holding its amount (failed, canceled) the reservation is given back in the same
    /// transaction. False when the refund was not in `from` any more.
    pub async fn transition_refund(
        &self,
        id: &str,
        from: RefundStatus,
        to: RefundStatus,
        stripe_refund_id: Option<&str>,
        failure_message: Option<&str>,
        events: &[PlatformEvent],
    ) -> Result<bool, DbError> {
        let now = super::now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE refunds SET status = $3, stripe_refund_id = COALESCE($4, stripe_refund_id), \
             failure_message = COALESCE($5, failure_message), updated_at = $6 \
             WHERE id = $1 AND status = $2",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(stripe_refund_id)
        .bind(failure_message)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if from.holds_amount() && !to.holds_amount() {
            sqlx::query(
                "UPDATE checkouts SET amount_refunded = amount_refunded - \
                 (SELECT amount FROM refunds WHERE id = $1), updated_at = $2, \
                 version = version + 1 \
                 WHERE token = (SELECT checkout_token FROM refunds WHERE id = $1)",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let made = write_events(&mut tx, events).await?;
        tx.commit().await?;
        self.made_deliveries(made);
        Ok(true)
    }

    /// Records a refund made outside slotpay (the Dashboard), holding its amount; false when
    /// it is known already.
    pub async fn insert_external_refund(
        &self,
        r: &RefundRecord,
        events: &[PlatformEvent],
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let sql = insert_sql("ON CONFLICT DO NOTHING");
        let done = bind_row(sqlx::query(&sql), r).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if r.status.holds_amount() {
            // Stripe already refunded it: the reservation follows, capped by the constraint.
            sqlx::query(
                "UPDATE checkouts SET amount_refunded = CASE \
                 WHEN amount_refunded + $2 > amount_captured THEN amount_captured \
                 ELSE amount_refunded + $2 END, updated_at = $3, version = version + 1 \
                 WHERE token = $1",
            )
            .bind(&r.checkout_token)
            .bind(r.amount)
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
        }
        let made = write_events(&mut tx, events).await?;
        tx.commit().await?;
        self.made_deliveries(made);
        Ok(true)
    }

    /// One refund.
    pub async fn get_refund(&self, id: &str) -> Result<Option<RefundRecord>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The refund of a caller's key on a checkout.
    pub async fn refund_by_key(
        &self,
        token: &str,
        key: &str,
    ) -> Result<Option<RefundRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE checkout_token = $1 AND idempotency_key = $2"
        ))
        .bind(token)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The refund with Stripe's id.
    pub async fn refund_by_stripe_id(
        &self,
        stripe_id: &str,
    ) -> Result<Option<RefundRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE stripe_refund_id = $1"
        ))
        .bind(stripe_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A checkout's refunds, oldest first.
    pub async fn list_refunds(&self, token: &str) -> Result<Vec<RefundRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE checkout_token = $1 ORDER BY created_at, id"
        ))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The refunds of a merchant's checkouts, oldest first (the payments report's, in one
    /// statement instead of one per checkout).
    pub async fn merchant_refunds(&self, merchant_id: &str) -> Result<Vec<RefundRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds \
             WHERE checkout_token IN (SELECT token FROM checkouts WHERE merchant_id = $1) \
             ORDER BY created_at, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Refunds still pending since before `created_before` (the reconciler drives them on).
    pub async fn pending_refunds(&self, created_before: i64) -> Result<Vec<RefundRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE status = 'pending' AND created_at < $1 \
             ORDER BY created_at LIMIT 100"
        ))
        .bind(created_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
