// Amounts: Stripe's minor units per currency, formatted for people with Intl.NumberFormat, and
// the checks the checkout makes before any network call.

// Currencies whose API amounts have no minor unit, or three (Stripe's currency page).
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
// Sent in two-decimal form, shown as whole units.
const WHOLE_DISPLAY = new Set(['isk', 'ugx']);

function apiDecimals(currency) {
  if (ZERO_DECIMAL.has(currency)) return 0;
  return THREE_DECIMAL.has(currency) ? 3 : 2;
}

/** `1250, 'eur', 'fr'` → `"12,50 €"`. */
export function formatMoney(amount, currency, locale) {
  const digits = WHOLE_DISPLAY.has(currency) ? 0 : apiDecimals(currency);
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(amount / 10 ** apiDecimals(currency));
}

/** `50, 'usd'` → `"0.50 USD"`, the server's way of writing an amount in its messages. */
function plainMoney(amount, currency) {
  const digits = apiDecimals(currency);
  return `${digits ? (amount / 10 ** digits).toFixed(digits) : amount} ${currency.toUpperCase()}`;
}

/** Stripe's largest amount: 8 digits (12 for IDR, 9 for INR). */
function maximumCharge(currency) {
  return 10 ** (currency === 'idr' ? 12 : currency === 'inr' ? 9 : 8) - 1;
}

/** Why the view's amount cannot be charged (a problem for problemText), or null. */
export function chargeProblem({amount, currency, minimum_amount: minimum}) {
  if (minimum != null && amount < minimum) {
    const message = `Your payment must be no less than ${plainMoney(minimum, currency)}`;
    return {kind: 'charge', code: 'amount_too_small', minimum, message};
  }
  const maximum = maximumCharge(currency);
  if (amount > maximum) {
    const message = `Your payment must be no more than ${plainMoney(maximum, currency)}`;
    return {kind: 'charge', code: 'amount_too_large', maximum, message};
  }
  return null;
}

const EMAIL = /^[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]+$/u;

/** The address as the server will read it (trimmed), or null when it is not one. */
export function parseEmail(value) {
  const email = value.trim();
  // eslint-disable-next-line no-control-regex
  return email.length <= 254 && EMAIL.test(email) && !/[\u0000-\u001f\u007f]/.test(email) ? email : null;
}
