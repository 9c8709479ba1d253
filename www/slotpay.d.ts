// Types of slotpay's checkout widget ES module (slotpay.mjs) and of `window.slotpay`.

/** Which checkout to show: an existing one by its token ... */
export interface CheckoutByToken {
  /** The checkout's token, `cs_...`. */
  checkout: string;
  merchant?: undefined;
  service?: undefined;
}

/** ... or a new one for a service of a merchant's catalogue (its prepayment). */
export interface CheckoutByService {
  checkout?: undefined;
  /** The merchant's id, `mer_...`. */
  merchant: string;
  /** The service's id, `svc_...`. */
  service: string;
}

/** Options of {@link mount}. */
export type MountOptions = (CheckoutByToken | CheckoutByService) & {
  /**
   * The slotpay server, e.g. `https://pay.example.com/`: the widget's wasm, styles and API
   * are loaded from there. Required when slotpay.mjs is bundled; when it is imported straight
   * from the server it defaults to the server it came from.
   */
  baseUrl?: string;
  /** `en`, `fr`, `de` or `es` (a region such as `fr-CA` is accepted). Default: the checkout's. */
  locale?: string;
  /** A Stripe.js URL to start loading at once, before the checkout names its own. */
  stripeJs?: string;
};

/** A mounted checkout. */
export interface MountedCheckout {
  /** Removes everything the widget added to the page. */
  unmount(): void;
}

/** `detail` of the `slotpay:ready` and `slotpay:succeeded` events. */
export interface SlotpayCheckoutDetail {
  /** The checkout's token. */
  token: string;
  /** The amount in the currency's minor unit (cents; yen for JPY). */
  amount: number;
  /** Stripe's lowercase currency code, e.g. `eur`. */
  currency: string;
}

/** `detail` of the `slotpay:failed` event. */
export interface SlotpayFailedDetail {
  /**
   * The server's error code (`card_declined`, `checkout_expired`, `payments_unavailable`,
   * `amount_too_small`, ...) or the widget's own (`network_error`, `stripe_js_unavailable`).
   */
  code: string;
  /** What the client was shown, in the widget's language. */
  message: string;
  /** The checkout's token, once known. */
  token?: string;
}

/**
 * Mounts the checkout in `target` (an element or a CSS selector). The element then
 * dispatches `slotpay:ready`, `slotpay:succeeded` and `slotpay:failed` (bubbling, composed).
 */
export function mount(target: Element | string, options: MountOptions): Promise<MountedCheckout>;

declare global {
  interface Window {
    /** Defined by slotpay.js. */
    slotpay: { mount: typeof mount };
  }
  interface HTMLElementEventMap {
    'slotpay:ready': CustomEvent<SlotpayCheckoutDetail>;
    'slotpay:succeeded': CustomEvent<SlotpayCheckoutDetail>;
    'slotpay:failed': CustomEvent<SlotpayFailedDetail>;
  }
}
