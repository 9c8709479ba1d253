//! Ways to pay and which of them a checkout offers.
//!
//! A merchant chooses the methods of its integration; each checkout offers those of them
//! whose rules its currency, amount and capture allow. The rules, from Stripe's documents
//! for each method:
//!
//! | method | currencies | largest amount | separate capture | saved for later charges |
//! |---|---|---|---|---|
//! | card (and wallets) | every currency | Stripe's own maximum | yes | yes |
//! | iDEAL | EUR | €50,000.00 (the scheme's) | no | no (only as a generated SEPA Debit) |
//! | Bancontact | EUR | none of its own | no | no (only as a generated SEPA Debit) |
//! | SEPA Direct Debit | EUR | €10,000.00 per debit | no | yes |
//!
//! Card is always offered: it is the one method every currency has, so no checkout is left
//! without a way to pay.

use serde::{Deserialize, Serialize};

use crate::{ApiError, Currency, ErrorCode, Money};

/// A type of PaymentMethod, as Stripe names it (`PaymentMethod.type`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodType {
    /// A card, typed in or from a wallet (Apple Pay, Google Pay, Link).
    Card,
    /// iDEAL, a bank redirect (the Netherlands).
    Ideal,
    /// Bancontact, a bank redirect (Belgium).
    Bancontact,
    /// SEPA Direct Debit, which settles days later.
    SepaDebit,
}

impl MethodType {
    /// Every method slotpay offers, in the order a checkout lists them.
    pub const ALL: &'static [MethodType] = &[
        MethodType::Card,
        MethodType::Ideal,
        MethodType::Bancontact,
        MethodType::SepaDebit,
    ];

    /// Stripe's string, e.g. `"sepa_debit"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MethodType::Card => "card",
            MethodType::Ideal => "ideal",
            MethodType::Bancontact => "bancontact",
            MethodType::SepaDebit => "sepa_debit",
        }
    }

    /// The method of one of Stripe's strings; `None` for a type slotpay does not offer.
    pub fn parse(s: &str) -> Option<MethodType> {
        MethodType::ALL.iter().copied().find(|m| m.as_str() == s)
    }

    /// The method's name for people, e.g. `"SEPA Direct Debit"`.
    pub const fn display_name(self) -> &'static str {
        match self {
            MethodType::Card => "Card",
            MethodType::Ideal => "iDEAL",
            MethodType::Bancontact => "Bancontact",
            MethodType::SepaDebit => "SEPA Direct Debit",
        }
    }

    /// The one currency the method works in, if it is limited to one.
    pub const fn only_currency(self) -> Option<Currency> {
        match self {
            MethodType::Card => None,
            MethodType::Ideal | MethodType::Bancontact | MethodType::SepaDebit => {
                Some(Currency::Eur)
            }
        }
    }

    /// The largest amount the method takes in one payment, in minor units of its currency,
    /// where it is below Stripe's own maximum charge.
    pub const fn largest_minor(self) -> Option<i64> {
        match self {
            MethodType::Ideal => Some(5_000_000),
            MethodType::SepaDebit => Some(1_000_000),
            MethodType::Card | MethodType::Bancontact => None,
        }
    }

    /// Whether a payment can be authorised now and captured later (`capture_method=manual`).
    pub const fn separate_capture(self) -> bool {
        matches!(self, MethodType::Card)
    }

    /// Whether the PaymentMethod itself can be saved and charged later without the client
    /// (a cancellation fee).
    pub const fn reusable(self) -> bool {
        matches!(self, MethodType::Card | MethodType::SepaDebit)
    }

    /// Whether the client leaves the page to approve the payment at their bank.
    pub const fn redirects(self) -> bool {
        matches!(self, MethodType::Ideal | MethodType::Bancontact)
    }

    /// Whether the payment's outcome is known only days later (the checkout waits in
    /// `processing`).
    pub const fn settles_later(self) -> bool {
        matches!(self, MethodType::SepaDebit)
    }

    /// Whether a payment of `amount`, captured at once or later, can use this method.
    pub fn allows(self, amount: Money, separate_capture: bool) -> bool {
        let currency_ok = self.only_currency().is_none_or(|c| c == amount.currency());
        let amount_ok = self.largest_minor().is_none_or(|max| amount.minor() <= max);
        currency_ok && amount_ok && (!separate_capture || self.separate_capture())
    }
}

/// Why a merchant's list of methods cannot be saved.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MethodsError {
    /// A string that names no method slotpay offers, at this index.
    Unknown(usize),
    /// The list leaves out card.
    NoCard,
}

impl From<MethodsError> for ApiError {
    fn from(e: MethodsError) -> ApiError {
        match e {
            MethodsError::Unknown(i) => ApiError::new(
                ErrorCode::InvalidRequest,
                "Payment methods are card, ideal, bancontact and sepa_debit",
            )
            .with_param(format!("payment_methods[{i}]")),
            MethodsError::NoCard => ApiError::new(
                ErrorCode::InvalidRequest,
                "Card is always offered: it is the one method every currency has",
            )
            .with_param("payment_methods"),
        }
    }
}

