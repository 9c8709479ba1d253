/**
 * What protects the client and the host page, on each embedding where it applies: a
 * below-minimum amount refused before any call, the server killed and restarted while a pay
 * is in flight (the widget's retry with the same Idempotency-Key ends paid, one charge),
 * no Content-Security-Policy violation through a 3-D Secure payment, the `slotpay:*` events
 * the host page hears, French strings and amounts, and axe-core on the widget's states.
 *
 * Also: a pay request lost on the network, Stripe failing through the server's retries, and
 * unmounting the widget.
 *
 * Run: npx playwright test tests/e2e/checkout-guards.spec.ts
 */
import type {Page} from '@playwright/test';
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {
  ARTIFACTS, CARDS, CHALLENGE_FRAME, EMBEDDINGS, WORDS, clickPay, expect, fillCard, formatted, openCheckout, pay, serverCheckout, spaces,
  state, test, type Opened,
} from '../support/checkout';

const require = createRequire(import.meta.url);

/** Requests a checkout sends that must not happen for a refused amount. */
function watchPayRequests(page: Page) {
  const seen: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.method() !== 'POST') return;
    if (/^\/v1\/checkouts\/[^/]+\/(pay|refresh)$/.test(url.pathname) || url.pathname.startsWith('/v1/payment_methods')) {
      seen.push(`${request.method()} ${url.pathname}`);
    }
  });
  return seen;
}

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('a below-minimum amount is refused with the minimum, before any pay request', async ({page, stack, events}) => {
      // The server refuses to create such a checkout (and refuses to charge one), so the view
      // it answers is lowered to 0.49 on the way: the widget must refuse it by itself.
      const lowered: string[] = [];
      await page.route(/\/v1\/(checkouts\/[^/]+|merchants\/[^/]+\/checkouts)$/, async (route) => {
        const response = await route.fetch();
        const view = await response.json();
        if (!response.ok() || typeof view.amount !== 'number') return route.fulfill({response});
        lowered.push(view.token);
        await route.fulfill({response, json: {...view, amount: 49}});
      });
      const requests = watchPayRequests(page);
      const opened = await openCheckout(page, stack, embedding, {ready: false});
      const words = WORDS[opened.locale];
      await expect(state(opened)).toHaveAttribute('data-state', 'refused');
      await expect(opened.widget.locator('#alert')).toHaveText(words.below_minimum);
      expect(spaces(await opened.widget.locator('#amount').textContent())).toBe(formatted(49, 'eur', opened.locale));
      // No form to pay with, and no card element: Stripe.js is not even asked for one.
      await expect(opened.widget.locator('#form')).toBeHidden();
      await expect(opened.widget.locator('slotpay-card iframe')).toHaveCount(0);
      await page.waitForTimeout(500);
      expect(requests).toEqual([]);
      expect(lowered.length).toBeGreaterThan(0);
      expect((await events()).filter((e) => e.type === 'slotpay:failed').map((e) => e.detail.code)).toEqual(['amount_too_small']);
      // The server, asked to charge such an amount, refuses too.
      const refused = await stack.admin(
        'POST', `/merchants/${stack.merchant.id}/checkouts`, {amount: 49, currency: 'eur', description: 'x'}, [400],
      );
      expect(refused.error).toMatchObject({code: 'amount_too_small', message: WORDS.en.below_minimum});
    });

    test('the server killed and restarted mid-pay: the retry with the same key ends paid, one charge', async ({page, stack, events}) => {
      const opened = await openCheckout(page, stack, embedding);
      const keys: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && /\/v1\/checkouts\/[^/]+\/pay$/.test(request.url())) {
          keys.push(request.headers()['idempotency-key']);
        }
      });
      const before = await stack.control('GET', '/counters');
      const succeededDeliveries = async () =>
        ((await stack.control('GET', '/webhooks/deliveries')) as {event_type: string; outcome: string}[]).filter(
          (d) => d.event_type === 'payment_intent.succeeded' && d.outcome === 'delivered',
        ).length;
      const deliveredBefore = await succeededDeliveries();
      // Stripe confirms the PaymentIntent at once but its answer to slotpay is held: the
      // server is killed while it waits, its pay request in flight.
      await stack.control('POST', '/faults', {
        rules: [{method: 'POST', path: '/v1/payment_intents/*/confirm', kind: 'latency', latency_ms: 15_000, when: 'after', times: 1}],
      });
      try {
        await pay(opened, CARDS.visa);
        await expect(state(opened)).toHaveAttribute('data-state', 'paying');
        // The webhook told the server (Stripe's word is the source of truth) before the kill.
        await expect.poll(succeededDeliveries, {timeout: 10_000}).toBeGreaterThan(deliveredBefore);
        expect(keys).toHaveLength(1);
        await stack.restartServer('SIGKILL');
        await expect(state(opened)).toHaveAttribute('data-state', 'paid', {timeout: 20_000});
      } finally {
        await stack.control('DELETE', '/faults');
      }
      // The pay reached the restarted server and was answered there. It is sent again either
      // by the widget's retry (a new request, same key) or, on a reused connection, by
      // Chromium's own transparent resend of the same request: the same key either way.
      const paysAfterRestart = stack
        .serverLog()
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line)];
          } catch {
            return [];
          }
        })
        .filter((l) => l.message === 'request done' && l.span?.route === '/v1/checkouts/{token}/pay')
        .map((l) => l.status);
      expect(paysAfterRestart).toContain(200);
      expect(keys.length).toBeGreaterThanOrEqual(1);
      expect(new Set(keys).size).toBe(1);
      const after = await stack.control('GET', '/counters');
      expect((after.charges_succeeded ?? 0) - (before.charges_succeeded ?? 0)).toBe(1);
      expect((after.payment_intents_created ?? 0) - (before.payment_intents_created ?? 0)).toBe(1);
      const succeeded = (await events()).filter((e) => e.type === 'slotpay:succeeded');
      expect(succeeded).toHaveLength(1);
      // The card comes with Stripe's charge (its event, or the PaymentIntent read again): it may
      // follow the widget's "paid" by a moment.
      await expect
        .poll(async () => serverCheckout(stack, succeeded[0].detail.token), {timeout: 15_000})
        .toMatchObject({status: 'paid', card: {last4: '4242'}});
    });
  });
}

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('no Content-Security-Policy violation through a 3-D Secure payment', async ({page, stack}) => {
      await page.addInitScript(() => {
        const w = window as unknown as {__violations: string[]};
        w.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const response = page.waitForResponse((r) => r.request().isNavigationRequest());
      const opened = await openCheckout(page, stack, embedding);
      const csp = (await response).headers()['content-security-policy'] ?? '';
      expect(csp).not.toContain("'unsafe-inline'");
      expect(csp).not.toContain("'unsafe-eval'");
      expect(csp).toContain("'wasm-unsafe-eval'");
      await pay(opened, CARDS.threeDs);
      await page.frameLocator(CHALLENGE_FRAME).getByRole('button', {name: 'Complete'}).click();
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      expect(await page.evaluate(() => (window as unknown as {__violations: string[]}).__violations)).toEqual([]);
    });
  });
}

