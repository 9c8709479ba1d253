// @ts-check
/*
 * stripe-sandbox: the Stripe.js stand-in served at `<sandbox>/v3/`.
 *
 * Loaded exactly like `https://js.stripe.com/v3/` (a classic `<script src>`, no modules, no build
 * step) and defines the global `Stripe`. It models the part of Stripe.js that slotpay uses: the
 * card Element (whose fields live in an iframe served from the sandbox's origin, so the host page
 * never sees card data), `createPaymentMethod`, `createToken` (card tokens),
 * `confirmCardPayment`, `handleNextAction`, `handleCardAction`, `retrievePaymentIntent`,
 * `confirmCardSetup` and `retrieveSetupIntent`, with 3-D Secure challenges shown in a modal
 * iframe. Like Stripe.js, API failures resolve
 * `{error}`; only integration mistakes (a bad argument) throw an `IntegrationError`.
 *
 * The JSDoc types below are checked by `npx tsc -p tests/tsconfig.json` against the types that
 * Stripe publishes in `@stripe/stripe-js` (see tests/conformance/stripejs-types.ts). The objects
 * the REST API returns (PaymentIntent, SetupIntent, PaymentMethod) are typed as Stripe's: their
 * shape is the REST half's responsibility and is checked against Stripe's fixtures there.
 */

/**
 * @typedef {import('@stripe/stripe-js').PaymentIntent} SandboxApiPaymentIntent
 * @typedef {import('@stripe/stripe-js').SetupIntent} SandboxApiSetupIntent
 * @typedef {import('@stripe/stripe-js').PaymentMethod} SandboxApiPaymentMethod
 * @typedef {import('@stripe/stripe-js').Token} SandboxApiToken
 * @typedef {'api_connection_error' | 'api_error' | 'authentication_error' | 'card_error'
 *   | 'idempotency_error' | 'invalid_request_error' | 'rate_limit_error' | 'validation_error'}
 *   SandboxErrorType
 * @typedef {{
 *   type: SandboxErrorType,
 *   code?: string,
 *   decline_code?: string,
 *   message?: string,
 *   param?: string,
 *   charge?: string,
 *   doc_url?: string,
 *   request_log_url?: string,
 *   payment_intent?: SandboxApiPaymentIntent,
 *   payment_method?: SandboxApiPaymentMethod,
 *   setup_intent?: SandboxApiSetupIntent,
 * }} SandboxError
 *   The `error` of a result, as Stripe.js resolves it (Stripe's API error object).
 * @typedef {{paymentIntent: SandboxApiPaymentIntent, error?: undefined}
 *   | {paymentIntent?: undefined, error: SandboxError}} SandboxPaymentIntentResult
 * @typedef {{setupIntent: SandboxApiSetupIntent, error?: undefined}
 *   | {setupIntent?: undefined, error: SandboxError}} SandboxSetupIntentResult
 * @typedef {{paymentIntent: SandboxApiPaymentIntent, setupIntent?: undefined, error?: undefined}
 *   | {paymentIntent?: undefined, setupIntent: SandboxApiSetupIntent, error?: undefined}
 *   | {paymentIntent?: undefined, setupIntent?: undefined, error: SandboxError}}
 *   SandboxIntentResult
 * @typedef {{paymentMethod: SandboxApiPaymentMethod, error?: undefined}
 *   | {paymentMethod?: undefined, error: SandboxError}} SandboxPaymentMethodResult
 * @typedef {{token: SandboxApiToken, error?: undefined}
 *   | {token?: undefined, error: SandboxError}} SandboxTokenResult
 * @typedef {{
 *   name?: string, address_line1?: string, address_line2?: string, address_city?: string,
 *   address_state?: string, address_zip?: string, address_country?: string, currency?: string,
 * }} SandboxCreateTokenCardData
 *   What `createToken(cardElement, data)` takes besides the Element (Stripe's
 *   `CreateTokenCardData`).
 * @typedef {'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay'
 *   | 'unknown'} SandboxCardBrand
 * @typedef {{
 *   elementType: 'card',
 *   empty: boolean,
 *   complete: boolean,
 *   brand: SandboxCardBrand,
 *   value: {postalCode: string},
 *   error: undefined | {type: 'validation_error', code: string, message: string},
 * }} SandboxCardChangeEvent
 *   The `change` event of the card Element, as Stripe's.
 * @typedef {'change' | 'ready' | 'focus' | 'blur' | 'escape' | 'networkschange' | 'loaderror'
 *   | 'loaderstart' | 'carddetailschange' | 'savedpaymentmethodupdate' | 'savedpaymentmethodremove'
 *   | 'availablepaymentmethodschange' | 'click' | 'confirm' | 'cancel' | 'shippingaddresschange'
 *   | 'shippingratechange'}
 *   SandboxCardEventType
 *   The card Element's events and the Payment Element's (those the sandbox never fires are
 *   accepted, as Stripe accepts a listener before the event can happen).
 * @typedef {(event: any) => unknown} SandboxHandler
 * @typedef {{
 *   color?: string, backgroundColor?: string, fontFamily?: string, fontSize?: string,
 *   fontWeight?: string | number, letterSpacing?: string, lineHeight?: string,
 *   textTransform?: string, iconColor?: string,
 * }} SandboxStyleProperties
 *   The style properties the card frame applies (card.js); others are accepted and ignored.
 * @typedef {SandboxStyleProperties & {'::placeholder'?: SandboxStyleProperties}} SandboxStyleVariant
 * @typedef {{
 *   base?: SandboxStyleVariant,
 *   complete?: SandboxStyleVariant,
 *   empty?: SandboxStyleVariant,
 *   invalid?: SandboxStyleVariant,
 * }} SandboxElementStyle
 * @typedef {{
 *   base?: string, complete?: string, empty?: string, focus?: string, invalid?: string,
 *   webkitAutofill?: string,
 * }} SandboxElementClasses
 * @typedef {{
 *   classes?: SandboxElementClasses,
 *   style?: SandboxElementStyle,
 *   value?: {postalCode?: string},
 *   hidePostalCode?: boolean,
 *   iconStyle?: 'default' | 'solid',
 *   hideIcon?: boolean,
 *   disabled?: boolean,
 *   disableLink?: boolean,
 *   preferredNetwork?: Array<string>,
 * }} SandboxCardOptions
 * @typedef {{
 *   theme?: 'stripe' | 'night' | 'flat',
 *   variables?: {[name: string]: string | undefined},
 *   rules?: object,
 *   labels?: string,
 *   disableAnimations?: boolean,
 *   inputs?: string,
 * }} SandboxAppearance
 * @typedef {{
 *   appearance?: SandboxAppearance,
 *   locale?: string,
 *   fonts?: Array<object>,
 *   clientSecret?: string,
 *   loader?: string,
 *   mode?: 'payment' | 'setup' | 'subscription',
 *   amount?: number,
 *   currency?: string,
 *   paymentMethodCreation?: 'manual',
 *   paymentMethodTypes?: string[],
 *   captureMethod?: string,
 *   setupFutureUsage?: string | null,
 * }} SandboxElementsOptions
 *   With `mode` (Stripe's deferred intent: the intent is made later, by the server), `amount`
 *   and `currency` describe the payment the Payment Element collects for.
 * @typedef {{
 *   elementType: 'payment',
 *   empty: boolean,
 *   complete: boolean,
 *   collapsed: boolean,
 *   value: {type: string},
 * }} SandboxPaymentChangeEvent
 *   The `change` event of the Payment Element, as Stripe's.
 * @typedef {'card' | 'payment' | 'expressCheckout'} SandboxElementType
 * @typedef {{amazonPay: boolean, applePay: boolean, googlePay: boolean, link: boolean, paypal: boolean, klarna: boolean}}
 *   SandboxAvailablePaymentMethods
 * @typedef {{elementType: 'expressCheckout', availablePaymentMethods: SandboxAvailablePaymentMethods | undefined}}
 *   SandboxExpressReadyEvent
 *   The Express Checkout Element's `ready`: which wallet buttons it shows, undefined for none.
 * @typedef {{
 *   elementType: 'expressCheckout',
 *   expressPaymentType: 'apple_pay' | 'google_pay',
 *   billingDetails?: {
 *     name: string, email?: string, phone?: string,
 *     address: {line1: string, line2: string | null, city: string, state: string, postal_code: string, country: string},
 *   },
 *   paymentFailed: (payload?: {reason?: 'fail' | 'invalid_shipping_address' | 'invalid_billing_address' | 'invalid_payment_data' | 'address_unserviceable', message?: string}) => void,
 * }} SandboxExpressConfirmEvent
 *   The Express Checkout Element's `confirm`: the wallet approved a payment.
 * @typedef {{
 *   emailRequired?: boolean,
 *   buttonType?: {applePay?: string, googlePay?: string},
 *   paymentMethods?: {applePay?: 'auto' | 'always' | 'never', googlePay?: 'auto' | 'always' | 'never'},
 *   buttonHeight?: number,
 *   buttonTheme?: object,
 * }} SandboxExpressOptions
 *   The Express Checkout Element's options the sandbox reads.
 * @typedef {{
 *   business?: {name: string},
 *   layout?: unknown,
 *   defaultValues?: object,
 *   fields?: object,
 *   terms?: object,
 *   wallets?: object,
 *   readOnly?: boolean,
 * }} SandboxPaymentOptions
 *   The Payment Element's options; `business.name` names the merchant in SEPA Debit's mandate.
 * @typedef {{
 *   stripeAccount?: string,
 *   apiVersion?: string,
 *   locale?: string,
 *   betas?: string[],
 * }} SandboxStripeOptions
 * @typedef {{
 *   type?: string,
 *   card?: unknown,
 *   billing_details?: object,
 *   metadata?: object,
 *   element?: unknown,
 *   elements?: unknown,
 *   params?: {billing_details?: object, metadata?: object},
 * }} SandboxCreatePaymentMethodData
 *   What `createPaymentMethod` accepts: `{type: 'card', card: cardElement, billing_details}`.
 * @typedef {{
 *   payment_method?: string | {card?: unknown, billing_details?: object, metadata?: object},
 * }} SandboxConfirmData
 *   The other confirm parameters (`setup_future_usage`, `receipt_email`, `return_url`, ...) are
 *   passed to the API as they are.
 * @typedef {{handleActions?: boolean}} SandboxConfirmOptions
 */

