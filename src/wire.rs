//! Reads the server's JSON answers into core's wire types (`CheckoutView`, `PayResponse`,
//! `ApiError`), field by field with core's own parsers, and writes the pay request.
//!
//! Why not serde: core's types derive serde, but deserialising them in the browser through
//! `serde_wasm_bindgen` cost 75 KB of the wasm (28 KB gzip): the derived visitors' error
//! paths format floats, `#[serde(flatten)]` buffers whole objects, and 40 error codes each
//! get a visitor arm. Here the body is parsed by the browser (`Response.json()`) and read
//! through the small [`Json`] trait, which native tests also implement for `serde_json`, so
//! every field is checked against core's serde output (see the tests): the wire format has
//! one definition, core's, and this reader is proven to follow it.

use slotpay_core::{
    ApiError, Appearance, BrandColor, CardBrand, CheckoutStatus, CheckoutToken, CheckoutView,
    Corners, Currency, Email, Font, IntegrationMode, Last4, Locale, MethodType, Money, PayResponse,
    PayStatus, Receipt, SaveCardOffer, Scheme,
};

use crate::i18n::Words;
use crate::machine::told_apart;

/// Read access to a parsed JSON value.
pub trait Json: Sized {
    /// `self[key]`, `None` when absent or `null`.
    fn field(&self, key: &str) -> Option<Self>;
    /// The string it is, if it is one.
    fn string(&self) -> Option<String>;
    /// The number it is, if it is one.
    fn number(&self) -> Option<f64>;
    /// The boolean it is, if it is one.
    fn boolean(&self) -> Option<bool>;
    /// The items, if it is an array.
    fn items(&self) -> Option<Vec<Self>>;
}

/// A field that is wrong (missing, wrong type, or refused by core's parser).
pub type Read<T> = Result<T, ()>;

fn string<J: Json>(v: &J, key: &str) -> Read<String> {
    v.field(key).and_then(|f| f.string()).ok_or(())
}

/// An optional field: absent or `null` is `None`; present and wrong is an error.
fn optional<J: Json, T>(v: &J, key: &str, read: impl FnOnce(&J) -> Option<T>) -> Read<Option<T>> {
    match v.field(key) {
        None => Ok(None),
        Some(f) => read(&f).map(Some).ok_or(()),
    }
}

/// A JSON number that is an exact integer (`1250`, not `12.5` nor `1e300`).
fn integer<J: Json>(v: &J) -> Option<i64> {
    const SAFE: f64 = 9_007_199_254_740_991.0; // 2^53 - 1: beyond it a double is not exact
    let n = v.number()?;
    (n.fract() == 0.0 && n.abs() <= SAFE).then_some(n as i64)
}

/// `amount` (minor units) and `currency`, flattened into their object.
fn money<J: Json>(v: &J) -> Read<Money> {
    let minor = v.field("amount").as_ref().and_then(integer).ok_or(())?;
    let currency = Currency::from_code(&string(v, "currency")?).ok_or(())?;
    Ok(Money::from_minor(minor, currency))
}

/// A receipt: the card's `brand` and `last4` come together or not at all.
fn receipt<J: Json>(v: &J) -> Option<Receipt> {
    // The fields that own nothing first: nothing to drop when they are wrong.
    let method = MethodType::parse(&string(v, "method").ok()?)?;
    let amount = money(v).ok()?;
    let brand = optional(v, "brand", |b| Some(CardBrand::from_stripe(&b.string()?))).ok()?;
    let last4 = optional(v, "last4", |l| Last4::parse(&l.string()?).ok()).ok()?;
    if brand.is_some() != last4.is_some() {
        return None;
    }
    Some(Receipt {
        method,
        brand,
        last4,
        amount,
        reference: string(v, "reference").ok(),
    })
}

/// Collects the fields a value owns (strings, lists) without returning at the first wrong
/// one: each early return would drop every field read before it, and the wasm repeated those
/// drops at every return. A wrong field reads as its default and marks the whole value wrong.
struct Owned {
    wrong: bool,
}

impl Owned {
    /// `read`'s value, or the default when it is wrong. Not inlined: one copy per type of
    /// field rather than one per field.
    #[inline(never)]
    fn keep<T: Default>(&mut self, read: Read<T>) -> T {
        read.unwrap_or_else(|()| {
            self.wrong = true;
            T::default()
        })
    }

    /// `value`, unless a field was wrong.
    fn check<T>(self, value: T) -> Read<T> {
        if self.wrong {
            Err(())
        } else {
            Ok(value)
        }
    }
}