test('the salon page enforces its policy: an inline script is blocked and reported', async ({browser, stack}) => {
  // In a page of its own, so the deliberate violation is not the widget's.
  const page = await browser.newPage();
  try {
    const before = stack.cspReports.length;
    await page.goto(stack.salonUrl);
    const blocked = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), {once: true});
          const script = document.createElement('script');
          script.textContent = 'window.__inline = true';
          document.head.appendChild(script);
        }),
    );
    expect(blocked).toBe('script-src-elem');
    expect(await page.evaluate(() => (window as unknown as {__inline?: boolean}).__inline)).toBeUndefined();
    await expect.poll(() => stack.cspReports.length).toBeGreaterThan(before);
    expect(JSON.stringify(stack.cspReports.slice(before))).toContain('script-src');
    // This test's own violation, not the widget's: out of the list the guard checks.
    stack.cspReports.splice(before);
  } finally {
    await page.close();
  }
});

test('Stripe.js starts at once, beside the checkout\'s view: the loader does not wait for the view to name it', async ({page, stack}) => {
  // The view is held until Stripe.js is asked for (5 s at most): a loader that waited for the
  // view's stripe_js_url would not ask before it.
  let stripeAsked!: () => void;
  const asked = new Promise<boolean>((resolve) => (stripeAsked = () => resolve(true)));
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/v3/') stripeAsked();
  });
  let askedBeforeView: boolean | undefined;
  await page.route('**/v1/checkouts/*', async (route) => {
    if (route.request().method() === 'GET') {
      askedBeforeView = await Promise.race([asked, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
    }
    await route.continue();
  });
  const opened = await openCheckout(page, stack, 'link');
  await expect(state(opened)).toHaveAttribute('data-state', 'ready');
  expect(askedBeforeView).toBe(true);
});

