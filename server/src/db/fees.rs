//! The `cancellation_fees` table: fees charged off-session to a card saved at checkout, one
//! per (checkout, caller key), each with its own PaymentIntent.

use sqlx::any::AnyRow;

use super::{col, Db, DbError};

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
    /// Minor units.
    pub amount: i64,
    /// Lowercase currency.
    pub currency: String,
    /// `pending`, `succeeded`, `failed` or `requires_action`.
    pub status: String,
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
        amount: col(row, TABLE, "amount")?,
        currency: col(row, TABLE, "currency")?,
        status: col(row, TABLE, "status")?,
        payment_intent_id: col(row, TABLE, "payment_intent_id")?,
        error_code: col(row, TABLE, "error_code")?,
        decline_code: col(row, TABLE, "decline_code")?,
        error_message: col(row, TABLE, "error_message")?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

impl Db {
    /// Stores a new fee; false when the key was used on this checkout already.
    pub async fn insert_fee(&self, f: &FeeRecord) -> Result<bool, DbError> {
        let done = sqlx::query(&format!(
            "INSERT INTO cancellation_fees ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $11) ON CONFLICT DO NOTHING"
        ))
        .bind(&f.id)
        .bind(&f.checkout_token)
        .bind(&f.idempotency_key)
        .bind(f.amount)
        .bind(&f.currency)
        .bind(&f.status)
        .bind(&f.payment_intent_id)
        .bind(&f.error_code)
        .bind(&f.decline_code)
        .bind(&f.error_message)
        .bind(f.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a fee's outcome.
    pub async fn update_fee(&self, f: &FeeRecord) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE cancellation_fees SET status = $2, payment_intent_id = $3, error_code = $4, \
             decline_code = $5, error_message = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(&f.id)
        .bind(&f.status)
        .bind(&f.payment_intent_id)
        .bind(&f.error_code)
        .bind(&f.decline_code)
        .bind(&f.error_message)
        .bind(f.updated_at)
        .execute(&self.pool)
        .await?;
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

    /// The fee of a PaymentIntent, or with this id.
    pub async fn fee_by_payment_intent_or_id(
        &self,
        payment_intent_id: &str,
        fee_id: Option<&str>,
    ) -> Result<Option<FeeRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cancellation_fees WHERE payment_intent_id = $1 OR id = $2"
        ))
        .bind(payment_intent_id)
        .bind(fee_id.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
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
