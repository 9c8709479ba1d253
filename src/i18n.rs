//! The widget's words for the checkout's language, and which words explain a problem: server
//! error codes and Stripe decline codes map to translated sentences, falling back to the
//! server's own (English) message for codes without one.
//!
//! The words themselves are core's table (`slotpay_core::words`), which the widget does not
//! link: the loader fetches the checkout's language from the server beside the checkout's view
//! ([`Words::from_texts`]), English too (1 KB of gzip less wasm than carrying it). One sentence
//! is built in, for a checkout whose words could not be had.

use slotpay_core::words::{Text, AMOUNT, COUNT, TIME};
use slotpay_core::{ChargeError, ErrorCode, Locale, Money};

use crate::machine::Problem;

/// What a checkout says when neither its words nor English could be fetched (the server is
/// out of reach): core's English [`Text::Unreachable`], which a native test holds to it.
const UNREACHABLE: &str =
    "We could not reach the payment server. Check your connection and try again.";

/// The words shown: one language as the server sent it, or none yet.
pub struct Words {
    locale: Locale,
    /// The language's texts in [`Text`] order; empty until they arrive.
    texts: Vec<String>,
}

impl Words {
    /// No words yet: every text is empty but [`Text::Unreachable`].
    pub fn none() -> Words {
        Words {
            locale: Locale::En,
            texts: Vec::new(),
        }
    }

    /// `locale`'s words from the server, in [`Text`] order; `None` when there are not exactly
    /// as many as this build's texts (a server of another version).
    pub fn from_texts(locale: Locale, texts: Vec<String>) -> Option<Words> {
        (texts.len() == COUNT).then_some(Words { locale, texts })
    }

    /// True when these are `locale`'s words.
    pub fn speaks(&self, locale: Locale) -> bool {
        self.locale == locale && !self.texts.is_empty()
    }

    /// The language texts are shown in when `wanted` is asked for: `wanted` when these words
    /// are its, else theirs (English, fetched when `wanted`'s could not be).
    pub fn shown(&self, wanted: Locale) -> Locale {
        if self.speaks(wanted) {
            wanted
        } else {
            self.locale
        }
    }

    /// `which` in these words' language; empty before they arrive, but for
    /// [`Text::Unreachable`].
    pub fn get(&self, which: Text) -> &str {
        match self.texts.get(which as usize) {
            Some(text) => text,
            None if which == Text::Unreachable => UNREACHABLE,
            None => "",
        }
    }
}

/// `template` with its `{amount}` replaced by `amount`.
pub fn fill(template: &str, amount: &str) -> String {
    fill_at(template, AMOUNT, amount)
}

/// `template` with its `{time}` replaced by `time`.
pub fn fill_time(template: &str, time: &str) -> String {
    fill_at(template, TIME, time)
}

/// `template` with its first `marker` replaced by `value`.
fn fill_at(template: &str, marker: &str, value: &str) -> String {
    // By hand, with `get`: `replacen` and `split_once` link str slicing's panic message,
    // whose `{:?}` of a char pulls 14 KB of Unicode tables into the wasm.
    let at = template
        .as_bytes()
        .windows(marker.len())
        .position(|w| w == marker.as_bytes());
    let (Some(before), Some(after)) = (
        at.and_then(|i| template.get(..i)),
        at.and_then(|i| template.get(i + marker.len()..)),
    ) else {
        return template.to_owned();
    };
    let mut out = String::with_capacity(template.len() + value.len());
    out.push_str(before);
    out.push_str(value);
    out.push_str(after);
    out
}

