/**
 * The official `stripe` SDK against the sandbox: idempotent replay and conflict
 * (StripeIdempotencyError), and the authentication and permission errors it raises.
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import Stripe from 'stripe';
import {startSandbox, stripeFor} from './support.mjs';

describe('idempotency and keys through the stripe SDK', () => {
  let sb;
  let stripe;
  before(async () => {
    sb = await startSandbox();
    stripe = stripeFor(sb);
  });
  after(async () => {
    await sb.stop();
  });

  it('replays the first answer for the same key and parameters', async () => {
    const params = {amount: 2000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_visa', confirm: true};
    const first = await stripe.paymentIntents.create(params, {idempotencyKey: 'checkout-1-attempt-1'});
    const second = await stripe.paymentIntents.create(params, {idempotencyKey: 'checkout-1-attempt-1'});
    assert.equal(second.id, first.id);
    assert.equal(second.lastResponse.headers['idempotent-replayed'], 'true');
    assert.equal(first.lastResponse.headers['idempotent-replayed'], undefined);
    const counters = await sb.controlGet('/_sandbox/counters');
    assert.equal(counters.charges_succeeded, 1);
  });

  it('refuses the same key with other parameters with StripeIdempotencyError', async () => {
    await stripe.customers.create({email: 'a@example.com'}, {idempotencyKey: 'cust-1'});
    await assert.rejects(stripe.customers.create({email: 'b@example.com'}, {idempotencyKey: 'cust-1'}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeIdempotencyError, err.type);
      assert.match(err.message, /^Keys for idempotent requests can only be used with the same parameters they were first used with/);
      return true;
    });
  });

  it('raises StripeAuthenticationError and StripePermissionError as Stripe does', async () => {
    const unknown = stripeFor(sb, 'sk_test_doesnotexist0000000000001234');
    await assert.rejects(unknown.customers.list(), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeAuthenticationError);
      assert.match(err.message, /^Invalid API Key provided: sk_test_\*+1234$/);
      return true;
    });
    const {key} = await sb.control('/_sandbox/keys', {type: 'restricted', permissions: ['customers:read']});
    const restricted = stripeFor(sb, key);
    assert.ok(Array.isArray((await restricted.customers.list()).data));
    await assert.rejects(restricted.paymentIntents.create({amount: 1000, currency: 'usd'}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripePermissionError);
      assert.match(err.message, /Having the 'rak_payment_intent_write' permission would allow this request to continue\.$/);
      return true;
    });
    await sb.control('/_sandbox/keys/revoke', {key});
    await assert.rejects(restricted.customers.list(), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeAuthenticationError);
      assert.equal(err.code, 'api_key_expired');
      return true;
    });
  });

  it('survives an answer lost after the request took effect, thanks to the SDK\'s idempotency key', async () => {
    await sb.control('/_sandbox/faults', {rules: [{method: 'POST', path: '/v1/payment_intents', kind: 'http_500', when: 'after', times: 1}]});
    const before = (await sb.controlGet('/_sandbox/counters')).charges_succeeded ?? 0;
    const retrying = stripeFor(sb, sb.secretKey, {maxNetworkRetries: 2});
    const pi = await retrying.paymentIntents.create({amount: 1200, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_visa', confirm: true});
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.lastResponse.headers['idempotent-replayed'], 'true');
    const afterCount = (await sb.controlGet('/_sandbox/counters')).charges_succeeded;
    assert.equal(afterCount, before + 1, 'one charge, not two');
  });
});