// eslint-disable-next-line no-var
var Stripe = (function () {
  'use strict';

  /**
   * The sandbox's origin: where this script was loaded from. The REST API and the iframes live
   * there, exactly as `api.stripe.com` and `js.stripe.com` do for the real Stripe.js.
   */
  var SANDBOX_ORIGIN = (function () {
    var script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
    return script && script.src ? new URL(script.src, location.href).origin : location.origin;
  })();

  /** Marks every message of this stand-in so that unrelated `postMessage` traffic is ignored. */
  var MESSAGE_TAG = '__sandboxStripe';

  /** Stripe's message when a network failure stops a request (Stripe.js resolves, not rejects). */
  var CONNECTION_ERROR_MESSAGE = 'An error occurred with our connection to Stripe.';

  /**
   * `Stripe.version`: the release train this stand-in models, the one `@stripe/stripe-js`'s
   * `loadStripe` expects (it warns on any other). The REST half answers with the same train's
   * API version (`DEFAULT_API_VERSION` in state.rs; a Rust test keeps the two equal).
   */
  var STRIPE_JS_VERSION = 'endive';

  /** Frames are numbered per page, as Stripe's `__privateStripeFrame<N>` names are. */
  var frameCounter = 0;

  /** Each Element's frame: its page under `/v3/elements/` and its title. */
  var FRAMES = {
    card: {page: 'card.html', title: 'Secure card payment input frame'},
    payment: {page: 'payment.html', title: 'Secure payment input frame'},
    expressCheckout: {page: 'express.html', title: 'Secure express checkout frame'},
  };

  /**
   * An integration mistake (a wrong argument, a destroyed Element): thrown, like Stripe.js's
   * `IntegrationError`, rather than resolved as `{error}`.
   */
  class IntegrationError extends Error {
    /** @param {string} message */
    constructor(message) {
      super(message);
      this.name = 'IntegrationError';
    }
  }

  /**
   * Encodes `params` with Stripe's bracket syntax (`card[number]=...`, `metadata[k]=v`,
   * `a[0]=x`). The card iframe has its own copy (card.js): the two run in different documents
   * without a module system, and the iframe must not depend on the host page's globals.
   * @param {{[key: string]: unknown}} params
   * @returns {string}
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
   * @param {unknown} value
   * @returns {value is {[key: string]: unknown}}
   */
  function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /**
   * Splits a client secret (`pi_123_secret_456` or `seti_123_secret_456`) into its intent id.
   * @param {unknown} clientSecret
   * @param {string} method the calling method, for Stripe's error wording
   * @param {'pi' | 'seti' | 'any'} kind
   * @returns {{id: string, kind: 'pi' | 'seti', secret: string}}
   */
  function parseClientSecret(clientSecret, method, kind) {
    var match =
      typeof clientSecret === 'string' ? /^((pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(clientSecret) : null;
    if (!match || (kind !== 'any' && match[2] !== kind)) {
      throw new IntegrationError(
        'Invalid value for ' +
          method +
          ' intent secret: value should be a client_secret string. You specified: ' +
          (typeof clientSecret === 'string' ? clientSecret : String(clientSecret)) +
          '.'
      );
    }
    return {id: match[1], kind: match[2] === 'pi' ? 'pi' : 'seti', secret: /** @type {string} */ (clientSecret)};
  }

  /**
   * One instance per `Stripe(publishableKey)`.
   */
  class SandboxStripe {
    /**
     * @param {string} publishableKey
     * @param {SandboxStripeOptions} options
     */
    constructor(publishableKey, options) {
      /** @private */
      this._key = publishableKey;
      /** @private */
      this._options = options;
    }

    /**
     * Calls the sandbox's REST API. Never rejects: network failures and API errors come back as
     * `{error}`, the way Stripe.js reports them.
     * @private
     * @param {'GET' | 'POST'} method
     * @param {string} path
     * @param {{[key: string]: unknown}} params
     * @returns {Promise<{body: any, error?: undefined} | {body?: undefined, error: SandboxError}>}
     */
    async _request(method, path, params) {
      var query = encodeForm(params);
      /** @type {{[name: string]: string}} */
      var headers = {Authorization: 'Bearer ' + this._key};
      if (this._options.stripeAccount) headers['Stripe-Account'] = this._options.stripeAccount;
      if (this._options.apiVersion) headers['Stripe-Version'] = this._options.apiVersion;
      /** @type {RequestInit} */
      var init = {method: method, headers: headers, credentials: 'omit'};
      var url = SANDBOX_ORIGIN + path;
      if (method === 'GET') {
        if (query) url += '?' + query;
      } else {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        init.body = query;
      }
      /** @type {Response} */
      var response;
      try {
        response = await fetch(url, init);
      } catch (e) {
        return {error: {type: 'api_connection_error', message: CONNECTION_ERROR_MESSAGE}};
      }
      /** @type {any} */
      var body;
      try {
        body = await response.json();
      } catch (e) {
        body = null;
      }
      if (response.ok && isObject(body)) return {body: body};
      if (isObject(body) && isObject(body.error)) return {error: /** @type {SandboxError} */ (body.error)};
      return {
        error: {
          type: 'api_error',
          message: 'An unexpected error occurred (HTTP ' + response.status + ').',
        },
      };
    }

    /**
     * `stripe.elements(options)`: a group of Elements sharing appearance, locale and fonts.
     * @param {SandboxElementsOptions} [options]
     * @returns {SandboxElements}
     */
    elements(options) {
      var group = options || {};
      if (group.mode !== undefined) {
        if (group.clientSecret !== undefined) {
          throw new IntegrationError('Do not pass both mode and clientSecret to stripe.elements().');
        }
        if (['payment', 'setup', 'subscription'].indexOf(String(group.mode)) < 0) {
          throw new IntegrationError(
            'Invalid value for elements(): mode should be one of payment, setup, subscription. You specified: ' + String(group.mode) + '.'
          );
        }
        if (group.mode !== 'setup' && (typeof group.amount !== 'number' || !Number.isInteger(group.amount) || group.amount < 0)) {
          throw new IntegrationError('Invalid value for elements(): amount should be a non-negative integer in the smallest currency unit.');
        }
        if (typeof group.currency !== 'string' || !/^[a-z]{3}$/.test(group.currency)) {
          throw new IntegrationError('Invalid value for elements(): currency should be a lowercase three-letter ISO code.');
        }
      }
      return new SandboxElements(this._key, group);
    }

    /**
     * `stripe.createPaymentMethod({type: 'card', card: cardElement, billing_details})`, and the
     * legacy `createPaymentMethod('card', cardElement, {billing_details})`.
     * @param {SandboxCreatePaymentMethodData | 'card'} paymentMethodData
     * @param {unknown} [legacyElement]
     * @param {{billing_details?: object, metadata?: object}} [legacyData]
     * @returns {Promise<SandboxPaymentMethodResult>}
     */
    createPaymentMethod(paymentMethodData, legacyElement, legacyData) {
      /** @type {unknown} */
      var element;
      /** @type {{billing_details?: object, metadata?: object}} */
      var extra;
      if (typeof paymentMethodData === 'string') {
        if (paymentMethodData !== 'card') {
          throw new IntegrationError(
            'Invalid value for createPaymentMethod: type should be card. You specified: ' + paymentMethodData + '.'
          );
        }
        element = legacyElement;
        extra = legacyData || {};
      } else if (isObject(paymentMethodData) && paymentMethodData.elements !== undefined) {
        if (!(paymentMethodData.elements instanceof SandboxElements)) {
          throw new IntegrationError('Invalid value for createPaymentMethod: elements should be an Elements group from stripe.elements().');
        }
        return paymentMethodData.elements._createPaymentMethod(paymentMethodData.params || {});
      } else if (isObject(paymentMethodData) && paymentMethodData.element !== undefined) {
        element = paymentMethodData.element;
        extra = paymentMethodData.params || {};
      } else if (isObject(paymentMethodData)) {
        if (paymentMethodData.type !== 'card') {
          throw new IntegrationError(
            'Invalid value for createPaymentMethod: type should be card (the sandbox models card payments only). You specified: ' +
              String(paymentMethodData.type) +
              '.'
          );
        }
        element = paymentMethodData.card;
        extra = {billing_details: paymentMethodData.billing_details, metadata: paymentMethodData.metadata};
      } else {
        throw new IntegrationError('Invalid value for createPaymentMethod: expected an object.');
      }
      return cardElementFrom(element, 'createPaymentMethod').createPaymentMethod(extra);
    }

    /**
     * `stripe.createToken(cardElement, data?)`: a single-use card token (`tok_...`) that the card
     * iframe creates with `POST /v1/tokens`, for servers still on the Charges and Tokens APIs
     * (React Stripe.js's `<Elements>` also insists the method exists). Other token types (IBAN,
     * PII, bank account, CVC update, account, person) are not modelled and throw.
     * @param {unknown} tokenType the card Element
     * @param {unknown} [data] the holder's name and address, `SandboxCreateTokenCardData`
     * @returns {Promise<SandboxTokenResult>}
     */
    createToken(tokenType, data) {
      if (typeof tokenType === 'string') {
        throw new IntegrationError(
          "The sandbox's Stripe.js creates card tokens only: createToken(cardElement, data). You specified: " +
            tokenType +
            '.'
        );
      }
      var element = cardElementFrom(tokenType, 'createToken');
      if (data !== undefined && data !== null && !isObject(data)) {
        throw new IntegrationError('Invalid value for createToken: data should be an object. You specified: ' + String(data) + '.');
      }
      return element.createToken(/** @type {SandboxCreateTokenCardData} */ (data || {}));
    }

    /**
     * `stripe.confirmCardPayment(clientSecret, data?, options?)`.
     * @param {string} clientSecret
     * @param {SandboxConfirmData} [data]
     * @param {SandboxConfirmOptions} [options]
     * @returns {Promise<SandboxPaymentIntentResult>}
     */
    confirmCardPayment(clientSecret, data, options) {
      var intent = parseClientSecret(clientSecret, 'confirmCardPayment', 'pi');
      var prepared = this._prepareConfirm(data, 'confirmCardPayment');
      var handleActions = !options || options.handleActions !== false;
      return this._confirm(intent, prepared, handleActions).then(function (result) {
        return paymentIntentResult(result);
      });
    }

    /**
     * `stripe.confirmCardSetup(clientSecret, data?, options?)`.
     * @param {string} clientSecret
     * @param {SandboxConfirmData} [data]
     * @param {SandboxConfirmOptions} [options]
     * @returns {Promise<SandboxSetupIntentResult>}
     */
    confirmCardSetup(clientSecret, data, options) {
      var intent = parseClientSecret(clientSecret, 'confirmCardSetup', 'seti');
      var prepared = this._prepareConfirm(data, 'confirmCardSetup');
      var handleActions = !options || options.handleActions !== false;
      return this._confirm(intent, prepared, handleActions).then(function (result) {
        return setupIntentResult(result);
      });
    }

    /**
     * `stripe.handleNextAction({clientSecret})`: finishes the next action of a PaymentIntent or
     * SetupIntent in `requires_action` (the server confirmed it).
     * @param {{clientSecret: string} | {hashedValue: string}} options
     * @returns {Promise<SandboxIntentResult>}
     */
    async handleNextAction(options) {
      var clientSecret = isObject(options) && 'clientSecret' in options ? options.clientSecret : undefined;
      var intent = parseClientSecret(clientSecret, 'handleNextAction', 'any');
      var retrieved = await this._retrieve(intent);
      if (retrieved.error) return {error: retrieved.error};
      return this._handleNextAction(intent, retrieved.body);
    }

    /**
     * `stripe.handleCardAction(clientSecret)`: the manual-confirmation flow; answers a
     * PaymentIntent in `requires_confirmation` once 3-D Secure is done.
     * @param {string} clientSecret
     * @returns {Promise<SandboxPaymentIntentResult>}
     */
    async handleCardAction(clientSecret) {
      var intent = parseClientSecret(clientSecret, 'handleCardAction', 'pi');
      var retrieved = await this._retrieve(intent);
      if (retrieved.error) return {error: retrieved.error};
      return paymentIntentResult(await this._handleNextAction(intent, retrieved.body));
    }

    /**
     * `stripe.retrievePaymentIntent(clientSecret)`.
     * @param {string} clientSecret
     * @returns {Promise<SandboxPaymentIntentResult>}
     */
    async retrievePaymentIntent(clientSecret) {
      var intent = parseClientSecret(clientSecret, 'retrievePaymentIntent', 'pi');
      var retrieved = await this._retrieve(intent);
      if (retrieved.error) return {error: retrieved.error};
      return {paymentIntent: retrieved.body};
    }

    /**
     * `stripe.retrieveSetupIntent(clientSecret)`.
     * @param {string} clientSecret
     * @returns {Promise<SandboxSetupIntentResult>}
     */
    async retrieveSetupIntent(clientSecret) {
      var intent = parseClientSecret(clientSecret, 'retrieveSetupIntent', 'seti');
      var retrieved = await this._retrieve(intent);
      if (retrieved.error) return {error: retrieved.error};
      return {setupIntent: retrieved.body};
    }

    /**
     * Checks `data` of a confirm call synchronously (integration mistakes throw before any
     * network call, as in Stripe.js) and says how to get the PaymentMethod.
     * @private
     * @param {SandboxConfirmData | undefined} data
     * @param {string} method
     * @returns {{element?: SandboxCardElement, extra: {billing_details?: object, metadata?: object}, params: {[key: string]: unknown}}}
     */
    _prepareConfirm(data, method) {
      if (data === undefined || data === null) return {extra: {}, params: {}};
      if (!isObject(data)) throw new IntegrationError('Invalid value for ' + method + ': data should be an object.');
      /** @type {{[key: string]: unknown}} */
      var params = {};
      /** @type {{[key: string]: unknown}} */
      var all = /** @type {any} */ (data);
      Object.keys(all).forEach(function (k) {
        if (k !== 'payment_method') params[k] = all[k];
      });
      var pm = data.payment_method;
      if (pm === undefined || typeof pm === 'string') {
        if (pm !== undefined) params.payment_method = pm;
        return {extra: {}, params: params};
      }
      if (pm instanceof SandboxCardElement) return {element: pm, extra: {}, params: params};
      if (isObject(pm) && pm.card !== undefined) {
        return {
          element: cardElementFrom(pm.card, method),
          extra: {billing_details: pm.billing_details, metadata: pm.metadata},
          params: params,
        };
      }
      throw new IntegrationError(
        'Invalid value for ' + method + ': payment_method should be a PaymentMethod id or an object with a card Element.'
      );
    }

    /**
     * Confirms an intent: creates the PaymentMethod from the card Element if one was given, posts
     * the confirmation and, when the intent then needs 3-D Secure, runs the challenge.
     * @private
     * @param {{id: string, kind: 'pi' | 'seti', secret: string}} intent
     * @param {{element?: SandboxCardElement, extra: {billing_details?: object, metadata?: object}, params: {[key: string]: unknown}}} prepared
     * @param {boolean} handleActions
     * @returns {Promise<SandboxIntentResult>}
     */
    async _confirm(intent, prepared, handleActions) {
      var params = Object.assign({}, prepared.params);
      if (prepared.element) {
        var created = await prepared.element.createPaymentMethod(prepared.extra);
        if (created.error) return {error: created.error};
        params.payment_method = created.paymentMethod.id;
      } else if (params.payment_method === undefined) {
        // No new card: Stripe.js goes on with what the intent already has. An intent waiting for
        // 3-D Secure gets its challenge; anything else is confirmed and the API says what it thinks.
        var retrieved = await this._retrieve(intent);
        if (retrieved.error) return {error: retrieved.error};
        if (retrieved.body.status === 'requires_action') {
          return handleActions ? this._handleNextAction(intent, retrieved.body) : wrapIntent(intent, retrieved.body);
        }
      }
      params.client_secret = intent.secret;
      params.use_stripe_sdk = true;
      var confirmed = await this._request('POST', intentPath(intent) + '/confirm', params);
      if (confirmed.error) return {error: confirmed.error};
      if (confirmed.body.status === 'requires_action' && handleActions) {
        return this._handleNextAction(intent, confirmed.body);
      }
      return wrapIntent(intent, confirmed.body);
    }

    /**
     * @private
     * @param {{id: string, kind: 'pi' | 'seti', secret: string}} intent
     */
    _retrieve(intent) {
      return this._request('GET', intentPath(intent), {client_secret: intent.secret});
    }

    /**
     * Runs the intent's next action (the 3-D Secure challenge), then answers the intent as it is
     * afterwards, or its last error when authentication failed.
     * @private
     * @param {{id: string, kind: 'pi' | 'seti', secret: string}} intent
     * @param {any} object the intent as the API returned it
     * @returns {Promise<SandboxIntentResult>}
     */
    async _handleNextAction(intent, object) {
      if (object.status !== 'requires_action' || !isObject(object.next_action)) {
        var what = intent.kind === 'pi' ? 'PaymentIntent' : 'SetupIntent';
        return {
          error: {
            type: 'invalid_request_error',
            code: intent.kind === 'pi' ? 'payment_intent_unexpected_state' : 'setup_intent_unexpected_state',
            message:
              'The ' + what + " has a status of '" + object.status + "'; handling a next action requires 'requires_action'.",
          },
        };
      }
      var action = object.next_action;
      /** @type {string | undefined} */
      var url;
      if (action.type === 'use_stripe_sdk' && isObject(action.use_stripe_sdk)) {
        url = /** @type {string | undefined} */ (action.use_stripe_sdk.stripe_js);
      } else if (action.type === 'redirect_to_url' && isObject(action.redirect_to_url)) {
        // A bank redirect leaves the page, as Stripe.js does: the client comes back to the
        // intent's return_url, so the promise never settles.
        var target = action.redirect_to_url.url;
        if (typeof target === 'string') {
          location.assign(target);
          return new Promise(function () {});
        }
      }
      if (typeof url !== 'string') {
        return {
          error: {
            type: 'invalid_request_error',
            code: 'unsupported_next_action',
            message: "The sandbox's Stripe.js cannot handle a next action of type '" + action.type + "'.",
          },
        };
      }
      await runChallenge(url, intent.id, object);
      var after = await this._retrieve(intent);
      if (after.error) return {error: after.error};
      return wrapIntent(intent, after.body);
    }
  }

  /**
   * The path of an intent in the REST API.
   * @param {{id: string, kind: 'pi' | 'seti'}} intent
   */
  function intentPath(intent) {
    return (intent.kind === 'pi' ? '/v1/payment_intents/' : '/v1/setup_intents/') + encodeURIComponent(intent.id);
  }

  /**
   * Stripe.js answers an intent whose authentication failed (or whose card was declined) with the
   * intent's last error, carrying the intent itself.
   * @param {{kind: 'pi' | 'seti'}} intent
   * @param {any} object
   * @returns {SandboxIntentResult}
   */
  function wrapIntent(intent, object) {
    if (intent.kind === 'pi') {
      if (object.status === 'requires_payment_method' && isObject(object.last_payment_error)) {
        return {error: Object.assign({}, object.last_payment_error, {payment_intent: object})};
      }
      return {paymentIntent: object};
    }
    if (object.status === 'requires_payment_method' && isObject(object.last_setup_error)) {
      return {error: Object.assign({}, object.last_setup_error, {setup_intent: object})};
    }
    return {setupIntent: object};
  }

  /**
   * @param {SandboxIntentResult} result
   * @returns {SandboxPaymentIntentResult}
   */
  function paymentIntentResult(result) {
    if (result.paymentIntent) return {paymentIntent: result.paymentIntent};
    if (result.error) return {error: result.error};
    throw new IntegrationError('Expected a PaymentIntent and got a SetupIntent.');
  }

  /**
   * @param {SandboxIntentResult} result
   * @returns {SandboxSetupIntentResult}
   */
  function setupIntentResult(result) {
    if (result.setupIntent) return {setupIntent: result.setupIntent};
    if (result.error) return {error: result.error};
    throw new IntegrationError('Expected a SetupIntent and got a PaymentIntent.');
  }

  /**
   * Shows the 3-D Secure challenge page in a modal over the whole page and waits for it to say
   * it is done. The page (served by the sandbox) posts the outcome to the control API itself; this
   * only waits for its `sandbox-3ds-done` message, from that frame and that origin only.
   * @param {string} challengeUrl
   * @param {string} intentId
   * @param {any} object the intent, for the amount shown on the challenge page
   * @returns {Promise<string>} the outcome, `complete` or `fail`
   */
  function runChallenge(challengeUrl, intentId, object) {
    var url = new URL(challengeUrl, SANDBOX_ORIGIN);
    if (!url.hash && typeof object.amount === 'number' && typeof object.currency === 'string') {
      url.hash = 'amount=' + object.amount + '&currency=' + encodeURIComponent(object.currency);
    }
    var previousFocus = /** @type {HTMLElement | null} */ (document.activeElement);
    var overlay = document.createElement('div');
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    overlay.setAttribute('aria-label', '3D Secure authentication');
    overlay.className = '__PrivateStripeChallengeModal';
    setStyles(overlay, {
      position: 'fixed',
      top: '0',
      left: '0',
      right: '0',
      bottom: '0',
      zIndex: '2147483647',
      display: 'flex',
      alignItems: 'center',
      justifyContent: 'center',
      background: 'rgba(0, 0, 0, 0.5)',
    });
    var frame = document.createElement('iframe');
    frame.name = '__privateStripeChallengeFrame' + frameCounter++;
    frame.title = '3D Secure authentication';
    frame.src = url.href;
    setStyles(frame, {
      width: 'min(480px, calc(100vw - 32px))',
      height: 'min(560px, calc(100vh - 32px))',
      border: '0',
      borderRadius: '8px',
      background: '#ffffff',
      boxShadow: '0 12px 32px rgba(0, 0, 0, 0.3)',
    });
    overlay.appendChild(frame);
    document.body.appendChild(overlay);
    frame.addEventListener('load', function () {
      frame.focus();
    });
    return new Promise(function (resolve) {
      /** @param {MessageEvent} event */
      function onMessage(event) {
        if (event.source !== frame.contentWindow || event.origin !== url.origin) return;
        var data = event.data;
        if (!isObject(data) || data.type !== 'sandbox-3ds-done' || data.intent !== intentId) return;
        window.removeEventListener('message', onMessage);
        overlay.remove();
        if (previousFocus && typeof previousFocus.focus === 'function') previousFocus.focus();
        resolve(String(data.outcome));
      }
      window.addEventListener('message', onMessage);
    });
  }

  /**
   * Sets inline styles from script, which a strict Content-Security-Policy allows (CSSOM), unlike
   * `style=` attributes in markup.
   * @param {HTMLElement} element
   * @param {{[property: string]: string}} styles
   */
  function setStyles(element, styles) {
    Object.keys(styles).forEach(function (property) {
      /** @type {any} */ (element.style)[property] = styles[property];
    });
  }

  /**
   * Checks that `value` is a card Element of this stand-in, as Stripe.js's IntegrationError does.
   * @param {unknown} value
   * @param {string} method
   * @returns {SandboxCardElement}
   */
  function cardElementFrom(value, method) {
    if (!(value instanceof SandboxCardElement) || value._kind !== 'card') {
      throw new IntegrationError(
        'Invalid value for ' + method + ': card should be an Element created with elements.create(\'card\').'
      );
    }
    return value;
  }

  /**
   * `stripe.elements()`: creates the card Element, the Payment Element or the Express Checkout
   * Element and remembers them by type. With `mode` (the deferred intent), `submit()` then
   * `stripe.createPaymentMethod({elements})` make a PaymentMethod without any intent: from the
   * Express Checkout Element after its `confirm`, else from the Payment Element.
   */
  class SandboxElements {
    /**
     * @param {string} key
     * @param {SandboxElementsOptions} options
     */
    constructor(key, options) {
      /** @private */
      this._key = key;
      /** @private */
      this._options = options;
      /** @private @type {{[type: string]: SandboxCardElement | null}} */
      this._made = {card: null, payment: null, expressCheckout: null};
      /** @private */
      this._submitted = false;
      /**
       * The Express Checkout Element whose wallet approved a payment (its `confirm`), until
       * `createPaymentMethod` takes it or the client cancels.
       * @type {SandboxCardElement | null}
       */
      this._confirmed = null;
    }

    /**
     * `elements.create('card' | 'payment' | 'expressCheckout', options)`.
     * @param {SandboxElementType} elementType
     * @param {SandboxCardOptions & SandboxPaymentOptions & SandboxExpressOptions} [options]
     * @returns {SandboxCardElement}
     */
    create(elementType, options) {
      if (elementType !== 'card' && elementType !== 'payment' && elementType !== 'expressCheckout') {
        throw new IntegrationError(
          'Invalid Element type: ' +
            String(elementType) +
            ". The sandbox's Stripe.js models the 'card', 'payment' and 'expressCheckout' Elements only."
        );
      }
      var made = this._made[elementType];
      if (made && !made._destroyed) {
        throw new IntegrationError('Can only create one Element of type ' + elementType + '.');
      }
      if (elementType !== 'card' && this._options.mode === undefined && this._options.clientSecret === undefined) {
        throw new IntegrationError(
          'In order to create a' +
            (elementType === 'payment' ? ' payment' : 'n expressCheckout') +
            ' element, you must pass a valid PaymentIntent or SetupIntent client secret or mode when creating the Elements group.'
        );
      }
      var self = this;
      var element = new SandboxCardElement(elementType, this._key, this._options, options || {}, function () {
        self._made[elementType] = null;
        if (self._confirmed === element) self._confirmed = null;
      });
      element._onChange = function () {
        self._submitted = false;
      };
      element._onConfirm = function (/** @type {boolean} */ approved) {
        self._confirmed = approved ? element : null;
        self._submitted = false;
      };
      this._made[elementType] = element;
      return element;
    }

    /**
     * `elements.getElement('card' | 'payment' | 'expressCheckout')`, or with what React Stripe.js
     * passes (`getElement(CardElement)`: its component, which carries `__elementType`): the
     * Element, or null.
     * @param {SandboxElementType | {__elementType?: unknown} | ((...args: any[]) => unknown)} elementType
     * @returns {SandboxCardElement | null}
     */
    getElement(elementType) {
      /** @type {unknown} */
      var type = elementType;
      if (typeof elementType === 'function' || (typeof elementType === 'object' && elementType !== null)) {
        type = /** @type {{__elementType?: unknown}} */ (elementType).__elementType;
      }
      return type === 'card' || type === 'payment' || type === 'expressCheckout' ? this._made[type] : null;
    }

    /**
     * `elements.update(options)`: new appearance, locale, or (deferred intent) amount and
     * payment method types for every Element of the group.
     * @param {SandboxElementsOptions} options
     * @returns {Promise<void>}
     */
    update(options) {
      Object.assign(this._options, options || {});
      var group = this._options;
      var made = this._made;
      Object.keys(made).forEach(function (type) {
        var element = made[type];
        if (element) element._sendGroupOptions(group);
      });
      return Promise.resolve();
    }

    /**
     * `elements.submit()`: validates the Payment Element's fields (showing their errors) before
     * the PaymentMethod is made, or, after the Express Checkout Element's `confirm`, what its
     * wallet approved; Stripe requires it right before `createPaymentMethod`.
     * @returns {Promise<{selectedPaymentMethod: string, error?: undefined} | {selectedPaymentMethod?: undefined, error: SandboxError}>}
     */
    async submit() {
      if (this._confirmed) {
        this._submitted = true;
        return {selectedPaymentMethod: this._confirmed._selectedType()};
      }
      var element = this._made.payment;
      if (!element) {
        throw new IntegrationError('elements.submit() needs a mounted Payment Element.');
      }
      /** @type {any} */
      var result = await element._ask({type: 'submit'});
      this._submitted = !(isObject(result) && isObject(result.error));
      if (!this._submitted) return {error: /** @type {SandboxError} */ (result.error)};
      return {selectedPaymentMethod: element._selectedType()};
    }

    /**
     * `stripe.createPaymentMethod({elements, params})`.
     * @param {{billing_details?: object, metadata?: object}} params
     * @returns {Promise<SandboxPaymentMethodResult>}
     */
    _createPaymentMethod(params) {
      var element = this._confirmed || this._made.payment;
      if (this._options.paymentMethodCreation !== 'manual') {
        throw new IntegrationError(
          "stripe.createPaymentMethod() with elements needs paymentMethodCreation: 'manual' on stripe.elements()."
        );
      }
      if (!element || !this._submitted) {
        throw new IntegrationError('elements.submit() must be called before stripe.createPaymentMethod().');
      }
      this._submitted = false;
      this._confirmed = null;
      return element.createPaymentMethod(params);
    }
  }

  /**
   * The card Element, the Payment Element or the Express Checkout Element: a host-page handle on
   * an iframe (served from the sandbox's origin) that holds the fields or the wallets' buttons.
   * The two talk only through `postMessage`, checked on both sides.
   */
  class SandboxCardElement {
    /**
     * @param {SandboxElementType} kind
     * @param {string} key
     * @param {SandboxElementsOptions} groupOptions
     * @param {SandboxCardOptions & SandboxPaymentOptions} options
     * @param {() => void} onDestroy
     */
    constructor(kind, key, groupOptions, options, onDestroy) {
      /** @type {SandboxElementType} */
      this._kind = kind;
      /** Called on every `change` (the group's `submit` is then stale). */
      this._onChange = function () {};
      /**
       * Called when the Express Checkout Element's wallet approved a payment (true) or the
       * client cancelled it (false).
       * @type {(approved: boolean) => void}
       */
      this._onConfirm = function () {};
      /** The Express Checkout Element's last `confirm`ed wallet. */
      this._expressType = '';
      /** @private */
      this._key = key;
      /** @private */
      this._groupOptions = groupOptions;
      /** @private */
      this._options = Object.assign({}, options);
      /** @private */
      this._onDestroy = onDestroy;
      /** @type {boolean} */
      this._destroyed = false;
      /** @private @type {{[type: string]: SandboxHandler[]}} */
      this._handlers = {};
      /** @private @type {HTMLElement | null} */
      this._container = null;
      /** @private @type {HTMLElement | null} */
      this._wrapper = null;
      /** @private @type {HTMLIFrameElement | null} */
      this._frame = null;
      /** @private */
      this._ready = false;
      /** @private @type {Array<{[key: string]: unknown}>} */
      this._queue = [];
      /** @private @type {{[id: string]: (result: unknown) => void}} */
      this._pending = {};
      /** @private */
      this._nextRequest = 1;
      /** @private @type {SandboxCardChangeEvent | SandboxPaymentChangeEvent} */
      this._state = {
        elementType: 'card',
        empty: true,
        complete: false,
        brand: 'unknown',
        value: {postalCode: (options.value && options.value.postalCode) || ''},
        error: undefined,
      };
      /** @private */
      this._focused = false;
      /** @private */
      this._onMessage = this._handleMessage.bind(this);
      /** @private */
      this._onLabelClick = this.focus.bind(this);
    }

    /**
     * Attaches the Element to the DOM: a CSS selector or a DOM element.
     * @param {string | HTMLElement} domElement
     */
    mount(domElement) {
      if (this._destroyed) {
        throw new IntegrationError('This Element has already been destroyed. Please create a new one.');
      }
      var container = typeof domElement === 'string' ? document.querySelector(domElement) : domElement;
      if (!(container instanceof HTMLElement)) {
        throw new IntegrationError(
          'The selector you specified (' + String(domElement) + ') applies to no DOM elements that are currently on the page.'
        );
      }
      // Stripe.js refuses shadow DOM (its focus and autofill handling need the light DOM), so
      // code that works here must not depend on it either.
      if (typeof ShadowRoot !== 'undefined' && container.getRootNode() instanceof ShadowRoot) {
        throw new IntegrationError('Elements cannot be mounted in a ShadowRoot. Please mount in the Light DOM.');
      }
      if (this._container) {
        throw new IntegrationError('This Element is already mounted. Use `unmount()` to unmount the Element before re-mounting.');
      }
      this._container = container;
      var wrapper = document.createElement('div');
      wrapper.className = '__PrivateStripeElement';
      setStyles(wrapper, {margin: '0', padding: '0', border: 'none', display: 'block', background: 'transparent', position: 'relative', opacity: '1'});
      var frame = document.createElement('iframe');
      frame.name = '__privateStripeFrame' + frameCounter++;
      frame.title = FRAMES[this._kind].title;
      frame.setAttribute('frameborder', '0');
      frame.setAttribute('allowtransparency', 'true');
      frame.setAttribute('scrolling', 'no');
      frame.setAttribute('role', 'presentation');
      frame.setAttribute('allow', 'payment *');
      setStyles(frame, {border: 'none', margin: '0', padding: '0', width: '100%', minWidth: '100%', overflow: 'hidden', display: 'block', height: '19.2px', userSelect: 'none', colorScheme: 'normal'});
      var config = {
        origin: location.origin,
        frameName: frame.name,
        key: this._key,
        options: this._options,
        group: this._groupOptions,
      };
      frame.src = SANDBOX_ORIGIN + '/v3/elements/' + FRAMES[this._kind].page + '#' + encodeURIComponent(JSON.stringify(config));
      wrapper.appendChild(frame);
      this._wrapper = wrapper;
      this._frame = frame;
      this._ready = false;
      window.addEventListener('message', this._onMessage);
      container.appendChild(wrapper);
      this._applyClasses();
      // Like Stripe, a <label for="container-id"> focuses the Element.
      if (container.id) {
        var labels = document.querySelectorAll('label[for="' + cssEscape(container.id) + '"]');
        for (var i = 0; i < labels.length; i++) labels[i].addEventListener('click', this._onLabelClick);
      }
    }

    /** Removes the Element from the DOM; `mount` may attach it again (with empty fields). */
    unmount() {
      if (!this._container || !this._wrapper) return;
      window.removeEventListener('message', this._onMessage);
      if (this._container.id) {
        var labels = document.querySelectorAll('label[for="' + cssEscape(this._container.id) + '"]');
        for (var i = 0; i < labels.length; i++) labels[i].removeEventListener('click', this._onLabelClick);
      }
      this._removeClasses();
      this._wrapper.remove();
      this._container = null;
      this._wrapper = null;
      this._frame = null;
      this._ready = false;
      this._queue = [];
      var pending = this._pending;
      this._pending = {};
      Object.keys(pending).forEach(function (id) {
        pending[id]({
          error: {
            type: 'validation_error',
            code: 'element_unmounted',
            message: 'The card Element was unmounted before the request finished.',
          },
        });
      });
    }

    /** Unmounts the Element for good; it cannot be mounted again. */
    destroy() {
      this.unmount();
      this._destroyed = true;
      this._handlers = {};
      this._onDestroy();
    }

    /**
     * Merges new options (style, classes, hidePostalCode, disabled, value) into the Element.
     * @param {SandboxCardOptions & SandboxPaymentOptions} options
     * @returns {SandboxCardElement} (the Payment Element's `update` answers the Element)
     */
    update(options) {
      Object.assign(this._options, options || {});
      this._applyClasses();
      this._post({type: 'update', options: this._options});
      return this;
    }

    /** Focuses the card number field. */
    focus() {
      if (this._frame) this._frame.focus();
      this._post({type: 'focus'});
    }

    /** Blurs whatever field has focus. */
    blur() {
      this._post({type: 'blur'});
    }

    /**
     * The Payment Element's `collapse()`: its accordion layout closes; the sandbox draws tabs
     * only, which have nothing to collapse.
     * @returns {SandboxCardElement}
     */
    collapse() {
      return this;
    }

    /** Empties every field. */
    clear() {
      this._post({type: 'clear'});
    }

    /**
     * Listens to `ready`, `change`, `focus`, `blur` or `escape` (`networkschange` and `loaderror`
     * are accepted and never fire: the sandbox has no co-branded cards and serves its own frame).
     * @param {SandboxCardEventType} eventType
     * @param {SandboxHandler} handler
     * @returns {SandboxCardElement}
     */
    on(eventType, handler) {
      if (typeof handler !== 'function') {
        throw new IntegrationError('A handler function is required to listen to ' + String(eventType) + ' events.');
      }
      (this._handlers[eventType] = this._handlers[eventType] || []).push(handler);
      return this;
    }

    /**
     * Listens to one event only.
     * @param {SandboxCardEventType} eventType
     * @param {SandboxHandler} handler
     * @returns {SandboxCardElement}
     */
    once(eventType, handler) {
      var self = this;
      /** @type {SandboxHandler} */
      function wrapped(event) {
        self.off(eventType, wrapped);
        return handler(event);
      }
      return this.on(eventType, wrapped);
    }

    /**
     * Stops listening: one handler, or every handler of the event when none is given.
     * @param {SandboxCardEventType} eventType
     * @param {SandboxHandler} [handler]
     * @returns {SandboxCardElement}
     */
    off(eventType, handler) {
      var list = this._handlers[eventType];
      if (list) {
        this._handlers[eventType] = handler
          ? list.filter(function (h) {
              return h !== handler;
            })
          : [];
      }
      return this;
    }

    /**
     * Asks the iframe to create a PaymentMethod from the fields. Used by `createPaymentMethod`
     * and the confirm methods; the card data goes from the iframe to the API, never through here.
     * @param {{billing_details?: object, metadata?: object}} extra
     * @returns {Promise<SandboxPaymentMethodResult>}
     */
    createPaymentMethod(extra) {
      return this._ask({type: 'createPaymentMethod', billing_details: extra.billing_details, metadata: extra.metadata}).then(
        toPaymentMethodResult
      );
    }

    /**
     * Asks the iframe to create a card token from the fields (`createToken`); as with
     * PaymentMethods, the card data goes from the iframe to the API only.
     * @param {SandboxCreateTokenCardData} data
     * @returns {Promise<SandboxTokenResult>}
     */
    createToken(data) {
      return this._ask({type: 'createToken', data: data}).then(toTokenResult);
    }

    /**
     * Sends a request to the iframe and waits for its answer (by request id).
     * @param {{[key: string]: unknown}} message
     * @returns {Promise<unknown>}
     */
    _ask(message) {
      if (this._destroyed || !this._container) {
        throw new IntegrationError(
          'We could not retrieve data from the specified Element. Please make sure the Element you are attempting to use is still mounted.'
        );
      }
      var self = this;
      var id = String(this._nextRequest++);
      return new Promise(function (resolve) {
        self._pending[id] = resolve;
        self._post(Object.assign({requestId: id}, message));
      });
    }

    /**
     * The Payment Element's chosen payment method type (from its last `change`).
     * @returns {string}
     */
    _selectedType() {
      if (this._kind === 'expressCheckout') return this._expressType;
      return 'collapsed' in this._state ? this._state.value.type : 'card';
    }

    /**
     * Sends the Elements group's appearance or locale to the iframe.
     * @param {SandboxElementsOptions} groupOptions
     */
    _sendGroupOptions(groupOptions) {
      this._groupOptions = groupOptions;
      this._post({type: 'group', group: groupOptions});
    }

    /**
     * @private
     * @param {{[key: string]: unknown}} message
     */
    _post(message) {
      message[MESSAGE_TAG] = true;
      if (!this._ready || !this._frame || !this._frame.contentWindow) {
        if (this._container) this._queue.push(message);
        return;
      }
      this._frame.contentWindow.postMessage(message, SANDBOX_ORIGIN);
    }

    /**
     * Messages from the card iframe: only from the sandbox's origin and from this Element's own
     * frame; anything else on the page is ignored.
     * @private
     * @param {MessageEvent} event
     */
    _handleMessage(event) {
      if (!this._frame || event.source !== this._frame.contentWindow || event.origin !== SANDBOX_ORIGIN) return;
      var data = event.data;
      if (!isObject(data) || data[MESSAGE_TAG] !== true) return;
      switch (data.type) {
        case 'ready': {
          this._ready = true;
          var queued = this._queue;
          this._queue = [];
          for (var i = 0; i < queued.length; i++) this._post(queued[i]);
          if (this._kind === 'expressCheckout') {
            /** @type {SandboxExpressReadyEvent} */
            var available = {
              elementType: 'expressCheckout',
              availablePaymentMethods: isObject(data.availablePaymentMethods) ? /** @type {any} */ (data.availablePaymentMethods) : undefined,
            };
            this._emit('ready', available);
          } else {
            this._emit('ready', {elementType: this._kind});
          }
          break;
        }
        case 'click':
          this._click(String(data.expressPaymentType));
          break;
        case 'confirm': {
          var self = this;
          this._expressType = String(data.expressPaymentType);
          this._onConfirm(true);
          /** @type {SandboxExpressConfirmEvent} */
          var confirmed = {
            elementType: 'expressCheckout',
            expressPaymentType: this._expressType === 'apple_pay' ? 'apple_pay' : 'google_pay',
            billingDetails: isObject(data.billingDetails) ? /** @type {any} */ (data.billingDetails) : undefined,
            paymentFailed: function (payload) {
              self._onConfirm(false);
              self._post({type: 'paymentFailed', message: payload && payload.message});
            },
          };
          this._emit('confirm', confirmed);
          break;
        }
        case 'cancel':
          this._onConfirm(false);
          this._emit('cancel', {elementType: 'expressCheckout'});
          break;
        case 'height':
          if (typeof data.height === 'number' && data.height > 0) this._frame.style.height = data.height + 'px';
          break;
        case 'state':
        case 'change':
          this._state = this._kind === 'card' ? toChangeEvent(data.state) : toPaymentChangeEvent(data.state);
          this._applyClasses();
          // The frame's initial state: classes only, no event (Stripe fires none before an edit).
          if (data.type === 'state') break;
          this._onChange();
          this._emit('change', Object.assign({}, this._state, {value: Object.assign({}, this._state.value)}));
          break;
        case 'focus':
          this._focused = true;
          this._applyClasses();
          this._emit('focus', {elementType: this._kind});
          break;
        case 'blur':
          this._focused = false;
          this._applyClasses();
          this._emit('blur', {elementType: this._kind});
          break;
        case 'escape':
          this._emit('escape', {elementType: this._kind});
          break;
        case 'paymentMethod':
        case 'submitted':
        case 'token': {
          var id = String(data.requestId);
          var resolve = this._pending[id];
          if (!resolve) break;
          delete this._pending[id];
          resolve(data.result);
          break;
        }
        default:
          break;
      }
    }

    /**
     * A wallet button was pressed: the `click` event, whose handlers must call `resolve` (the
     * sheet opens) or `reject` within a second, as Stripe requires; with no handler the sheet
     * opens at once.
     * @private
     * @param {string} expressPaymentType
     */
    _click(expressPaymentType) {
      var self = this;
      if (!(this._handlers.click || []).length) {
        this._post({type: 'clickResolved'});
        return;
      }
      var settled = false;
      /** @param {string} type */
      function settle(type) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        self._post({type: type});
      }
      var timer = setTimeout(function () {
        settle('clickRejected');
        // Stripe logs this and shows no payment interface.
        console.error('stripe-sandbox: the click event was not resolved within 1 second; no payment interface is shown.');
      }, 1000);
      this._emit('click', {
        elementType: 'expressCheckout',
        expressPaymentType: expressPaymentType,
        resolve: function () {
          settle('clickResolved');
        },
        reject: function () {
          settle('clickRejected');
        },
      });
    }

    /**
     * @private
     * @param {SandboxCardEventType} eventType
     * @param {object} event
     */
    _emit(eventType, event) {
      var list = (this._handlers[eventType] || []).slice();
      list.forEach(function (handler) {
        try {
          handler(event);
        } catch (e) {
          // A throwing merchant handler must not stop the others (nor the Element).
          setTimeout(function () {
            throw e;
          });
        }
      });
    }

    /**
     * The container's classes, as Stripe sets them (`StripeElement`, `StripeElement--empty`,
     * `--complete`, `--invalid`, `--focus`, or the names given in `options.classes`).
     * @private
     */
    _applyClasses() {
      if (!this._container) return;
      var names = this._classNames();
      var list = this._container.classList;
      list.add(names.base);
      list.toggle(names.empty, this._state.empty);
      list.toggle(names.complete, this._state.complete);
      list.toggle(names.invalid, 'error' in this._state && this._state.error !== undefined);
      list.toggle(names.focus, this._focused);
    }

    /** @private */
    _removeClasses() {
      if (!this._container) return;
      var names = this._classNames();
      var list = this._container.classList;
      [names.base, names.empty, names.complete, names.invalid, names.focus].forEach(function (name) {
        list.remove(name);
      });
    }

    /** @private */
    _classNames() {
      var classes = this._options.classes || {};
      return {
        base: classes.base || 'StripeElement',
        empty: classes.empty || 'StripeElement--empty',
        complete: classes.complete || 'StripeElement--complete',
        invalid: classes.invalid || 'StripeElement--invalid',
        focus: classes.focus || 'StripeElement--focus',
      };
    }
  }

  /** @type {SandboxCardBrand[]} */
  var BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'unionpay', 'unknown'];

  /**
   * Rebuilds the change event from the iframe's message field by field, so that the event the
   * merchant gets always has Stripe's shape whatever the message held.
   * @param {unknown} state
   * @returns {SandboxCardChangeEvent}
   */
  function toChangeEvent(state) {
    var s = isObject(state) ? state : {};
    var brand = BRANDS.filter(function (b) {
      return b === s.brand;
    })[0];
    var value = isObject(s.value) ? s.value : {};
    var error = isObject(s.error) ? s.error : undefined;
    return {
      elementType: 'card',
      empty: s.empty === true,
      complete: s.complete === true,
      brand: brand || 'unknown',
      value: {postalCode: typeof value.postalCode === 'string' ? value.postalCode : ''},
      error: error ? {type: 'validation_error', code: String(error.code), message: String(error.message)} : undefined,
    };
  }

  /**
   * The Payment Element's `change` event, rebuilt field by field as the card's is.
   * @param {unknown} state
   * @returns {SandboxPaymentChangeEvent}
   */
  function toPaymentChangeEvent(state) {
    var s = isObject(state) ? state : {};
    var value = isObject(s.value) ? s.value : {};
    return {
      elementType: 'payment',
      empty: s.empty === true,
      complete: s.complete === true,
      collapsed: s.collapsed === true,
      value: {type: typeof value.type === 'string' ? value.type : 'card'},
    };
  }

  /**
   * @param {unknown} result
   * @returns {SandboxPaymentMethodResult}
   */
  function toPaymentMethodResult(result) {
    if (isObject(result) && isObject(result.paymentMethod)) {
      return {paymentMethod: /** @type {any} */ (result.paymentMethod)};
    }
    if (isObject(result) && isObject(result.error)) return {error: /** @type {any} */ (result.error)};
    return {error: {type: 'api_error', message: 'The card frame gave no answer.'}};
  }

  /**
   * @param {unknown} result
   * @returns {SandboxTokenResult}
   */
  function toTokenResult(result) {
    if (isObject(result) && isObject(result.token)) return {token: /** @type {any} */ (result.token)};
    if (isObject(result) && isObject(result.error)) return {error: /** @type {any} */ (result.error)};
    return {error: {type: 'api_error', message: 'The card frame gave no answer.'}};
  }

  /**
   * @param {string} value
   * @returns {string}
   */
  function cssEscape(value) {
    return typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, '\\$&');
  }

  /**
   * `Stripe(publishableKey, options)`, with or without `new`.
   * @param {string} publishableKey
   * @param {SandboxStripeOptions} [options]
   * @returns {SandboxStripe}
   */
  function StripeFactory(publishableKey, options) {
    if (typeof publishableKey !== 'string' || publishableKey === '') {
      throw new IntegrationError(
        'Invalid value for Stripe(): apiKey should be a string. You specified: ' + String(publishableKey) + '.'
      );
    }
    if (/^(sk|rk)_/.test(publishableKey)) {
      throw new IntegrationError('You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead.');
    }
    if (!/^pk_/.test(publishableKey)) {
      throw new IntegrationError('Invalid value for Stripe(): apiKey should be a publishable key (pk_test_...).');
    }
    return new SandboxStripe(publishableKey, options || {});
  }
  StripeFactory.version = STRIPE_JS_VERSION;

  return StripeFactory;
})();
