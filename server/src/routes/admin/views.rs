//! How the admin pages put things into words: dates, amounts, statuses, prepayment rules,
//! and the summaries of a checkout that the tables and the detail page show.

use slotpay_core::intl;
use slotpay_core::{CheckoutStatus, Currency, Locale, Money, PrepaymentRule};

use crate::domain::checkouts::CheckoutAdminView;
use crate::domain::integrations::IntegrationView;
use crate::domain::merchants::{self, MerchantView};
use crate::domain::DomainError;
use crate::error::ApiFailure;
use crate::model::{IntegrationStatus, TimeZoneName};
use crate::state::AppState;

/// How one merchant's pages write times and amounts: times in its time zone, amounts as its
/// clients read them in its language (`12,50 €` for a French salon). The pages themselves
/// stay in English.
#[derive(Clone, Debug)]
pub struct Local {
    zone: TimeZoneName,
    locale: Locale,
}

impl Local {
    /// The merchant's.
    pub fn of(m: &MerchantView) -> Local {
        Local {
            zone: m.time_zone.clone(),
            locale: m.locale,
        }
    }

    /// The merchant's, by id.
    pub async fn load(state: &AppState, merchant_id: &str) -> Result<Local, DomainError> {
        Ok(Local::of(&merchants::get(state, merchant_id).await?))
    }

    /// For pages about no one merchant: UTC, English.
    pub fn operator() -> Local {
        Local {
            zone: TimeZoneName::utc(),
            locale: Locale::En,
        }
    }

    /// `2026-11-21 17:42 CET`.
    pub fn when(&self, secs: i64) -> String {
        self.zone.format(secs, "%Y-%m-%d %H:%M %Z")
    }

    /// [`Local::when`], or `—`.
    pub fn when_opt(&self, secs: Option<i64>) -> String {
        secs.map_or_else(|| "—".to_owned(), |s| self.when(s))
    }

    /// `12,50 €` from minor units and a currency.
    pub fn money(&self, minor: i64, currency: Currency) -> String {
        intl::localized(Money::from_minor(minor, currency), self.locale)
    }
}

/// A decimal amount for an input (`12.50`).
pub fn decimal(minor: i64, currency: Currency) -> String {
    Money::from_minor(minor, currency).to_major_string()
}

/// What a refused action tells people (internal details logged, not shown).
pub fn public_message(e: DomainError) -> String {
    ApiFailure::from(e).into_public().message
}

/// A checkout status for people.
pub fn status_label(s: CheckoutStatus) -> &'static str {
    match s {
        CheckoutStatus::Open => "Open",
        CheckoutStatus::Processing => "Processing",
        CheckoutStatus::RequiresAction => "Awaiting authentication",
        CheckoutStatus::Authorized => "Authorised",
        CheckoutStatus::Paid => "Paid",
        CheckoutStatus::Failed => "Failed",
        CheckoutStatus::PartiallyRefunded => "Partially refunded",
        CheckoutStatus::Refunded => "Refunded",
        CheckoutStatus::Expired => "Expired",
        CheckoutStatus::Canceled => "Canceled",
    }
}

/// A prepayment rule for people.
pub fn rule_label(rule: &PrepaymentRule, currency: Currency, local: &Local) -> String {
    match rule {
        PrepaymentRule::Full => "Full price".to_owned(),
        PrepaymentRule::Percent { percent } => format!("{percent} % of the price"),
        PrepaymentRule::Fixed { amount } => {
            format!("Deposit of {}", local.money(*amount, currency))
        }
    }
}

/// The integration's verification status for people, and its CSS class.
pub fn integration_status(v: &IntegrationView) -> (&'static str, &'static str) {
    match v.status {
        IntegrationStatus::Active => ("Active", "ok"),
        IntegrationStatus::Error => ("Error", "bad"),
        IntegrationStatus::Unverified => ("Not verified", "muted"),
    }
}

/// A mode for people (INO cx's Off / Sandbox / On).
pub fn mode_label(mode: slotpay_core::IntegrationMode) -> &'static str {
    match mode {
        slotpay_core::IntegrationMode::Off => "Off",
        slotpay_core::IntegrationMode::Sandbox => "Sandbox (test)",
        slotpay_core::IntegrationMode::Live => "Live",
    }
}