/// `GET /v1/checkouts/{token}`'s body.
pub fn checkout_view<J: Json>(v: &J) -> Read<CheckoutView> {
    // The fields that own nothing first, then the token: nothing to drop when they are wrong.
    let status = CheckoutStatus::parse(&string(v, "status")?).ok_or(())?;
    let amount = money(v)?;
    let minimum_amount = optional(v, "minimum_amount", integer)?;
    let mode = IntegrationMode::parse(&string(v, "mode")?).ok_or(())?;
    let wallets = v.field("wallets").and_then(|w| w.boolean()).ok_or(())?;
    let locale = Locale::parse(&string(v, "locale")?).ok_or(())?;
    let expires_at = optional(v, "expires_at", integer)?;
    let appearance = optional(v, "appearance", appearance)?.unwrap_or_default();
    let token = CheckoutToken::parse(&string(v, "token")?).map_err(drop)?;
    let mut owned = Owned { wrong: false };
    let view = CheckoutView {
        token,
        status,
        merchant_name: owned.keep(string(v, "merchant_name")),
        description: owned.keep(string(v, "description")),
        booking_ref: owned.keep(optional(v, "booking_ref", J::string)),
        amount,
        minimum_amount,
        publishable_key: owned.keep(string(v, "publishable_key")),
        stripe_js_url: owned.keep(string(v, "stripe_js_url")),
        mode,
        // Brands Stripe adds later read as `Unknown`, as core's `#[serde(other)]` does.
        card_brands: owned.keep(
            v.field("card_brands")
                .and_then(|b| b.items())
                .ok_or(())
                .and_then(|items| {
                    items
                        .iter()
                        .map(|b| b.string().map(|s| CardBrand::from_stripe(&s)).ok_or(()))
                        .collect()
                }),
        ),
        payment_methods: owned.keep(
            v.field("payment_methods")
                .and_then(|m| m.items())
                .ok_or(())
                .and_then(|items| {
                    items
                        .iter()
                        .map(|m| m.string().and_then(|s| MethodType::parse(&s)).ok_or(()))
                        .collect()
                }),
        ),
        wallets,
        locale,
        save_card: owned.keep(optional(v, "save_card", |offer| {
            Some(SaveCardOffer {
                consent_text: string(offer, "consent_text").ok()?,
            })
        })),
        email: owned.keep(optional(v, "email", |e| Email::parse(&e.string()?).ok())),
        expires_at,
        receipt: owned.keep(optional(v, "receipt", receipt)),
        brand_color: owned.keep(optional(v, "brand_color", |c| {
            BrandColor::parse(&c.string()?).ok()
        })),
        appearance,
    };
    owned.check(view)
}

/// The merchant's corners, font and light or dark; a choice this widget does not know is a
/// view it cannot read, as core's serde refuses it.
fn appearance<J: Json>(v: &J) -> Option<Appearance> {
    // One lookup for the three lists (by index), rather than one per type.
    let pick = |key: &str, names: &[&str]| -> Option<Option<usize>> {
        match v.field(key) {
            None => Some(None),
            Some(f) => {
                let s = f.string()?;
                names.iter().position(|n| *n == s).map(Some)
            }
        }
    };
    Some(Appearance {
        corners: pick("corners", Corners::NAMES)?.map(|i| Corners::ALL[i]),
        font: pick("font", Font::NAMES)?.map(|i| Font::ALL[i]),
        scheme: pick("scheme", Scheme::NAMES)?.map(|i| Scheme::ALL[i]),
    })
}

/// The `{code, message, param, decline_code}` inside an error body or a failed answer, when
/// its code is one the widget tells apart (`machine::TOLD_APART`): any other code is wrong
/// here, and the caller reads it as the server's own words (`Problem::Server`).
pub fn api_error<J: Json>(v: &J) -> Read<ApiError> {
    let code = told_apart(&string(v, "code")?).ok_or(())?;
    let mut owned = Owned { wrong: false };
    let error = ApiError {
        code,
        message: owned.keep(string(v, "message")),
        param: owned.keep(optional(v, "param", J::string)),
        decline_code: owned.keep(optional(v, "decline_code", J::string)),
    };
    owned.check(error)
}

/// `GET /words/{locale}.json`'s body (core's `words::Language`): one language's texts.
pub fn words<J: Json>(v: &J) -> Read<Words> {
    let locale = Locale::parse(&string(v, "locale")?).ok_or(())?;
    let texts = v.field("texts").and_then(|t| t.items()).ok_or(())?;
    let texts = texts.iter().map(J::string).collect::<Option<Vec<_>>>();
    Words::from_texts(locale, texts.ok_or(())?).ok_or(())
}

