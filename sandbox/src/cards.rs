//! Stripe's test cards (from Stripe's testing page): what each number does, the `pm_card_*`
//! test PaymentMethods, and the card details (brand, funding, country) a number implies.

/// Why a charge on a card is declined, with Stripe's code, decline code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline {
    /// The error's `code` (`card_declined`, `expired_card`, `incorrect_cvc`, ...).
    pub code: &'static str,
    /// The error's `decline_code`.
    pub decline_code: &'static str,
    /// Stripe's message for the customer.
    pub message: &'static str,
}

/// `generic_decline`.
pub const GENERIC_DECLINE: Decline = Decline {
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
};
/// `insufficient_funds`.
pub const INSUFFICIENT_FUNDS: Decline = Decline {
    code: "card_declined",
    decline_code: "insufficient_funds",
    message: "Your card has insufficient funds.",
};
/// `lost_card`.
pub const LOST_CARD: Decline = Decline {
    code: "card_declined",
    decline_code: "lost_card",
    message: "Your card was declined.",
};
/// `stolen_card`.
pub const STOLEN_CARD: Decline = Decline {
    code: "card_declined",
    decline_code: "stolen_card",
    message: "Your card was declined.",
};
/// `expired_card`.
pub const EXPIRED_CARD: Decline = Decline {
    code: "expired_card",
    decline_code: "expired_card",
    message: "Your card has expired.",
};
/// `incorrect_cvc`.
pub const INCORRECT_CVC: Decline = Decline {
    code: "incorrect_cvc",
    decline_code: "incorrect_cvc",
    message: "Your card's security code is incorrect.",
};
/// `processing_error`.
pub const PROCESSING_ERROR: Decline = Decline {
    code: "processing_error",
    decline_code: "processing_error",
    message: "An error occurred while processing your card. Try again in a little bit.",
};
/// `authentication_required` (an off-session payment on a card that needs 3-D Secure).
pub const AUTHENTICATION_REQUIRED: Decline = Decline {
    code: "authentication_required",
    decline_code: "authentication_required",
    message: "Your card was declined. This transaction requires authentication.",
};
/// A real (non-test) card number used in test mode.
pub const TEST_MODE_LIVE_CARD: Decline = Decline {
    code: "card_declined",
    decline_code: "test_mode_live_card",
    message: "Your card was declined. Your request was in test mode, but used a non test (live) \
              card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
};

/// What a test card does when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Charges succeed.
    Succeed,
    /// Charges (and SetupIntent confirmations) are declined.
    Decline(Decline),
    /// Attaching to a customer and setting up succeed; charges are declined (4000000000000341).
    AttachThenDecline,
    /// 3-D Secure on session; off-session payments succeed once the card was set up (3155).
    ThreeDsUnlessSetUp,
    /// 3-D Secure always; off-session payments are declined `authentication_required` (3184).
    ThreeDsAlways,
    /// 3-D Secure 2 required (3220); behaves as `ThreeDsAlways`.
    ThreeDs2,
    /// The charge succeeds, then a dispute is opened on it (4000000000000259).
    Dispute,
}

impl Behavior {
    /// Whether an on-session payment needs a 3-D Secure challenge.
    pub fn needs_3ds(self) -> bool {
        matches!(
            self,
            Behavior::ThreeDsUnlessSetUp | Behavior::ThreeDsAlways | Behavior::ThreeDs2
        )
    }
}

/// One test card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    /// The card number.
    pub number: &'static str,
    /// `visa`, `mastercard`, `amex`, `discover`, `jcb`, ...
    pub brand: &'static str,
    /// `credit` or `debit`.
    pub funding: &'static str,
    /// Issuing country.
    pub country: &'static str,
    /// What charging it does.
    pub behavior: Behavior,
}

const fn card(
    number: &'static str,
    brand: &'static str,
    funding: &'static str,
    country: &'static str,
    behavior: Behavior,
) -> TestCard {
    TestCard {
        number,
        brand,
        funding,
        country,
        behavior,
    }
}

/// The table, from Stripe's testing page.
pub const CARDS: &[TestCard] = &[
    card(
        "4242424242424242",
        "visa",
        "credit",
        "US",
        Behavior::Succeed,
    ),
    card("4000056655665556", "visa", "debit", "US", Behavior::Succeed),
    card(
        "5555555555554444",
        "mastercard",
        "credit",
        "US",
        Behavior::Succeed,
    ),
    card(
        "2223003122003222",
        "mastercard",
        "credit",
        "US",
        Behavior::Succeed,
    ),
    card(
        "5200828282828210",
        "mastercard",
        "debit",
        "US",
        Behavior::Succeed,
    ),
    card("378282246310005", "amex", "credit", "US", Behavior::Succeed),
    card("371449635398431", "amex", "credit", "US", Behavior::Succeed),
    card(
        "6011111111111117",
        "discover",
        "credit",
        "US",
        Behavior::Succeed,
    ),
    card(
        "3056930009020004",
        "diners",
        "credit",
        "US",
        Behavior::Succeed,
    ),
    card("3566002020360505", "jcb", "credit", "JP", Behavior::Succeed),
    card(
        "6200000000000005",
        "unionpay",
        "credit",
        "CN",
        Behavior::Succeed,
    ),
    card(
        "4000002500000003",
        "visa",
        "credit",
        "FR",
        Behavior::Succeed,
    ),
    card(
        "4000008260000000",
        "visa",
        "credit",
        "GB",
        Behavior::Succeed,
    ),
    card(
        "4000000000000002",
        "visa",
        "credit",
        "US",
        Behavior::Decline(GENERIC_DECLINE),
    ),
    card(
        "4000000000009995",
        "visa",
        "credit",
        "US",
        Behavior::Decline(INSUFFICIENT_FUNDS),
    ),
    card(
        "4000000000009987",
        "visa",
        "credit",
        "US",
        Behavior::Decline(LOST_CARD),
    ),
    card(
        "4000000000009979",
        "visa",
        "credit",
        "US",
        Behavior::Decline(STOLEN_CARD),
    ),
    card(
        "4000000000000069",
        "visa",
        "credit",
        "US",
        Behavior::Decline(EXPIRED_CARD),
    ),
    card(
        "4000000000000127",
        "visa",
        "credit",
        "US",
        Behavior::Decline(INCORRECT_CVC),
    ),
    card(
        "4000000000000119",
        "visa",
        "credit",
        "US",
        Behavior::Decline(PROCESSING_ERROR),
    ),
    card(
        "4000000000000341",
        "visa",
        "credit",
        "US",
        Behavior::AttachThenDecline,
    ),
    card(
        "4000002500003155",
        "visa",
        "credit",
        "US",
        Behavior::ThreeDsUnlessSetUp,
    ),
    card(
        "4000002760003184",
        "visa",
        "credit",
        "DE",
        Behavior::ThreeDsAlways,
    ),
    card(
        "4000000000003220",
        "visa",
        "credit",
        "US",
        Behavior::ThreeDs2,
    ),
    card(
        "4000000000000259",
        "visa",
        "credit",
        "US",
        Behavior::Dispute,
    ),
];

