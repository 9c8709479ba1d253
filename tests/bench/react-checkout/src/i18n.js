// The checkout's words in English, French, German and Spanish (the same sentences as slotpay's
// widget), which sentence explains a server error or a decline, and amounts for people.

export const LOCALES = ['en', 'fr', 'de', 'es'];

/** The supported locale of a language tag (`fr-FR` → `fr`), or undefined. */
export function parseLocale(tag) {
  const primary = tag?.split(/[-_]/)[0].toLowerCase();
  return LOCALES.includes(primary) ? primary : undefined;
}

const TEXTS = {
  region: ['Secure checkout', 'Paiement sécurisé', 'Sichere Zahlung', 'Pago seguro'],
  loading: ['Loading the checkout…', 'Chargement du paiement…', 'Zahlung wird geladen…', 'Cargando el pago…'],
  testMode: ['Test mode', 'Mode test', 'Testmodus', 'Modo de prueba'],
  testCardHint: [
    'No real money moves. Pay with the test card 4242 4242 4242 4242, any future date and any CVC.',
    "Aucun argent réel n'est débité. Payez avec la carte de test 4242 4242 4242 4242, une date future et un CVC quelconques.",
    'Es wird kein echtes Geld bewegt. Zahlen Sie mit der Testkarte 4242 4242 4242 4242, einem beliebigen zukünftigen Datum und einer beliebigen Prüfnummer.',
    'No se mueve dinero real. Paga con la tarjeta de prueba 4242 4242 4242 4242, cualquier fecha futura y cualquier CVC.',
  ],
  email: ['Email', 'E-mail', 'E-Mail', 'Correo electrónico'],
  emailHint: [
    'We send your receipt to this address.',
    'Votre reçu sera envoyé à cette adresse.',
    'Ihre Quittung wird an diese Adresse gesendet.',
    'Te enviaremos el recibo a esta dirección.',
  ],
  card: ['Card', 'Carte bancaire', 'Karte', 'Tarjeta'],
  pay: ['Pay {amount}', 'Payer {amount}', '{amount} bezahlen', 'Pagar {amount}'],
  paying: ['Processing your payment…', 'Paiement en cours…', 'Zahlung wird verarbeitet…', 'Procesando el pago…'],
  authenticating: [
    'Confirm the payment with your bank…',
    'Confirmez le paiement auprès de votre banque…',
    'Bestätigen Sie die Zahlung bei Ihrer Bank…',
    'Confirma el pago con tu banco…',
  ],
  processing: [
    'Your payment is being processed. You will receive a receipt by email.',
    'Votre paiement est en cours de traitement. Vous recevrez un reçu par e-mail.',
    'Ihre Zahlung wird bearbeitet. Sie erhalten eine Quittung per E-Mail.',
    'Tu pago se está procesando. Recibirás un recibo por correo electrónico.',
  ],
  paidTitle: ['Payment successful', 'Paiement réussi', 'Zahlung erfolgreich', 'Pago realizado'],
  paidTo: ['Paid to', 'Payé à', 'Bezahlt an', 'Pagado a'],
  amount: ['Amount', 'Montant', 'Betrag', 'Importe'],
  reference: ['Reference', 'Référence', 'Referenz', 'Referencia'],
  failedTitle: ['Payment failed', 'Échec du paiement', 'Zahlung fehlgeschlagen', 'El pago no se ha realizado'],
  tryAnotherCard: ['Try another card', 'Essayer une autre carte', 'Andere Karte versuchen', 'Probar otra tarjeta'],
  unavailable: [
    'Online payment is not available for this merchant at the moment.',
    "Le paiement en ligne n'est pas disponible pour ce commerçant pour le moment.",
    'Online-Zahlung ist bei diesem Händler derzeit nicht verfügbar.',
    'El pago en línea no está disponible para este comercio en este momento.',
  ],
  expired: ['This payment link has expired.', 'Ce lien de paiement a expiré.', 'Dieser Zahlungslink ist abgelaufen.', 'Este enlace de pago ha caducado.'],
  canceled: [
    'This payment was canceled by the merchant.',
    'Ce paiement a été annulé par le commerçant.',
    'Diese Zahlung wurde vom Händler storniert.',
    'El comercio ha cancelado este pago.',
  ],
  notFound: ['This payment could not be found.', 'Ce paiement est introuvable.', 'Diese Zahlung wurde nicht gefunden.', 'No se ha encontrado este pago.'],
  alreadyPaid: [
    'This payment has already been made.',
    'Ce paiement a déjà été effectué.',
    'Diese Zahlung wurde bereits geleistet.',
    'Este pago ya se ha realizado.',
  ],
  unreachable: [
    'We could not reach the payment server. Check your connection and try again.',
    'Impossible de joindre le serveur de paiement. Vérifiez votre connexion et réessayez.',
    'Der Zahlungsserver ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    'No hemos podido conectar con el servidor de pagos. Comprueba tu conexión e inténtalo de nuevo.',
  ],
  stripeJs: [
    'The secure card form could not be loaded. Reload the page to try again.',
    "Le formulaire de carte sécurisé n'a pas pu être chargé. Rechargez la page pour réessayer.",
    'Das sichere Kartenformular konnte nicht geladen werden. Laden Sie die Seite neu, um es erneut zu versuchen.',
    'No se ha podido cargar el formulario seguro de la tarjeta. Recarga la página para volver a intentarlo.',
  ],
  generic: [
    'Something went wrong. Please try again.',
    'Une erreur est survenue. Veuillez réessayer.',
    'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
    'Algo ha salido mal. Inténtalo de nuevo.',
  ],
  invalidEmail: [
    'Enter an email address such as name@example.com.',
    'Saisissez une adresse e-mail telle que nom@exemple.fr.',
    'Geben Sie eine E-Mail-Adresse wie name@beispiel.de ein.',
    'Introduce un correo electrónico como nombre@ejemplo.com.',
  ],
  belowMinimum: [
    'Your payment must be no less than {amount}',
    "Votre paiement doit être d'au moins {amount}",
    'Ihre Zahlung muss mindestens {amount} betragen',
    'Tu pago debe ser de al menos {amount}',
  ],
  aboveMaximum: [
    'Your payment must be no more than {amount}',
    'Votre paiement ne peut pas dépasser {amount}',
    'Ihre Zahlung darf höchstens {amount} betragen',
    'Tu pago no puede superar {amount}',
  ],
  declined: ['Your card was declined.', 'Votre carte a été refusée.', 'Ihre Karte wurde abgelehnt.', 'Tu tarjeta ha sido rechazada.'],
  insufficientFunds: [
    'Your card has insufficient funds.',
    'Le solde de votre carte est insuffisant.',
    'Ihre Karte ist nicht ausreichend gedeckt.',
    'Tu tarjeta no tiene fondos suficientes.',
  ],
  expiredCard: ['Your card has expired.', 'Votre carte a expiré.', 'Ihre Karte ist abgelaufen.', 'Tu tarjeta ha caducado.'],
  incorrectCvc: [
    "Your card's security code is incorrect.",
    'Le code de sécurité de votre carte est incorrect.',
    'Die Prüfnummer Ihrer Karte ist falsch.',
    'El código de seguridad de tu tarjeta es incorrecto.',
  ],
  incorrectNumber: [
    'Your card number is incorrect.',
    'Le numéro de votre carte est incorrect.',
    'Ihre Kartennummer ist falsch.',
    'El número de tu tarjeta es incorrecto.',
  ],
  processingError: [
    'An error occurred while processing your card. Try again in a little bit.',
    'Une erreur est survenue lors du traitement de votre carte. Réessayez dans un instant.',
    'Bei der Verarbeitung Ihrer Karte ist ein Fehler aufgetreten. Versuchen Sie es gleich noch einmal.',
    'Se ha producido un error al procesar tu tarjeta. Vuelve a intentarlo en un momento.',
  ],
  authenticationFailed: [
    'We could not authenticate your payment. Try again or use another card.',
    "Nous n'avons pas pu authentifier votre paiement. Réessayez ou utilisez une autre carte.",
    'Ihre Zahlung konnte nicht authentifiziert werden. Versuchen Sie es erneut oder verwenden Sie eine andere Karte.',
    'No hemos podido autenticar tu pago. Inténtalo de nuevo o usa otra tarjeta.',
  ],
  brandNotAccepted: [
    'This merchant does not accept this card brand. Use another card.',
    "Ce commerçant n'accepte pas ce type de carte. Utilisez une autre carte.",
    'Dieser Händler akzeptiert diese Kartenmarke nicht. Verwenden Sie eine andere Karte.',
    'Este comercio no acepta esta marca de tarjeta. Usa otra tarjeta.',
  ],
  inProgress: [
    'A payment for this booking is already in progress. Wait a moment, then reload the page.',
    'Un paiement pour cette réservation est déjà en cours. Patientez un instant, puis rechargez la page.',
    'Für diese Buchung läuft bereits eine Zahlung. Warten Sie einen Moment und laden Sie die Seite neu.',
    'Ya hay un pago en curso para esta reserva. Espera un momento y recarga la página.',
  ],
  rateLimited: [
    'Too many attempts. Wait a moment and try again.',
    'Trop de tentatives. Patientez un instant et réessayez.',
    'Zu viele Versuche. Warten Sie einen Moment und versuchen Sie es erneut.',
    'Demasiados intentos. Espera un momento y vuelve a intentarlo.',
  ],
  serviceDown: [
    'The payment service is not responding. Try again in a moment.',
    'Le service de paiement ne répond pas. Réessayez dans un instant.',
    'Der Zahlungsdienst antwortet nicht. Versuchen Sie es gleich noch einmal.',
    'El servicio de pago no responde. Vuelve a intentarlo en un momento.',
  ],
};

