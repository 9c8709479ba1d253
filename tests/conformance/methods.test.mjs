/**
 * The official `stripe` SDK against the sandbox's other ways to pay: iDEAL, Bancontact and SEPA
 * Debit PaymentMethods, an iDEAL PaymentIntent's redirect to the bank and back, a SEPA Debit in
 * processing until it settles, and payment method domains (the SDK's own resource methods, so
 * paths, parameters and answers are the ones Stripe's clients use).
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import Stripe from 'stripe';
import {startSandbox, stripeFor} from './support.mjs';

describe('other ways to pay through the stripe SDK', () => {
  let sb;
  let stripe;
  before(async () => {
    sb = await startSandbox();
    stripe = stripeFor(sb);
  });
  after(async () => {
    await sb.stop();
  });

  it('makes bank PaymentMethods and refuses a bad IBAN with StripeInvalidRequestError', async () => {
    const ideal = await stripe.paymentMethods.create({type: 'ideal', ideal: {bank: 'abn_amro'}});
    assert.equal(ideal.type, 'ideal');
    assert.equal(ideal.ideal.bic, 'ABNANL2A');
    const bancontact = await stripe.paymentMethods.create({type: 'bancontact', billing_details: {name: 'Jan Peeters'}});
    assert.deepEqual(bancontact.bancontact, {});
    const sepa = await stripe.paymentMethods.create({
      type: 'sepa_debit',
      sepa_debit: {iban: 'AT611904300234573201'},
      billing_details: {name: 'Jenny Rosen', email: 'jenny@example.com'},
    });
    assert.equal(sepa.sepa_debit.country, 'AT');
    assert.equal(sepa.sepa_debit.last4, '3201');
    await assert.rejects(
      stripe.paymentMethods.create({
        type: 'sepa_debit',
        sepa_debit: {iban: 'AT611904300234573202'},
        billing_details: {name: 'Jenny Rosen', email: 'jenny@example.com'},
      }),
      (err) => {
        assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.type);
        assert.equal(err.param, 'sepa_debit[iban]');
        return true;
      },
    );
  });

  it('sends an iDEAL payment to the bank and back', async () => {
    const pm = await stripe.paymentMethods.create({type: 'ideal'});
    const intent = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'eur',
      payment_method_types: ['card', 'ideal'],
      payment_method: pm.id,
      confirm: true,
      return_url: 'https://salon.example/book',
    });
    assert.equal(intent.status, 'requires_action');
    assert.equal(intent.next_action.type, 'redirect_to_url');
    assert.equal(intent.next_action.redirect_to_url.return_url, 'https://salon.example/book');
    const back = await fetch(`${sb.url}/_sandbox/bank/${intent.id}/authorize`, {
      method: 'POST',
      body: new URLSearchParams({client_secret: intent.client_secret}),
      redirect: 'manual',
    });
    assert.equal(back.status, 303);
    const location = new URL(back.headers.get('location'));
    assert.equal(location.searchParams.get('payment_intent'), intent.id);
    assert.equal(location.searchParams.get('redirect_status'), 'succeeded');
    const paid = await stripe.paymentIntents.retrieve(intent.id, {expand: ['latest_charge']});
    assert.equal(paid.status, 'succeeded');
    assert.equal(paid.latest_charge.payment_method_details.type, 'ideal');
  });

  it('keeps a SEPA Debit processing until it settles', async () => {
    const pm = await stripe.paymentMethods.create({
      type: 'sepa_debit',
      sepa_debit: {iban: 'DE89370400440532013000'},
      billing_details: {name: 'Jenny Rosen', email: 'jenny@example.com'},
    });
    const intent = await stripe.paymentIntents.create({
      amount: 4000,
      currency: 'eur',
      payment_method_types: ['sepa_debit'],
      payment_method: pm.id,
      confirm: true,
      mandate_data: {customer_acceptance: {type: 'online', online: {ip_address: '203.0.113.9', user_agent: 'node'}}},
    });
    assert.equal(intent.status, 'processing');
    await sb.control(`/_sandbox/payment_intents/${intent.id}/settle`, {});
    assert.equal((await stripe.paymentIntents.retrieve(intent.id)).status, 'succeeded');
  });

  it('registers, lists and validates payment method domains', async () => {
    const domain = await stripe.paymentMethodDomains.create({domain_name: 'salon.example'});
    assert.equal(domain.object, 'payment_method_domain');
    assert.equal(domain.apple_pay.status, 'active');
    const listed = await stripe.paymentMethodDomains.list({domain_name: 'salon.example'});
    assert.deepEqual(listed.data.map((d) => d.id), [domain.id]);
    const off = await stripe.paymentMethodDomains.update(domain.id, {enabled: false});
    assert.equal(off.enabled, false);
    const checked = await stripe.paymentMethodDomains.validate(domain.id);
    assert.equal(checked.id, domain.id);
  });
});
