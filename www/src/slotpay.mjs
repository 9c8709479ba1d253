// slotpay's checkout widget as an ES module, for pages and platforms that bundle:
//
//   import { mount } from 'slotpay';
//   const widget = await mount('#pay', { checkout: 'cs_...', baseUrl: 'https://PAY-HOST/' });
//   widget.unmount();
//
// The widget itself (wasm, glue, styles) and the API are loaded from baseUrl, the slotpay
// server, exactly as the script-tag loader does: the server and its widget stay one version,
// and a bundler has no wasm to handle. The implementation is the loader's (slotpay.js, which
// defines window.slotpay and nothing else when imported). This is the source: `./dev build`
// writes the served, minified www/slotpay.mjs next to www/slotpay.js.
import './slotpay.js';

/**
 * Mounts the checkout in `target` (an element or a CSS selector).
 * @param {Element | string} target
 * @param {import('./slotpay').MountOptions} options
 * @returns {Promise<import('./slotpay').MountedCheckout>}
 */
export function mount(target, options) {
  // Imported straight from the slotpay server, the widget lives next to this module.
  const baseUrl = (options && options.baseUrl) || new URL('.', import.meta.url).href;
  return window.slotpay.mount(target, Object.assign({}, options, { baseUrl }));
}