/// A line of the payments or links table.
#[derive(Clone, Debug)]
pub struct CheckoutRow {
    /// `cs_...`.
    pub token: String,
    /// Created, for people.
    pub created: String,
    /// What is paid for.
    pub description: String,
    /// The platform's reference.
    pub booking_ref: String,
    /// The client's email, when known.
    pub email: String,
    /// `12,50 €`.
    pub amount: String,
    /// Refunded, Stripe's fee and what stays, for money taken (else empty).
    pub refunded: String,
    /// Stripe's fee, when known.
    pub fee: String,
    /// Captured less refunded and Stripe's fee (when the fee is in the same currency).
    pub net: String,
    /// `Paid`.
    pub status: &'static str,
    /// `paid` (a CSS class).
    pub status_code: &'static str,
    /// `Visa •••• 4242`, or empty.
    pub card: String,
    /// The payment-link URL.
    pub url: String,
    /// Expires, for people.
    pub expires: String,
    /// Whether the link can be sent again (unpaid, not canceled).
    pub resendable: bool,
    /// Whether the client can pay it now (its link is worth copying).
    pub payable: bool,
    /// Whether it can be canceled (unpaid or authorised).
    pub cancelable: bool,
}

impl CheckoutRow {
    /// The row of a checkout, with times and amounts as `l` writes them.
    pub fn of(c: &CheckoutAdminView, l: &Local) -> CheckoutRow {
        let unpaid = matches!(
            c.status,
            CheckoutStatus::Open | CheckoutStatus::Failed | CheckoutStatus::Expired
        );
        let currency = c.amount.currency();
        let fee = c.stripe_fee.zip(c.stripe_fee_currency);
        let settled = c.status.is_settled();
        let (refunded, fee_shown, net) = if settled {
            let kept = c.amount_captured - c.amount_refunded;
            (
                l.money(c.amount_refunded, currency),
                fee.map_or_else(|| "—".to_owned(), |(f, cur)| l.money(f, cur)),
                match fee {
                    Some((f, cur)) if cur == currency => l.money(kept - f, currency),
                    Some(_) => "—".to_owned(),
                    None => l.money(kept, currency),
                },
            )
        } else {
            Default::default()
        };
        CheckoutRow {
            token: c.token.clone(),
            created: l.when(c.created_at),
            description: c.description.clone(),
            booking_ref: c.booking_ref.clone().unwrap_or_default(),
            email: c.customer_email.clone().unwrap_or_default(),
            amount: l.money(c.amount.minor(), currency),
            refunded,
            fee: fee_shown,
            net,
            status: status_label(c.status),
            status_code: c.status.as_str(),
            card: match (&c.card, c.payment_method_type) {
                (Some(card), _) => format!(
                    "{} •••• {}",
                    slotpay_core::CardBrand::from_stripe(&card.brand).display_name(),
                    card.last4
                ),
                (None, Some(m)) => m.display_name().to_owned(),
                (None, None) => String::new(),
            },
            url: c.url.clone().unwrap_or_default(),
            expires: l.when_opt(c.expires_at),
            resendable: unpaid,
            payable: !c.status.is_settled() && !c.status.is_final(),
            cancelable: unpaid || c.status == CheckoutStatus::Authorized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let utc = Local::operator();
        assert_eq!(utc.when(1_793_577_600), "2026-11-02 00:00 UTC");
        assert_eq!(utc.when_opt(None), "—");
        assert_eq!(utc.money(1250, Currency::Eur), "€12.50");
        let paris = Local {
            zone: TimeZoneName::parse("Europe/Paris").unwrap(),
            locale: Locale::Fr,
        };
        assert_eq!(paris.when(1_793_577_600), "2026-11-02 01:00 CET");
        assert_eq!(paris.money(1250, Currency::Eur), "12,50\u{a0}€");
        assert_eq!(decimal(1250, Currency::Eur), "12.50");
        assert_eq!(
            rule_label(
                &PrepaymentRule::Fixed { amount: 2000 },
                Currency::Eur,
                &paris
            ),
            "Deposit of 20,00\u{a0}€"
        );
    }
}
