/**
 * The sandbox's Stripe.js stand-in in a real browser, used the way a merchant page uses Stripe.js:
 * a page on another origin (https://merchant.test, under a strict Content-Security-Policy) loads
 * `<sandbox>/v3/`, mounts the card Element, and the test types the card *inside the iframe*, checks
 * the `change` events and that the host page cannot read the card, creates PaymentMethods and
 * card tokens, and confirms PaymentIntents created server-side with the secret key: success after
 * 3-D Secure, 3-D Secure failed, a decline, and the server-confirmed flow slotpay uses; and the
 * surface `@stripe/stripe-js` and React Stripe.js look for (`Stripe.version`, `createToken`,
 * `elements.getElement(CardElement)`); and the Express Checkout Element's buttons, events and
 * wallet sheet.
 *
 * Run: npx playwright test tests/e2e/sandbox-stripejs.spec.ts
 */
import {expect, test, type FrameLocator, type Page} from '@playwright/test';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {ensureSandboxBuilt, startSandbox, type Sandbox} from './support/sandbox';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
/**
 * The merchant's origin, served by `page.route`. HTTPS, like any real checkout page: Chromium's
 * Local Network Access lets only a secure context reach the loopback sandbox, and only with the
 * `local-network-access` permission (granted below), which real Stripe (a public host) never needs.
 */
const MERCHANT = 'https://merchant.test';
const CARD_FRAME = 'iframe[name^="__privateStripeFrame"]';
const CHALLENGE_FRAME = 'iframe[name^="__privateStripeChallengeFrame"]';

const CARDS = {
  success: '4242424242424242',
  decline: '4000000000000002',
  threeDsAlways: '4000002760003184',
  threeDsRequired: '4000002500003155',
};

let sandbox: Sandbox;

test.use({permissions: ['local-network-access']});

test.beforeAll(async () => {
  // A cold `cargo build -p stripe-sandbox` can take minutes on a shared 2-core machine.
  test.setTimeout(15 * 60_000);
  ensureSandboxBuilt();
  sandbox = await startSandbox();
  mkdirSync(ARTIFACTS, {recursive: true});
});

test.afterAll(async () => {
  await sandbox?.stop();
});

/** The merchant's page: no inline script or style, and a CSP that allows only the sandbox. */
function merchantHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Merchant checkout</title>
<link rel="stylesheet" href="/host.css">
<script src="${sandbox.url}/v3/"></script>
<script src="/host.js" defer></script>
</head>
<body>
<main>
  <h1>Pay for your booking</h1>
  <button type="button" id="before">Before the card</button>
  <label for="card-element">Card</label>
  <div id="card-element"></div>
  <p id="card-errors" role="alert"></p>
