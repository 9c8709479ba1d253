/**
 * The request rules of the reference server: parsing the pay request and the checkout token,
 * Stripe's minimum charge per settlement currency, and the API error type with its stable codes
 * (the same codes and HTTP statuses as slotpay's core/src/api.rs).
 */

/** An API error answered as `{error: {code, message, param?}}` with `status`. */
export class HttpError extends Error {
  constructor(status, code, message, param) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }

  toBody() {
    const error = {code: this.code, message: this.message};
    if (this.param) error.param = this.param;
    return {error};
  }
}

/**
 * Stripe's minimum charge in minor units for its 24 settlement currencies
 * (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
 */
export const MINIMUM_CHARGE = {
  usd: 50, aed: 200, aud: 50, bgn: 100, brl: 50, cad: 50, chf: 50, czk: 1500,
  dkk: 250, eur: 50, gbp: 30, hkd: 400, huf: 17500, inr: 50, jpy: 50, mxn: 1000,
  myr: 200, nok: 300, nzd: 50, pln: 200, ron: 200, sek: 300, sgd: 50, thb: 1000,
};

/** Currencies whose API amounts have no minor unit (ISK and UGX are sent in two-decimal form). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** `1250, 'usd'` → `"12.50 USD"`, the way slotpay's messages write amounts. */
export function majorString(amount, currency) {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
  const text = digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits);
  return `${text} ${currency.toUpperCase()}`;
}

/** Refuses an amount below Stripe's minimum for its currency, in slotpay's words. */
export function checkMinimum(amount, currency) {
  const minimum = MINIMUM_CHARGE[currency];
  if (minimum !== undefined && amount < minimum) {
    throw new HttpError(400, 'amount_too_small', `Your payment must be no less than ${majorString(minimum, currency)}`, 'amount');
  }
}

const TOKEN = /^cs_[A-Za-z0-9_-]{24,64}$/;
const PAYMENT_METHOD = /^pm_[A-Za-z0-9_]{1,252}$/;

/** A checkout token from the URL; a malformed one is a checkout that does not exist. */
export function parseToken(token) {
  if (!TOKEN.test(token)) throw new HttpError(404, 'checkout_not_found', 'No checkout has this token.', 'token');
  return token;
}

/**
 * An email address as slotpay's core reads it: trimmed, at most 254 characters, one `@` between
 * a local part and a domain of non-empty dot-separated labels, no whitespace or control
 * characters; the domain's ASCII letters lowercased.
 */
export function parseEmail(value) {
  const invalid = () => new HttpError(400, 'invalid_email', 'enter an email address such as name@example.com', 'email');
  if (typeof value !== 'string') throw invalid();
  const email = value.trim();
  const at = email.indexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const ok =
    at > 0 &&
    email.length <= 254 &&
    !domain.includes('@') &&
    domain.includes('.') &&
    domain.split('.').every((label) => label.length > 0) &&
    !/[\s\p{Cc}]/u.test(email);
  if (!ok) throw invalid();
  return `${local}@${domain.replace(/[A-Z]+/g, (s) => s.toLowerCase())}`;
}

const PAY_FIELDS = new Set(['payment_method', 'email', 'save_card']);

/** `{payment_method, email, save_card}`, each field checked; anything else is refused. */
export function parsePayRequest(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_json', 'The body must be a JSON object.');
  }
  for (const field of Object.keys(body)) {
    if (!PAY_FIELDS.has(field)) throw new HttpError(400, 'invalid_json', `Unknown field \`${field}\`.`, field);
  }
  if (typeof body.payment_method !== 'string' || !PAYMENT_METHOD.test(body.payment_method)) {
    throw new HttpError(400, 'invalid_payment_method', 'not a card token (pm_...)', 'payment_method');
  }
  const saveCard = body.save_card ?? false;
  if (typeof saveCard !== 'boolean') throw new HttpError(400, 'invalid_json', '`save_card` must be a boolean.', 'save_card');
  return {payment_method: body.payment_method, email: parseEmail(body.email), save_card: saveCard};
}