/** The sentence `key` in `locale`, with `{amount}` filled in. */
export function t(locale, key, amount = '') {
  return TEXTS[key][LOCALES.indexOf(locale)].replace('{amount}', amount);
}

const DECLINES = {
  insufficient_funds: 'insufficientFunds',
  expired_card: 'expiredCard',
  incorrect_cvc: 'incorrectCvc',
  incorrect_number: 'incorrectNumber',
  processing_error: 'processingError',
  authentication_required: 'authenticationFailed',
};

const ERRORS = {
  card_brand_not_accepted: 'brandNotAccepted',
  authentication_required: 'authenticationFailed',
  payment_in_progress: 'inProgress',
  stripe_unavailable: 'serviceDown',
  stripe_error: 'serviceDown',
  rate_limited: 'rateLimited',
  checkout_not_found: 'notFound',
  not_found: 'notFound',
  checkout_expired: 'expired',
  checkout_already_paid: 'alreadyPaid',
  checkout_canceled: 'canceled',
  payments_unavailable: 'unavailable',
  invalid_email: 'invalidEmail',
  internal_error: 'generic',
};

/** The sentence for a server error, or undefined when the server's own message says it better. */
function errorKey({code, declineCode}) {
  if (code === 'card_declined') {
    // Stripe's own message says why a live card failed in test mode.
    if (declineCode === 'test_mode_live_card') return undefined;
    // Lost and stolen cards read as a plain decline, as Stripe advises.
    return DECLINES[declineCode] ?? 'declined';
  }
  return ERRORS[code];
}

/**
 * What the client reads about a problem: `{kind: 'api', code, message, declineCode}`,
 * `{kind: 'charge', code, minimum | maximum, message}`, `{kind: 'card', message}`,
 * `{kind: 'email' | 'network' | 'stripejs'}`. `money(amount)` formats an amount.
 */
export function problemText(locale, problem, money) {
  switch (problem.kind) {
    case 'api': {
      const key = errorKey(problem);
      return key ? t(locale, key) : problem.message ?? t(locale, 'generic');
    }
    case 'charge':
      // English keeps the server's exact sentence; other languages format with Intl.
      if (locale === 'en' && problem.message) return problem.message;
      if (problem.minimum !== undefined) return t(locale, 'belowMinimum', money(problem.minimum));
      return t(locale, 'aboveMaximum', money(problem.maximum));
    case 'card':
      return problem.message; // Stripe.js words card errors in the element's locale.
    case 'email':
      return t(locale, 'invalidEmail');
    case 'network':
      return t(locale, 'unreachable');
    case 'stripejs':
      return t(locale, 'stripeJs');
    default:
      return t(locale, 'generic');
  }
}