</main>
</body>
</html>`;
}

/**
 * The merchant's own script (external, as a strict CSP requires): creates the Stripe object and
 * the card Element, records every event the Element fires, and shows errors as a merchant would.
 */
const HOST_JS = `
(function () {
  var params = new URLSearchParams(location.search);
  var pk = params.get('pk');
  window.violations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.violations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var stripe = Stripe(pk);
  var viaNew = new Stripe(pk);
  var secretKeyError = null;
  try { Stripe(params.get('sk')); } catch (e) { secretKeyError = e.name + ': ' + e.message; }
  var elements = stripe.elements({
    locale: 'en',
    appearance: {theme: 'stripe', variables: {colorPrimary: '#0a7d3b', colorDanger: '#c0123c', fontFamily: 'Georgia, serif'}},
  });
  var card = elements.create('card', {
    style: {base: {fontSize: '18px', color: '#1a1a2e', '::placeholder': {color: '#6b7280'}}, invalid: {color: '#c0123c'}},
  });
  window.events = [];
  ['ready', 'change', 'focus', 'blur', 'escape'].forEach(function (type) {
    card.on(type, function (event) { window.events.push({type: type, event: event}); });
  });
  card.on('change', function (event) {
    document.getElementById('card-errors').textContent = event.error ? event.error.message : '';
  });
  card.mount('#card-element');
  // Integration mistakes throw, with Stripe's words.
  var mistakes = {};
  try { elements.create('card'); } catch (e) { mistakes.secondCard = e.message; }
  var other = Stripe(pk).elements().create('card');
  var shadowHost = document.createElement('div');
  document.body.appendChild(shadowHost);
  var inShadow = document.createElement('div');
  shadowHost.attachShadow({mode: 'open'}).appendChild(inShadow);
  try { other.mount(inShadow); } catch (e) { mistakes.shadow = e.message; }
  try { stripe.confirmCardPayment('not-a-secret'); } catch (e) { mistakes.secret = e.message; }
  window.host = {
    mistakes: mistakes,
    stripe: stripe,
    elements: elements,
    card: card,
    viaNewHasMethods: typeof viaNew.confirmCardPayment === 'function' && typeof viaNew.elements === 'function',
    secretKeyError: secretKeyError,
    sameElement: elements.getElement('card') === card,
  };
})();
`;

const HOST_CSS = `
body { font-family: system-ui, sans-serif; margin: 40px; color: #1a1a2e; }
#card-element { max-width: 460px; padding: 12px; border: 1px solid #c3c8d0; border-radius: 6px; background: #fff; }
#card-element.StripeElement--focus { border-color: #0a7d3b; box-shadow: 0 0 0 3px rgba(10, 125, 59, 0.25); }
#card-element.StripeElement--invalid { border-color: #c0123c; }
#card-errors { color: #c0123c; min-height: 1.5em; }
`;

/** Opens the merchant page and waits for the card Element's `ready`. */
async function openMerchantPage(page: Page): Promise<FrameLocator> {
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${sandbox.url}`,
    `frame-src ${sandbox.url}`,
    `connect-src ${sandbox.url}`,
    "style-src 'self'",
  ].join('; ');
  await page.route(`${MERCHANT}/**`, async (route) => {
    const url = new URL(route.request().url());
    const type =
      url.pathname === '/' ? 'text/html' : url.pathname === '/host.js' ? 'application/javascript' : 'text/css';
    const body = url.pathname === '/' ? merchantHtml() : url.pathname === '/host.js' ? HOST_JS : HOST_CSS;
    if (!['/', '/host.js', '/host.css'].includes(url.pathname)) return route.fulfill({status: 404});
    await route.fulfill({status: 200, contentType: type, headers: {'Content-Security-Policy': csp}, body});
  });
  const query = new URLSearchParams({pk: sandbox.publishableKey, sk: sandbox.secretKey});
  await page.goto(`${MERCHANT}/?${query}`);
  await expect.poll(() => eventTypes(page)).toContain('ready');
  return page.frameLocator(CARD_FRAME);
}

type Recorded = {type: string; event: Record<string, unknown>};

async function events(page: Page): Promise<Recorded[]> {
  // Empty until the merchant's deferred script has run.
  return page.evaluate(() => (window as unknown as {events?: Recorded[]}).events ?? []);
}

async function eventTypes(page: Page): Promise<string[]> {
  return (await events(page)).map((e) => e.type);
}

async function lastChange(page: Page): Promise<Record<string, unknown> | undefined> {
  const changes = (await events(page)).filter((e) => e.type === 'change');
  return changes[changes.length - 1]?.event;
}

function fields(frame: FrameLocator) {
  return {
    number: frame.getByLabel('Credit or debit card number'),
    expiry: frame.getByLabel('Credit or debit card expiration date'),
    cvc: frame.getByLabel('Credit or debit card CVC/CVV'),
    postal: frame.getByLabel('ZIP'),
  };
}

async function fillCard(frame: FrameLocator, number: string) {
  const f = fields(frame);
  await f.number.pressSequentially(number);
  await f.expiry.fill('12 / 34');
  await f.cvc.fill('123');
  await f.postal.fill('94107');
}

/** Server side, with the secret key, as the merchant's backend does it. */
async function api(method: 'GET' | 'POST', apiPath: string, params: Record<string, string> = {}) {
  const body = new URLSearchParams(params).toString();
  const response = await fetch(`${sandbox.url}${apiPath}${method === 'GET' && body ? `?${body}` : ''}`, {
    method,
    headers: {Authorization: `Bearer ${sandbox.secretKey}`, 'Content-Type': 'application/x-www-form-urlencoded'},
    body: method === 'POST' ? body : undefined,
  });
  const json = await response.json();
  return {status: response.status, json};
}

