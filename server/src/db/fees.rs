//! The `cancellation_fees` table: fees charged off-session to a card saved at checkout, one
//! per (checkout, caller key), each with its own PaymentIntent.

use futures::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::AnyPool;

use super::batch::{all_failed, placeholders};
use slotpay_core::{Currency, Money};

use super::outbox::{write_events, PlatformEvent};
use super::{col, parsed_col, Db, DbError};
use crate::model::FeeStatus;

const TABLE: &str = "cancellation_fees";
const COLUMNS: &str = "id, checkout_token, idempotency_key, amount, currency, status, \
    payment_intent_id, error_code, decline_code, error_message, created_at, updated_at";

/// A fee charge as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRecord {
    /// `fee_...`.
    pub id: String,
    /// The checkout whose saved card is charged.
    pub checkout_token: String,
    /// The caller's key.
    pub idempotency_key: String,
    /// The fee.
    pub amount: Money,
    /// Where it is.
    pub status: FeeStatus,
    /// `pi_...`.
    pub payment_intent_id: Option<String>,
    /// `card_declined`, `authentication_required`, ...
    pub error_code: Option<String>,
    /// The issuer's reason.
    pub decline_code: Option<String>,
    /// Stripe's message.
    pub error_message: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<FeeRecord, DbError> {
    Ok(FeeRecord {
        id: col(row, TABLE, "id")?,
        checkout_token: col(row, TABLE, "checkout_token")?,
        idempotency_key: col(row, TABLE, "idempotency_key")?,
        amount: Money::from_minor(
            col(row, TABLE, "amount")?,
            parsed_col(row, TABLE, "currency", |s| Currency::parse(s).ok())?,
        ),
        status: parsed_col(row, TABLE, "status", FeeStatus::parse)?,
        payment_intent_id: col(row, TABLE, "payment_intent_id")?,
        error_code: col(row, TABLE, "error_code")?,
        decline_code: col(row, TABLE, "decline_code")?,
        error_message: col(row, TABLE, "error_message")?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

/// What [`Db::insert_fee`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeInsert {
    /// Stored, its amount held on the checkout.
    Stored,
    /// The fees on the checkout would exceed the offer the client agreed to.
    ExceedsConsent,
    /// The key was used on this checkout already.
    KeyTaken,
}

/// A fee lookup: by PaymentIntent, or by the fee id its metadata names.
pub(crate) type FeeLookup = (String, Option<String>);

/// One `SELECT` for a batch of fee lookups (a fee whose PaymentIntent matches first, then one
/// whose id does).
pub(crate) fn by_intent_batch(
    pool: AnyPool,
    lookups: Vec<FeeLookup>,
) -> BoxFuture<'static, Vec<Result<Option<FeeRecord>, DbError>>> {
    Box::pin(async move {
        let ids: Vec<&str> = lookups.iter().filter_map(|l| l.1.as_deref()).collect();
        let mut sql = format!(
            "SELECT {COLUMNS} FROM cancellation_fees WHERE payment_intent_id IN ({})",
            placeholders(1, lookups.len())
        );
        if !ids.is_empty() {
            sql.push_str(&format!(
                " OR id IN ({})",
                placeholders(lookups.len() + 1, ids.len())
            ));
        }
        let found: Result<Vec<FeeRecord>, DbError> = async {
            let mut q = sqlx::query(&sql);
            for (pi, _) in &lookups {
                q = q.bind(pi);
            }
            for id in &ids {
                q = q.bind(*id);
            }
            let rows = q.fetch_all(&pool).await?;
            rows.iter().map(from_row).collect()
        }
        .await;
        match found {
            Ok(found) => lookups
                .iter()
                .map(|(pi, id)| {
                    Ok(found
                        .iter()
                        .find(|f| f.payment_intent_id.as_deref() == Some(pi.as_str()))
                        .or_else(|| {
                            id.as_deref()
                                .and_then(|id| found.iter().find(|f| f.id == id))
                        })
                        .cloned())
                })
                .collect(),
            Err(e) => all_failed(e, lookups.len(), "the batched lookup failed"),
        }
    })
}

impl Db {
    /// Stores a new fee and holds its amount on the checkout, atomically: refused when the
    /// fees held would exceed the offer the client agreed to.
    pub async fn insert_fee(&self, f: &FeeRecord) -> Result<FeeInsert, DbError> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(
            "UPDATE checkouts SET fees_held = fees_held + $2, version = version + 1 \
             WHERE token = $1 AND fees_held + $2 <= COALESCE(fee_offer_amount, 0)",
        )
        .bind(&f.checkout_token)
        .bind(f.amount.minor())
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(FeeInsert::ExceedsConsent);
        }
        let done = sqlx::query(&format!(
            "INSERT INTO cancellation_fees ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $11) ON CONFLICT DO NOTHING"
        ))
        .bind(&f.id)
        .bind(&f.checkout_token)
        .bind(&f.idempotency_key)
        .bind(f.amount.minor())
        .bind(f.amount.currency().code())
        .bind(f.status.as_str())
        .bind(&f.payment_intent_id)
        .bind(&f.error_code)
        .bind(&f.decline_code)
        .bind(&f.error_message)
        .bind(f.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(FeeInsert::KeyTaken);
        }
        tx.commit().await?;
        Ok(FeeInsert::Stored)
    }

    /// Writes a fee's outcome, given the status it had: a fee that fails gives its amount
    /// back to the checkout's offer, and one that succeeds after failing takes it again (it
    /// was charged; at most up to the offer, as the charge is Stripe's fact), in the same
    /// transaction.
    pub async fn update_fee(
        &self,
        f: &FeeRecord,
        was: FeeStatus,
        events: &[PlatformEvent],
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE cancellation_fees SET status = $2, payment_intent_id = $3, error_code = $4, \
             decline_code = $5, error_message = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(&f.id)
        .bind(f.status.as_str())
        .bind(&f.payment_intent_id)
        .bind(&f.error_code)
        .bind(&f.decline_code)
        .bind(&f.error_message)
        .bind(f.updated_at)
        .execute(&mut *tx)
        .await?;
        let change = match (was.holds_amount(), f.status.holds_amount()) {
            (true, false) => -f.amount.minor(),
            (false, true) => f.amount.minor(),
            _ => 0,
        };
        if change != 0 {
            sqlx::query(
                "UPDATE checkouts SET fees_held = CASE \
                 WHEN fees_held + $2 < 0 THEN 0 \
                 WHEN fees_held + $2 > COALESCE(fee_offer_amount, 0) THEN COALESCE(fee_offer_amount, 0) \
                 ELSE fees_held + $2 END, version = version + 1 WHERE token = $1",
            )
            .bind(&f.checkout_token)
            .bind(change)
            .execute(&mut *tx)
            .await?;
        }
        let made = write_events(&mut tx, events).await?;
        tx.commit().await?;
        self.made_deliveries(made);
        Ok(())
    }

    /// The fee of a caller's key on a checkout.
    pub async fn fee_by_key(&self, token: &str, key: &str) -> Result<Option<FeeRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cancellation_fees WHERE checkout_token = $1 AND idempotency_key = $2"
        ))
        .bind(token)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The fee of a PaymentIntent, or with this id. Concurrent calls share one statement.
    pub async fn fee_by_payment_intent_or_id(
        &self,
        payment_intent_id: &str,
        fee_id: Option<&str>,
    ) -> Result<Option<FeeRecord>, DbError> {
        self.batches
            .fee_by_intent
            .submit((payment_intent_id.to_owned(), fee_id.map(str::to_owned)))
            .await
    }

    /// The cancellation fees of a merchant's checkouts, oldest first (the payments report's, in
    /// one statement instead of one per checkout).
    pub async fn merchant_fees(&self, merchant_id: &str) -> Result<Vec<FeeRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cancellation_fees \
             WHERE checkout_token IN (SELECT token FROM checkouts WHERE merchant_id = $1) \
             ORDER BY created_at, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A checkout's fees, oldest first.
    pub async fn list_fees(&self, token: &str) -> Result<Vec<FeeRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cancellation_fees WHERE checkout_token = $1 ORDER BY created_at, id"
        ))
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