/// `POST .../pay` and `.../refresh`'s body.
pub fn pay_response<J: Json>(v: &J) -> Read<PayResponse> {
    let status = match string(v, "status")?.as_str() {
        "succeeded" => PayStatus::Succeeded,
        "requires_action" => PayStatus::RequiresAction,
        "processing" => PayStatus::Processing,
        "failed" => PayStatus::Failed,
        _ => return Err(()),
    };
    let mut owned = Owned { wrong: false };
    let response = PayResponse {
        status,
        client_secret: owned.keep(optional(v, "client_secret", J::string)),
        error: owned.keep(optional(v, "error", |e| api_error(e).ok())),
        receipt: owned.keep(optional(v, "receipt", receipt)),
    };
    owned.check(response)
}

mod browser {
    use js_sys::Array;
    use wasm_bindgen::{JsCast, JsValue};

    impl super::Json for JsValue {
        fn field(&self, key: &str) -> Option<JsValue> {
            let value = crate::js::get(self, key);
            (!value.is_undefined() && !value.is_null()).then_some(value)
        }

        fn string(&self) -> Option<String> {
            self.as_string()
        }

        fn number(&self) -> Option<f64> {
            self.as_f64()
        }

        fn boolean(&self) -> Option<bool> {
            self.as_bool()
        }

