// Stripe.js from the URL the checkout view names (Stripe's, or stripe-sandbox's copy offline):
// the script is added here, then @stripe/stripe-js's loadStripe finds window.Stripe and makes
// the Stripe object (it would otherwise inject its own js.stripe.com URL).
import {loadStripe} from '@stripe/stripe-js/pure';

const scripts = new Map();

function addScript(url) {
  if (window.Stripe) return Promise.resolve();
  if (!scripts.has(url)) {
    const loaded = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = url;
      script.async = true;
      script.addEventListener('load', resolve);
      script.addEventListener('error', () => {
        scripts.delete(url);
        reject(new Error(`Stripe.js did not load from ${url}`));
      });
      document.head.append(script);
    });
    scripts.set(url, loaded);
  }
  return scripts.get(url);
}

/** Resolves to the Stripe object for `publishableKey`, with Stripe.js loaded from `url`. */
export async function loadStripeFrom(url, publishableKey, locale) {
  await addScript(url);
  const stripe = await loadStripe(publishableKey, {locale});
  if (stripe && typeof stripe.createToken !== 'function') {
    // <Elements> accepts only an object with createToken (the legacy Tokens API), which
    // stripe-sandbox's Stripe.js does not model; this checkout never calls it.
    stripe.createToken = () => Promise.reject(new Error('createToken is not available'));
  }
  return stripe;
}