async function createPaymentIntent(extra: Record<string, string> = {}) {
  const {status, json} = await api('POST', '/v1/payment_intents', {
    amount: '2500',
    currency: 'usd',
    'payment_method_types[]': 'card',
    ...extra,
  });
  expect(status, JSON.stringify(json)).toBe(200);
  expect(json.client_secret).toMatch(/^pi_\w+_secret_\w+$/);
  return json as {id: string; client_secret: string; status: string};
}

type Result = {
  paymentIntent?: {id: string; status: string; amount: number};
  setupIntent?: {id: string; status: string};
  paymentMethod?: {id: string; card: {brand: string; last4: string; exp_month: number; exp_year: number}; billing_details: {email: string | null; address: {postal_code: string | null}}};
  error?: {type: string; code?: string; decline_code?: string; message?: string; payment_intent?: {id: string; status: string}; setup_intent?: {id: string; status: string}};
};

function confirmWithCard(page: Page, clientSecret: string): Promise<Result> {
  return page.evaluate(
    (cs) => {
      const host = (window as unknown as {host: {stripe: any; card: any}}).host;
      return host.stripe.confirmCardPayment(cs, {
        payment_method: {card: host.card, billing_details: {email: 'client@example.com'}},
      });
    },
    clientSecret,
  );
}