/// The `pm_card_*` test PaymentMethods and the number each stands for.
pub const TEST_PAYMENT_METHODS: &[(&str, &str)] = &[
    ("pm_card_visa", "4242424242424242"),
    ("pm_card_visa_debit", "4000056655665556"),
    ("pm_card_mastercard", "5555555555554444"),
    ("pm_card_mastercard_debit", "5200828282828210"),
    ("pm_card_amex", "378282246310005"),
    ("pm_card_discover", "6011111111111117"),
    ("pm_card_diners", "3056930009020004"),
    ("pm_card_jcb", "3566002020360505"),
    ("pm_card_unionpay", "6200000000000005"),
    ("pm_card_fr", "4000002500000003"),
    ("pm_card_gb", "4000008260000000"),
    ("pm_card_chargeDeclined", "4000000000000002"),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "4000000000009995",
    ),
    ("pm_card_chargeDeclinedLostCard", "4000000000009987"),
    ("pm_card_chargeDeclinedStolenCard", "4000000000009979"),
    ("pm_card_chargeDeclinedExpiredCard", "4000000000000069"),
    ("pm_card_chargeDeclinedIncorrectCvc", "4000000000000127"),
    ("pm_card_chargeDeclinedProcessingError", "4000000000000119"),
    ("pm_card_chargeCustomerFail", "4000000000000341"),
    ("pm_card_authenticationRequiredOnSetup", "4000002500003155"),
    ("pm_card_authenticationRequired", "4000002760003184"),
    ("pm_card_threeDSecure2Required", "4000000000003220"),
    ("pm_card_createDispute", "4000000000000259"),
];

/// The test card with this number.
pub fn lookup(number: &str) -> Option<&'static TestCard> {
    CARDS.iter().find(|c| c.number == number)
}

/// The number a `pm_card_*` test PaymentMethod stands for.
pub fn test_payment_method(id: &str) -> Option<&'static str> {
    TEST_PAYMENT_METHODS
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, n)| *n)
}

/// Luhn checksum of a digit string.
pub fn luhn_valid(number: &str) -> bool {
    if number.len() < 12 || number.len() > 19 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The brand a number's prefix implies (for numbers outside the table).
pub fn brand_of(number: &str) -> &'static str {
    let p2: u32 = number.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let p4: u32 = number.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0);
    if number.starts_with('4') {
        "visa"
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        "mastercard"
    } else if p2 == 34 || p2 == 37 {
        "amex"
    } else if number.starts_with("6011")
        || number.starts_with("65")
        || (644..=649).contains(&(p4 / 10))
    {
        "discover"
    } else if (3528..=3589).contains(&p4) {
        "jcb"
    } else if p2 == 36 || p2 == 38 || (300..=305).contains(&(p4 / 10)) {
        "diners"
    } else if p2 == 62 {
        "unionpay"
    } else {
        "unknown"
    }
}

/// The details a card number implies: the test card, or a live-looking card that test mode
/// declines (`test_mode_live_card`).
pub fn details(number: &str) -> TestCard {
    match lookup(number) {
        Some(c) => *c,
        None => TestCard {
            number: "",
            brand: brand_of(number),
            funding: "credit",
            country: "US",
            behavior: Behavior::Decline(TEST_MODE_LIVE_CARD),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_number_passes_luhn_and_its_prefix_brand() {
        for c in CARDS {
            assert!(luhn_valid(c.number), "{}", c.number);
            assert_eq!(brand_of(c.number), c.brand, "{}", c.number);
        }
        assert!(!luhn_valid("4242424242424241"));
    }

    #[test]
    fn every_test_payment_method_is_a_table_card() {
        for (id, number) in TEST_PAYMENT_METHODS {
            assert!(lookup(number).is_some(), "{id}");
        }
        assert_eq!(
            test_payment_method("pm_card_visa"),
            Some("4242424242424242")
        );
    }

    #[test]
    fn unknown_numbers_are_live_cards() {
        assert_eq!(
            details("4111111111111111").behavior,
            Behavior::Decline(TEST_MODE_LIVE_CARD)
        );
    }
}
