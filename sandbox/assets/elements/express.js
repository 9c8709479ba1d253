// @ts-check
/*
 * stripe-sandbox: the inside of the Express Checkout Element's iframe (express.html).
 *
 * One button per wallet the Elements session allows on the page's domain (wallet.js; wallets
 * come with cards, so none when the group's `paymentMethodTypes` leave card out), unless the
 * Element's `paymentMethods` option says `never` for it; `ready` tells the page which
 * (`availablePaymentMethods`, undefined when none). A press asks the page first (`click`, which
 * the merchant's handler resolves or rejects); then the wallet sheet opens, with the client's
 * email when `emailRequired`. Its Pay makes the wallet's PaymentMethod and tells the page
 * (`confirm`, with the billing details); `stripe.createPaymentMethod({elements})` then answers
 * that PaymentMethod. Cancel tells the page (`cancel`). `paymentFailed` shows the merchant's
 * message under the buttons.
 *
 * The configuration comes in the URL hash, set by stripe.js; messages are accepted only from the
 * parent window and its origin.
 */
(function () {
  'use strict';

  var MESSAGE_TAG = '__sandboxStripe';
  /** The words Stripe puts before a wallet's name for each `buttonType` (`plain`: none). */
  var BUTTON_WORDS = {book: 'Book with', buy: 'Buy with', checkout: 'Check out with', donate: 'Donate with', order: 'Order with', pay: 'Pay with', subscribe: 'Subscribe with'};
  /** Stripe's default button types: Apple Pay's `plain`, Google Pay's `buy`. */
  var DEFAULT_TYPES = {apple_pay: 'plain', google_pay: 'buy'};
  /** The option names of the wallets. */
  var OPTION = {apple_pay: 'applePay', google_pay: 'googlePay'};

  /** @type {any} */
  var config;
  try {
    config = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  } catch (e) {
    return;
  }
  if (!config || typeof config.origin !== 'string' || typeof config.key !== 'string') return;
  var parentOrigin = config.origin;
  /** @type {any} */
  var group = config.group || {};
  /** @type {any} */
  var options = config.options || {};
  /** @type {any} */
  var wallets = /** @type {any} */ (window).sandboxWallets;
  var account = '';
  /** The wallet PaymentMethod the sheet made, until `createPaymentMethod` takes it. */
  /** @type {any} */
  var made = null;
  /** The wallet pressed, until the page resolves or rejects its `click`. */
  /** @type {'apple_pay' | 'google_pay' | null} */
  var pressed = null;

  /** @param {string} id */
  function el(id) {
    return /** @type {HTMLElement} */ (document.getElementById(id));
  }

  /** @param {{[key: string]: unknown}} message */
  function post(message) {
    message[MESSAGE_TAG] = true;
    window.parent.postMessage(message, parentOrigin === 'null' ? '*' : parentOrigin);
  }

  function postHeight() {
    post({type: 'height', height: Math.ceil(el('express').getBoundingClientRect().height)});
  }

  /** @param {'apple_pay' | 'google_pay'} wallet */
  function label(wallet) {
    var types = options.buttonType || {};
    var type = types[OPTION[wallet]] || DEFAULT_TYPES[wallet];
    var words = /** @type {{[type: string]: string}} */ (BUTTON_WORDS)[type];
    return (words ? words + ' ' : '') + wallets.NAMES[wallet];
  }

  /** @param {'apple_pay' | 'google_pay'} wallet */
  function open(wallet) {
    el('error').textContent = '';
    wallets.sheet(wallet, account, postHeight, options.emailRequired === true).then(function (/** @type {any} */ result) {
      if (result.error) {
        post({type: 'cancel'});
        return;
      }
      made = result.paymentMethod;
      // What a wallet gives for the card it paid with: the holder and the billing address,
      // and the email when asked.
      /** @type {{[key: string]: unknown}} */
      var billing = {
        name: 'Sandbox Client',
        address: {line1: '1 Sandbox Street', line2: null, city: 'Amsterdam', state: '', postal_code: '1011 AB', country: 'NL'},
      };
      if (result.email) billing.email = result.email;
      post({type: 'confirm', expressPaymentType: wallet, billingDetails: billing});
    });
  }

  el('buttons').addEventListener('click', function (event) {
    var type = /** @type {HTMLElement} */ (event.target).getAttribute('data-type');
    if ((type !== 'apple_pay' && type !== 'google_pay') || pressed || !el('sheet').hidden) return;
    pressed = type;
    post({type: 'click', expressPaymentType: type});
  });

  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || data[MESSAGE_TAG] !== true) return;
    switch (data.type) {
      case 'clickResolved':
        if (pressed) open(pressed);
        pressed = null;
        break;
      case 'clickRejected':
        pressed = null;
        break;
      case 'createPaymentMethod':
        post({
          type: 'paymentMethod',
          requestId: String(data.requestId),
          result: made
            ? {paymentMethod: made}
            : {error: {type: 'invalid_request_error', message: 'The Express Checkout Element has no approved payment.'}},
        });
        made = null;
        break;
      case 'paymentFailed':
        made = null;
        el('error').textContent = typeof data.message === 'string' && data.message ? data.message : 'The payment could not be completed.';
        postHeight();
        break;
      case 'update':
        options = Object.assign(options, data.options || {});
        break;
      case 'group':
        group = data.group || {};
        break;
      default:
        break;
    }
  });

  var types = Array.isArray(group.paymentMethodTypes) ? group.paymentMethodTypes : ['card'];
  var allowed = options.paymentMethods || {};
  wallets.session(config.key, parentOrigin).then(function (/** @type {any} */ session) {
    /** @type {{[name: string]: boolean}} */
    var available = {amazonPay: false, applePay: false, googlePay: false, link: false, paypal: false, klarna: false};
    var any = false;
    /** @type {Array<'apple_pay' | 'google_pay'>} */ (['apple_pay', 'google_pay']).forEach(function (wallet) {
      var shown = !!session && session[wallet] === true && types.indexOf('card') >= 0 && allowed[OPTION[wallet]] !== 'never';
      var button = el('button-' + wallet);
      button.textContent = label(wallet);
      button.hidden = !shown;
      available[OPTION[wallet]] = shown;
      any = any || shown;
    });
    if (session) account = session.account;
    postHeight();
    post({type: 'ready', availablePaymentMethods: any ? available : undefined});
  });
  if (typeof ResizeObserver === 'function') new ResizeObserver(postHeight).observe(el('express'));
})();
