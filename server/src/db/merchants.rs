//! The `merchants` table.

use sqlx::any::AnyRow;
use sqlx::Row;

use slotpay_core::{Appearance, BrandColor, Corners, Font, Locale, Scheme};

use super::{col, json_col, parsed_col, parsed_opt_col, Db, DbError};
use crate::model::{LogoUrl, TimeZoneName};

const TABLE: &str = "merchants";
const COLUMNS: &str = "id, name, allowed_origins, locale, time_zone, logo_url, brand_color, \
     corners, font, color_scheme, created_at, updated_at";

/// A merchant as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerchantRecord {
    /// `mer_...`.
    pub id: String,
    /// Shown to clients.
    pub name: String,
    /// Origins (`https://salon.example`) allowed to call the public API for this merchant.
    pub allowed_origins: Vec<String>,
    /// The language clients see.
    pub locale: Locale,
    /// Where its pages and emails put times.
    pub time_zone: TimeZoneName,
    /// The logo its receipts carry.
    pub logo_url: Option<LogoUrl>,
    /// Its checkout's primary colour.
    pub brand_color: Option<BrandColor>,
    /// How round its checkout's corners are (`None`: the checkout's default).
    pub corners: Option<Corners>,
    /// Its checkout's font (`None`: the checkout's default).
    pub font: Option<Font>,
    /// Light or dark (`None`: the checkout's default, light).
    pub color_scheme: Option<Scheme>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<MerchantRecord, DbError> {
    Ok(MerchantRecord {
        id: col(row, TABLE, "id")?,
        name: col(row, TABLE, "name")?,
        allowed_origins: json_col(row, TABLE, "allowed_origins")?,
        locale: parsed_col(row, TABLE, "locale", Locale::parse)?,
        time_zone: parsed_col(row, TABLE, "time_zone", TimeZoneName::parse)?,
        logo_url: parsed_opt_col(row, TABLE, "logo_url", LogoUrl::parse)?,
        brand_color: parsed_opt_col(row, TABLE, "brand_color", |s| BrandColor::parse(s).ok())?,
        corners: parsed_opt_col(row, TABLE, "corners", Corners::parse)?,
        font: parsed_opt_col(row, TABLE, "font", Font::parse)?,
        color_scheme: parsed_opt_col(row, TABLE, "color_scheme", Scheme::parse)?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

impl MerchantRecord {
    /// Its checkout's corners, font and light or dark, as the checkout's view carries them.
    pub fn appearance(&self) -> Appearance {
        Appearance {
            corners: self.corners,
            font: self.font,
            scheme: self.color_scheme,
        }
    }
}

fn origins_json(m: &MerchantRecord) -> String {
    serde_json::to_string(&m.allowed_origins).expect("strings serialise")
}

impl Db {
    /// Stores a new merchant.
    pub async fn insert_merchant(&self, m: &MerchantRecord) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO merchants (id, name, allowed_origins, locale, time_zone, logo_url, \
             brand_color, corners, font, color_scheme, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&m.id)
        .bind(&m.name)
        .bind(origins_json(m))
        .bind(m.locale.as_str())
        .bind(m.time_zone.as_str())
        .bind(m.logo_url.as_ref().map(LogoUrl::as_str))
        .bind(m.brand_color.as_ref().map(BrandColor::as_str))
        .bind(m.corners.map(Corners::as_str))
        .bind(m.font.map(Font::as_str))
        .bind(m.color_scheme.map(Scheme::as_str))
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One merchant.
    pub async fn get_merchant(&self, id: &str) -> Result<Option<MerchantRecord>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM merchants WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every merchant, oldest first.
    pub async fn list_merchants(&self) -> Result<Vec<MerchantRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchants ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a merchant's editable fields; false when it does not exist.
    pub async fn update_merchant(&self, m: &MerchantRecord) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE merchants SET name = $2, allowed_origins = $3, locale = $4, time_zone = $5, \
             logo_url = $6, brand_color = $7, corners = $8, font = $9, color_scheme = $10, \
             updated_at = $11 WHERE id = $1",
        )
        .bind(&m.id)
        .bind(&m.name)
        .bind(origins_json(m))
        .bind(m.locale.as_str())
        .bind(m.time_zone.as_str())
        .bind(m.logo_url.as_ref().map(LogoUrl::as_str))
        .bind(m.brand_color.as_ref().map(BrandColor::as_str))
        .bind(m.corners.map(Corners::as_str))
        .bind(m.font.map(Font::as_str))
        .bind(m.color_scheme.map(Scheme::as_str))
        .bind(m.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a merchant with its integration and services; false when it did not exist.
    pub async fn delete_merchant(&self, id: &str) -> Result<bool, DbError> {
        // One statement, so a checkout created meanwhile cannot slip in between a check and the
        // delete: payment records are never deleted with their merchant.
        let done = sqlx::query(
            "DELETE FROM merchants WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM checkouts WHERE merchant_id = $2)",
        )
        .bind(id)
        .bind(id)
        .execute(&self.pool)
        .await;
        // Its integration went with it.
        self.integrations_written();
        Ok(done?.rows_affected() == 1)
    }

    /// Whether any checkout (and so possibly a payment record) belongs to the merchant.
    pub async fn merchant_has_checkouts(&self, id: &str) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT COUNT(*) FROM checkouts WHERE merchant_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }
}
