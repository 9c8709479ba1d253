/**
 * The React reference checkout in Debian's Chromium, built (dist/) and served under a strict
 * Content-Security-Policy, against the reference server + stripe-sandbox + PostgreSQL: the same
 * flows the benchmark relies on (config fetch, ready event, pay, decline and another card,
 * 3-D Secure, below-minimum refusal without a pay request, French amounts).
 *
 *   SLOTPAY_TEST_POSTGRES_URL=postgres://... node --test tests/bench/react-checkout/
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {chromium} from '@playwright/test';
import {startSandbox} from '../../conformance/support.mjs';
import {SKIP_WITHOUT_PG, freshDatabase, seedCheckouts, startReferenceServer} from '../support.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(HERE, 'dist');
/** The Payment Element's frame (the Express Checkout Element's is above the form). */
const CARD_FRAME = '.sp-card iframe[name^="__privateStripeFrame"]';
const CHALLENGE_FRAME = 'iframe[name^="__privateStripeChallengeFrame"]';
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css'};

/** Serves dist/ with `csp()` as the Content-Security-Policy of every answer. */
async function serveDist(csp) {
  const server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    const file = path.join(DIST, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(DIST)) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': csp()});
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r))};
}

describe('React reference checkout in Chromium', {skip: SKIP_WITHOUT_PG}, () => {
  let database;
  let sandbox;
  let server;
  let site;
  let browser;
  let csp = '';

  before(async () => {
    // Always the current sources (a build takes about a second).
    const build = spawnSync('npm', ['run', 'build', '--silent'], {cwd: HERE, stdio: ['ignore', 'ignore', 'inherit']});
    assert.equal(build.status, 0, 'npm run build');
    database = await freshDatabase();
    sandbox = await startSandbox();
    // The page's origin first: the API allows only it (CORS), and the CSP names the API.
    site = await serveDist(() => csp);
    server = await startReferenceServer({
      DATABASE_URL: database.url,
      STRIPE_SECRET_KEY: sandbox.secretKey,
      STRIPE_PUBLISHABLE_KEY: sandbox.publishableKey,
      STRIPE_API_BASE: sandbox.url,
      CORS_ORIGINS: site.url,
    });
    csp = [
      "default-src 'self'",
      `script-src 'self' ${sandbox.url}`,
      `frame-src ${sandbox.url}`,
      `connect-src ${server.url} ${sandbox.url}`,
      "style-src 'self'",
    ].join('; ');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await server?.stop();
    await sandbox?.stop();
    await database?.drop();
  });

  /** Opens the checkout for a new checkout; resolves once `slotpay:ready` fired. */
  async function open(seed = {}) {
    const [token] = await seedCheckouts(server.url, seed);
    const page = await browser.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    // Records the host page's view of the checkout: slotpay:* events and CSP violations.
    await page.addInitScript(() => {
      window.seen = [];
      for (const name of ['slotpay:ready', 'slotpay:succeeded', 'slotpay:failed']) {
        document.addEventListener(name, (e) => window.seen.push({name, detail: e.detail}));
      }
      document.addEventListener('securitypolicyviolation', (e) => window.seen.push({name: 'csp', detail: e.violatedDirective}));
    });
    const query = new URLSearchParams({checkout: token, api: server.url});
    await page.goto(`${site.url}/?${query}`);
    return {page, token, requests, seen: () => page.evaluate(() => window.seen)};
  }

  async function waitFor(checkout, name) {
    await checkout.page.waitForFunction((n) => window.seen.some((e) => e.name === n), name, {timeout: 15_000});
    return (await checkout.seen()).filter((e) => e.name === name);
  }

  async function fillCard(page, number) {
    const frame = page.frameLocator(CARD_FRAME);
    await frame.getByLabel('Credit or debit card number').fill('');
    await frame.getByLabel('Credit or debit card number').pressSequentially(number);
    await frame.getByLabel('Credit or debit card expiration date').fill('12 / 34');
    await frame.getByLabel('Credit or debit card CVC/CVV').fill('123');
    await frame.getByLabel('ZIP').fill('94107');
  }

  it('pays with 4242: ready, receipt, slotpay:succeeded, no CSP violation', async () => {
    const checkout = await open();
    const {page} = checkout;
    const [ready] = await waitFor(checkout, 'slotpay:ready');
    assert.deepEqual(ready.detail, {token: checkout.token, amount: 2500, currency: 'usd'});
    assert.equal(await page.locator('.sp-badge-title').textContent(), 'Test mode');
    assert.equal(await page.locator('.sp-amount').textContent(), '$25.00');
    const button = page.getByRole('button', {name: 'Pay $25.00'});
    assert.equal(await button.isEnabled(), true);
    await page.getByLabel('Email').fill('client@example.com');
    await fillCard(page, '4242424242424242');
    await button.click();
    await page.getByRole('heading', {name: 'Payment successful'}).waitFor();
    const [succeeded] = await waitFor(checkout, 'slotpay:succeeded');
    assert.deepEqual(succeeded.detail, {token: checkout.token, amount: 2500, currency: 'usd'});
    assert.match(await page.locator('.sp-receipt').textContent(), /Visa •••• 4242/);
    assert.equal(checkout.requests.filter((r) => r.endsWith('/pay')).length, 1);
    assert.deepEqual((await checkout.seen()).filter((e) => e.name === 'csp'), []);
    await page.close();
  });

  it('shows a decline, then pays with another card', async () => {
    const checkout = await open();
    const {page} = checkout;
    await waitFor(checkout, 'slotpay:ready');
    await page.getByLabel('Email').fill('client@example.com');
    await fillCard(page, '4000000000000002');
    await page.getByRole('button', {name: 'Pay $25.00'}).click();
    await page.getByRole('heading', {name: 'Payment failed'}).waitFor();
    assert.equal(await page.getByRole('alert').textContent(), 'Your card was declined.');
    const [failed] = await waitFor(checkout, 'slotpay:failed');
    assert.equal(failed.detail.code, 'card_declined');
    await page.getByRole('button', {name: 'Try another card'}).click();
    await fillCard(page, '4242424242424242');
    await page.getByRole('button', {name: 'Pay $25.00'}).click();
    await page.getByRole('heading', {name: 'Payment successful'}).waitFor();
    await waitFor(checkout, 'slotpay:succeeded');
    await page.close();
  });

  it('completes 3-D Secure through Stripe.js and refreshes', async () => {
    const checkout = await open();
    const {page} = checkout;
    await waitFor(checkout, 'slotpay:ready');
    await page.getByLabel('Email').fill('client@example.com');
    await fillCard(page, '4000002760003184');
    await page.getByRole('button', {name: 'Pay $25.00'}).click();
    await page.frameLocator(CHALLENGE_FRAME).getByRole('button', {name: 'Complete'}).click();
    await page.getByRole('heading', {name: 'Payment successful'}).waitFor();
    await waitFor(checkout, 'slotpay:succeeded');
    assert.ok(checkout.requests.some((r) => r.endsWith('/refresh')), 'refreshed after 3-D Secure');
    await page.close();
  });

  it('refuses an amount below the minimum before any pay request', async () => {
    const checkout = await open({amount: 49});
    const {page} = checkout;
    const [failed] = await waitFor(checkout, 'slotpay:failed');
    assert.equal(failed.detail.code, 'amount_too_small');
    assert.equal(await page.getByRole('alert').textContent(), 'Your payment must be no less than 0.50 USD');
    assert.equal(await page.locator('form').isHidden(), true);
    assert.equal(checkout.requests.filter((r) => r.endsWith('/pay')).length, 0);
    await page.close();
  });

  it('speaks French with Intl amounts for a French checkout, and checks the email first', async () => {
    const checkout = await open({amount: 1250, currency: 'eur', locale: 'fr'});
    const {page} = checkout;
    await waitFor(checkout, 'slotpay:ready');
    const pay = page.getByRole('button', {name: /^Payer 12,50\s€$/});
    await pay.waitFor();
    await page.getByLabel('E-mail').fill('pas-une-adresse');
    await pay.click();
    assert.equal(await page.getByRole('alert').textContent(), 'Saisissez une adresse e-mail telle que nom@exemple.fr.');
    assert.equal(checkout.requests.filter((r) => r.endsWith('/pay')).length, 0);
    await page.close();
  });
});