test('the host page hears slotpay:ready, slotpay:failed and slotpay:succeeded, bubbling from the widget', async ({page, stack}) => {
  const opened = await openCheckout(page, stack, 'booking');
  await pay(opened, CARDS.declined);
  await expect(state(opened)).toHaveAttribute('data-state', 'failed');
  await opened.widget.getByRole('button', {name: WORDS.en.retry}).click();
  await pay(opened, CARDS.visa);
  await expect(state(opened)).toHaveAttribute('data-state', 'paid');
  // The booking page's own script logs what it hears on `document`.
  const log = page.locator('#events li');
  await expect(log).toHaveCount(3);
  await expect(log.locator('strong')).toHaveText(['slotpay:ready', 'slotpay:failed', 'slotpay:succeeded']);
  const details = (await log.locator('code').allTextContents()).map((t) => JSON.parse(t));
  const token = await opened.widget.getAttribute('checkout');
  expect(details[0]).toEqual({token, amount: 1350, currency: 'eur'});
  expect(details[1]).toMatchObject({code: 'card_declined', message: WORDS.en.declined});
  expect(details[2]).toEqual({token, amount: 1350, currency: 'eur'});
  await expect(page.locator('#payment-note')).toHaveText('Deposit paid: your appointment is confirmed.');
});

test('French: the salon page (data-locale) and the booking page (locale attribute) show French words and amounts', async ({page, stack}) => {
  // The widget carries no words: each page's language comes from the server, fetched once by
  // the loader.
  const words: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/words/')) words.push(path);
  });
  const salon = await openCheckout(page, stack, 'salon');
  const fr = (name: string) => salon.widget.locator(name);
  expect(spaces(await fr('#pay-text').textContent())).toBe('Payer 13,50 €');
  expect(words).toEqual(['/words/fr.json']);
  await expect(fr('#email-label')).toHaveText('E-mail');
  await expect(fr('#badge-title')).toHaveText('Mode test');
  await expect(fr('#frame')).toHaveAttribute('aria-label', 'Paiement sécurisé');
  // An invalid email is refused in French before any call.
  await fr('#email').fill('pas-une-adresse');
  await fillCard(salon, CARDS.visa);
  await clickPay(salon);
  await expect(fr('#alert')).toHaveText('Saisissez une adresse e-mail telle que nom@exemple.fr.');

  const booking = await openCheckout(page, stack, 'booking');
  expect(spaces(await booking.widget.locator('#pay-text').textContent())).toBe('Pay €13.50');
  expect(words).toEqual(['/words/fr.json', '/words/en.json']);
  await booking.widget.evaluate((el) => el.setAttribute('locale', 'fr'));
  await expect(booking.widget.locator('#pay-text')).toHaveText(/^Payer 13,50/);
  expect(words).toEqual(['/words/fr.json', '/words/en.json', '/words/fr.json']);
  await expect(state(booking)).toHaveAttribute('data-state', 'ready');
  await pay(booking, CARDS.visa);
  await expect(booking.widget.locator('#result-title')).toHaveText('Paiement réussi');
  await expect(booking.widget.locator('#receipt')).toContainText('Montant');
});

test('a page in French without data-locale: the loader asks for French beside the view, the merchant\'s English wins', async ({page, stack}) => {
  const words: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/words/')) words.push(path);
  });
  // The page's language is the loader's guess at the checkout's, asked for before the view answers.
  await page.addInitScript(() => document.addEventListener('DOMContentLoaded', () => (document.documentElement.lang = 'fr')));
  const booking = await openCheckout(page, stack, 'booking');
  expect(spaces(await booking.widget.locator('#pay-text').textContent())).toBe('Pay €13.50');
  await expect(booking.widget.locator('#frame')).toHaveAttribute('lang', 'en');
  // The guess, once, then the checkout's language once the view named it.
  expect(words).toEqual(['/words/fr.json', '/words/en.json']);
});

