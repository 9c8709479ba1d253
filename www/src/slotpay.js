/* slotpay.js: loads slotpay's checkout widget. Everything (wasm, styles, API) is relative to
 * this script's URL. <script src=".../slotpay.js" data-merchant data-service | data-checkout
 * [data-target="#id"] [data-locale] [data-stripe-js]> renders where it stands (or into the
 * target); <slotpay-checkout checkout | merchant service [locale]> mounts while connected;
 * window.slotpay.mount(target, options) resolves to {unmount()}. The view, the wasm and
 * Stripe.js are fetched at once (Stripe.js after the view names it when this file did not come
 * from a slotpay server), and the widget's words beside them (the embedder's language, else the
 * page's; the checkout's after the view when it is neither). No inline
 * code or style, no eval; the one global is window.slotpay. This is the source: `./dev build` writes the served,
 * minified www/slotpay.js (esbuild). */
(function () {
  'use strict';

  var script = document.currentScript;
  // Only a classic <script src=".../slotpay.js"> knows where the widget lives; imported by
  // slotpay.mjs (or bundled), the caller passes baseUrl instead.
  var loaderUrl =
    script instanceof HTMLScriptElement && /\/slotpay\.js(?:[?#]|$)/.test(script.src) ? script.src : null;

  /** Loaded widget modules, by base URL: each wasm is fetched and compiled once per page. */
  var widgets = {};
  /** Stripe.js loads, by URL. */
  var stripeLoads = {};
  /**
   * Stripe.js's URL as configured on the slotpay server this loader came from, which writes it
   * here when it sends the file: Stripe.js then starts at once, beside the checkout's view and
   * the wasm, instead of after the view. Left as it is (served from elsewhere), it is not a URL
   * and the view's is used.
   */
  var serverStripeJs = '__SLOTPAY_STRIPE_JS__';
  if (!/^https?:\/\//.test(serverStripeJs)) serverStripeJs = null;
  /**
   * Mounted widgets until unmounted: the wasm object unmounts itself when garbage-collected,
   * so a widget nobody holds (the script-tag embed keeps no handle) must be held here.
   */
  var live = [];

  function baseOf(url) {
    var base = new URL(url, location.href);
    if (!/\/$/.test(base.pathname)) base = new URL('.', base);
    return base.href;
  }

  /** Starts the view request: GET an existing checkout, or POST a new one for a service. */
  function requestView(base, options) {
    if (options.checkout) {
      return fetch(base + 'v1/checkouts/' + encodeURIComponent(options.checkout), {credentials: 'omit'});
    }
    return fetch(base + 'v1/merchants/' + encodeURIComponent(options.merchant) + '/checkouts', {
      method: 'POST',
      credentials: 'omit',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({service_id: options.service}),
    });
  }

  /** Loads Stripe.js from url once, resolving to the global Stripe function. */
  function loadStripe(url) {
    if (typeof window.Stripe === 'function') return Promise.resolve(window.Stripe);
    if (stripeLoads[url]) return stripeLoads[url];
    stripeLoads[url] = new Promise(function (resolve, reject) {
      var tag = document.createElement('script');
      tag.src = url;
      tag.async = true;
      tag.addEventListener('load', function () {
        if (typeof window.Stripe === 'function') resolve(window.Stripe);
        else reject(new Error('slotpay: ' + url + ' did not define Stripe'));
      });
      tag.addEventListener('error', function () {
        delete stripeLoads[url];
        reject(new Error('slotpay: could not load ' + url));
      });
      document.head.appendChild(tag);
    });
    return stripeLoads[url];
  }

  /** The view's body, read from a copy of the response the widget will read; null when it failed. */
  function viewBody(view) {
    return view.then(function (response) {
      return response.ok ? response.clone().json() : null;
    });
  }

  /** Stripe.js, from the URL the view's body names. */
  function stripeFromView(body) {
    return body.then(function (body) {
      if (!body || typeof body.stripe_js_url !== 'string') throw new Error('slotpay: no Stripe.js URL');
      return loadStripe(body.stripe_js_url);
    });
  }

  /**
   * The widget's words (it carries none) in the language it will speak: the embedder's locale;
   * else the checkout's, which the page's own language (`lang`) usually is, so that one is
   * asked for at once too, beside the view. Resolves to the parsed body or null; the widget
   * fetches its words itself when these are not its language.
   */
  function loadWords(base, requested, pageLang, body) {
    var code = function (tag) {
      var primary = String(tag || '').split(/[-_]/)[0].toLowerCase();
      return /^[a-z]{2,3}$/.test(primary) ? primary : null;
    };
    var fetchWords = function (language) {
      return language
        ? fetch(base + 'words/' + language + '.json', {credentials: 'omit'}).then(function (response) {
            return response.ok ? response.json() : null;
          })
        : null;
    };
    var words;
    if (requested) {
      words = Promise.resolve(fetchWords(code(requested)));
    } else {
      var page = code(pageLang);
      var early = fetchWords(page);
      if (early) early.catch(function () {});
      words = body.then(
        function (body) {
          var wanted = body ? code(body.locale) : page;
          return wanted === page ? early : fetchWords(wanted);
        },
        function () {
          return early;
        }
      );
    }
    return words.catch(function () {
      return null;
    });
  }

  var intlReady = false;
  /**
   * A page's first Intl currency format costs about 15 ms of CPU (60 ms on the bench's 4× slower
   * phone), whatever its locale and currency; later ones cost nearly nothing. Paid here, while the
   * widget downloads, the checkout's first render does not wait for it.
   */
  function warmIntl() {
    if (intlReady) return;
    intlReady = true;
    try {
      new Intl.NumberFormat('en', {style: 'currency', currency: 'EUR'}).format(1);
    } catch (error) {
      // No Intl: the widget writes amounts as core does.
    }
  }

  /** The wasm-bindgen glue, initialised with the wasm, fetched in parallel with it. */
  function loadWidget(base) {
    if (!widgets[base]) {
      var wasm = fetch(base + 'pkg/slotpay_widget_bg.wasm');
      widgets[base] = import(/* webpackIgnore: true */ /* @vite-ignore */ base + 'pkg/slotpay_widget.js').then(
        function (glue) {
          return glue.default({module_or_path: wasm}).then(function () {
            return glue;
          });
        }
      );
      widgets[base].catch(function () {
        delete widgets[base];
      });
    }
    return widgets[base];
  }

  /**
   * Mounts the checkout in target (an element or a selector).
   * options: {checkout} or {merchant, service}; baseUrl (the slotpay server, default: where
   * this loader came from); locale; stripeJs (a Stripe.js URL to start loading at once).
   */
  function mount(target, options) {
    options = options || {};
    // Back from a bank (iDEAL, Bancontact) to a page that makes its checkout as it loads: the
    // address names the checkout the client paid, which is shown instead of a new one.
    var back = new URLSearchParams(location.search);
    // (The server checks the token like any other.)
    if (!options.checkout && back.has('redirect_status') && back.get('slotpay_checkout')) {
      options = Object.assign({}, options, {checkout: back.get('slotpay_checkout')});
    }
    var host = typeof target === 'string' ? document.querySelector(target) : target;
    if (!(host instanceof Element)) return Promise.reject(new TypeError('slotpay: no element to mount into'));
    if (!options.checkout && !(options.merchant && options.service)) {
      return Promise.reject(new TypeError('slotpay: pass checkout, or merchant and service'));
    }
    var baseUrl = options.baseUrl || loaderUrl;
    if (!baseUrl) return Promise.reject(new TypeError('slotpay: baseUrl (the slotpay server) is required'));
    var base = baseOf(baseUrl);
    // These start now (the words in the embedder's or the page's language, if not English);
    // the widget awaits them.
    var view = requestView(base, options);
    var body = viewBody(view);
    var widget = loadWidget(base);
    var stripeJs = options.stripeJs || (serverStripeJs && loaderUrl && base === baseOf(loaderUrl) ? serverStripeJs : null);
    var stripe = stripeJs ? loadStripe(stripeJs) : stripeFromView(body);
    var lang = host.closest('[lang]');
    var words = loadWords(base, options.locale, lang && lang.getAttribute('lang'), body);
    setTimeout(warmIntl, 0);
    // The widget reports failures in its own UI; these only silence unhandled rejections.
    view.catch(function () {});
    body.catch(function () {});
    stripe.catch(function () {});
    return widget.then(function (glue) {
      var mounted = glue.mount(host, {
        checkout: options.checkout,
        merchant: options.merchant,
        service: options.service,
        locale: options.locale,
        apiBase: base,
        styleUrl: base + 'slotpay.css',
        view: view,
        words: words,
        stripe: stripe,
        // Back from a bank: the widget asks the server how it went before showing any form.
        returned: back.has('redirect_status'),
      });
      var handle = {
        unmount: function () {
          if (mounted) {
            live.splice(live.indexOf(handle), 1);
            mounted.unmount();
            mounted.free();
            mounted = null;
          }
        },
      };
      live.push(handle);
      return handle;
    });
  }

  /** <script data-merchant data-service ...>: the checkout where the script stands. */
  function embed(tag) {
    var data = tag.dataset;
    if (!data.checkout && !(data.merchant && data.service)) return;
    var place = function () {
      var host;
      if (data.target) {
        host = document.querySelector(data.target);
        if (!host) return console.error('slotpay: data-target ' + data.target + ' matches no element');
      } else {
        host = document.createElement('div');
        host.className = 'slotpay-embed';
        if (tag.parentNode && tag.parentNode !== document.head) tag.parentNode.insertBefore(host, tag.nextSibling);
        else document.body.appendChild(host);
      }
      mount(host, {
        checkout: data.checkout,
        merchant: data.merchant,
        service: data.service,
        locale: data.locale,
        stripeJs: data.stripeJs,
      }).catch(function (error) {
        console.error(error);
      });
    };
    if (document.readyState === 'loading' && (data.target || !tag.parentNode || tag.parentNode === document.head)) {
      document.addEventListener('DOMContentLoaded', place, {once: true});
    } else {
      place();
    }
  }

  /** <slotpay-checkout>: mounted while connected, remounted when its attributes change. */
  function defineElement() {
    if (!window.customElements || customElements.get('slotpay-checkout')) return;
    class SlotpayCheckout extends HTMLElement {
      static get observedAttributes() {
        return ['checkout', 'merchant', 'service', 'locale'];
      }

      connectedCallback() {
        this._mount();
      }

      disconnectedCallback() {
        this._unmount();
      }

      attributeChangedCallback(name, before, after) {
        if (before !== after && this._mounted) {
          this._unmount();
          this._mount();
        }
      }

      _mount() {
        this._mounted = mount(this, {
          checkout: this.getAttribute('checkout'),
          merchant: this.getAttribute('merchant'),
          service: this.getAttribute('service'),
          locale: this.getAttribute('locale'),
        });
        this._mounted.catch(function (error) {
          console.error(error);
        });
      }

      _unmount() {
        var mounted = this._mounted;
        this._mounted = null;
        // Removed before the widget finished loading: it is unmounted as soon as it has.
        if (mounted) {
          mounted.then(
            function (widget) {
              widget.unmount();
            },
            function () {}
          );
        }
      }
    }
    customElements.define('slotpay-checkout', SlotpayCheckout);
  }

  if (!window.slotpay) {
    Object.defineProperty(window, 'slotpay', {value: Object.freeze({mount: mount}), configurable: true});
  }
  if (loaderUrl) {
    defineElement();
    embed(script);
  }
})();
