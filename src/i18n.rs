//! The widget's words in English, French, German and Spanish, and which words explain a
//! problem: server error codes and Stripe decline codes map to translated sentences, falling
//! back to the server's own (English) message for codes without one.
//!
//! One table, one row per [`Text`] and one column per [`Locale`], so a sentence cannot be
//! added in one language and forgotten in another (a native test checks every cell). Amounts
//! are put into templates at `{amount}` already formatted (by `Intl.NumberFormat` in the
//! browser), so word order stays the translator's choice ("Pay €12.50", "12,50 € bezahlen").

use slotpay_core::{ChargeError, ErrorCode, Locale, Money};

use crate::machine::Problem;

/// Where a formatted amount goes in a template.
const AMOUNT: &str = "{amount}";
/// Where the time left on a hold goes in a template.
const TIME: &str = "{time}";

/// Declares [`Text`] and its table from one list: `Variant => [en, fr, de, es]`.
macro_rules! texts {
    ($($(#[doc = $doc:literal])* $variant:ident => [$en:literal, $fr:literal, $de:literal, $es:literal],)*) => {
        /// A sentence or label the widget shows.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Text {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Text {
            /// Every text, in table order.
            #[cfg(test)]
            pub const ALL: &'static [Text] = &[$(Text::$variant,)*];
        }

        /// Rows in [`Text`] order; columns en, fr, de, es.
        const TABLE: &[[&str; 4]] = &[$([$en, $fr, $de, $es],)*];
    };
}

texts! {
    /// The accessible name of the widget's region.
    Region => ["Secure checkout", "Paiement sécurisé", "Sichere Zahlung", "Pago seguro"],
    /// Announced while the checkout loads.
    Loading => ["Loading the checkout…", "Chargement du paiement…", "Zahlung wird geladen…",
        "Cargando el pago…"],
    /// The sandbox badge.
    TestMode => ["Test mode", "Mode test", "Testmodus", "Modo de prueba"],
    /// The sandbox badge's hint.
    TestCardHint => [
        "No real money moves. Pay with the test card 4242 4242 4242 4242, any future date and any CVC.",
        "Aucun argent réel n'est débité. Payez avec la carte de test 4242 4242 4242 4242, une date future et un CVC quelconques.",
        "Es wird kein echtes Geld bewegt. Zahlen Sie mit der Testkarte 4242 4242 4242 4242, einem beliebigen zukünftigen Datum und einer beliebigen Prüfnummer.",
        "No se mueve dinero real. Paga con la tarjeta de prueba 4242 4242 4242 4242, cualquier fecha futura y cualquier CVC."],
    /// The email field's label.
    Email => ["Email", "E-mail", "E-Mail", "Correo electrónico"],
    /// Under the email field.
    EmailHint => ["We send your receipt to this address.", "Votre reçu sera envoyé à cette adresse.",
        "Ihre Quittung wird an diese Adresse gesendet.", "Te enviaremos el recibo a esta dirección."],
    /// The card field's label, and the receipt's card row.
    Card => ["Card", "Carte bancaire", "Karte", "Tarjeta"],
    /// The pay button; `{amount}` is the formatted amount.
    Pay => ["Pay {amount}", "Payer {amount}", "{amount} bezahlen", "Pagar {amount}"],
    /// While the pay request is in flight.
    Paying => ["Processing your payment…", "Paiement en cours…", "Zahlung wird verarbeitet…",
        "Procesando el pago…"],
    /// While 3-D Secure runs.
    Authenticating => ["Confirm the payment with your bank…", "Confirmez le paiement auprès de votre banque…",
        "Bestätigen Sie die Zahlung bei Ihrer Bank…", "Confirma el pago con tu banco…"],
    /// When Stripe is still processing the payment.
    Processing => [
        "Your payment is being processed. You will receive a receipt by email.",
        "Votre paiement est en cours de traitement. Vous recevrez un reçu par e-mail.",
        "Ihre Zahlung wird bearbeitet. Sie erhalten eine Quittung per E-Mail.",
        "Tu pago se está procesando. Recibirás un recibo por correo electrónico."],
    /// The receipt's title.
    PaidTitle => ["Payment successful", "Paiement réussi", "Zahlung erfolgreich", "Pago realizado"],
    /// The receipt's payee row.
    PaidTo => ["Paid to", "Payé à", "Bezahlt an", "Pagado a"],
    /// The receipt's amount row.
    Amount => ["Amount", "Montant", "Betrag", "Importe"],
    /// The receipt's reference row.
    Reference => ["Booking reference", "Référence de réservation", "Buchungsreferenz",
        "Referencia de la reserva"],
    /// The failure panel's title.
    FailedTitle => ["Payment failed", "Échec du paiement", "Zahlung fehlgeschlagen",
        "El pago no se ha realizado"],
    /// The button that goes back to the form after a failure.
    TryAnotherCard => ["Try another card", "Essayer une autre carte", "Andere Karte versuchen",
        "Probar otra tarjeta"],
    /// `payments_unavailable`.
    Unavailable => [
        "Online payment is not available for this merchant at the moment.",
        "Le paiement en ligne n'est pas disponible pour ce commerçant pour le moment.",
        "Online-Zahlung ist bei diesem Händler derzeit nicht verfügbar.",
        "El pago en línea no está disponible para este comercio en este momento."],
    /// `checkout_expired`.
    Expired => ["This payment link has expired.", "Ce lien de paiement a expiré.",
        "Dieser Zahlungslink ist abgelaufen.", "Este enlace de pago ha caducado."],
    /// The time left on a booking hold, at `{time}` (`14:59`).
    HoldLeft => [
        "Slot held for {time}, then released if unpaid.",
        "Créneau réservé {time}, puis libéré si impayé.",
        "Termin {time} reserviert, danach ohne Zahlung frei.",
        "Cita reservada {time}; después se libera si no se paga."],
    /// The hold ran out before the payment.
    HoldExpired => [
        "Time ran out: the slot was released. Please book again.",
        "Délai écoulé : le créneau a été libéré. Réservez à nouveau.",
        "Zeit abgelaufen: Der Termin wurde freigegeben. Bitte neu buchen.",
        "Tiempo agotado: la cita se ha liberado. Vuelva a reservar."],
    /// `checkout_canceled`.
    Canceled => ["This payment was canceled by the merchant.", "Ce paiement a été annulé par le commerçant.",
        "Diese Zahlung wurde vom Händler storniert.", "El comercio ha cancelado este pago."],
    /// `checkout_not_found`.
    NotFound => ["This payment could not be found.", "Ce paiement est introuvable.",
        "Diese Zahlung wurde nicht gefunden.", "No se ha encontrado este pago."],
    /// `checkout_locked`: too many declined cards on this checkout.
    Locked => [
        "Too many cards were declined for this booking. Ask the merchant for a new payment link.",
        "Trop de cartes ont été refusées pour cette réservation. Demandez un nouveau lien de paiement au commerçant.",
        "Für diese Buchung wurden zu viele Karten abgelehnt. Bitten Sie den Händler um einen neuen Zahlungslink.",
        "Se han rechazado demasiadas tarjetas para esta reserva. Pide al comercio un nuevo enlace de pago."],
    /// `payments_paused`: the merchant's payments are paused for a few minutes.
    Paused => [
        "Payments are paused here for a few minutes. Please try again later.",
        "Les paiements sont suspendus ici pour quelques minutes. Veuillez réessayer plus tard.",
        "Zahlungen sind hier für einige Minuten ausgesetzt. Bitte versuchen Sie es später erneut.",
        "Los pagos están en pausa aquí durante unos minutos. Inténtalo de nuevo más tarde."],
    /// `checkout_already_paid`.
    AlreadyPaid => ["This payment has already been made.", "Ce paiement a déjà été effectué.",
        "Diese Zahlung wurde bereits geleistet.", "Este pago ya se ha realizado."],
    /// The server could not be reached, even after retrying.
    Unreachable => [
        "We could not reach the payment server. Check your connection and try again.",
        "Impossible de joindre le serveur de paiement. Vérifiez votre connexion et réessayez.",
        "Der Zahlungsserver ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
        "No hemos podido conectar con el servidor de pagos. Comprueba tu conexión e inténtalo de nuevo."],
    /// Stripe.js did not load.
    StripeJs => [
        "The secure card form could not be loaded. Reload the page to try again.",
        "Le formulaire de carte sécurisé n'a pas pu être chargé. Rechargez la page pour réessayer.",
        "Das sichere Kartenformular konnte nicht geladen werden. Laden Sie die Seite neu, um es erneut zu versuchen.",
        "No se ha podido cargar el formulario seguro de la tarjeta. Recarga la página para volver a intentarlo."],
    /// Anything unexpected.
    Generic => ["Something went wrong. Please try again.", "Une erreur est survenue. Veuillez réessayer.",
        "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.", "Algo ha salido mal. Inténtalo de nuevo."],
    /// The email address does not parse.
    InvalidEmail => ["Enter an email address such as name@example.com.",
        "Saisissez une adresse e-mail telle que nom@exemple.fr.",
        "Geben Sie eine E-Mail-Adresse wie name@beispiel.de ein.",
        "Introduce un correo electrónico como nombre@ejemplo.com."],
    /// Below Stripe's minimum (the English one is core's sentence, with core's amount).
    BelowMinimum => ["Your payment must be no less than {amount}", "Votre paiement doit être d'au moins {amount}",
        "Ihre Zahlung muss mindestens {amount} betragen", "Tu pago debe ser de al menos {amount}"],
    /// Above Stripe's maximum (the English one is core's sentence, with core's amount).
    AboveMaximum => ["Your payment must be no more than {amount}", "Votre paiement ne peut pas dépasser {amount}",
        "Ihre Zahlung darf höchstens {amount} betragen", "Tu pago no puede superar {amount}"],
    /// Any other amount that cannot be charged.
    InvalidAmount => ["This amount cannot be paid online.", "Ce montant ne peut pas être payé en ligne.",
        "Dieser Betrag kann nicht online bezahlt werden.", "Este importe no se puede pagar en línea."],
    /// `card_declined` (generic, lost, stolen and unlisted decline codes).
    Declined => ["Your card was declined.", "Votre carte a été refusée.", "Ihre Karte wurde abgelehnt.",
        "Tu tarjeta ha sido rechazada."],
    /// Decline code `insufficient_funds`.
    InsufficientFunds => ["Your card has insufficient funds.", "Le solde de votre carte est insuffisant.",
        "Ihre Karte ist nicht ausreichend gedeckt.", "Tu tarjeta no tiene fondos suficientes."],
    /// Decline code `expired_card`.
    ExpiredCard => ["Your card has expired.", "Votre carte a expiré.", "Ihre Karte ist abgelaufen.",
        "Tu tarjeta ha caducado."],
    /// Decline code `incorrect_cvc`.
    IncorrectCvc => ["Your card's security code is incorrect.", "Le code de sécurité de votre carte est incorrect.",
        "Die Prüfnummer Ihrer Karte ist falsch.", "El código de seguridad de tu tarjeta es incorrecto."],
    /// Decline code `incorrect_number`.
    IncorrectNumber => ["Your card number is incorrect.", "Le numéro de votre carte est incorrect.",
        "Ihre Kartennummer ist falsch.", "El número de tu tarjeta es incorrecto."],
    /// Decline code `processing_error`.
    ProcessingError => [
        "An error occurred while processing your card. Try again in a little bit.",
        "Une erreur est survenue lors du traitement de votre carte. Réessayez dans un instant.",
        "Bei der Verarbeitung Ihrer Karte ist ein Fehler aufgetreten. Versuchen Sie es gleich noch einmal.",
        "Se ha producido un error al procesar tu tarjeta. Vuelve a intentarlo en un momento."],
    /// 3-D Secure failed or was abandoned.
    AuthenticationFailed => [
        "We could not authenticate your payment. Try again or use another card.",
        "Nous n'avons pas pu authentifier votre paiement. Réessayez ou utilisez une autre carte.",
        "Ihre Zahlung konnte nicht authentifiziert werden. Versuchen Sie es erneut oder verwenden Sie eine andere Karte.",
        "No hemos podido autenticar tu pago. Inténtalo de nuevo o usa otra tarjeta."],
    /// `card_brand_not_accepted`.
    BrandNotAccepted => [
        "This merchant does not accept this card brand. Use another card.",
        "Ce commerçant n'accepte pas ce type de carte. Utilisez une autre carte.",
        "Dieser Händler akzeptiert diese Kartenmarke nicht. Verwenden Sie eine andere Karte.",
        "Este comercio no acepta esta marca de tarjeta. Usa otra tarjeta."],
    /// `payment_in_progress`.
    InProgress => [
        "A payment for this booking is already in progress. Wait a moment, then reload the page.",
        "Un paiement pour cette réservation est déjà en cours. Patientez un instant, puis rechargez la page.",
        "Für diese Buchung läuft bereits eine Zahlung. Warten Sie einen Moment und laden Sie die Seite neu.",
        "Ya hay un pago en curso para esta reserva. Espera un momento y recarga la página."],
    /// `rate_limited`.
    RateLimited => ["Too many attempts. Wait a moment and try again.",
        "Trop de tentatives. Patientez un instant et réessayez.",
        "Zu viele Versuche. Warten Sie einen Moment und versuchen Sie es erneut.",
        "Demasiados intentos. Espera un momento y vuelve a intentarlo."],
    /// `stripe_unavailable`, `stripe_error`.
    ServiceDown => ["The payment service is not responding. Try again in a moment.",
        "Le service de paiement ne répond pas. Réessayez dans un instant.",
        "Der Zahlungsdienst antwortet nicht. Versuchen Sie es gleich noch einmal.",
        "El servicio de pago no responde. Vuelve a intentarlo en un momento."],
}

/// `text` in `locale`.
pub fn text(locale: Locale, text: Text) -> &'static str {
    let column = match locale {
        Locale::En => 0,
        Locale::Fr => 1,
        Locale::De => 2,
        Locale::Es => 3,
    };
    TABLE[text as usize][column]
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

/// Core's English sentence for `error`, word for word what the server answers ("Your payment
/// must be no less than 0.50 USD"), without `core::fmt` (see [`core_money`]).
fn core_sentence(error: &ChargeError) -> String {
    let en = |which| text(Locale::En, which);
    match error {
        ChargeError::NotPositive => "The amount must be greater than zero".to_owned(),
        ChargeError::TooSmall { minimum } => fill(en(Text::BelowMinimum), &core_money(*minimum)),
        ChargeError::TooLarge { maximum } => fill(en(Text::AboveMaximum), &core_money(*maximum)),
        ChargeError::InvalidStep { step, currency } => {
            let step = core_money(Money::from_minor(*step, *currency));
            let code = currency.code().to_ascii_uppercase();
            [&code, " amounts must be a multiple of ", &step].concat()
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

/// What the client reads about `problem`, in `locale`. `money` formats an amount for people
/// (the browser's `Intl.NumberFormat` in the widget).
pub fn problem_text(locale: Locale, problem: &Problem, money: &dyn Fn(Money) -> String) -> String {
    let t = |t| text(locale, t).to_owned();
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
        Problem::Charge(error) if locale == Locale::En => core_sentence(error),
        Problem::Charge(ChargeError::TooSmall { minimum }) => {
            fill(text(locale, Text::BelowMinimum), &money(*minimum))
        }
        Problem::Charge(ChargeError::TooLarge { maximum }) => {
            fill(text(locale, Text::AboveMaximum), &money(*maximum))
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
    use slotpay_core::{check_chargeable, ApiError, Currency};

    #[test]
    fn every_text_has_every_language() {
        assert_eq!(Text::ALL.len(), TABLE.len());
        for &t in Text::ALL {
            for &locale in Locale::ALL {
                let s = text(locale, t);
                assert!(!s.trim().is_empty(), "{t:?} {locale:?}");
                // A template in one language is a template in all of them.
                assert_eq!(
                    s.contains(AMOUNT),
                    text(Locale::En, t).contains(AMOUNT),
                    "{t:?} {locale:?}"
                );
            }
        }
        // Translations are translations: French differs from English for most sentences.
        let same = Text::ALL
            .iter()
            .filter(|&&t| text(Locale::Fr, t) == text(Locale::En, t))
            .count();
        assert_eq!(same, 0);
    }

    #[test]
    fn pay_button_templates() {
        assert_eq!(fill(text(Locale::En, Text::Pay), "€12.50"), "Pay €12.50");
        assert_eq!(
            fill(text(Locale::Fr, Text::Pay), "12,50 €"),
            "Payer 12,50 €"
        );
        assert_eq!(
            fill(text(Locale::De, Text::Pay), "12,50 €"),
            "12,50 € bezahlen"
        );
        assert_eq!(
            fill(text(Locale::Es, Text::Pay), "12,50 €"),
            "Pagar 12,50 €"
        );
    }

    #[test]
    fn french_strings() {
        assert_eq!(
            text(Locale::Fr, Text::TryAnotherCard),
            "Essayer une autre carte"
        );
        assert_eq!(text(Locale::Fr, Text::TestMode), "Mode test");
        assert_eq!(
            text(Locale::De, Text::Declined),
            "Ihre Karte wurde abgelehnt."
        );
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
            problem_text(Locale::Fr, &declined, &money),
            "Le solde de votre carte est insuffisant."
        );
        let odd = Problem::Api(ApiError::new(ErrorCode::InvalidJson, "body is not JSON"));
        assert_eq!(problem_text(Locale::De, &odd, &money), "body is not JSON");
        let unknown = Problem::Server {
            code: Some("brand_new_code".into()),
            message: Some("Server words".into()),
        };
        assert_eq!(problem_text(Locale::Es, &unknown, &money), "Server words");
        let silent = Problem::Server {
            code: None,
            message: None,
        };
        assert_eq!(
            problem_text(Locale::En, &silent, &money),
            text(Locale::En, Text::Generic)
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
                        core_sentence(&error),
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
            assert_eq!(core_sentence(&error), error.to_string());
        }
    }

    #[test]
    fn below_minimum_uses_core_in_english_and_intl_elsewhere() {
        let error = check_chargeable(Money::from_minor(49, Currency::Usd)).unwrap_err();
        let problem = Problem::Charge(error);
        assert_eq!(
            problem_text(Locale::En, &problem, &money),
            "Your payment must be no less than 0.50 USD"
        );
        assert_eq!(
            problem_text(Locale::Fr, &problem, &money),
            "Votre paiement doit être d'au moins 0,50€"
        );
        let step = check_chargeable(Money::from_minor(5125, Currency::Kwd)).unwrap_err();
        assert_eq!(
            problem_text(Locale::Es, &Problem::Charge(step), &money),
            text(Locale::Es, Text::InvalidAmount)
        );
    }
}
