/**
 * The official `stripe` SDK against the sandbox: PaymentMethods (test ids retrieved too), card
 * tokens, PaymentIntents (success, each decline as StripeCardError with its decline_code, 3-D
 * Secure requires_action), capture, refunds.
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import Stripe from 'stripe';
import {startSandbox, stripeFor} from './support.mjs';

describe('payments through the stripe SDK', () => {
  let sb;
  let stripe;
  before(async () => {
    sb = await startSandbox();
    stripe = stripeFor(sb);
  });
  after(async () => {
    await sb.stop();
  });

  it('creates a PaymentMethod with the publishable key and pays with it', async () => {
    const browser = stripeFor(sb, sb.publishableKey);
    const pm = await browser.paymentMethods.create({
      type: 'card',
      card: {number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123'},
      billing_details: {email: 'client@example.com', name: 'Ann'},
    });
    assert.match(pm.id, /^pm_[A-Za-z0-9]{24}$/);
    assert.equal(pm.card.brand, 'visa');
    assert.equal(pm.card.last4, '4242');
    assert.equal(pm.billing_details.email, 'client@example.com');
    const pi = await stripe.paymentIntents.create({amount: 2500, currency: 'eur', payment_method_types: ['card'], payment_method: pm.id, confirm: true});
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount_received, 2500);
    assert.match(pi.lastResponse.requestId, /^req_/);
    const charge = await stripe.charges.retrieve(pi.latest_charge);
    assert.equal(charge.paid, true);
    assert.equal(charge.payment_method_details.card.last4, '4242');
    const expanded = await stripe.paymentIntents.retrieve(pi.id, {expand: ['latest_charge']});
    assert.equal(expanded.latest_charge.id, charge.id);
    const listed = await stripe.charges.list({payment_intent: pi.id});
    assert.equal(listed.data.length, 1);
  });

  it('retrieves a pm_card_* test id as a fresh PaymentMethod of that card, then pays with the id', async () => {
    const pm = await stripe.paymentMethods.retrieve('pm_card_mastercard');
    assert.equal(pm.object, 'payment_method');
    assert.match(pm.id, /^pm_[A-Za-z0-9]{24}$/);
    assert.equal(pm.card.brand, 'mastercard');
    assert.equal(pm.card.last4, '4444');
    const again = await stripe.paymentMethods.retrieve(pm.id);
    assert.equal(again.card.fingerprint, pm.card.fingerprint);
    const pi = await stripe.paymentIntents.create({amount: 2500, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_mastercard', confirm: true});
    assert.equal(pi.status, 'succeeded');
  });

  it('creates a card token with the publishable key, and a PaymentMethod from it once', async () => {
    const browser = stripeFor(sb, sb.publishableKey);
    const token = await browser.tokens.create({
      card: {number: '378282246310005', exp_month: 12, exp_year: 2040, cvc: '1234', name: 'Ann'},
    });
    assert.match(token.id, /^tok_[A-Za-z0-9]{24}$/);
    assert.equal(token.type, 'card');
    assert.equal(token.used, false);
    assert.equal(token.card.brand, 'American Express');
    assert.equal(token.card.last4, '0005');
    assert.equal(token.card.name, 'Ann');
    const retrieved = await stripe.tokens.retrieve(token.id);
    assert.equal(retrieved.card.id, token.card.id);
    const pm = await browser.paymentMethods.create({type: 'card', card: {token: token.id}});
    assert.equal(pm.card.brand, 'amex');
    assert.equal(pm.billing_details.name, 'Ann');
    assert.equal((await stripe.tokens.retrieve(token.id)).used, true);
    await assert.rejects(browser.paymentMethods.create({type: 'card', card: {token: token.id}}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.type);
      assert.equal(err.message, `You cannot use a Stripe token more than once: ${token.id}.`);
      return true;
    });
    await assert.rejects(
      browser.tokens.create({card: {number: '4242424242424241', exp_month: 12, exp_year: 2040}}),
      (err) => err instanceof Stripe.errors.StripeCardError && err.code === 'incorrect_number',
    );
  });

  it('declines each decline card with StripeCardError and its decline_code', async () => {
    const cases = [
      ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
      ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
      ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
      ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline'],
    ];
    for (const [pm, code, decline] of cases) {
      await assert.rejects(
        stripe.paymentIntents.create({amount: 1500, currency: 'usd', payment_method_types: ['card'], payment_method: pm, confirm: true}),
        (err) => {
          assert.ok(err instanceof Stripe.errors.StripeCardError, `${pm}: ${err.type}`);
          assert.equal(err.statusCode, 402);
          assert.equal(err.code, code, pm);
          assert.equal(err.decline_code, decline, pm);
          assert.match(err.charge, /^ch_/);
          assert.equal(err.payment_intent.status, 'requires_payment_method');
          assert.equal(err.payment_intent.last_payment_error.decline_code, decline);
          return true;
        },
      );
    }
  });

  it('asks for 3-D Secure with requires_action and completes through the challenge endpoint', async () => {
    for (const pm of ['pm_card_authenticationRequired', 'pm_card_authenticationRequiredOnSetup', 'pm_card_threeDSecure2Required']) {
      const pi = await stripe.paymentIntents.create({amount: 3000, currency: 'usd', payment_method_types: ['card'], payment_method: pm, confirm: true});
      assert.equal(pi.status, 'requires_action', pm);
      assert.equal(pi.next_action.type, 'use_stripe_sdk');
      assert.equal(pi.next_action.use_stripe_sdk.type, 'three_d_secure_redirect');
      assert.equal(
        pi.next_action.use_stripe_sdk.stripe_js,
        `${sb.url}/v3/3ds/challenge.html?intent=${pi.id}&client_secret=${pi.client_secret}`,
      );
    }
    const pi = await stripe.paymentIntents.create({amount: 3000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_authenticationRequired', confirm: true});
    const done = await sb.control(`/_sandbox/3ds/${pi.id}/complete`, {client_secret: pi.client_secret});
    assert.equal(done.status, 'succeeded');
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
    // A publishable key sees it with the client secret, as Stripe.js does.
    const browser = stripeFor(sb, sb.publishableKey);
    const seen = await browser.paymentIntents.retrieve(pi.id, {client_secret: pi.client_secret});
    assert.equal(seen.status, 'succeeded');
  });

  it('captures in part and refunds, refusing an over-refund', async () => {
    const pi = await stripe.paymentIntents.create({amount: 5000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual'});
    assert.equal(pi.status, 'requires_capture');
    const captured = await stripe.paymentIntents.capture(pi.id, {amount_to_capture: 4000});
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 4000);
    const refund = await stripe.refunds.create({payment_intent: pi.id, amount: 1000});
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.amount, 1000);
    await assert.rejects(stripe.refunds.create({payment_intent: pi.id, amount: 3001}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.message, 'Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)');
      assert.equal(err.param, 'amount');
      return true;
    });
    const charge = await stripe.charges.retrieve(captured.latest_charge);
    assert.equal(charge.amount_captured, 4000);
    assert.equal(charge.amount_refunded, 2000);
    const refunds = await stripe.refunds.list({payment_intent: pi.id});
    assert.equal(refunds.data.length, 1);
  });

  it('answers amount_too_small with Stripe\'s message', async () => {
    await assert.rejects(stripe.paymentIntents.create({amount: 49, currency: 'usd'}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.code, 'amount_too_small');
      assert.equal(err.message, 'Amount must be at least $0.50 usd');
      return true;
    });
  });
});
