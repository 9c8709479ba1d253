/**
 * The official `stripe` SDK against the sandbox's automatic payment methods, Stripe's default
 * when a PaymentIntent names no `payment_method_types`: the types derived from the account's
 * and the currency, `allow_redirects` (a `return_url` at every confirmation unless it is
 * `never`, which leaves the bank redirects out), and the parameters it excludes.
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import Stripe from 'stripe';
import {startSandbox, stripeFor} from './support.mjs';

const RETURN_URL_NEEDED =
  'This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these ' +
  'payment methods might redirect your customer off of your page, you must provide a `return_url`. If you ' +
  "don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` " +
  'and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.';

describe('automatic payment methods through the stripe SDK', () => {
  let sb;
  let stripe;
  before(async () => {
    sb = await startSandbox();
    stripe = stripeFor(sb);
  });
  after(async () => {
    await sb.stop();
  });

  it('derives the types from the account and the currency, and says so on the PaymentIntent', async () => {
    const eur = await stripe.paymentIntents.create({amount: 2500, currency: 'eur'});
    assert.deepEqual(eur.automatic_payment_methods, {allow_redirects: 'always', enabled: true});
    assert.deepEqual(eur.payment_method_types, ['card', 'ideal', 'bancontact', 'sepa_debit']);
    const usd = await stripe.paymentIntents.create({amount: 2500, currency: 'usd', automatic_payment_methods: {enabled: true}});
    assert.deepEqual(usd.payment_method_types, ['card']);
    const never = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'eur',
      automatic_payment_methods: {enabled: true, allow_redirects: 'never'},
    });
    assert.deepEqual(never.automatic_payment_methods, {allow_redirects: 'never', enabled: true});
    assert.deepEqual(never.payment_method_types, ['card', 'sepa_debit']);
    const named = await stripe.paymentIntents.create({amount: 2500, currency: 'eur', payment_method_types: ['card']});
    assert.equal(named.automatic_payment_methods, null);
    assert.equal((await stripe.paymentIntents.retrieve(named.id)).automatic_payment_methods, null);
  });

  it('refuses automatic_payment_methods with payment_method_types', async () => {
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 2500,
        currency: 'eur',
        automatic_payment_methods: {enabled: true},
        payment_method_types: ['card', 'ideal'],
      }),
      (err) => {
        assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.type);
        assert.equal(err.statusCode, 400);
        assert.equal(err.message, 'You may only specify one of these parameters: automatic_payment_methods, payment_method_types.');
        assert.equal(err.param, 'automatic_payment_methods');
        return true;
      },
    );
  });

  it('wants a return_url to confirm while redirects are allowed, for a card too', async () => {
    const intent = await stripe.paymentIntents.create({amount: 2500, currency: 'eur'});
    await assert.rejects(stripe.paymentIntents.confirm(intent.id, {payment_method: 'pm_card_visa'}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.type);
      assert.equal(err.message, RETURN_URL_NEEDED);
      assert.equal(err.payment_intent.id, intent.id);
      assert.equal(err.payment_intent.status, 'requires_payment_method');
      return true;
    });
    const paid = await stripe.paymentIntents.confirm(intent.id, {payment_method: 'pm_card_visa', return_url: 'https://salon.example/book'});
    assert.equal(paid.status, 'succeeded');
  });

  it('with allow_redirects=never, confirms a card without a return_url and refuses iDEAL', async () => {
    const params = {amount: 2500, currency: 'eur', automatic_payment_methods: {enabled: true, allow_redirects: 'never'}};
    const card = await stripe.paymentIntents.create({...params, payment_method: 'pm_card_visa', confirm: true});
    assert.equal(card.status, 'succeeded');
    const ideal = await stripe.paymentMethods.create({type: 'ideal'});
    const intent = await stripe.paymentIntents.create(params);
    await assert.rejects(
      stripe.paymentIntents.confirm(intent.id, {payment_method: ideal.id, return_url: 'https://salon.example/book'}),
      (err) => {
        assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.type);
        assert.equal(err.param, 'payment_method');
        assert.match(err.message, /\(ideal\) is not allowed for this PaymentIntent/);
        return true;
      },
    );
    assert.equal((await stripe.paymentIntents.retrieve(intent.id)).status, 'requires_payment_method');
  });
});
