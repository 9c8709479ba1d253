/**
 * The reference server against stripe-sandbox and a throwaway PostgreSQL (a fresh database per
 * run on SLOTPAY_TEST_POSTGRES_URL's cluster; `./dev pg` prints one). Starts `server.mjs` as a
 * child process configured by the environment, the way the benchmark starts it.
 *
 *   SLOTPAY_TEST_POSTGRES_URL=postgres://... node --test tests/bench/node-server/
 */
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {after, before, describe, it} from 'node:test';
import pg from 'pg';
import {startSandbox, stripeFor} from '../../conformance/support.mjs';
import {SKIP_WITHOUT_PG, freshDatabase, seedCheckouts, startReferenceServer} from '../support.mjs';

describe('reference server (Express + stripe SDK + pg)', {skip: SKIP_WITHOUT_PG}, () => {
  let sandbox;
  let server;
  let database;
  let db;
  let browser; // the SDK with the publishable key: creates PaymentMethods as Stripe.js does

  before(async () => {
    database = await freshDatabase();
    sandbox = await startSandbox();
    browser = stripeFor(sandbox, sandbox.publishableKey);
    server = await startReferenceServer({
      DATABASE_URL: database.url,
      STRIPE_SECRET_KEY: sandbox.secretKey,
      STRIPE_PUBLISHABLE_KEY: sandbox.publishableKey,
      STRIPE_API_BASE: sandbox.url,
    });
    db = new pg.Client({connectionString: database.url});
    await db.connect();
  });

  after(async () => {
    await db?.end();
    await server?.stop();
    await sandbox?.stop();
    await database?.drop();
  });

  async function seed(body = {}) {
    return (await seedCheckouts(server.url, body))[0];
  }

  async function card(number) {
    const pm = await browser.paymentMethods.create({type: 'card', card: {number, exp_month: 12, exp_year: 2040, cvc: '123'}});
    return pm.id;
  }

  async function pay(token, paymentMethod, key = randomUUID(), extra = {}) {
    const headers = {'content-type': 'application/json'};
    if (key) headers['Idempotency-Key'] = key;
    const response = await fetch(`${server.url}/v1/checkouts/${token}/pay`, {
      method: 'POST',
      headers,
      body: JSON.stringify({payment_method: paymentMethod, email: 'client@example.com', save_card: false, ...extra}),
    });
    return {status: response.status, body: await response.json()};
  }

  async function row(token) {
    const {rows} = await db.query('SELECT status, payment_intent_id, card_last4, email FROM checkouts WHERE token = $1', [token]);
    return rows[0];
  }

  async function intentsCreated() {
    return (await sandbox.controlGet('/_sandbox/counters')).payment_intents_created ?? 0; // absent until the first
  }

  it('serves the checkout view the widget reads', async () => {
    const token = await seed({amount: 1250, currency: 'eur'});
    const response = await fetch(`${server.url}/v1/checkouts/${token}`);
    assert.equal(response.status, 200);
    const view = await response.json();
    assert.equal(view.token, token);
    assert.equal(view.status, 'open');
    assert.equal(view.amount, 1250);
    assert.equal(view.currency, 'eur');
    assert.equal(view.minimum_amount, 50);
    assert.equal(view.publishable_key, sandbox.publishableKey);
    assert.equal(view.stripe_js_url, `${sandbox.url}/v3/`);
    assert.equal(view.mode, 'sandbox');
    assert.ok(!JSON.stringify(view).includes(sandbox.secretKey), 'no secret key in the view');
  });

  it('pays a checkout with a Visa card: 200 succeeded, paid in the database, one PaymentIntent', async () => {
    const token = await seed();
    const before = await intentsCreated();
    const {status, body} = await pay(token, await card('4242424242424242'));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'succeeded');
    assert.deepEqual({...body.receipt, reference: undefined}, {brand: 'visa', last4: '4242', amount: 2500, currency: 'usd', reference: undefined});
    const stored = await row(token);
    assert.equal(stored.status, 'paid');
    assert.match(stored.payment_intent_id, /^pi_/);
    assert.equal(stored.email, 'client@example.com');
    assert.equal(await intentsCreated(), before + 1);
    const again = await pay(token, await card('4242424242424242'));
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'checkout_already_paid');
  });

  it('pays with the pm_card_visa test id', {todo: 'stripe-sandbox does not resolve pm_card_* ids on GET /v1/payment_methods/{id} (the brand check) yet'}, async () => {
    const token = await seed();
    const {status, body} = await pay(token, 'pm_card_visa');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'succeeded');
  });

  it('answers a decline with 402 and lets another card pay the same PaymentIntent', async () => {
    const token = await seed();
    const before = await intentsCreated();
    const declined = await pay(token, await card('4000000000000002'));
    assert.equal(declined.status, 402);
    assert.deepEqual(declined.body, {
      status: 'failed',
      error: {code: 'card_declined', message: 'Your card was declined.', decline_code: 'generic_decline'},
    });
    assert.equal((await row(token)).status, 'failed');
    const paid = await pay(token, await card('4242424242424242'));
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'succeeded');
    assert.equal(await intentsCreated(), before + 1, 'the PaymentIntent is created once per checkout');
  });

  it('runs two concurrent pays with one Idempotency-Key once, and replays the answer after', async () => {
    const token = await seed();
    const before = await intentsCreated();
    const key = randomUUID();
    const pm = await card('4242424242424242');
    const answers = await Promise.all([pay(token, pm, key), pay(token, pm, key)]);
    const succeeded = answers.filter((a) => a.status === 200 && a.body.status === 'succeeded');
    const busy = answers.filter((a) => a.status === 409 && a.body.error.code === 'payment_in_progress');
    assert.ok(succeeded.length >= 1, JSON.stringify(answers));
    assert.equal(succeeded.length + busy.length, 2, JSON.stringify(answers));
    assert.equal(await intentsCreated(), before + 1, 'one PaymentIntent');
    const replay = await pay(token, pm, key);
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, succeeded[0].body);
    const {rows} = await db.query('SELECT count(*)::int AS n FROM pay_attempts WHERE checkout_token = $1', [token]);
    assert.equal(rows[0].n, 1);
  });

  it('pays once when many concurrent pays use different keys', async () => {
    const token = await seed();
    const before = await intentsCreated();
    const pms = await Promise.all(Array.from({length: 8}, () => card('4242424242424242')));
    const answers = await Promise.all(pms.map((pm) => pay(token, pm)));
    const succeeded = answers.filter((a) => a.status === 200);
    assert.equal(succeeded.length, 1, JSON.stringify(answers));
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.status, 409);
      assert.ok(['payment_in_progress', 'checkout_already_paid'].includes(a.body.error.code), a.body.error.code);
    }
    assert.equal(await intentsCreated(), before + 1);
  });

  it('hands 3-D Secure to the browser and refreshes after it', async () => {
    const token = await seed();
    const {status, body} = await pay(token, await card('4000002760003184'));
    assert.equal(status, 200);
    assert.equal(body.status, 'requires_action');
    assert.match(body.client_secret, /^pi_\w+_secret_\w+$/);
    assert.equal((await row(token)).status, 'requires_action');
    const intent = body.client_secret.split('_secret_')[0];
    await sandbox.control(`/_sandbox/3ds/${intent}/complete`, {client_secret: body.client_secret});
    const refreshed = await fetch(`${server.url}/v1/checkouts/${token}/refresh`, {method: 'POST'});
    assert.equal(refreshed.status, 200);
    assert.equal((await refreshed.json()).status, 'succeeded');
    assert.equal((await row(token)).status, 'paid');
  });

  it('refuses bad requests with slotpay codes before any Stripe call', async () => {
    const before = await intentsCreated();
    const token = await seed();
    const noKey = await pay(token, 'pm_card_visa', null);
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.error.code, 'missing_idempotency_key');
    const badEmail = await pay(token, 'pm_card_visa', undefined, {email: 'nope'});
    assert.equal(badEmail.body.error.code, 'invalid_email');
    const badPm = await pay(token, 'tok_visa');
    assert.equal(badPm.body.error.code, 'invalid_payment_method');
    const extra = await pay(token, 'pm_card_visa', undefined, {amount: 1});
    assert.equal(extra.body.error.code, 'invalid_json');
    const small = await pay(await seed({amount: 49}), 'pm_card_visa');
    assert.equal(small.status, 400);
    assert.deepEqual(small.body.error, {code: 'amount_too_small', message: 'Your payment must be no less than 0.50 USD', param: 'amount'});
    const unknown = await pay(`cs_${'0'.repeat(48)}`, 'pm_card_visa');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'checkout_not_found');
    assert.equal((await row(token)).status, 'open');
    assert.equal(await intentsCreated(), before);
    assert.ok(!server.stderr().includes(sandbox.secretKey), 'no secret key in the log');
  });
});
