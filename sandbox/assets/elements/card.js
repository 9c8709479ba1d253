// @ts-check
/*
 * stripe-sandbox: the inside of the card Element's iframe (card.html).
 *
 * Holds the card fields, validates them the way Stripe's card Element does (Luhn, brand, lengths,
 * expiry in the past, incomplete CVC and postal code, with Stripe's codes and English messages),
 * and creates PaymentMethods and card tokens by posting the card straight to the sandbox's REST
 * API from this origin. The host page only ever learns what Stripe.js tells it: brand,
 * completeness, errors, the postal code, and the PaymentMethod or token the API returns.
 *
 * The page's configuration (parent origin, publishable key, options) comes in the URL hash, set
 * by stripe.js. Messages are accepted only from the parent window and that origin.
 */
(function () {
  'use strict';

  /** Marks this stand-in's messages (the same tag stripe.js uses). */
  var MESSAGE_TAG = '__sandboxStripe';

  /**
   * @typedef {'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay' | 'unknown'} Brand
   * @typedef {{brand: Brand, pattern: RegExp, lengths: number[], cvc: number}} BrandRule
   * @typedef {{code: string, message: string}} FieldError
   * @typedef {{complete: boolean, empty: boolean, error?: FieldError, invalid?: boolean}} FieldCheck
   *   `invalid` marks errors shown at once (a wrong value); the others wait for blur or submit.
   * @typedef {{origin: string, frameName: string, key: string, options: any, group: any}} FrameConfig
   */

  /**
   * Card brands by number prefix, with their lengths and CVC length (Stripe's testing page and
   * the networks' published ranges). Order matters: the first match wins.
   * @type {BrandRule[]}
   */
  var BRAND_RULES = [
    {brand: 'amex', pattern: /^3[47]/, lengths: [15], cvc: 4},
    {brand: 'diners', pattern: /^3(?:0[0-5]|[689])/, lengths: [14, 16], cvc: 3},
    {brand: 'jcb', pattern: /^35(?:2[89]|[3-8])/, lengths: [16], cvc: 3},
    {brand: 'discover', pattern: /^6(?:011|4[4-9]|5)/, lengths: [16], cvc: 3},
    {brand: 'unionpay', pattern: /^62/, lengths: [16, 17, 18, 19], cvc: 3},
    {brand: 'mastercard', pattern: /^(?:5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/, lengths: [16], cvc: 3},
    {brand: 'visa', pattern: /^4/, lengths: [16], cvc: 3},
  ];
  /** @type {BrandRule} */
  var UNKNOWN_BRAND = {brand: 'unknown', pattern: /^/, lengths: [16], cvc: 3};

  /** Stripe's English messages for the card Element's validation codes. */
  var MESSAGES = {
    incomplete_number: 'Your card number is incomplete.',
    invalid_number: 'Your card number is invalid.',
    incomplete_expiry: "Your card's expiration date is incomplete.",
    invalid_expiry_month: "Your card's expiration month is invalid.",
    invalid_expiry_month_past: "Your card's expiration date is in the past.",
    invalid_expiry_year: "Your card's expiration year is invalid.",
    invalid_expiry_year_past: "Your card's expiration year is in the past.",
    incomplete_cvc: "Your card's security code is incomplete.",
    incomplete_zip: 'Your postal code is incomplete.',
  };

  /**
   * @param {keyof typeof MESSAGES} code
   * @returns {FieldError}
   */
  function fieldError(code) {
    return {code: code, message: MESSAGES[code]};
  }

  /**
   * @param {string} digits
   * @returns {BrandRule}
   */
  function brandOf(digits) {
    for (var i = 0; i < BRAND_RULES.length; i++) {
      if (BRAND_RULES[i].pattern.test(digits)) return BRAND_RULES[i];
    }
    return UNKNOWN_BRAND;
  }

  /**
   * The Luhn checksum every card number carries.
   * @param {string} digits
   */
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return digits.length > 0 && sum % 10 === 0;
  }

  /**
   * @param {string} digits
   * @returns {FieldCheck}
   */
  function checkNumber(digits) {
    if (digits === '') return {complete: false, empty: true, error: fieldError('incomplete_number')};
    var rule = brandOf(digits);
    var max = Math.max.apply(null, rule.lengths);
    if (rule.lengths.indexOf(digits.length) >= 0) {
      if (luhn(digits)) return {complete: true, empty: false};
      if (digits.length >= max) return {complete: false, empty: false, error: fieldError('invalid_number'), invalid: true};
    }
    if (digits.length > max) return {complete: false, empty: false, error: fieldError('invalid_number'), invalid: true};
    return {complete: false, empty: false, error: fieldError('incomplete_number')};
  }

  /**
   * Groups a card number as printed on the card: 4-6-5 for Amex, 4-6-4 for 14-digit Diners,
   * groups of four otherwise.
   * @param {string} digits
   */
  function formatNumber(digits) {
    var brand = brandOf(digits).brand;
    var gaps = brand === 'amex' || (brand === 'diners' && digits.length <= 14) ? [4, 10] : [4, 8, 12, 16];
    var out = '';
    for (var i = 0; i < digits.length; i++) {
      if (gaps.indexOf(i) >= 0) out += ' ';
      out += digits.charAt(i);
    }
    return out;
  }

  /**
   * Reads `MM / YY` (also `MM/YYYY` when pasted) into month and two-digit year digits.
   * @param {string} value
   * @returns {string} up to four digits, MMYY
   */
  function expiryDigits(value) {
    var long = /^\s*(\d{1,2})\s*\/\s*(\d{4})\s*$/.exec(value);
    if (long) return (long[1].length === 1 ? '0' + long[1] : long[1]) + long[2].slice(2);
    var digits = value.replace(/\D/g, '');
    // A first digit above 1 can only be a one-digit month.
    if (/^[2-9]/.test(digits)) digits = '0' + digits;
    return digits.slice(0, 4);
  }

  /**
   * @param {string} digits MMYY
   * @param {boolean} deleting the user is deleting: do not re-add the separator they removed
   */
  function formatExpiry(digits, deleting) {
    if (digits.length > 2) return digits.slice(0, 2) + ' / ' + digits.slice(2);
    if (digits.length === 2 && !deleting) return digits + ' / ';
    return digits;
  }

  /**
   * @param {string} digits MMYY
   * @param {Date} now
   * @returns {FieldCheck}
   */
  function checkExpiry(digits, now) {
    if (digits === '') return {complete: false, empty: true, error: fieldError('incomplete_expiry')};
    if (digits.length >= 2) {
      var month = parseInt(digits.slice(0, 2), 10);
      if (month < 1 || month > 12) {
        return {complete: false, empty: false, error: fieldError('invalid_expiry_month'), invalid: true};
      }
      if (digits.length === 4) {
        var year = 2000 + parseInt(digits.slice(2), 10);
        var thisYear = now.getFullYear();
        if (year < thisYear) {
          return {complete: false, empty: false, error: fieldError('invalid_expiry_year_past'), invalid: true};
        }
        if (year === thisYear && month < now.getMonth() + 1) {
          return {complete: false, empty: false, error: fieldError('invalid_expiry_month_past'), invalid: true};
        }
        if (year > thisYear + 50) {
          return {complete: false, empty: false, error: fieldError('invalid_expiry_year'), invalid: true};
        }
        return {complete: true, empty: false};
      }
    }
    return {complete: false, empty: false, error: fieldError('incomplete_expiry')};
  }

  /**
   * @param {string} digits
   * @param {Brand} brand
   * @returns {FieldCheck}
   */
  function checkCvc(digits, brand) {
    if (digits === '') return {complete: false, empty: true, error: fieldError('incomplete_cvc')};
    var ok = brand === 'amex' ? digits.length === 4 : brand === 'unknown' ? digits.length >= 3 : digits.length === 3;
    return ok ? {complete: true, empty: false} : {complete: false, empty: false, error: fieldError('incomplete_cvc')};
  }

  /**
   * @param {string} value
   * @returns {FieldCheck}
   */
  function checkPostal(value) {
    var trimmed = value.trim();
    if (trimmed === '') return {complete: false, empty: true, error: fieldError('incomplete_zip')};
    return {complete: true, empty: false};
  }

  /**
   * @param {string} id
   * @returns {HTMLInputElement}
   */
  function input(id) {
    return /** @type {HTMLInputElement} */ (document.getElementById(id));
  }

  /** @returns {FrameConfig | null} */
  function readConfig() {
    try {
      var config = JSON.parse(decodeURIComponent(location.hash.slice(1)));
      if (config && typeof config.origin === 'string' && typeof config.key === 'string') return config;
    } catch (e) {
      // A frame opened without stripe.js's hash has nobody to talk to.
    }
    return null;
  }

  var config = readConfig();
  if (!config) return;
  /**
   * Inside the Payment Element's frame (payment.html) these are its card fields: payment.js
   * talks to the parent and hands card requests here through `window.sandboxCardFields`.
   */
  var embedded = document.body.hasAttribute('data-payment-element');
  /** @type {{onPost: null | ((message: {[key: string]: unknown}) => void)}} */
  var hooks = {onPost: null};
  var parentOrigin = config.origin;
  var publishableKey = config.key;
  /** @type {any} */
  var options = config.options || {};
  /** @type {any} */
  var group = config.group || {};

  var field = /** @type {HTMLElement} */ (document.getElementById('field'));
  var brandIcon = /** @type {HTMLElement} */ (document.getElementById('brand'));
  var number = input('number');
  var expiry = input('expiry');
  var cvc = input('cvc');
  var postal = input('postal');
  var inputs = [number, expiry, cvc, postal];

  /**
   * Which fields were left (blurred) with a value or checked by a submit: only those show
   * "incomplete" errors, as Stripe's Element does, so nobody is scolded while still typing.
   * @type {{[name: string]: boolean}}
   */
  var touched = {};
  var focused = false;
  var lastSent = '';

  /**
   * Sends a message to the parent page (only to its origin). A parent with an opaque origin
   * ("null", e.g. a file:// page) cannot be addressed by origin; the messages carry no card data.
   * @param {{[key: string]: unknown}} message
   */
  function post(message) {
    message[MESSAGE_TAG] = true;
    if (embedded) {
      if (hooks.onPost) hooks.onPost(message);
      return;
    }
    window.parent.postMessage(message, parentOrigin === 'null' ? '*' : parentOrigin);
  }

  function postalShown() {
    return !options.hidePostalCode;
  }

  function numberDigits() {
    return number.value.replace(/\D/g, '');
  }

  /**
   * @param {boolean} submitting a submit shows every field's error, empty ones included
   */
  function evaluate(submitting) {
    var digits = numberDigits();
    var brand = brandOf(digits).brand;
    /** @type {Array<[HTMLInputElement, FieldCheck]>} */
    var checks = [
      [number, checkNumber(digits)],
      [expiry, checkExpiry(expiryDigits(expiry.value), new Date())],
      [cvc, checkCvc(cvc.value.replace(/\D/g, ''), brand)],
    ];
    if (postalShown()) checks.push([postal, checkPostal(postal.value)]);
    /** @type {FieldError | undefined} */
    var error;
    var complete = true;
    var empty = true;
    checks.forEach(function (pair) {
      var el = pair[0];
      var check = pair[1];
      complete = complete && check.complete;
      empty = empty && check.empty;
      var shown = !!check.error && (check.invalid || submitting || (touched[el.name] && !check.empty));
      el.setAttribute('aria-invalid', shown ? 'true' : 'false');
      el.classList.toggle('is-invalid', shown);
      el.classList.toggle('is-complete', check.complete);
      if (shown && !error) error = check.error;
    });
    field.classList.toggle('is-invalid', !!error);
    field.classList.toggle('is-complete', complete);
    field.classList.toggle('is-empty', empty);
    brandIcon.setAttribute('data-brand', brand);
    return {
      elementType: 'card',
      empty: empty,
      complete: complete,
      brand: brand,
      value: {postalCode: postalShown() ? postal.value.trim() : ''},
      error: error ? {type: 'validation_error', code: error.code, message: error.message} : undefined,
    };
  }

  /**
   * Tells the parent the Element's state: always after input (Stripe fires `change` on every
   * edit), otherwise only when something the merchant can see changed.
   * @param {boolean} force
   * @param {boolean} [submitting]
   */
  function emitChange(force, submitting) {
    var state = evaluate(!!submitting);
    var serial = JSON.stringify(state);
    if (!force && serial === lastSent) return state;
    lastSent = serial;
    post({type: 'change', state: state});
    return state;
  }

  /** @param {HTMLInputElement} el */
  function caretAtEnd(el) {
    return el.selectionStart === el.value.length;
  }

  /** @param {HTMLInputElement} el */
  function previousField(el) {
    var visible = inputs.filter(function (i) {
      return !i.hidden;
    });
    return visible[visible.indexOf(el) - 1] || null;
  }

  number.addEventListener('input', function () {
    var atEnd = caretAtEnd(number);
    var rule = brandOf(number.value.replace(/\D/g, ''));
    var digits = number.value.replace(/\D/g, '').slice(0, Math.max.apply(null, rule.lengths));
    number.value = formatNumber(digits);
    touched.cardnumber = false;
    emitChange(true);
    // Like Stripe's Element, a finished valid number moves on to the expiry date.
    if (atEnd && checkNumber(digits).complete && digits.length === Math.max.apply(null, rule.lengths)) expiry.focus();
  });

  expiry.addEventListener('input', function (event) {
    var inputType = /** @type {InputEvent} */ (event).inputType || '';
    var digits = expiryDigits(expiry.value);
    expiry.value = formatExpiry(digits, inputType.indexOf('delete') === 0);
    touched['exp-date'] = false;
    emitChange(true);
    if (digits.length === 4 && checkExpiry(digits, new Date()).complete && caretAtEnd(expiry)) cvc.focus();
  });

  cvc.addEventListener('input', function () {
    var brand = brandOf(numberDigits()).brand;
    var max = brand === 'amex' || brand === 'unknown' ? 4 : 3;
    var digits = cvc.value.replace(/\D/g, '').slice(0, max);
    cvc.value = digits;
    touched.cvc = false;
    emitChange(true);
    if (digits.length === max && postalShown() && caretAtEnd(cvc)) postal.focus();
  });

  postal.addEventListener('input', function () {
    touched.postal = false;
    emitChange(true);
  });

  inputs.forEach(function (el) {
    el.addEventListener('blur', function () {
      touched[el.name] = el.value !== '';
    });
    el.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') post({type: 'escape'});
      // Backspace in an empty field goes back to the previous one, as in Stripe's Element.
      if (event.key === 'Backspace' && el.value === '') {
        var previous = previousField(el);
        if (previous) {
          event.preventDefault();
          previous.focus();
          previous.setSelectionRange(previous.value.length, previous.value.length);
        }
      }
    });
  });

  document.addEventListener('focusin', function () {
    if (!focused) {
      focused = true;
      field.classList.add('is-focused');
      post({type: 'focus'});
    }
  });

  document.addEventListener('focusout', function (event) {
    var next = /** @type {FocusEvent} */ (event).relatedTarget;
    if (next instanceof Node && field.contains(next)) {
      emitChange(false);
      return;
    }
    focused = false;
    field.classList.remove('is-focused');
    emitChange(false);
    post({type: 'blur'});
  });

  // Typing anywhere in the frame's empty space focuses the number, like clicking Stripe's Element.
  field.addEventListener('mousedown', function (event) {
    if (event.target === field || event.target === brandIcon) {
      event.preventDefault();
      firstIncomplete().focus();
    }
  });

  function firstIncomplete() {
    var digits = numberDigits();
    if (!checkNumber(digits).complete) return number;
    if (!checkExpiry(expiryDigits(expiry.value), new Date()).complete) return expiry;
    if (!checkCvc(cvc.value, brandOf(digits).brand).complete) return cvc;
    if (postalShown() && !checkPostal(postal.value).complete) return postal;
    return number;
  }

  /**
   * Stripe's bracket syntax for form bodies (`card[number]=...`); a copy of stripe.js's encoder,
   * since this frame is a separate document that must not rely on the host page.
   * @param {{[key: string]: unknown}} params
   */
  function encodeForm(params) {
    /** @type {string[]} */
    var pairs = [];
    /**
     * @param {string} key
     * @param {unknown} value
     */
    function add(key, value) {
      if (value === undefined || value === null) return;
      if (Array.isArray(value)) {
        value.forEach(function (item, i) {
          add(key + '[' + i + ']', item);
        });
      } else if (typeof value === 'object') {
        var object = /** @type {{[key: string]: unknown}} */ (value);
        Object.keys(object).forEach(function (k) {
          add(key + '[' + k + ']', object[k]);
        });
      } else {
        pairs.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)));
      }
    }
    Object.keys(params).forEach(function (k) {
      add(k, params[k]);
    });
    return pairs.join('&');
  }

  /**
   * Posts a form to the sandbox's REST API on this (the sandbox's) origin with the publishable
   * key, and turns the answer into `{[okKey]: object}` or `{error}` as Stripe.js resolves them.
   * @param {string} path
   * @param {string} body
   * @param {'paymentMethod' | 'token'} okKey
   * @returns {Promise<any>}
   */
  async function postForm(path, body, okKey) {
    try {
      var response = await fetch(location.origin + path, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer ' + publishableKey,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: body,
        credentials: 'omit',
      });
      /** @type {any} */
      var json = null;
      try {
        json = await response.json();
      } catch (e) {
        json = null;
      }
      if (response.ok && json && typeof json.id === 'string') {
        /** @type {any} */
        var ok = {};
        ok[okKey] = json;
        return ok;
      }
      if (json && json.error) return {error: json.error};
      return {error: {type: 'api_error', message: 'An unexpected error occurred (HTTP ' + response.status + ').'}};
    } catch (e) {
      return {error: {type: 'api_connection_error', message: 'An error occurred with our connection to Stripe.'}};
    }
  }

  /**
   * Checks every field as a submit does (errors shown, empty fields included); the error to
   * answer with when the card is not complete.
   */
  function submitError() {
    inputs.forEach(function (el) {
      touched[el.name] = true;
    });
    return emitChange(false, true).error;
  }

  /** The card as the REST API takes it (`card[number]`, ...). */
  function cardParams() {
    var exp = expiryDigits(expiry.value);
    return {
      number: numberDigits(),
      exp_month: parseInt(exp.slice(0, 2), 10),
      exp_year: 2000 + parseInt(exp.slice(2), 10),
      cvc: cvc.value,
    };
  }

  /**
   * Validates the fields, then posts the card to `POST /v1/payment_methods` and answers the
   * parent with the API's answer.
   * @param {string} requestId
   * @param {any} billingDetails
   * @param {any} metadata
   */
  async function createPaymentMethod(requestId, billingDetails, metadata) {
    var invalid = submitError();
    if (invalid) {
      post({type: 'paymentMethod', requestId: requestId, result: {error: invalid}});
      return;
    }
    var billing = Object.assign({}, billingDetails || {});
    // The Element's postal code goes into the billing address, as Stripe.js sends it.
    if (postalShown()) {
      billing.address = Object.assign({postal_code: postal.value.trim()}, billing.address || {});
    }
    var body = encodeForm({
      type: 'card',
      card: cardParams(),
      billing_details: Object.keys(billing).length ? billing : undefined,
      metadata: metadata,
    });
    post({type: 'paymentMethod', requestId: requestId, result: await postForm('/v1/payment_methods', body, 'paymentMethod')});
  }

  /** The card holder fields `createToken` takes besides the card (Stripe's `CreateTokenCardData`). */
  var TOKEN_FIELDS = [
    'name',
    'address_line1',
    'address_line2',
    'address_city',
    'address_state',
    'address_zip',
    'address_country',
    'currency',
  ];

  /**
   * Validates the fields, then posts the card to `POST /v1/tokens` (Stripe.js's `createToken`)
   * and answers the parent with the token or the error.
   * @param {string} requestId
   * @param {any} data name, address and currency of the card holder
   */
  async function createToken(requestId, data) {
    var invalid = submitError();
    if (invalid) {
      post({type: 'token', requestId: requestId, result: {error: invalid}});
      return;
    }
    /** @type {{[key: string]: unknown}} */
    var card = cardParams();
    var given = data && typeof data === 'object' ? data : {};
    TOKEN_FIELDS.forEach(function (k) {
      if (typeof given[k] === 'string' && given[k] !== '') card[k] = given[k];
    });
    // The Element's postal code is the card's address_zip unless the page gave one.
    if (postalShown() && card.address_zip === undefined && postal.value.trim() !== '') {
      card.address_zip = postal.value.trim();
    }
    var body = encodeForm({card: card});
    post({type: 'token', requestId: requestId, result: await postForm('/v1/tokens', body, 'token')});
  }

  /**
   * Turns the Element's `style` option and the group's `appearance` into CSS custom properties
   * (card.css uses them). Explicit `style` wins over appearance variables, which win over the
   * theme's defaults.
   */
  function applyOptions() {
    var style = options.style || {};
    var base = style.base || {};
    var placeholder = base['::placeholder'] || {};
    var invalid = style.invalid || {};
    var complete = style.complete || {};
    var appearance = group.appearance || {};
    var vars = appearance.variables || {};
    document.documentElement.setAttribute('data-theme', appearance.theme || 'stripe');
    /** @type {{[name: string]: unknown}} */
    var props = {
      '--card-color': base.color || vars.colorText,
      '--card-font-family': base.fontFamily || vars.fontFamily,
      '--card-font-size': base.fontSize || vars.fontSizeBase,
      '--card-font-weight': base.fontWeight || vars.fontWeightNormal,
      '--card-letter-spacing': base.letterSpacing,
      '--card-line-height': base.lineHeight || vars.fontLineHeight,
      '--card-text-transform': base.textTransform,
      '--card-background': base.backgroundColor || vars.colorBackground,
      '--card-placeholder': placeholder.color || vars.colorTextPlaceholder,
      '--card-icon': base.iconColor || vars.iconColor,
      '--card-primary': vars.colorPrimary,
      '--card-invalid': invalid.color || vars.colorDanger,
      '--card-invalid-icon': invalid.iconColor || vars.iconCardErrorColor || vars.colorDanger,
      '--card-complete': complete.color,
      '--card-radius': vars.borderRadius,
      '--card-gap': vars.spacingUnit,
    };
    Object.keys(props).forEach(function (name) {
      var value = props[name];
      if (value === undefined || value === null || value === '') {
        document.documentElement.style.removeProperty(name);
      } else {
        document.documentElement.style.setProperty(name, String(value));
      }
    });
    brandIcon.hidden = !!options.hideIcon;
    brandIcon.classList.toggle('is-solid', options.iconStyle === 'solid');
    postal.hidden = !!options.hidePostalCode;
    inputs.forEach(function (el) {
      el.disabled = !!options.disabled;
    });
    if (options.value && typeof options.value.postalCode === 'string' && postal.value === '') {
      postal.value = options.value.postalCode;
    }
    document.documentElement.lang = typeof group.locale === 'string' && group.locale !== 'auto' ? group.locale : 'en';
  }

  function clear() {
    inputs.forEach(function (el) {
      el.value = '';
    });
    touched = {};
    emitChange(true);
  }

  /** Reports the content's height so the parent sizes the iframe to fit (fields may wrap). */
  function postHeight() {
    post({type: 'height', height: Math.ceil(field.getBoundingClientRect().height)});
  }

  /**
   * One request from the parent (or from payment.js, for the Payment Element's card tab).
   * @param {any} data
   */
  function handle(data) {
    switch (data.type) {
      case 'update':
        options = data.options || {};
        applyOptions();
        emitChange(false);
        postHeight();
        break;
      case 'group':
        group = data.group || {};
        applyOptions();
        postHeight();
        break;
      case 'focus':
        firstIncomplete().focus();
        break;
      case 'blur': {
        var active = document.activeElement;
        if (active instanceof HTMLElement) active.blur();
        break;
      }
      case 'clear':
        clear();
        break;
      case 'createPaymentMethod':
        createPaymentMethod(String(data.requestId), data.billing_details, data.metadata);
        break;
      case 'createToken':
        createToken(String(data.requestId), data.data);
        break;
      default:
        break;
    }
  }

  applyOptions();
  lastSent = JSON.stringify(evaluate(false));
  if (embedded) {
    /** @type {any} */ (window).sandboxCardFields = {
      handle: handle,
      hooks: hooks,
      validate: submitError,
      encodeForm: encodeForm,
      postForm: postForm,
      state: function () {
        return evaluate(false);
      },
    };
    return;
  }
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || data[MESSAGE_TAG] !== true) return;
    handle(data);
  });
  if (typeof ResizeObserver === 'function') new ResizeObserver(postHeight).observe(field);
  post({type: 'ready'});
  postHeight();
  // The initial state, for the container's classes; Stripe fires no `change` before an edit.
  post({type: 'state', state: JSON.parse(lastSent)});
})();
