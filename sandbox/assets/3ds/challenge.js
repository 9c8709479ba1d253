// @ts-check
/*
 * stripe-sandbox: the 3-D Secure challenge page (challenge.html), standing in for the bank's
 * page that Stripe.js shows in a modal. "Complete" or "Fail" tells the sandbox the outcome
 * (`POST /_sandbox/3ds/{intent}/complete|fail` with the intent's client secret), then tells
 * Stripe.js in the parent page (`sandbox-3ds-done`), which retrieves the intent and resolves.
 *
 * The query string carries `intent` and `client_secret` (from the intent's `next_action`); the
 * hash may carry `amount` and `currency` (added by stripe.js) to show what is being paid.
 */
(function () {
  'use strict';

  var query = new URLSearchParams(location.search);
  var intent = query.get('intent') || '';
  var clientSecret = query.get('client_secret') || '';
  var info = new URLSearchParams(location.hash.slice(1));

  var completeButton = /** @type {HTMLButtonElement} */ (document.getElementById('complete'));
  var failButton = /** @type {HTMLButtonElement} */ (document.getElementById('fail'));
  var status = /** @type {HTMLElement} */ (document.getElementById('status'));
  var amount = /** @type {HTMLElement} */ (document.getElementById('amount'));

  /** Currencies without minor units (Stripe's currency page), for showing the amount. */
  var ZERO_DECIMAL = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'];
  /** Currencies with three decimals (Stripe's currency page). */
  var THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'];

  /**
   * @param {number} minor the amount in the currency's smallest unit, as the API gives it
   * @param {string} currency
   */
  function formatAmount(minor, currency) {
    var code = currency.toLowerCase();
    var digits = ZERO_DECIMAL.indexOf(code) >= 0 ? 0 : THREE_DECIMAL.indexOf(code) >= 0 ? 3 : 2;
    var major = minor / Math.pow(10, digits);
    try {
      return new Intl.NumberFormat(undefined, {
        style: 'currency',
        currency: code.toUpperCase(),
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }).format(major);
    } catch (e) {
      return major.toFixed(digits) + ' ' + code.toUpperCase();
    }
  }

  var minor = Number(info.get('amount'));
  var currency = info.get('currency');
  if (currency && /^[a-z]{3}$/i.test(currency) && Number.isInteger(minor) && minor >= 0) {
    amount.textContent = formatAmount(minor, currency);
    amount.hidden = false;
  }

  if (!/^(pi|seti)_[A-Za-z0-9]+$/.test(intent) || clientSecret === '') {
    completeButton.disabled = true;
    failButton.disabled = true;
    status.textContent = 'This page was opened without an intent to authenticate.';
    status.classList.add('is-error');
    return;
  }

  /** @param {'complete' | 'fail'} outcome */
  async function answer(outcome) {
    completeButton.disabled = true;
    failButton.disabled = true;
    status.classList.remove('is-error');
    status.textContent = outcome === 'complete' ? 'Authenticating…' : 'Failing authentication…';
    try {
      var response = await fetch('/_sandbox/3ds/' + encodeURIComponent(intent) + '/' + outcome, {
        method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
        body: 'client_secret=' + encodeURIComponent(clientSecret),
        credentials: 'omit',
      });
      if (!response.ok) {
        /** @type {any} */
        var body = null;
        try {
          body = await response.json();
        } catch (e) {
          body = null;
        }
        var reason = body && body.error && body.error.message ? body.error.message : 'HTTP ' + response.status;
        throw new Error(reason);
      }
    } catch (e) {
      // Stay open so the tester can try again; Stripe.js keeps waiting for an answer.
      status.textContent = 'The sandbox did not record the answer: ' + (e instanceof Error ? e.message : String(e));
      status.classList.add('is-error');
      completeButton.disabled = false;
      failButton.disabled = false;
      return;
    }
    status.textContent = outcome === 'complete' ? 'Authenticated.' : 'Authentication failed.';
    // The message holds no secret; stripe.js checks it comes from this frame and origin.
    window.parent.postMessage({type: 'sandbox-3ds-done', intent: intent, outcome: outcome}, '*');
  }

  completeButton.addEventListener('click', function () {
    answer('complete');
  });
  failButton.addEventListener('click', function () {
    answer('fail');
  });
  completeButton.focus();
})();
