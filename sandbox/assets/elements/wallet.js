// @ts-check
/*
 * stripe-sandbox: the wallets, shared by the Payment Element's frame and the Express Checkout
 * Element's: which wallets the page may show (`/_sandbox/elements/session`, standing in for the
 * Elements session Stripe.js asks when it loads) and the sandbox's wallet sheet, where Apple Pay
 * or Google Pay would ask the client. The sheet's Pay makes a card PaymentMethod with
 * `card.wallet` on the key's account; Cancel answers Stripe's error.
 *
 * The frame's document holds the sheet: `#sheet` (a group), `#sheet-title`, `#sheet-pay` and
 * `#sheet-cancel`, and `#sheet-email` where the wallet may be asked for the client's email.
 */
(function () {
  'use strict';

  /** The wallets' names, for the buttons, tabs and the sheet. */
  var NAMES = {apple_pay: 'Apple Pay', google_pay: 'Google Pay'};

  /** @param {string} id */
  function el(id) {
    return /** @type {HTMLElement} */ (document.getElementById(id));
  }

  /**
   * The Elements session of `publishableKey` on the page of `parentOrigin`: `{account,
   * apple_pay, google_pay}`, or null when it could not be had.
   * @param {string} publishableKey
   * @param {string} parentOrigin
   * @returns {Promise<{account: string, apple_pay: boolean, google_pay: boolean} | null>}
   */
  function session(publishableKey, parentOrigin) {
    var host;
    try {
      host = new URL(parentOrigin).hostname;
    } catch (e) {
      return Promise.resolve(null);
    }
    return fetch(location.origin + '/_sandbox/elements/session?domain=' + encodeURIComponent(host), {
      headers: {Authorization: 'Bearer ' + publishableKey},
      credentials: 'omit',
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (json) {
        return json ? {account: String(json.account || ''), apple_pay: json.apple_pay === true, google_pay: json.google_pay === true} : null;
      })
      .catch(function () {
        return null;
      });
  }

  /**
   * Opens the sheet for `wallet`; resolves once the client chose: `{paymentMethod, email}` made
   * on `account` (`email` as the wallet gave it when `askEmail`), or `{error}`. `onResize` is
   * called when the sheet shows or hides.
   * @param {'apple_pay' | 'google_pay'} wallet
   * @param {string} account
   * @param {() => void} onResize
   * @param {boolean} [askEmail]
   * @returns {Promise<any>}
   */
  function sheet(wallet, account, onResize, askEmail) {
    var box = el('sheet');
    var pay = el('sheet-pay');
    var cancel = el('sheet-cancel');
    var email = /** @type {HTMLInputElement | null} */ (document.getElementById('sheet-email'));
    if (email) /** @type {HTMLElement} */ (email.parentElement).hidden = !askEmail;
    el('sheet-title').textContent = NAMES[wallet] + ' (sandbox)';
    box.hidden = false;
    onResize();
    pay.focus();
    return new Promise(function (resolve) {
      /** @param {any} result */
      function done(result) {
        pay.onclick = null;
        cancel.onclick = null;
        box.hidden = true;
        onResize();
        resolve(result);
      }
      cancel.onclick = function () {
        done({error: {type: 'validation_error', code: 'payment_canceled', message: 'The payment was canceled in ' + NAMES[wallet] + '.'}});
      };
      pay.onclick = function () {
        fetch(location.origin + '/_sandbox/accounts/' + encodeURIComponent(account) + '/wallet_payment_methods', {
          method: 'POST',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({wallet: wallet}),
          credentials: 'omit',
        })
          .then(function (response) {
            return response.json().then(function (json) {
              done(
                response.ok && json && typeof json.id === 'string'
                  ? {paymentMethod: json, email: askEmail && email ? email.value.trim() : undefined}
                  : {error: {type: 'api_error', message: 'The wallet sheet could not make a PaymentMethod.'}}
              );
            });
          })
          .catch(function () {
            done({error: {type: 'api_connection_error', message: 'An error occurred with our connection to Stripe.'}});
          });
      };
    });
  }

  /** @type {any} */ (window).sandboxWallets = {NAMES: NAMES, session: session, sheet: sheet};
})();