/// `money` as core's `Display` writes it ("0.50 USD", "500 JPY", "5.120 KWD"), built without
/// `core::fmt`: integer formatting alone is 1 KB of the gzipped wasm. A native test checks it
/// against core's `Display` for every currency.
pub fn core_money(money: Money) -> String {
    let currency = money.currency();
    let (exponent, shown) = (currency.exponent(), currency.display_decimals());
    let scale = currency.minor_per_major().unsigned_abs();
    let abs = money.minor().unsigned_abs();
    let (whole, fraction) = (abs / scale, abs % scale);
    // Core shows the currency's display decimals unless that would hide a non-zero digit.
    let hidden = 10_u64.pow(exponent - shown);
    let (decimals, fraction) = if fraction % hidden == 0 {
        (shown, fraction / hidden)
    } else {
        (exponent, fraction)
    };
    let mut out = String::new();
    if money.minor() < 0 {
        out.push('-');
    }
    push_digits(&mut out, whole, 1);
    if decimals > 0 {
        out.push('.');
        push_digits(&mut out, fraction, decimals);
    }
    out.push(' ');
    out.push_str(&currency.code().to_ascii_uppercase());
    out
}

/// `n` in decimal, zero-padded on the left to at least `width` digits.
fn push_digits(out: &mut String, mut n: u64, width: u32) {
    let mut digits = [b'0'; 20]; // u64::MAX has 20 digits
    let mut start = digits.len();
    while start > 0 && (n > 0 || digits.len() - start < width as usize) {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// Core's English sentence for `error` (`words` are English), word for word what the server
/// answers ("Your payment must be no less than 0.50 USD"), without `core::fmt` (see
/// [`core_money`]).
fn core_sentence(words: &Words, error: &ChargeError) -> String {
    match error {
        ChargeError::NotPositive => "The amount must be greater than zero".to_owned(),
        ChargeError::TooSmall { minimum } => {
            fill(words.get(Text::BelowMinimum), &core_money(*minimum))
        }
        ChargeError::TooLarge { maximum } => {
            fill(words.get(Text::AboveMaximum), &core_money(*maximum))
        }
        ChargeError::InvalidStep { step, currency } => {
            let step = core_money(Money::from_minor(*step, *currency));
            let mut sentence = currency.code().to_ascii_uppercase();
            sentence.push_str(" amounts must be a multiple of ");
            sentence.push_str(&step);
            sentence
        }
    }
}

/// The sentence for a server error code (and Stripe's decline code), or `None` when the
/// server's own message says it better (codes about request shapes and amounts, whose
/// English message names the exact rule).
pub fn for_error(code: ErrorCode, decline_code: Option<&str>) -> Option<Text> {
    Some(match code {
        ErrorCode::CardDeclined => match decline_code {
            Some("insufficient_funds") => Text::InsufficientFunds,
            Some("expired_card") => Text::ExpiredCard,
            Some("incorrect_cvc") => Text::IncorrectCvc,
            Some("incorrect_number") => Text::IncorrectNumber,
            Some("processing_error") => Text::ProcessingError,
            Some("authentication_required") => Text::AuthenticationFailed,
            // Stripe's own message says why a live card failed in test mode.
            Some("test_mode_live_card") => return None,
            // Lost and stolen cards read as a plain decline, as Stripe advises.
            _ => Text::Declined,
        },
        ErrorCode::CardBrandNotAccepted => Text::BrandNotAccepted,
        ErrorCode::AuthenticationRequired => Text::AuthenticationFailed,
        ErrorCode::PaymentInProgress => Text::InProgress,
        ErrorCode::StripeUnavailable | ErrorCode::StripeError => Text::ServiceDown,
        ErrorCode::RateLimited => Text::RateLimited,
        ErrorCode::CheckoutNotFound | ErrorCode::NotFound => Text::NotFound,
        ErrorCode::CheckoutExpired => Text::Expired,
        ErrorCode::CheckoutAlreadyPaid => Text::AlreadyPaid,
        ErrorCode::CheckoutCanceled => Text::Canceled,
        ErrorCode::CheckoutLocked => Text::Locked,
        ErrorCode::PaymentsPaused => Text::Paused,
        ErrorCode::PaymentsUnavailable => Text::Unavailable,
        ErrorCode::InvalidEmail => Text::InvalidEmail,
        ErrorCode::InternalError => Text::Generic,
        _ => return None,
    })
}

/// What the client reads about `problem`, in `locale` as far as `words` speak it. `money`
/// formats an amount for people (the browser's `Intl.NumberFormat` in the widget).
pub fn problem_text(
    words: &Words,
    locale: Locale,
    problem: &Problem,
    money: &dyn Fn(Money) -> String,
) -> String {
    let locale = words.shown(locale);
    let t = |t| words.get(t).to_owned();
    match problem {
        Problem::Api(error) => match for_error(error.code, error.decline_code.as_deref()) {
            Some(which) => t(which),
            None => error.message.clone(),
        },
        Problem::Server { message, .. } => match message {
            Some(message) => message.clone(),
            None => t(Text::Generic),
        },
        // English keeps core's exact sentence, the one the server also answers with.
        Problem::Charge(error) if locale == Locale::En => core_sentence(words, error),
        Problem::Charge(ChargeError::TooSmall { minimum }) => {
            fill(&t(Text::BelowMinimum), &money(*minimum))
        }
        Problem::Charge(ChargeError::TooLarge { maximum }) => {
            fill(&t(Text::AboveMaximum), &money(*maximum))
        }
        Problem::Charge(_) => t(Text::InvalidAmount),
        Problem::Email => t(Text::InvalidEmail),
        // Stripe.js words its card errors in the locale it was given.
        Problem::Card { message, .. } => message.clone(),
        Problem::Unreachable => t(Text::Unreachable),
        Problem::StripeJs => t(Text::StripeJs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotpay_core::{check_chargeable, words, ApiError, Currency};

    /// `locale`'s whole table, as the server sends it.
    fn all(locale: Locale) -> Words {
        let texts = words::texts(locale).iter().map(|t| t.to_string()).collect();
        Words::from_texts(locale, texts).unwrap()
    }

    #[test]
    fn words_speak_their_language_and_say_unreachable_without_any() {
        let french = all(Locale::Fr);
        assert_eq!(french.get(Text::Pay), "Payer {amount}");
        assert_eq!(french.shown(Locale::Fr), Locale::Fr);
        // The German words could not be had: English was fetched instead.
        assert_eq!(all(Locale::En).shown(Locale::De), Locale::En);
        // Before any words arrive: nothing, but the sentence for a server out of reach, which
        // is core's English one.
        assert!(!Words::none().speaks(Locale::En));
        assert_eq!(Words::none().get(Text::Pay), "");
        assert_eq!(
            Words::none().get(Text::Unreachable),
            words::EN[Text::Unreachable as usize]
        );
        // Words of another version (one text more or less) are not used.
        let mut texts: Vec<String> = words::FR.iter().map(|t| t.to_string()).collect();
        texts.pop();
        assert!(Words::from_texts(Locale::Fr, texts.clone()).is_none());
        texts.extend(["un".to_owned(), "deux".to_owned()]);
        assert!(Words::from_texts(Locale::Fr, texts).is_none());
    }

    #[test]
    fn pay_button_templates() {
        let pay = |l| fill(all(l).get(Text::Pay), "12,50 €");
        assert_eq!(fill(all(Locale::En).get(Text::Pay), "€12.50"), "Pay €12.50");
        assert_eq!(pay(Locale::Fr), "Payer 12,50 €");
        assert_eq!(pay(Locale::De), "12,50 € bezahlen");
        assert_eq!(pay(Locale::Es), "Pagar 12,50 €");
    }

    #[test]
    fn decline_codes_pick_their_sentence() {
        let declined = |d| for_error(ErrorCode::CardDeclined, Some(d));
        assert_eq!(
            declined("insufficient_funds"),
            Some(Text::InsufficientFunds)
        );
        assert_eq!(declined("expired_card"), Some(Text::ExpiredCard));
        assert_eq!(declined("incorrect_cvc"), Some(Text::IncorrectCvc));
        assert_eq!(declined("processing_error"), Some(Text::ProcessingError));
        assert_eq!(declined("lost_card"), Some(Text::Declined));
        assert_eq!(declined("stolen_card"), Some(Text::Declined));
        assert_eq!(declined("generic_decline"), Some(Text::Declined));
        assert_eq!(
            for_error(ErrorCode::CardDeclined, None),
            Some(Text::Declined)
        );
        assert_eq!(declined("test_mode_live_card"), None);
        assert_eq!(
            for_error(ErrorCode::CheckoutExpired, None),
            Some(Text::Expired)
        );
        assert_eq!(for_error(ErrorCode::InvalidJson, None), None);
        assert_eq!(
            for_error(ErrorCode::CheckoutLocked, None),
            Some(Text::Locked)
        );
        assert_eq!(
            for_error(ErrorCode::PaymentsPaused, None),
            Some(Text::Paused)
        );
    }

    fn money(m: Money) -> String {
        // Stands in for Intl: the major amount and a symbol, so the test sees it was used.
        format!("{}€", m.to_major_string().replace('.', ","))
    }

    #[test]
    fn problems_read_in_the_locale_with_server_fallback() {
        let declined = Problem::Api(
            ApiError::new(ErrorCode::CardDeclined, "Your card has insufficient funds.")
                .with_decline_code("insufficient_funds"),
        );
        assert_eq!(
            problem_text(&all(Locale::Fr), Locale::Fr, &declined, &money),
            "Le solde de votre carte est insuffisant."
        );
        // A code the widget does not tell apart: the server's message.
        let odd = Problem::Server {
            code: Some("invalid_json".into()),
            message: Some("body is not JSON".into()),
        };
        assert_eq!(
            problem_text(&all(Locale::De), Locale::De, &odd, &money),
            "body is not JSON"
        );
        let unknown = Problem::Server {
            code: Some("brand_new_code".into()),
            message: Some("Server words".into()),
        };
        assert_eq!(
            problem_text(&all(Locale::Es), Locale::Es, &unknown, &money),
            "Server words"
        );
        let silent = Problem::Server {
            code: None,
            message: None,
        };
        assert_eq!(
            problem_text(&all(Locale::En), Locale::En, &silent, &money),
            words::EN[Text::Generic as usize]
        );
    }

    /// The widget's copy of core's amount and sentences, for every currency and amounts on
    /// every side of its limits and steps.
    #[test]
    fn core_words_match_core() {
        let amounts = [
            i64::MIN,
            -1250,
            -1,
            0,
            1,
            5,
            9,
            10,
            49,
            50,
            99,
            100,
            101,
            125,
            1_000,
            5_120,
            5_125,
            123_456_789,
            99_999_999_999,
            i64::MAX,
        ];
        let mut sentences = 0;
        for &currency in Currency::ALL {
            for minor in amounts {
                let money = Money::from_minor(minor, currency);
                assert_eq!(core_money(money), money.to_string(), "{currency:?} {minor}");
                if let Err(error) = check_chargeable(money) {
                    assert_eq!(
                        core_sentence(&all(Locale::En), &error),
                        error.to_string(),
                        "{currency:?} {minor}"
                    );
                    sentences += 1;
                }
            }
        }
        assert!(sentences > Currency::ALL.len() * 4, "{sentences}");
        // Every kind of refusal was compared at least once.
        let kinds = [
            Money::from_minor(0, Currency::Usd),
            Money::from_minor(49, Currency::Usd),
            Money::from_minor(99_999_999_999, Currency::Usd),
            Money::from_minor(5_125, Currency::Kwd),
        ];
        for money in kinds {
            let error = check_chargeable(money).unwrap_err();
            assert_eq!(core_sentence(&all(Locale::En), &error), error.to_string());
        }
    }

    #[test]
    fn below_minimum_uses_core_in_english_and_intl_elsewhere() {
        let error = check_chargeable(Money::from_minor(49, Currency::Usd)).unwrap_err();
        let problem = Problem::Charge(error);
        assert_eq!(
            problem_text(&all(Locale::En), Locale::En, &problem, &money),
            "Your payment must be no less than 0.50 USD"
        );
        assert_eq!(
            problem_text(&all(Locale::Fr), Locale::Fr, &problem, &money),
            "Votre paiement doit être d'au moins 0,50€"
        );
        let step = check_chargeable(Money::from_minor(5125, Currency::Kwd)).unwrap_err();
        assert_eq!(
            problem_text(&all(Locale::Es), Locale::Es, &Problem::Charge(step), &money),
            words::ES[Text::InvalidAmount as usize]
        );
    }
}