test('the card Element lives in a sandbox-origin iframe and reports Stripe-shaped change events', async ({page}) => {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const frame = await openMerchantPage(page);
  const f = fields(frame);

  const setup = await page.evaluate(() => {
    const host = (window as unknown as {host: Record<string, unknown>}).host;
    return {
      viaNew: host.viaNewHasMethods,
      secretKeyError: host.secretKeyError,
      sameElement: host.sameElement,
      mistakes: host.mistakes,
    };
  });
  expect(setup.mistakes).toEqual({
    secondCard: 'Can only create one Element of type card.',
    shadow: 'Elements cannot be mounted in a ShadowRoot. Please mount in the Light DOM.',
    secret:
      'Invalid value for confirmCardPayment intent secret: value should be a client_secret string. You specified: not-a-secret.',
  });
  expect(setup.viaNew).toBe(true);
  expect(setup.secretKeyError).toContain('IntegrationError: You should not use your secret key with Stripe.js.');
  expect(setup.sameElement).toBe(true);

  // Every field is labelled and reachable with the keyboard from the host page.
  await page.locator('#before').focus();
  await page.keyboard.press('Tab');
  await expect(f.number).toBeFocused();
  await expect(page.locator('#card-element')).toHaveClass(/StripeElement--focus/);
  await page.keyboard.press('Tab');
  await expect(f.expiry).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(f.cvc).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(f.postal).toBeFocused();
  await page.keyboard.press('Escape');
  await expect.poll(() => eventTypes(page)).toEqual(expect.arrayContaining(['focus', 'escape']));
  await expect(page.locator('#card-element')).toHaveClass(/StripeElement--empty/);

  // A mistyped number: Luhn fails, Stripe's code and message at once.
  await f.number.pressSequentially('4242424242424241');
  await expect.poll(() => lastChange(page)).toMatchObject({
    elementType: 'card',
    brand: 'visa',
    complete: false,
    empty: false,
    error: {type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.'},
  });
  await expect(page.locator('#card-errors')).toHaveText('Your card number is invalid.');
  await expect(page.locator('#card-element')).toHaveClass(/StripeElement--invalid/);

  // An incomplete number is reported once the field is left, not while typing.
  await f.number.fill('');
  await f.number.pressSequentially('4242 4242');
  expect((await lastChange(page))?.error).toBeUndefined();
  await f.expiry.focus();
  await expect.poll(async () => (await lastChange(page))?.error).toMatchObject({code: 'incomplete_number', message: 'Your card number is incomplete.'});

  // Amex: 15 digits grouped 4-6-5, brand detected.
  await f.number.fill('');
  await f.number.pressSequentially('378282246310005');
  await expect(f.number).toHaveValue('3782 822463 10005');
  await expect.poll(async () => (await lastChange(page))?.brand).toBe('amex');

  // A valid Visa number moves on to the expiry date, like Stripe's Element.
  await f.number.fill('');
  await f.number.pressSequentially(CARDS.success);
  await expect(f.number).toHaveValue('4242 4242 4242 4242');
  await expect(f.expiry).toBeFocused();
  await f.expiry.pressSequentially('1220');
  await expect(f.expiry).toHaveValue('12 / 20');
  await expect.poll(async () => (await lastChange(page))?.error).toMatchObject({
    code: 'invalid_expiry_year_past',
    message: "Your card's expiration year is in the past.",
  });
  await f.expiry.fill('12 / 34');
  await f.cvc.fill('12');
  await f.postal.focus();
  await expect.poll(async () => (await lastChange(page))?.error).toMatchObject({
    code: 'incomplete_cvc',
    message: "Your card's security code is incomplete.",
  });
  await f.cvc.fill('123');
  await f.postal.fill('94107');
  await expect.poll(() => lastChange(page)).toEqual({
    elementType: 'card',
    empty: false,
    complete: true,
    brand: 'visa',
    value: {postalCode: '94107'},
  });
  await expect(page.locator('#card-element')).toHaveClass(/StripeElement--complete/);
  await expect(page.locator('#card-errors')).toHaveText('');

  // The host page cannot read the card: the frame is cross-origin, and nothing it was told
  // holds the number.
  const access = await page.evaluate(() => {
    const iframe = document.querySelector('iframe[name^="__privateStripeFrame"]') as HTMLIFrameElement;
    let contentDocument = 'readable';
    try {
      contentDocument = iframe.contentDocument === null ? 'null' : 'readable';
    } catch (e) {
      contentDocument = (e as Error).name;
    }
    let windowDocument = 'readable';
    try {
      void iframe.contentWindow!.document.querySelector('input');
    } catch (e) {
      windowDocument = (e as Error).name;
    }
    return {
      src: iframe.src,
      contentDocument,
      windowDocument,
      page: document.documentElement.outerHTML,
      told: JSON.stringify((window as unknown as {events: unknown}).events),
      violations: (window as unknown as {violations: string[]}).violations,
    };
  });
  expect(new URL(access.src).origin).toBe(sandbox.url);
  expect(new URL(access.src).pathname).toBe('/v3/elements/card.html');
  expect(access.contentDocument).toBe('null');
  expect(access.windowDocument).toBe('SecurityError');
  for (const secret of ['4242424242424242', '4242 4242 4242 4242', '12 / 34']) {
    expect(access.page).not.toContain(secret);
    expect(access.told).not.toContain(secret);
  }
  expect(access.violations).toEqual([]);
  await page.screenshot({path: path.join(ARTIFACTS, 'sandbox-card-filled.png')});

  // createPaymentMethod: the frame posts the card to the API; the page gets a pm_ with brand/last4.
  const pmRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${sandbox.url}/v1/payment_methods`)) pmRequests.push(request.frame().url());
  });
  const created: Result = await page.evaluate(() => {
    const host = (window as unknown as {host: {stripe: any; card: any}}).host;
    return host.stripe.createPaymentMethod({type: 'card', card: host.card, billing_details: {email: 'client@example.com'}});
  });
  expect(created.error).toBeUndefined();
  expect(created.paymentMethod!.id).toMatch(/^pm_\w+$/);
  expect(created.paymentMethod!.card).toMatchObject({brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034});
  expect(created.paymentMethod!.billing_details).toMatchObject({email: 'client@example.com', address: {postal_code: '94107'}});
  expect(pmRequests).toHaveLength(1);
  expect(new URL(pmRequests[0]).origin).toBe(sandbox.url);

  // The same PaymentMethod, seen server-side with the secret key.
  const retrieved = await api('GET', `/v1/payment_methods/${created.paymentMethod!.id}`);
  expect(retrieved.status).toBe(200);
  expect(retrieved.json.card.last4).toBe('4242');

  // The legacy form createPaymentMethod('card', element, data) gives the same kind of answer.
  const legacy: Result = await page.evaluate(() => {
    const host = (window as unknown as {host: {stripe: any; card: any}}).host;
    return host.stripe.createPaymentMethod('card', host.card, {billing_details: {name: 'Ada Lovelace'}});
  });
  expect(legacy.paymentMethod!.id).toMatch(/^pm_\w+$/);
  expect(pmRequests).toHaveLength(2);

  // clear() empties the fields; an incomplete card gives a validation error with no request.
  await page.evaluate(() => (window as unknown as {host: {card: any}}).host.card.clear());
  await expect(f.number).toHaveValue('');
  const incomplete: Result = await page.evaluate(() => {
    const host = (window as unknown as {host: {stripe: any; card: any}}).host;
    return host.stripe.createPaymentMethod({type: 'card', card: host.card});
  });
  expect(incomplete.error).toEqual({
    type: 'validation_error',
    code: 'incomplete_number',
    message: 'Your card number is incomplete.',
  });
  expect(pmRequests).toHaveLength(2);

  // update({hidePostalCode}) hides the postal field; the card is then complete without it.
  await page.evaluate(() => (window as unknown as {host: {card: any}}).host.card.update({hidePostalCode: true}));
  await expect(f.postal).toBeHidden();
  await fillCardWithoutPostal(frame);
  await expect.poll(async () => (await lastChange(page))?.complete).toBe(true);

  expect(consoleErrors.filter((text) => /Content Security Policy|Refused/.test(text))).toEqual([]);
});

async function fillCardWithoutPostal(frame: FrameLocator) {
  const f = fields(frame);
  await f.number.pressSequentially(CARDS.success);
  await f.expiry.fill('12 / 34');
  await f.cvc.fill('123');
}

test('createToken, Stripe.version and getElement as @stripe/stripe-js and React Stripe.js use them', async ({page}) => {
  const frame = await openMerchantPage(page);
  const surface = await page.evaluate(() => {
    const w = window as unknown as {Stripe: any; host: {stripe: any; elements: any; card: any}};
    const {stripe, elements, card} = w.host;
    // React Stripe.js's CardElement is a component carrying `__elementType`.
    const CardElement = Object.assign(() => null, {__elementType: 'card'});
    const mistakes: Record<string, string> = {};
    try {
      stripe.createToken('pii', {personal_id_number: '000000000'});
    } catch (e) {
      mistakes.pii = (e as Error).name + ': ' + (e as Error).message;
    }
    try {
      stripe.createToken({});
    } catch (e) {
      mistakes.notAnElement = (e as Error).message;
    }
    return {
      version: w.Stripe.version,
      createToken: typeof stripe.createToken,
      byString: elements.getElement('card') === card,
      byComponent: elements.getElement(CardElement) === card,
      byTypeObject: elements.getElement({__elementType: 'card'}) === card,
      otherType: elements.getElement({__elementType: 'cardNumber'}),
      mistakes,
    };
  });
  expect(surface).toEqual({
    version: 'endive',
    createToken: 'function',
    byString: true,
    byComponent: true,
    byTypeObject: true,
    otherType: null,
    mistakes: {
      pii: expect.stringContaining('IntegrationError: '),
      notAnElement: "Invalid value for createToken: card should be an Element created with elements.create('card').",
    },
  });

  const tokenRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${sandbox.url}/v1/tokens`)) tokenRequests.push(request.frame().url());
  });
  type TokenResult = {
    token?: {id: string; object: string; type: string; used: boolean; card: Record<string, unknown>};
    error?: {type: string; code?: string; message?: string};
  };
  // An incomplete card: the Element's own error, and no request.
  const incomplete: TokenResult = await page.evaluate(() => {
    const host = (window as unknown as {host: {stripe: any; card: any}}).host;
    return host.stripe.createToken(host.card);
  });
  expect(incomplete.error).toEqual({type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.'});
  expect(tokenRequests).toHaveLength(0);

  await fillCard(frame, CARDS.success);
  const created: TokenResult = await page.evaluate(() => {
    const host = (window as unknown as {host: {stripe: any; card: any}}).host;
    return host.stripe.createToken(host.card, {name: 'Jenny Rosen', address_country: 'US'});
  });
  expect(created.error).toBeUndefined();
  expect(created.token).toMatchObject({object: 'token', type: 'card', used: false});
  expect(created.token!.id).toMatch(/^tok_\w+$/);
  expect(created.token!.card).toMatchObject({
    object: 'card',
    brand: 'Visa',
    last4: '4242',
    exp_month: 12,
    exp_year: 2034,
    name: 'Jenny Rosen',
    address_country: 'US',
    // The Element's postal code, as Stripe.js sends it.
    address_zip: '94107',
    cvc_check: 'pass',
  });
  // The card went from the sandbox-origin frame to the API, never through the page.
  expect(tokenRequests).toHaveLength(1);
  expect(new URL(tokenRequests[0]).origin).toBe(sandbox.url);
  const told = await page.evaluate(() => JSON.stringify((window as unknown as {events: unknown}).events));
  expect(told).not.toContain('4242424242424242');

  // Server side: the token becomes a PaymentMethod (once) and pays.
  const pm = await api('POST', '/v1/payment_methods', {type: 'card', 'card[token]': created.token!.id});
  expect(pm.status, JSON.stringify(pm.json)).toBe(200);
  expect(pm.json.card).toMatchObject({brand: 'visa', last4: '4242'});
  expect(pm.json.billing_details).toMatchObject({name: 'Jenny Rosen', address: {postal_code: '94107', country: 'US'}});
  const reused = await api('POST', '/v1/payment_methods', {type: 'card', 'card[token]': created.token!.id});
  expect(reused.status).toBe(400);
  const paid = await createPaymentIntent({payment_method: pm.json.id, confirm: 'true'});
  expect(paid.status).toBe('succeeded');
});

