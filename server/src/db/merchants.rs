//! The `merchants` table, with each merchant's uploaded logo (`merchant_logos`: the image's
//! bytes apart, read only to serve them).

use bytes::Bytes;
use sqlx::any::AnyRow;
use sqlx::Row;

use slotpay_core::{Appearance, BrandColor, Corners, Font, Locale, Scheme};

use super::{col, corrupt, json_col, parsed_col, parsed_opt_col, Db, DbError};
use crate::logo::{LogoHash, LogoImage, LogoRef, LogoType};
use crate::model::{LogoUrl, TimeZoneName};

const TABLE: &str = "merchants";
const LOGOS: &str = "merchant_logos";
/// A merchant's columns with its uploaded logo's (none without one), from [`FROM`].
const COLUMNS: &str = "m.id, m.name, m.allowed_origins, m.locale, m.time_zone, m.logo_url, \
     m.brand_color, m.corners, m.font, m.color_scheme, m.created_at, m.updated_at, \
     l.media_type AS logo_media_type, l.sha256 AS logo_sha256, l.size AS logo_size";
const FROM: &str = "merchants m LEFT JOIN merchant_logos l ON l.merchant_id = m.id";

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
    /// The logo at this URL (shown when none was uploaded).
    pub logo_url: Option<LogoUrl>,
    /// The logo uploaded to slotpay (shown before `logo_url`). Written on its own
    /// ([`Db::set_merchant_logo`]), never by [`Db::insert_merchant`] or [`Db::update_merchant`].
    pub logo: Option<LogoRef>,
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
        logo: logo_ref(row)?,
    })
}

/// The uploaded logo's columns of a merchant's row (all NULL without one).
fn logo_ref(row: &AnyRow) -> Result<Option<LogoRef>, DbError> {
    let kind = parsed_opt_col(row, LOGOS, "logo_media_type", LogoType::from_media_type)?;
    let hash = parsed_opt_col(row, LOGOS, "logo_sha256", LogoHash::parse)?;
    let size: Option<i64> = col(row, LOGOS, "logo_size")?;
    match (kind, hash, size) {
        (None, None, None) => Ok(None),
        (Some(kind), Some(hash), Some(size)) => {
            let size = usize::try_from(size)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| corrupt(LOGOS, format!("size: {size}")))?;
            Ok(Some(LogoRef { kind, hash, size }))
        }
        _ => Err(corrupt(LOGOS, "a logo with some of its columns NULL")),
    }
}

/// A stored logo: its bytes must still be the image its type and hash name.
fn logo_from_row(row: &AnyRow) -> Result<LogoImage, DbError> {
    let kind = parsed_col(row, LOGOS, "media_type", LogoType::from_media_type)?;
    let hash = parsed_col(row, LOGOS, "sha256", LogoHash::parse)?;
    let bytes: Vec<u8> = col(row, LOGOS, "bytes")?;
    LogoImage::from_stored(kind, &hash, Bytes::from(bytes)).ok_or_else(|| {
        corrupt(
            LOGOS,
            format!("bytes: not the {kind} image of hash {}", hash.as_str()),
        )
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
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every merchant, oldest first.
    pub async fn list_merchants(&self) -> Result<Vec<MerchantRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} ORDER BY m.created_at, m.id"
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

    /// Makes `image` the merchant's uploaded logo (replacing any), and its `updated_at` `now`,
    /// in one transaction; false when the merchant does not exist.
    pub async fn set_merchant_logo(
        &self,
        merchant_id: &str,
        image: &LogoImage,
        now: i64,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let touched = sqlx::query("UPDATE merchants SET updated_at = $2 WHERE id = $1")
            .bind(merchant_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if touched.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO merchant_logos (merchant_id, media_type, sha256, size, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (merchant_id) DO UPDATE SET media_type = excluded.media_type, \
             sha256 = excluded.sha256, size = excluded.size, bytes = excluded.bytes, \
             created_at = excluded.created_at",
        )
        .bind(merchant_id)
        .bind(image.kind().media_type())
        .bind(image.hash().as_str())
        .bind(image.bytes().len() as i64)
        .bind(image.bytes().to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the merchant's uploaded logo and, when there was one, makes its `updated_at`
    /// `now`; false when there was none.
    pub async fn delete_merchant_logo(&self, merchant_id: &str, now: i64) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM merchant_logos WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE merchants SET updated_at = $2 WHERE id = $1")
            .bind(merchant_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The merchant's uploaded logo when its hash is `hash` (`None` otherwise: no logo, or
    /// another one since).
    pub async fn merchant_logo(
        &self,
        merchant_id: &str,
        hash: &LogoHash,
    ) -> Result<Option<LogoImage>, DbError> {
        let row = sqlx::query(
            "SELECT media_type, sha256, bytes FROM merchant_logos \
             WHERE merchant_id = $1 AND sha256 = $2",
        )
        .bind(merchant_id)
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(logo_from_row).transpose()
    }

    /// Deletes a merchant with its integration, services and uploaded logo; false when it did
    /// not exist.
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
