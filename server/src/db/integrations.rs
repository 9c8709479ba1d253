//! The `integrations` table: one Stripe integration per merchant, its keys encrypted, its
//! verification status and its webhook endpoint. Updates are optimistic: each write names
//! the `version` it read and bumps it, so two concurrent edits cannot silently overwrite
//! each other (the second gets [`DbError::Conflict`]).

use sqlx::any::AnyRow;

use slotpay_core::{
    methods, CardBrand, Currency, ErrorCode, IntegrationMode, MethodType, PublishableKey,
};

use super::outbox::{write_events, PlatformEvent};
use super::{col, corrupt, json_col, parsed_col, parsed_opt_col, Db, DbError};
use crate::model::{IntegrationStatus, SecretSource, StatusReason, WalletDomain};

const TABLE: &str = "integrations";
const COLUMNS: &str = "merchant_id, name, mode, active, status, status_code, status_message, \
    status_permission, last_verified_at, account_id, account_country, account_default_currency, \
    publishable_key, secret_key_enc, secret_key_hint, webhook_secret_enc, webhook_secret_source, \
    webhook_endpoint_id, webhook_url, card_brands, previous_webhook_secret_enc, \
    previous_webhook_secret_expires_at, payment_methods, wallets, wallet_domains, version, created_at, \
    updated_at";

