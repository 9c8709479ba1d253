//! The widget's words in English, French, German and Spanish: one row per [`Text`] with its four
//! translations, so a sentence cannot be added in one language and forgotten in another (a test
//! checks every cell).
//!
//! Each language is its own static array: the widget links English alone and receives another
//! language from the server, which serves these arrays (`GET /words/{locale}.json`), so a
//! checkout's page downloads the words of one language, not four. Amounts go into templates at
//! `{amount}` already formatted (by `Intl.NumberFormat` in the browser), so word order stays the
//! translator's choice ("Pay €12.50", "12,50 € bezahlen").

use crate::Locale;

/// Where a formatted amount goes in a template.
pub const AMOUNT: &str = "{amount}";
/// Where the time left on a hold goes in a template.
pub const TIME: &str = "{time}";

/// Declares [`Text`] and one array per language from one list: `Variant => [en, fr, de, es]`.
macro_rules! texts {
    ($($(#[doc = $doc:literal])* $variant:ident => [$en:literal, $fr:literal, $de:literal, $es:literal],)*) => {
        /// A sentence or label the widget shows.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Text {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Text {
            /// Every text, in table order (the order of each language's array).
            pub const ALL: &'static [Text] = &[$(Text::$variant,)*];
        }

        /// How many texts there are: the length of each language's array.
        pub const COUNT: usize = Text::ALL.len();

        /// English, in [`Text`] order: the widget's built-in words.
        pub static EN: [&str; COUNT] = [$($en,)*];
        /// French, in [`Text`] order.
        pub static FR: [&str; COUNT] = [$($fr,)*];
        /// German, in [`Text`] order.
        pub static DE: [&str; COUNT] = [$($de,)*];
        /// Spanish, in [`Text`] order.
        pub static ES: [&str; COUNT] = [$($es,)*];
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
    /// The receipt's row of a payment made without a card (iDEAL, SEPA Debit, ...).
    PaidWith => ["Paid with", "Payé avec", "Bezahlt mit", "Pagado con"],
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
    /// The title once a payment that settles days later (SEPA Debit) is under way.
    PendingTitle => ["Booking reserved", "Réservation confirmée", "Buchung reserviert",
        "Reserva confirmada"],
    /// Below it.
    Pending => [
        "Your booking is held. The bank debit takes a few days; we will email you when it is paid.",
        "Votre prélèvement est en cours et prend quelques jours. Votre réservation est maintenue ; nous vous écrirons dès que le paiement sera confirmé.",
        "Ihre Lastschrift ist unterwegs und dauert einige Tage. Ihre Buchung ist reserviert; wir schreiben Ihnen, sobald die Zahlung bestätigt ist.",
        "Tu adeudo bancario está en curso y tarda unos días. Tu reserva se mantiene; te escribiremos en cuanto se confirme el pago."],
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

/// Every text of `locale`, in [`Text`] order. The widget calls it only in tests: a call in its
/// code would link all four languages.
pub fn texts(locale: Locale) -> &'static [&'static str; COUNT] {
    match locale {
        Locale::En => &EN,
        Locale::Fr => &FR,
        Locale::De => &DE,
        Locale::Es => &ES,
    }
}

/// One language's words as the server sends them to the widget (`GET /words/{locale}.json`):
/// `{"locale": "fr", "texts": [...]}`, the texts in [`Text`] order.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Language {
    /// Which language.
    pub locale: Locale,
    /// Its texts, in [`Text`] order.
    pub texts: &'static [&'static str],
}

/// `locale`'s words, to send.
pub fn language(locale: Locale) -> Language {
    Language {
        locale,
        texts: texts(locale),
    }
}

/// `text` in `locale`.
pub fn text(locale: Locale, text: Text) -> &'static str {
    texts(locale)[text as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_every_language() {
        for &t in Text::ALL {
            for &locale in Locale::ALL {
                let s = text(locale, t);
                assert!(!s.trim().is_empty(), "{t:?} {locale:?}");
                // A template in one language is a template in all of them.
                for marker in [AMOUNT, TIME] {
                    assert_eq!(
                        s.contains(marker),
                        text(Locale::En, t).contains(marker),
                        "{t:?} {locale:?} {marker}"
                    );
                }
            }
        }
        // Translations are translations: French differs from English for every sentence.
        let same = Text::ALL
            .iter()
            .filter(|&&t| text(Locale::Fr, t) == text(Locale::En, t))
            .count();
        assert_eq!(same, 0);
    }

    #[test]
    fn each_language_in_table_order() {
        assert_eq!(text(Locale::En, Text::Pay), "Pay {amount}");
        assert_eq!(
            text(Locale::Fr, Text::TryAnotherCard),
            "Essayer une autre carte"
        );
        assert_eq!(text(Locale::Fr, Text::TestMode), "Mode test");
        assert_eq!(
            text(Locale::De, Text::Declined),
            "Ihre Karte wurde abgelehnt."
        );
        assert_eq!(text(Locale::Es, Text::Pay), "Pagar {amount}");
    }
}