test('confirmCardPayment with a 3-D Secure card: Complete in the challenge → succeeded', async ({page}) => {
  const frame = await openMerchantPage(page);
  await fillCard(frame, CARDS.threeDsAlways);
  const intent = await createPaymentIntent();

  const result = confirmWithCard(page, intent.client_secret);
  const dialog = page.getByRole('dialog', {name: '3D Secure authentication'});
  await expect(dialog).toBeVisible();
  const challenge = page.frameLocator(CHALLENGE_FRAME);
  await expect(challenge.getByRole('heading', {name: '3D Secure test payment'})).toBeVisible();
  await expect(challenge.getByText(/25\.00/)).toBeVisible();
  await page.screenshot({path: path.join(ARTIFACTS, 'sandbox-3ds-challenge.png')});
  await challenge.getByRole('button', {name: 'Complete'}).click();

  const answer = await result;
  expect(answer.error).toBeUndefined();
  expect(answer.paymentIntent).toMatchObject({id: intent.id, status: 'succeeded', amount: 2500});
  await expect(dialog).toHaveCount(0);
  await expect(page.locator(CHALLENGE_FRAME)).toHaveCount(0);

  const serverSide = await api('GET', `/v1/payment_intents/${intent.id}`);
  expect(serverSide.json.status).toBe('succeeded');
});