test('the payment-link page asks for the widget and Stripe.js at once, and each file is fetched once', async ({page, stack}) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (/\/(slotpay\.js|pkg\/.*|v3\/?)$/.test(url.pathname)) fetched.push(url.pathname);
  });
  const unused: string[] = [];
  page.on('console', (message) => {
    if (/preload/i.test(message.text())) unused.push(message.text());
  });
  const opened = await openCheckout(page, stack, 'link');
  await expect(state(opened)).toHaveAttribute('data-state', 'ready');
  const hints = await page.locator('head link[rel="preload"], head link[rel="modulepreload"]').evaluateAll((links) =>
    links.map((l) => `${l.getAttribute('rel')} ${new URL(l.getAttribute('href')!, location.href).pathname}`),
  );
  expect(hints).toEqual(['modulepreload /pkg/slotpay_widget.js', 'preload /pkg/slotpay_widget_bg.wasm', 'preload /v3/']);
  // A hint the loader's request did not match would be a second download (and a warning).
  expect(fetched.sort()).toEqual(['/pkg/slotpay_widget.js', '/pkg/slotpay_widget_bg.wasm', '/slotpay.js', '/v3/']);
  expect(unused).toEqual([]);
});

test("the payment-link page shows the merchant's logo, allowed by its policy, on a 360 px phone", async ({page, stack}) => {
  // A logo on a loopback http URL (https elsewhere), answered here rather than by a server.
  const logo = 'http://127.0.0.1:9/salon-logo.svg';
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200"><rect width="600" height="200" fill="#3a6"/></svg>';
  await page.route(logo, (route) => route.fulfill({contentType: 'image/svg+xml', body: svg}));
  await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {logo_url: logo});
  try {
    await page.setViewportSize({width: 360, height: 740});
    const opened = await openCheckout(page, stack, 'link');
    await expect(state(opened)).toHaveAttribute('data-state', 'ready');
    const image = page.locator('img.sp-logo');
    await expect(image).toHaveAttribute('src', logo);
    // Loaded (a policy that refused it would leave it broken, and cspGuard would fail the test).
    expect(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(600);
    const box = (await image.boundingBox())!;
    expect(box.height).toBeLessThanOrEqual(48.5);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.screenshot({path: path.join(ARTIFACTS, 'link-logo-phone.png'), fullPage: true});
  } finally {
    await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {logo_url: ''});
  }
});

test("the merchant's brand colour themes the checkout, and a page's own colour wins over it", async ({page, stack}) => {
  await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {brand_color: '#2F6F5E'});
  try {
    const opened = await openCheckout(page, stack, 'link');
    await expect(state(opened)).toHaveAttribute('data-state', 'ready');
    const pay = opened.widget.locator('#pay');
    await expect(pay).toHaveCSS('background-color', 'rgb(47, 111, 94)');
    // Stripe's fields got the same colour (the card element's options, read from the CSS).
    const primary = await opened.widget.locator('#frame').evaluate((el) => getComputedStyle(el).getPropertyValue('--sp-color-primary').trim());
    expect(primary).toBe('#2f6f5e');
    // A page that sets --slotpay-color-primary keeps its colour.
    await page.evaluate(() => (document.querySelector('slotpay-checkout') as HTMLElement).style.setProperty('--slotpay-color-primary', '#aa2200'));
    await expect(pay).toHaveCSS('background-color', 'rgb(170, 34, 0)');
  } finally {
    await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {brand_color: ''});
  }
});