/// An integration as stored, parsed (the secrets stay ciphertexts: only the domain, with
/// the cipher, reads them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationRecord {
    /// The merchant (one integration each).
    pub merchant_id: String,
    /// Label chosen by the merchant.
    pub name: String,
    /// Off, Sandbox or Live.
    pub mode: IntegrationMode,
    /// Switched on by activation.
    pub active: bool,
    /// What the last verification found.
    pub status: IntegrationStatus,
    /// Why the last verification failed (with status Error).
    pub status_reason: Option<StatusReason>,
    /// Unix seconds of the last verification.
    pub last_verified_at: Option<i64>,
    /// `acct_...`.
    pub account_id: Option<String>,
    /// Two-letter country.
    pub account_country: Option<String>,
    /// Settlement currency.
    pub account_default_currency: Option<Currency>,
    /// `pk_...` (not secret).
    pub publishable_key: PublishableKey,
    /// Ciphertext of the `sk_`/`rk_` key.
    pub secret_key_enc: String,
    /// `sk_live_...4242`.
    pub secret_key_hint: String,
    /// Ciphertext of the webhook signing secret.
    pub webhook_secret_enc: Option<String>,
    /// Where the signing secret came from.
    pub webhook_secret_source: Option<SecretSource>,
    /// `we_...` when registered through the API.
    pub webhook_endpoint_id: Option<String>,
    /// The URL the endpoint was registered with.
    pub webhook_url: Option<String>,
    /// Accepted card brands.
    pub card_brands: Vec<CardBrand>,
    /// Ciphertext of the signing secret replaced last, accepted until it expires (Stripe
    /// signs with both while a secret is rolled).
    pub previous_webhook_secret_enc: Option<String>,
    /// Unix seconds after which the previous secret is no longer accepted.
    pub previous_webhook_secret_expires_at: Option<i64>,
    /// The ways to pay offered (card among them).
    pub payment_methods: Vec<MethodType>,
    /// Whether card payments may come from wallets.
    pub wallets: bool,
    /// The web domains registered for the wallets, as Stripe last said.
    pub wallet_domains: Vec<WalletDomain>,
    /// Bumped by every write.
    pub version: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<IntegrationRecord, DbError> {
    let status_reason = match col::<Option<String>>(row, TABLE, "status_code")? {
        None => None,
        Some(code) => Some(StatusReason {
            code: ErrorCode::parse(&code)
                .ok_or_else(|| corrupt(TABLE, format!("status_code: {code:?}")))?,
            message: col::<Option<String>>(row, TABLE, "status_message")?.unwrap_or_default(),
            missing_permissions: col::<Option<String>>(row, TABLE, "status_permission")?
                .map(|p| p.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        }),
    };
    Ok(IntegrationRecord {
        merchant_id: col(row, TABLE, "merchant_id")?,
        name: col(row, TABLE, "name")?,
        mode: parsed_col(row, TABLE, "mode", IntegrationMode::parse)?,
        active: col::<i64>(row, TABLE, "active")? != 0,
        status: parsed_col(row, TABLE, "status", IntegrationStatus::parse)?,
        status_reason,
        last_verified_at: col(row, TABLE, "last_verified_at")?,
        account_id: col(row, TABLE, "account_id")?,
        account_country: col(row, TABLE, "account_country")?,
        account_default_currency: parsed_opt_col(row, TABLE, "account_default_currency", |s| {
            Currency::parse(s).ok()
        })?,
        publishable_key: parsed_col(row, TABLE, "publishable_key", |s| {
            PublishableKey::parse(s).ok().map(|p| p.key)
        })?,
        secret_key_enc: col(row, TABLE, "secret_key_enc")?,
        secret_key_hint: col(row, TABLE, "secret_key_hint")?,
        webhook_secret_enc: col(row, TABLE, "webhook_secret_enc")?,
        webhook_secret_source: parsed_opt_col(
            row,
            TABLE,
            "webhook_secret_source",
            SecretSource::parse,
        )?,
        webhook_endpoint_id: col(row, TABLE, "webhook_endpoint_id")?,
        webhook_url: col(row, TABLE, "webhook_url")?,
        card_brands: json_col(row, TABLE, "card_brands")?,
        previous_webhook_secret_enc: col(row, TABLE, "previous_webhook_secret_enc")?,
        previous_webhook_secret_expires_at: col(row, TABLE, "previous_webhook_secret_expires_at")?,
        payment_methods: methods::parse_list(&json_col::<Vec<String>>(
            row,
            TABLE,
            "payment_methods",
        )?)
        .map_err(|e| corrupt(TABLE, format!("payment_methods: {e:?}")))?,
        wallets: col::<i64>(row, TABLE, "wallets")? != 0,
        wallet_domains: json_col(row, TABLE, "wallet_domains")?,
        version: col(row, TABLE, "version")?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
    })
}

/// Binds every column but the key, in `COLUMNS` order after `merchant_id`.
macro_rules! bind_fields {
    ($query:expr, $r:expr) => {
        $query
            .bind(&$r.name)
            .bind($r.mode.as_str())
            .bind(i64::from($r.active))
            .bind($r.status.as_str())
            .bind($r.status_reason.as_ref().map(|e| e.code.as_str()))
            .bind($r.status_reason.as_ref().map(|e| e.message.as_str()))
            .bind(
                $r.status_reason
                    .as_ref()
                    .filter(|e| !e.missing_permissions.is_empty())
                    .map(|e| e.missing_permissions.join(",")),
            )
            .bind($r.last_verified_at)
            .bind(&$r.account_id)
            .bind(&$r.account_country)
            .bind($r.account_default_currency.map(|c| c.code()))
            .bind($r.publishable_key.as_str())
            .bind(&$r.secret_key_enc)
            .bind(&$r.secret_key_hint)
            .bind(&$r.webhook_secret_enc)
            .bind($r.webhook_secret_source.map(|s| s.as_str()))
            .bind(&$r.webhook_endpoint_id)
            .bind(&$r.webhook_url)
            .bind(serde_json::to_string(&$r.card_brands).expect("brands serialise"))
            .bind(&$r.previous_webhook_secret_enc)
            .bind($r.previous_webhook_secret_expires_at)
            .bind(serde_json::to_string(&$r.payment_methods).expect("methods serialise"))
            .bind(i64::from($r.wallets))
            .bind(serde_json::to_string(&$r.wallet_domains).expect("domains serialise"))
    };
}

impl Db {
    /// A merchant's integration.
    pub async fn get_integration(
        &self,
        merchant_id: &str,
    ) -> Result<Option<IntegrationRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE merchant_id = $1"
        ))
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The other merchants whose integration is connected to the Stripe account
    /// `account_id`, by id.
    pub async fn merchants_sharing_account(
        &self,
        account_id: &str,
        merchant_id: &str,
    ) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT merchant_id FROM integrations WHERE account_id = $1 AND merchant_id <> $2 \
             ORDER BY merchant_id",
        )
        .bind(account_id)
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| col(row, TABLE, "merchant_id"))
            .collect()
    }

    /// Stores a new integration (version 1); [`DbError::Conflict`] when the merchant
    /// already has one.
    pub async fn insert_integration(&self, r: &IntegrationRecord) -> Result<(), DbError> {
        let sql = format!(
            "INSERT INTO integrations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, 1, $26, $26)"
        );
        let query = sqlx::query(&sql).bind(&r.merchant_id);
        let result = bind_fields!(query, r)
            .bind(r.updated_at)
            .execute(&self.pool)
            .await;
        self.integrations_written();
        match result.map_err(DbError::from) {
            Ok(_) => Ok(()),
            Err(e) if e.is_unique_violation() => {
                Err(DbError::Conflict("the merchant already has an integration"))
            }
            Err(e) => Err(e),
        }
    }

    /// Writes `r` over the stored row if its version is still `r.version`, and returns the
    /// new version, writing `events` with it; [`DbError::Conflict`] when it changed or
    /// vanished meanwhile.
    pub async fn update_integration(
        &self,
        r: &IntegrationRecord,
        events: &[PlatformEvent],
    ) -> Result<i64, DbError> {
        let mut tx = self.pool.begin().await?;
        let query = sqlx::query(
            "UPDATE integrations SET name = $2, mode = $3, active = $4, status = $5, \
             status_code = $6, status_message = $7, status_permission = $8, \
             last_verified_at = $9, account_id = $10, account_country = $11, \
             account_default_currency = $12, publishable_key = $13, secret_key_enc = $14, \
             secret_key_hint = $15, webhook_secret_enc = $16, webhook_secret_source = $17, \
             webhook_endpoint_id = $18, webhook_url = $19, card_brands = $20, \
             previous_webhook_secret_enc = $21, previous_webhook_secret_expires_at = $22, \
             payment_methods = $23, wallets = $24, wallet_domains = $25, updated_at = $26, \
             version = version + 1 WHERE merchant_id = $1 AND version = $27",
        )
        .bind(&r.merchant_id);
        let done = bind_fields!(query, r)
            .bind(r.updated_at)
            .bind(r.version)
            .execute(&mut *tx)
            .await;
        self.integrations_written();
        if done?.rows_affected() == 1 {
            let made = write_events(&mut tx, events).await?;
            tx.commit().await?;
            self.made_deliveries(made);
            Ok(r.version + 1)
        } else {
            Err(DbError::Conflict(
                "the integration was changed meanwhile; reload it and try again",
            ))
        }
    }

    /// Deletes a merchant's integration; false when there was none.
    pub async fn delete_integration(&self, merchant_id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM integrations WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&self.pool)
            .await;
        self.integrations_written();
        Ok(done?.rows_affected() == 1)
    }
}