test('confirmCardPayment with a 3-D Secure card: Fail in the challenge → payment_intent_authentication_failure', async ({page}) => {
  const frame = await openMerchantPage(page);
  await fillCard(frame, CARDS.threeDsAlways);
  const intent = await createPaymentIntent();

  const result = confirmWithCard(page, intent.client_secret);
  const challenge = page.frameLocator(CHALLENGE_FRAME);
  await challenge.getByRole('button', {name: 'Fail'}).click();

  const answer = await result;
  expect(answer.paymentIntent).toBeUndefined();
  expect(answer.error).toMatchObject({
    type: 'invalid_request_error',
    code: 'payment_intent_authentication_failure',
    payment_intent: {id: intent.id, status: 'requires_payment_method'},
  });
  expect(answer.error!.message).toBeTruthy();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('confirmCardPayment with a declined card → card_declined, without a challenge', async ({page}) => {
  const frame = await openMerchantPage(page);
  await fillCard(frame, CARDS.decline);
  const intent = await createPaymentIntent();

  const answer = await confirmWithCard(page, intent.client_secret);
  expect(answer.paymentIntent).toBeUndefined();
  expect(answer.error).toMatchObject({
    type: 'card_error',
    code: 'card_declined',
    decline_code: 'generic_decline',
    payment_intent: {id: intent.id, status: 'requires_payment_method'},
  });
  expect(answer.error!.message).toBeTruthy();
  await expect(page.locator(CHALLENGE_FRAME)).toHaveCount(0);
});

test('server-confirmed flow: confirmCardPayment(clientSecret) and handleNextAction finish 3-D Secure', async ({page}) => {
  const frame = await openMerchantPage(page);
  await fillCard(frame, CARDS.threeDsRequired);
  // A PaymentMethod not attached to a Customer is single-use, as in Stripe: one per payment.
  const newPaymentMethod = async () => {
    const created: Result = await page.evaluate(() => {
      const host = (window as unknown as {host: {stripe: any; card: any}}).host;
      return host.stripe.createPaymentMethod({type: 'card', card: host.card});
    });
    expect(created.error).toBeUndefined();
    return created.paymentMethod!.id;
  };

  // slotpay's server creates and confirms the PaymentIntent with the secret key...
  const first = await createPaymentIntent({payment_method: await newPaymentMethod(), confirm: 'true'});
  expect(first.status).toBe('requires_action');
  // ...and the widget finishes it with the client secret alone.
  const retrieved: Result = await page.evaluate(
    (cs) => (window as unknown as {host: {stripe: any}}).host.stripe.retrievePaymentIntent(cs),
    first.client_secret,
  );
  expect(retrieved.paymentIntent).toMatchObject({id: first.id, status: 'requires_action'});
  const pending = page.evaluate(
    (cs) => (window as unknown as {host: {stripe: any}}).host.stripe.confirmCardPayment(cs),
    first.client_secret,
  );
  await page.frameLocator(CHALLENGE_FRAME).getByRole('button', {name: 'Complete'}).click();
  expect((await pending).paymentIntent).toMatchObject({id: first.id, status: 'succeeded'});

  // handleNextAction({clientSecret}) does the same for a second payment; this time it fails.
  const second = await createPaymentIntent({payment_method: await newPaymentMethod(), confirm: 'true'});
  expect(second.status).toBe('requires_action');
  const next = page.evaluate(
    (cs) => (window as unknown as {host: {stripe: any}}).host.stripe.handleNextAction({clientSecret: cs}),
    second.client_secret,
  );
  await page.frameLocator(CHALLENGE_FRAME).getByRole('button', {name: 'Fail'}).click();
  const failed: Result = await next;
  expect(failed.error).toMatchObject({
    code: 'payment_intent_authentication_failure',
    payment_intent: {id: second.id, status: 'requires_payment_method'},
  });
});

test('confirmCardSetup with a 3-D Secure card saves it after Complete', async ({page}) => {
  const frame = await openMerchantPage(page);
  await fillCard(frame, CARDS.threeDsRequired);
  const {status, json: setupIntent} = await api('POST', '/v1/setup_intents', {'payment_method_types[]': 'card'});
  expect(status, JSON.stringify(setupIntent)).toBe(200);

  const pending: Promise<Result> = page.evaluate(
    (cs) => {
      const host = (window as unknown as {host: {stripe: any; card: any}}).host;
      return host.stripe.confirmCardSetup(cs, {payment_method: {card: host.card}});
    },
    setupIntent.client_secret as string,
  );
  await page.frameLocator(CHALLENGE_FRAME).getByRole('button', {name: 'Complete'}).click();
  const answer = await pending;
  expect(answer.error).toBeUndefined();
  expect(answer.setupIntent).toMatchObject({id: setupIntent.id, status: 'succeeded'});

  const retrieved: Result = await page.evaluate(
    (cs) => (window as unknown as {host: {stripe: any}}).host.stripe.retrieveSetupIntent(cs),
    setupIntent.client_secret as string,
  );
  expect(retrieved.setupIntent).toMatchObject({id: setupIntent.id, status: 'succeeded'});
});

test('the Express Checkout Element: wallets on a registered domain, click resolved within a second, confirm then createPaymentMethod, paymentFailed', async ({page}) => {
  await openMerchantPage(page);
  // Before the domain is registered, no button: `ready` says none.
  const mount = (options: Record<string, unknown>) =>
    page.evaluate((options) => {
      const w = window as unknown as {Stripe: any; express: any; host: any};
      const stripe = w.Stripe(new URLSearchParams(location.search).get('pk'));
      const elements = stripe.elements({mode: 'payment', amount: 2500, currency: 'eur', paymentMethodCreation: 'manual', paymentMethodTypes: ['card']});
      const element = elements.create('expressCheckout', options);
      const box = document.createElement('div');
      box.id = 'express-' + Math.random().toString(36).slice(2);
      document.querySelector('main')!.appendChild(box);
      const seen: Array<Record<string, unknown>> = [];
      let clicks = 0;
      element.on('ready', (e: any) => seen.push({type: 'ready', available: e.availablePaymentMethods ?? null}));
      element.on('cancel', () => seen.push({type: 'cancel'}));
      element.on('click', (e: any) => {
        clicks += 1;
        seen.push({type: 'click', wallet: e.expressPaymentType});
        // The first press is left unanswered: Stripe shows no payment interface then.
        if (clicks > 1) e.resolve();
      });
      element.on('confirm', async (e: any) => {
        seen.push({type: 'confirm', wallet: e.expressPaymentType, email: e.billingDetails?.email});
        const submitted = await elements.submit();
        const made = await stripe.createPaymentMethod({elements, params: {billing_details: {email: e.billingDetails?.email}}});
        seen.push({type: 'paymentMethod', submitted: submitted.selectedPaymentMethod, wallet: made.paymentMethod?.card?.wallet?.type});
        e.paymentFailed({message: 'The shop could not take this payment.'});
      });
      element.mount('#' + box.id);
      w.express = {seen, frame: box.id};
      return box.id;
    }, options);
  const seen = () => page.evaluate(() => (window as unknown as {express: {seen: Array<Record<string, unknown>>}}).express.seen);

  await mount({});
  await expect.poll(seen).toEqual([{type: 'ready', available: null}]);

  const domain = (await api('POST', '/v1/payment_method_domains', {domain_name: 'merchant.test'})).json;
  expect(domain).toMatchObject({domain_name: 'merchant.test', google_pay: {status: 'active'}});
  const id = await mount({emailRequired: true, buttonType: {googlePay: 'book'}});
  await expect.poll(seen).toEqual([
    {type: 'ready', available: {amazonPay: false, applePay: true, googlePay: true, link: false, paypal: false, klarna: false}},
  ]);
  const frame = page.frameLocator(`#${id} iframe`);
  await expect(frame.getByRole('button', {name: 'Book with Google Pay'})).toBeVisible();
  // Apple Pay's default button type is plain: its name alone.
  await expect(frame.getByRole('button', {name: 'Apple Pay', exact: true})).toBeVisible();

  await frame.getByRole('button', {name: 'Book with Google Pay'}).click();
  await page.waitForTimeout(1300);
  await expect(frame.getByRole('group', {name: 'Google Pay (sandbox)'})).toBeHidden();

  await frame.getByRole('button', {name: 'Book with Google Pay'}).click();
  await expect(frame.getByRole('group', {name: 'Google Pay (sandbox)'})).toBeVisible();
  await frame.getByRole('button', {name: 'Cancel'}).click();
  await frame.getByRole('button', {name: 'Book with Google Pay'}).click();
  await frame.getByLabel('Email').fill('jenny@example.com');
  await frame.getByRole('button', {name: 'Pay', exact: true}).click();
  await expect(frame.getByRole('alert')).toHaveText('The shop could not take this payment.');
  expect((await seen()).slice(1)).toEqual([
    {type: 'click', wallet: 'google_pay'},
    {type: 'click', wallet: 'google_pay'},
    {type: 'cancel'},
    {type: 'click', wallet: 'google_pay'},
    {type: 'confirm', wallet: 'google_pay', email: 'jenny@example.com'},
    {type: 'paymentMethod', submitted: 'google_pay', wallet: 'google_pay'},
  ]);
});