test.describe('axe-core', () => {
  // axe is injected as a script: the pages' CSPs would block it (rightly), so only these
  // tests run with CSP bypassed.
  test.use({bypassCSP: true});
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  async function axe(page: Page, opened: Opened, label: string) {
    await page.addScriptTag({content: axeSource});
    const result = await opened.widget.evaluate(async (el) => {
      const axe = (window as unknown as {axe: any}).axe;
      const r = await axe.run(el, {iframes: false});
      return {
        violations: r.violations.map(
          (v: any) => `${v.id} (${v.impact}): ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`,
        ),
        // What axe checked inside the shadow root (so an empty list means something).
        passed: r.passes.map((p: any) => p.id),
      };
    });
    expect(result.violations, `axe violations in the ${label} state`).toEqual([]);
    expect(result.passed).toEqual(expect.arrayContaining(['aria-allowed-attr', 'color-contrast']));
  }

  test("a dark merchant's checkout on a 360 px phone: its look everywhere, readable, axe-clean", async ({page, stack}) => {
    await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {corners: 'large', font: 'serif', color_scheme: 'dark'});
    try {
      await page.setViewportSize({width: 360, height: 740});
      const opened = await openCheckout(page, stack, 'link');
      const frame = opened.widget.locator('#frame');
      await expect(frame).toHaveAttribute('data-scheme', 'dark');
      await expect(frame).toHaveCSS('background-color', 'rgb(17, 24, 39)');
      await expect(frame).toHaveCSS('border-top-left-radius', '16px');
      expect(await frame.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/^Georgia/);
      // The page around it is dark too, and Stripe's fields got night.
      await expect(page.locator('body')).toHaveAttribute('data-scheme', 'dark');
      expect(await opened.card.locator('html').getAttribute('data-theme')).toBe('night');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.screenshot({path: path.join(ARTIFACTS, 'link-dark-phone.png'), fullPage: true});
      await axe(page, opened, 'dark ready');
      await pay(opened, CARDS.declined);
      await expect(state(opened)).toHaveAttribute('data-state', 'failed');
      await axe(page, opened, 'dark failed');
    } finally {
      await stack.admin('PATCH', `/merchants/${stack.merchant.id}`, {corners: '', font: '', color_scheme: ''});
    }
  });

  for (const embedding of EMBEDDINGS) {
    test(`${embedding}: no violations in the ready, failed and paid states`, async ({page, stack}) => {
      const opened = await openCheckout(page, stack, embedding);
      await axe(page, opened, 'ready');
      await pay(opened, CARDS.declined);
      await expect(state(opened)).toHaveAttribute('data-state', 'failed');
      await axe(page, opened, 'failed');
      await opened.widget.getByRole('button', {name: WORDS[opened.locale].retry}).click();
      await pay(opened, CARDS.visa);
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      await axe(page, opened, 'paid');
    });
  }
});

for (const embedding of EMBEDDINGS) {
  test(`${embedding}: a pay request lost on the network is retried with the same key and pays`, async ({page, stack, events}) => {
    const opened = await openCheckout(page, stack, embedding);
    const keys: string[] = [];
    let dropped = 0;
    await page.route(/\/v1\/checkouts\/[^/]+\/pay$/, async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (dropped++ === 0) return route.abort('connectionreset');
      await route.continue();
    });
    await pay(opened, CARDS.visa);
    await expect(state(opened)).toHaveAttribute('data-state', 'paid');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const token = (await events()).find((e) => e.type === 'slotpay:succeeded')!.detail.token;
    expect(await serverCheckout(stack, token)).toMatchObject({status: 'paid'});
  });
}

test('Stripe failing (HTTP 500 on confirm, through the server\'s own retries): the server answers 503, the widget retries the same key and pays', async ({page, stack}) => {
  const opened = await openCheckout(page, stack, 'booking');
  const answers: {key: string; status: number}[] = [];
  page.on('response', (response) => {
    if (/\/v1\/checkouts\/[^/]+\/pay$/.test(response.url())) {
      answers.push({key: response.request().headers()['idempotency-key'], status: response.status()});
    }
  });
  const before = await stack.control('GET', '/counters');
  // Four times: the server's own first try and its three retries (its default), so the
  // failure reaches the widget.
  await stack.control('POST', '/faults', {
    rules: [{method: 'POST', path: '/v1/payment_intents/*/confirm', kind: 'http_500', when: 'before', times: 4}],
  });
  try {
    await pay(opened, CARDS.visa);
    await expect(state(opened)).toHaveAttribute('data-state', 'paid');
  } finally {
    await stack.control('DELETE', '/faults');
  }
  expect(answers.map((a) => a.status)).toEqual([503, 200]);
  expect(new Set(answers.map((a) => a.key)).size).toBe(1);
  const after = await stack.control('GET', '/counters');
  expect((after.charges_succeeded ?? 0) - (before.charges_succeeded ?? 0)).toBe(1);
});

test('removing the widget (booking page: "Change the booking") takes away everything it added; booking again mounts anew', async ({page, stack}) => {
  const opened = await openCheckout(page, stack, 'booking');
  await expect(page.locator('slotpay-card iframe')).toHaveCount(1);
  await page.getByRole('button', {name: 'Change the booking'}).click();
  await expect(opened.widget).toHaveCount(0);
  await expect(page.locator('slotpay-card')).toHaveCount(0);
  await expect(page.locator('iframe[name^="__privateStripeFrame"]')).toHaveCount(0);
  const again = await openCheckout(page, stack, 'booking');
  await pay(again, CARDS.visa);
  await expect(state(again)).toHaveAttribute('data-state', 'paid');
});
