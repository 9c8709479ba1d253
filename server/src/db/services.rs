//! The `services` table: a merchant's catalogue.

use sqlx::any::AnyRow;

use slotpay_core::{Currency, Money, PrepaymentRule};

use super::{col, json_col, parsed_col, Db, DbError};

const TABLE: &str = "services";
const COLUMNS: &str = "id, merchant_id, name, price_amount, currency, prepayment, \
                       cancellation_fee_amount, active, created_at, updated_at";

/// A service as stored, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRecord {
    /// `svc_...`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Shown to clients.
    pub name: String,
    /// The price (its currency is the service's, and its fee's).
    pub price: Money,
    /// The prepayment rule (stored as JSON, `{"type": "percent", "percent": 30}`).
    pub prepayment: PrepaymentRule,
    /// Cancellation or no-show fee in minor units of the price's currency, if any.
    pub cancellation_fee_amount: Option<i64>,
    /// Offered for booking.
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<ServiceRecord, DbError> {
    Ok(ServiceRecord {
        id: col(row, TABLE, "id")?,
        merchant_id: col(row, TABLE, "merchant_id")?,
        name: col(row, TABLE, "name")?,
        price: Money::from_minor(
            col(row, TABLE, "price_amount")?,
            parsed_col(row, TABLE, "currency", |s| Currency::parse(s).ok())?,
        ),
        prepayment: json_col(row, TABLE, "prepayment")?,
        cancellation_fee_amount: col(row, TABLE, "cancellation_fee_amount")?,
        active: col::<i64>(row, TABLE, "active")? != 0,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

impl Db {
    /// Stores a new service.
    pub async fn insert_service(&self, s: &ServiceRecord) -> Result<(), DbError> {
        sqlx::query(&format!(
            "INSERT INTO services ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&s.id)
        .bind(&s.merchant_id)
        .bind(&s.name)
        .bind(s.price.minor())
        .bind(s.price.currency().code())
        .bind(serde_json::to_string(&s.prepayment).expect("rules serialise"))
        .bind(s.cancellation_fee_amount)
        .bind(i64::from(s.active))
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One service of a merchant.
    pub async fn get_service(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> Result<Option<ServiceRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM services WHERE merchant_id = $1 AND id = $2"
        ))
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A merchant's services, oldest first.
    pub async fn list_services(&self, merchant_id: &str) -> Result<Vec<ServiceRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM services WHERE merchant_id = $1 ORDER BY created_at, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a service's editable fields; false when it does not exist.
    pub async fn update_service(&self, s: &ServiceRecord) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE services SET name = $3, price_amount = $4, currency = $5, prepayment = $6, \
             cancellation_fee_amount = $7, active = $8, updated_at = $9 \
             WHERE merchant_id = $1 AND id = $2",
        )
        .bind(&s.merchant_id)
        .bind(&s.id)
        .bind(&s.name)
        .bind(s.price.minor())
        .bind(s.price.currency().code())
        .bind(serde_json::to_string(&s.prepayment).expect("rules serialise"))
        .bind(s.cancellation_fee_amount)
        .bind(i64::from(s.active))
        .bind(s.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a service; false when it did not exist.
    pub async fn delete_service(&self, merchant_id: &str, id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM services WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
