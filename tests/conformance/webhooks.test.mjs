/**
 * The official `stripe` SDK against the sandbox: webhook endpoint creation, and deliveries to a
 * tiny Node HTTP server verified with `stripe.webhooks.constructEvent` (also after a secret
 * rotation, when both secrets sign).
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import Stripe from 'stripe';
import {startSandbox, stripeFor, webhookServer} from './support.mjs';

describe('webhooks through the stripe SDK', () => {
  let sb;
  let stripe;
  let hooks;
  before(async () => {
    sb = await startSandbox();
    stripe = stripeFor(sb);
    hooks = await webhookServer();
  });
  after(async () => {
    await hooks.close();
    await sb.stop();
  });

  it('delivers signed events that constructEvent accepts', async () => {
    const endpoint = await stripe.webhookEndpoints.create({
      url: hooks.url,
      enabled_events: ['payment_intent.succeeded', 'charge.succeeded', 'charge.refunded'],
    });
    assert.match(endpoint.id, /^we_/);
    assert.match(endpoint.secret, /^whsec_/);
    const listed = await stripe.webhookEndpoints.list();
    assert.equal(listed.data[0].id, endpoint.id);
    assert.equal(listed.data[0].secret, undefined);

    const pi = await stripe.paymentIntents.create({amount: 2000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_visa', confirm: true});
    await stripe.refunds.create({payment_intent: pi.id});
    const got = await hooks.waitFor((d) => d.length >= 3);
    const events = got.map((d) => stripe.webhooks.constructEvent(d.body, d.signature, endpoint.secret));
    assert.deepEqual(events.map((e) => e.type), ['charge.succeeded', 'payment_intent.succeeded', 'charge.refunded']);
    assert.equal(events[1].data.object.id, pi.id);
    const refunded = events[2];
    assert.equal(refunded.data.object.refunded, true);
    assert.equal(refunded.data.previous_attributes.amount_refunded, 0);
    // The events API knows them too.
    const fetched = await stripe.events.retrieve(events[1].id);
    assert.equal(fetched.type, 'payment_intent.succeeded');
    // A tampered body or a wrong secret fails verification.
    assert.throws(() => stripe.webhooks.constructEvent(got[0].body + ' ', got[0].signature, endpoint.secret), Stripe.errors.StripeSignatureVerificationError);
    assert.throws(() => stripe.webhooks.constructEvent(got[0].body, got[0].signature, 'whsec_wrong'), Stripe.errors.StripeSignatureVerificationError);
    await stripe.webhookEndpoints.del(endpoint.id);
  });

  it('signs with both secrets while a rotated one is still valid', async () => {
    hooks.deliveries.length = 0;
    const endpoint = await stripe.webhookEndpoints.create({url: hooks.url, enabled_events: ['customer.created']});
    const rotated = await sb.control(`/_sandbox/webhook_endpoints/${endpoint.id}/rotate`, {expires_in: 3600});
    assert.match(rotated.secret, /^whsec_/);
    await stripe.customers.create({email: 'rotated@example.com'});
    const [d] = await hooks.waitFor((x) => x.length >= 1);
    const withOld = stripe.webhooks.constructEvent(d.body, d.signature, endpoint.secret);
    const withNew = stripe.webhooks.constructEvent(d.body, d.signature, rotated.secret);
    assert.equal(withOld.id, withNew.id);
    assert.equal(withNew.type, 'customer.created');
  });
});