/// The merchant's methods from its strings: each known, card among them, duplicates dropped,
/// in slotpay's order.
pub fn parse_list<S: AsRef<str>>(input: &[S]) -> Result<Vec<MethodType>, MethodsError> {
    let mut chosen = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let m = MethodType::parse(s.as_ref().trim()).ok_or(MethodsError::Unknown(i))?;
        chosen.push(m);
    }
    if !chosen.contains(&MethodType::Card) {
        return Err(MethodsError::NoCard);
    }
    Ok(MethodType::ALL
        .iter()
        .copied()
        .filter(|m| chosen.contains(m))
        .collect())
}

/// The methods a checkout of `amount` offers, of those the merchant chose, in slotpay's order.
/// Card, when chosen, is always among them.
pub fn offered(chosen: &[MethodType], amount: Money, separate_capture: bool) -> Vec<MethodType> {
    MethodType::ALL
        .iter()
        .copied()
        .filter(|m| chosen.contains(m) && m.allows(amount, separate_capture))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::Eur)
    }

    #[test]
    fn euro_methods_are_offered_for_euros_only() {
        let all = MethodType::ALL;
        assert_eq!(offered(all, eur(2500), false), all);
        assert_eq!(
            offered(all, Money::from_minor(2500, Currency::Gbp), false),
            [MethodType::Card]
        );
    }

    #[test]
    fn a_later_capture_is_card_only() {
        assert_eq!(
            offered(MethodType::ALL, eur(2500), true),
            [MethodType::Card]
        );
    }

    #[test]
    fn amounts_above_a_methods_limit_leave_it_out() {
        let all = MethodType::ALL;
        let at_sepa_limit = offered(all, eur(1_000_000), false);
        assert!(at_sepa_limit.contains(&MethodType::SepaDebit));
        let above = offered(all, eur(1_000_001), false);
        assert_eq!(
            above,
            [MethodType::Card, MethodType::Ideal, MethodType::Bancontact]
        );
        let above_ideal = offered(all, eur(5_000_001), false);
        assert_eq!(above_ideal, [MethodType::Card, MethodType::Bancontact]);
    }

    #[test]
    fn only_the_merchants_choice_is_offered() {
        let chosen = [MethodType::Card, MethodType::Ideal];
        assert_eq!(offered(&chosen, eur(100), false), chosen);
    }

    #[test]
    fn the_list_needs_card_and_known_names() {
        assert_eq!(
            parse_list(&["sepa_debit", " card ", "ideal", "card"]),
            Ok(vec![
                MethodType::Card,
                MethodType::Ideal,
                MethodType::SepaDebit
            ])
        );
        assert_eq!(parse_list(&["ideal"]), Err(MethodsError::NoCard));
        assert_eq!(parse_list::<&str>(&[]), Err(MethodsError::NoCard));
        assert_eq!(
            parse_list(&["card", "paypal"]),
            Err(MethodsError::Unknown(1))
        );
    }

    #[test]
    fn names_round_trip_through_stripes_strings_and_serde() {
        for &m in MethodType::ALL {
            assert_eq!(MethodType::parse(m.as_str()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
        assert_eq!(MethodType::parse("Card"), None);
    }

    #[test]
    fn what_saves_and_what_waits() {
        let reusable: Vec<_> = MethodType::ALL.iter().filter(|m| m.reusable()).collect();
        assert_eq!(reusable, [&MethodType::Card, &MethodType::SepaDebit]);
        assert!(MethodType::Ideal.redirects() && MethodType::Bancontact.redirects());
        assert!(!MethodType::Card.redirects() && !MethodType::SepaDebit.redirects());
        assert!(MethodType::SepaDebit.settles_later() && !MethodType::Card.settles_later());
    }

    proptest! {
        /// Whatever the merchant chose and whatever the payment, a checkout offers card when
        /// the merchant chose it, and never a method the merchant did not choose or whose
        /// rules the payment breaks.
        #[test]
        fn offered_is_the_chosen_methods_the_payment_allows(
            mask in 0u8..16,
            minor in 1i64..20_000_000,
            eur_or_gbp in any::<bool>(),
            later in any::<bool>(),
        ) {
            let chosen: Vec<_> = MethodType::ALL.iter().copied()
                .enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, m)| m).collect();
            let currency = if eur_or_gbp { Currency::Eur } else { Currency::Gbp };
            let amount = Money::from_minor(minor, currency);
            let got = offered(&chosen, amount, later);
            prop_assert_eq!(got.contains(&MethodType::Card), chosen.contains(&MethodType::Card));
            for m in &got {
                prop_assert!(chosen.contains(m));
                prop_assert!(m.only_currency().is_none_or(|c| c == currency));
                prop_assert!(m.largest_minor().is_none_or(|max| minor <= max));
                prop_assert!(!later || m.separate_capture());
            }
        }
    }
}