        fn items(&self) -> Option<Vec<JsValue>> {
            let array = self.dyn_ref::<Array>()?;
            Some((0..array.length()).map(|i| array.get(i)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::TOLD_APART;
    use serde_json::{json, Value};
    use slotpay_core::ErrorCode;

    impl Json for Value {
        fn field(&self, key: &str) -> Option<Value> {
            self.get(key).filter(|v| !v.is_null()).cloned()
        }

        fn string(&self) -> Option<String> {
            self.as_str().map(str::to_owned)
        }

        fn number(&self) -> Option<f64> {
            self.as_f64()
        }

        fn boolean(&self) -> Option<bool> {
            self.as_bool()
        }

        fn items(&self) -> Option<Vec<Value>> {
            self.as_array().cloned()
        }
    }

    fn full_view() -> CheckoutView {
        CheckoutView {
            token: CheckoutToken::parse("cs_abcdefghijklmnopqrstuvwx").unwrap(),
            status: CheckoutStatus::Paid,
            merchant_name: "Salon Léa".into(),
            description: "Coupe, mardi 14:00".into(),
            booking_ref: Some("BK-1042".into()),
            amount: Money::from_minor(5120, Currency::Kwd),
            minimum_amount: Some(50),
            publishable_key: "pk_test_abc".into(),
            stripe_js_url: "https://js.stripe.com/v3/".into(),
            mode: IntegrationMode::Sandbox,
            card_brands: vec![CardBrand::Visa, CardBrand::Amex, CardBrand::Unknown],
            payment_methods: vec![MethodType::Card, MethodType::SepaDebit],
            wallets: true,
            locale: Locale::Fr,
            save_card: Some(SaveCardOffer {
                consent_text: "Save my card".into(),
            }),
            email: Some(Email::parse("lea@example.com").unwrap()),
            expires_at: Some(1_800_000_000),
            receipt: Some(Receipt {
                method: MethodType::Card,
                brand: Some(CardBrand::Visa),
                last4: Some(Last4::parse("4242").unwrap()),
                amount: Money::from_minor(5120, Currency::Kwd),
                reference: Some("BK-1042".into()),
            }),
            brand_color: Some(BrandColor::parse("#2f6f5e").unwrap()),
            appearance: Appearance {
                corners: Some(Corners::Large),
                font: Some(Font::Serif),
                scheme: Some(Scheme::Dark),
            },
        }
    }

    fn minimal_view() -> CheckoutView {
        CheckoutView {
            booking_ref: None,
            minimum_amount: None,
            save_card: None,
            email: None,
            expires_at: None,
            receipt: None,
            brand_color: None,
            appearance: Appearance::default(),
            status: CheckoutStatus::Open,
            amount: Money::from_minor(500, Currency::Jpy),
            payment_methods: vec![MethodType::Card],
            wallets: false,
            ..full_view()
        }
    }

    /// Whatever core's serde writes, this reader reads back to the same value.
    #[test]
    fn reads_what_core_writes() {
        for view in [full_view(), minimal_view()] {
            let json = serde_json::to_value(&view).unwrap();
            assert_eq!(checkout_view(&json), Ok(view));
        }
        let answers = [
            PayResponse {
                status: PayStatus::RequiresAction,
                client_secret: Some("pi_1_secret_2".into()),
                error: None,
                receipt: None,
            },
            PayResponse {
                status: PayStatus::Failed,
                client_secret: None,
                error: Some(
                    ApiError::new(ErrorCode::CardDeclined, "Your card was declined.")
                        .with_decline_code("lost_card")
                        .with_param("payment_method"),
                ),
                receipt: None,
            },
            PayResponse {
                status: PayStatus::Succeeded,
                client_secret: None,
                error: None,
                receipt: full_view().receipt,
            },
            // Paid without a card: the method alone.
            PayResponse {
                status: PayStatus::Succeeded,
                client_secret: None,
                error: None,
                receipt: Some(Receipt {
                    method: MethodType::Ideal,
                    brand: None,
                    last4: None,
                    amount: Money::from_minor(2500, Currency::Eur),
                    reference: None,
                }),
            },
            PayResponse {
                status: PayStatus::Processing,
                client_secret: None,
                error: None,
                receipt: None,
            },
        ];
        for answer in answers {
            let json = serde_json::to_value(&answer).unwrap();
            assert_eq!(pay_response(&json), Ok(answer));
        }
        // The codes the widget tells apart read back; every other one is left to the
        // caller, which shows the server's words (`Problem::Server`).
        for &code in ErrorCode::ALL {
            let error = ApiError::new(code, "words");
            let json = serde_json::to_value(&error).unwrap();
            if TOLD_APART.contains(&code) {
                assert_eq!(api_error(&json), Ok(error));
            } else {
                assert_eq!(api_error(&json), Err(()), "{code:?}");
            }
        }
    }

    /// And what core's serde refuses, this reader refuses too.
    #[test]
    fn refuses_what_core_refuses() {
        let good = serde_json::to_value(full_view()).unwrap();
        for (field, bad) in [
            ("token", json!("cs_short")),
            ("currency", json!("eurx")),
            ("amount", json!("25.00")),
            ("amount", json!(12.5)),
            ("status", json!("done")),
            ("mode", json!("test")),
            ("locale", json!("it")),
            ("email", json!("not-an-email")),
            ("card_brands", json!("visa")),
            ("payment_methods", json!(["card", "paypal"])),
            ("payment_methods", json!("card")),
            ("wallets", json!("yes")),
            ("wallets", Value::Null),
            (
                "receipt",
                json!({"brand": "visa", "last4": "42", "amount": 1, "currency": "eur", "reference": "x"}),
            ),
            ("merchant_name", Value::Null),
            ("appearance", json!({"font": "papyrus"})),
            ("appearance", json!({"corners": 8})),
            ("appearance", json!({"scheme": "Dark"})),
        ] {
            let mut v = good.clone();
            v[field] = bad;
            assert!(
                serde_json::from_value::<CheckoutView>(v.clone()).is_err(),
                "core accepts {field}"
            );
            assert_eq!(checkout_view(&v), Err(()), "{field}");
        }
        assert_eq!(pay_response(&json!({"status": "done"})), Err(()));
        // A card's brand without its digits is no receipt.
        let half = json!({"status": "succeeded", "receipt":
            {"method": "card", "brand": "visa", "amount": 100, "currency": "eur"}});
        assert_eq!(pay_response(&half), Err(()));
        assert_eq!(
            api_error(&json!({"code": "made_up", "message": "x"})),
            Err(())
        );
    }

    /// What the server sends for each language (core's `words::Language`) reads back as that
    /// language's words; a body of another shape, or of another version, does not.
    #[test]
    fn words_follow_core() {
        use slotpay_core::words::{self, Text};
        for &locale in Locale::ALL {
            let body = serde_json::to_value(words::language(locale)).unwrap();
            let read = words(&body).unwrap();
            assert!(read.speaks(locale), "{locale:?}");
            for &t in Text::ALL {
                assert_eq!(read.get(t), words::text(locale, t), "{locale:?} {t:?}");
            }
        }
        let mut short = serde_json::to_value(words::language(Locale::Fr)).unwrap();
        short["texts"].as_array_mut().unwrap().pop();
        assert!(words(&short).is_err());
        assert!(words(&json!({"locale": "it", "texts": &words::FR[..]})).is_err());
        assert!(words(&json!({"locale": "fr", "texts": [1, 2]})).is_err());
        assert!(words(&json!({"locale": "fr"})).is_err());
    }
}
