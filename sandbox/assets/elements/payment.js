// @ts-check
/*
 * stripe-sandbox: the inside of the Payment Element's iframe (payment.html).
 *
 * Shows a tab per payment method type of the Elements group (`paymentMethodTypes`, in the order
 * given; no tabs when there is one), the card fields (card.js, which this frame hands the card
 * tab's requests to) and the fields Stripe's Payment Element asks for the others: an optional
 * bank for iDEAL, the holder's name for Bancontact, name, email and IBAN for SEPA Debit with
 * Stripe's mandate text. `submit` validates the chosen method's fields; `createPaymentMethod`
 * posts them straight to the sandbox's REST API from this origin, as the card frame does.
 *
 * Apple Pay and Google Pay show as tabs after card when the page's domain is registered and
 * enabled on the key's account (Apple Pay never on an IP address or localhost), unless the
 * Element's `wallets` option says `never`. Paying with one opens the wallet sheet (wallet.js)
 * in this frame.
 *
 * The configuration comes in the URL hash, set by stripe.js; messages are accepted only from the
 * parent window and its origin.
 */
(function () {
  'use strict';

  var MESSAGE_TAG = '__sandboxStripe';

  /** The types this frame has fields for, in Stripe's default order. */
  var TYPES = ['card', 'apple_pay', 'google_pay', 'ideal', 'bancontact', 'sepa_debit'];
  /** The wallets' session and sheet (wallet.js). */
  /** @type {any} */
  var wallets = /** @type {any} */ (window).sandboxWallets;
  var WALLETS = wallets.NAMES;
  /** The key's account, from the Elements session (for the wallet sheet's PaymentMethod). */
  var account = '';

  /** Stripe's English validation messages for the fields of this frame. */
  var MESSAGES = {
    incomplete_name: 'Your name is incomplete.',
    incomplete_email: 'Your email address is incomplete.',
    invalid_email: 'Your email address is invalid.',
    incomplete_iban: 'Your IBAN is incomplete.',
    invalid_iban: 'Your IBAN is invalid.',
  };

  /** @type {any} */
  var config;
  try {
    config = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  } catch (e) {
    return;
  }
  if (!config || typeof config.origin !== 'string' || typeof config.key !== 'string') return;
  var parentOrigin = config.origin;
  var publishableKey = config.key;
  /** @type {any} */
  var group = config.group || {};
  /** @type {any} */
  var options = config.options || {};
  /** @type {any} */
  var card = /** @type {any} */ (window).sandboxCardFields;
  if (!card) return;

  /** @param {string} id */
  function el(id) {
    return /** @type {HTMLInputElement} */ (document.getElementById(id));
  }

  var root = el('payment');
  var tabs = el('tabs');
  var errorLine = el('error');
  var types = (Array.isArray(group.paymentMethodTypes) ? group.paymentMethodTypes : ['card']).filter(
    /** @param {unknown} t */ function (t) {
      return typeof t === 'string' && TYPES.indexOf(t) >= 0;
    }
  );
  if (types.length === 0) types = ['card'];
  var selected = types[0];

  /** @param {{[key: string]: unknown}} message */
  function post(message) {
    message[MESSAGE_TAG] = true;
    window.parent.postMessage(message, parentOrigin === 'null' ? '*' : parentOrigin);
  }

  function postHeight() {
    post({type: 'height', height: Math.ceil(root.getBoundingClientRect().height)});
  }

  /** The mandate text Stripe shows with SEPA Debit, naming the business from the options. */
  function mandateText() {
    var name = (options.business && typeof options.business.name === 'string' && options.business.name) || 'the business';
    return (
      'By providing your payment information and confirming this payment, you authorise (A) ' +
      name +
      ' and Stripe, our payment service provider, to send instructions to your bank to debit your account and (B) your bank to debit your account in accordance with those instructions. As part of your rights, you are entitled to a refund from your bank under the terms and conditions of your agreement with your bank. A refund must be claimed within 8 weeks starting from the date on which your account was debited. Your rights are explained in a statement that you can obtain from your bank. You agree to receive notifications for future debits up to 2 days before they occur.'
    );
  }

  /**
   * The chosen method's fields checked; the first problem, if any. `showing` marks the fields.
   * @param {boolean} showing
   * @returns {{complete: boolean, empty: boolean, error?: {type: 'validation_error', code: string, message: string}}}
   */
  function check(showing) {
    if (selected === 'card') {
      var state = showing ? {error: card.validate()} : card.state();
      var cardState = card.state();
      return {complete: cardState.complete, empty: cardState.empty, error: state.error};
    }
    /** @type {Array<[HTMLInputElement, string | null]>} */
    var fields = [];
    if (selected === 'bancontact') fields.push([el('bancontact-name'), filled('bancontact-name') ? null : 'incomplete_name']);
    if (selected === 'sepa_debit') {
      fields.push([el('sepa-name'), filled('sepa-name') ? null : 'incomplete_name']);
      var email = el('sepa-email').value.trim();
      fields.push([el('sepa-email'), email === '' ? 'incomplete_email' : /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? null : 'invalid_email']);
      var iban = ibanValue();
      fields.push([el('sepa-iban'), iban.length < 15 ? 'incomplete_iban' : ibanValid(iban) ? null : 'invalid_iban']);
    }
    /** @type {string | null} */
    var first = null;
    var empty = true;
    fields.forEach(function (pair) {
      if (pair[0].value.trim() !== '') empty = false;
      if (showing) pair[0].setAttribute('aria-invalid', pair[1] ? 'true' : 'false');
      if (pair[1] && !first) first = pair[1];
    });
    var code = /** @type {keyof typeof MESSAGES | null} */ (first);
    return {
      complete: !code,
      empty: empty,
      error: code ? {type: 'validation_error', code: code, message: MESSAGES[code]} : undefined,
    };
  }

  /** @param {string} id */
  function filled(id) {
    return el(id).value.trim() !== '';
  }

  function ibanValue() {
    return el('sepa-iban').value.replace(/\s+/g, '').toUpperCase();
  }

  /**
   * ISO 13616's checksum: the country and check digits moved to the end, letters as numbers,
   * the whole modulo 97 is 1.
   * @param {string} iban
   */
  function ibanValid(iban) {
    if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
    var moved = iban.slice(4) + iban.slice(0, 4);
    var rest = 0;
    for (var i = 0; i < moved.length; i++) {
      var c = moved.charCodeAt(i);
      var digits = c >= 65 ? String(c - 55) : moved[i];
      for (var j = 0; j < digits.length; j++) rest = (rest * 10 + Number(digits[j])) % 97;
    }
    return rest === 1;
  }

  var lastSent = '';
  /** Tells the parent the Element's state (Stripe's Payment Element `change` event). */
  function emitChange() {
    var state = check(false);
    var event = {elementType: 'payment', complete: state.complete, empty: state.empty, collapsed: false, value: {type: selected}};
    var serial = JSON.stringify(event);
    if (serial === lastSent) return;
    lastSent = serial;
    post({type: 'change', state: event});
  }

  /** @param {string} type */
  function isWallet(type) {
    return Object.prototype.hasOwnProperty.call(WALLETS, type);
  }

  /** @param {string} type */
  function panelOf(type) {
    return isWallet(type) ? 'wallet' : type;
  }

  /** @param {string} type */
  function select(type) {
    selected = type;
    TYPES.forEach(function (t) {
      var tab = el('tab-' + t);
      tab.setAttribute('aria-selected', t === type ? 'true' : 'false');
      tab.tabIndex = t === type ? 0 : -1;
    });
    ['card', 'wallet', 'ideal', 'bancontact', 'sepa_debit'].forEach(function (p) {
      el('panel-' + p).hidden = p !== panelOf(type);
    });
    if (isWallet(type)) {
      var name = WALLETS[/** @type {'apple_pay' | 'google_pay'} */ (type)];
      el('wallet-note').textContent = 'You will confirm the payment in ' + name + '.';
      el('panel-wallet').setAttribute('aria-labelledby', 'tab-' + type);
      el('sheet').hidden = true;
    }
    errorLine.textContent = '';
    emitChange();
    postHeight();
  }

  /**
   * The chosen method's PaymentMethod, posted to `POST /v1/payment_methods`.
   * @param {string} requestId
   * @param {any} billing
   * @param {any} metadata
   */
  async function createPaymentMethod(requestId, billing, metadata) {
    if (isWallet(selected)) {
      post({type: 'paymentMethod', requestId: requestId, result: await wallets.sheet(selected, account, postHeight)});
      return;
    }
    if (selected === 'card') {
      card.handle({type: 'createPaymentMethod', requestId: requestId, billing_details: billing, metadata: metadata});
      return;
    }
    var state = check(true);
    if (state.error) {
      post({type: 'paymentMethod', requestId: requestId, result: {error: state.error}});
      return;
    }
    var details = Object.assign({}, billing || {});
    /** @type {{[key: string]: unknown}} */
    var params = {type: selected, billing_details: details, metadata: metadata};
    if (selected === 'ideal' && el('ideal-bank').value) params.ideal = {bank: el('ideal-bank').value};
    if (selected === 'bancontact') details.name = el('bancontact-name').value.trim();
    if (selected === 'sepa_debit') {
      details.name = el('sepa-name').value.trim();
      details.email = el('sepa-email').value.trim();
      params.sepa_debit = {iban: ibanValue()};
    }
    // The card frame's form encoding and REST call (card.js), for the other types too.
    var result = await card.postForm('/v1/payment_methods', card.encodeForm(params), 'paymentMethod');
    post({type: 'paymentMethod', requestId: requestId, result: result});
  }

  /**
   * Shows the wallets the Elements session allows, unless the Element's options say never.
   * Wallets come with cards only; with no card, or both wallets `never` (as beside an Express
   * Checkout Element), there is nothing to ask.
   * @returns {Promise<void>} settled once the tabs are final
   */
  function loadWallets() {
    var allowed = options.wallets || {};
    if (types.indexOf('card') < 0 || (allowed.applePay === 'never' && allowed.googlePay === 'never')) {
      return Promise.resolve();
    }
    return wallets.session(publishableKey, parentOrigin).then(function (/** @type {any} */ session) {
      if (!session) return;
      account = session.account;
      var shown = [];
      if (session.apple_pay && allowed.applePay !== 'never') shown.push('apple_pay');
      if (session.google_pay && allowed.googlePay !== 'never') shown.push('google_pay');
      if (shown.length === 0) return;
      // After card, in Stripe's order, before the local methods.
      types = types.slice(0, 1).concat(shown, types.slice(1));
      shown.forEach(function (t) {
        el('tab-' + t).hidden = false;
      });
      tabs.hidden = false;
      postHeight();
    });
  }

  function applyOptions() {
    el('mandate').textContent = mandateText();
    var disabled = !!options.readOnly;
    document.querySelectorAll('input, select, button').forEach(function (node) {
      /** @type {HTMLInputElement} */ (node).disabled = disabled;
    });
  }

  card.hooks.onPost = function (/** @type {any} */ message) {
    if (message.type === 'change' || message.type === 'state') {
      // Stripe's Payment Element shows its fields' errors itself, under the fields.
      if (selected !== 'card') return;
      var error = message.state && message.state.error;
      errorLine.textContent = error && message.type === 'change' ? String(error.message) : '';
      emitChange();
      postHeight();
      return;
    }
    if (message.type === 'height' || message.type === 'ready') return;
    post(message);
  };

  types.forEach(function (/** @type {string} */ t) {
    el('tab-' + t).hidden = false;
  });
  tabs.hidden = types.length < 2;
  tabs.addEventListener('click', function (event) {
    var target = /** @type {HTMLElement} */ (event.target);
    var type = target.getAttribute('data-type');
    if (type && types.indexOf(type) >= 0) select(type);
  });
  tabs.addEventListener('keydown', function (event) {
    var step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    var next = types[(types.indexOf(selected) + step + types.length) % types.length];
    select(next);
    el('tab-' + next).focus();
  });
  document.querySelectorAll('.Panel .Input').forEach(function (node) {
    node.addEventListener('input', emitChange);
    node.addEventListener('change', emitChange);
  });

  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || data[MESSAGE_TAG] !== true) return;
    switch (data.type) {
      case 'update':
        options = Object.assign(options, data.options || {});
        applyOptions();
        postHeight();
        break;
      case 'group':
        group = data.group || {};
        card.handle(data);
        postHeight();
        break;
      case 'focus':
        if (selected === 'card') card.handle(data);
        else {
          var first = document.querySelector('#panel-' + selected + ' .Input');
          if (first instanceof HTMLElement) first.focus();
        }
        break;
      case 'blur':
      case 'clear':
        card.handle(data);
        break;
      case 'submit': {
        var state = check(true);
        errorLine.textContent = state.error && selected !== 'card' ? state.error.message : '';
        postHeight();
        post({type: 'submitted', requestId: String(data.requestId), result: state.error ? {error: state.error} : {}});
        break;
      }
      case 'createPaymentMethod':
        createPaymentMethod(String(data.requestId), data.billing_details, data.metadata);
        break;
      default:
        break;
    }
  });

  applyOptions();
  select(selected);
  if (typeof ResizeObserver === 'function') new ResizeObserver(postHeight).observe(root);
  postHeight();
  post({type: 'state', state: JSON.parse(lastSent)});
  // Like Stripe's, the Element is ready once it shows every way to pay it will show, so that
  // nothing moves under a client's finger after `ready`.
  loadWallets().then(function () {
    postHeight();
    post({type: 'ready'});
  });
})();
