/**
 * The checkout on each of its three embeddings (the platform's booking page, the salon's
 * script tag on another origin under a strict CSP, the payment link page), against the real
 * server and stripe-sandbox: success with 4242, declines then another card, 3-D Secure
 * completed and failed, double click.
 *
 * Run: npx playwright test tests/e2e/checkout-pay.spec.ts
 */
import {
  ARTIFACTS, CARDS, CHALLENGE_FRAME, EMBEDDINGS, WORDS, expect, fillCard, formatted, openCheckout, pay, serverCheckout,
  spaces,
  state, test,
} from '../support/checkout';
import path from 'node:path';

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('pays with 4242: receipt with last 4, slotpay:succeeded, paid on the server', async ({page, stack, events}) => {
      const opened = await openCheckout(page, stack, embedding);
      const words = WORDS[opened.locale];
      const amount = formatted(opened.amount, opened.currency, opened.locale);
      await expect(opened.widget.locator('#amount')).toHaveText(amount, {useInnerText: true});
      expect(spaces(await opened.widget.locator('#pay-text').textContent())).toContain(amount);
      await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-ready.png`), fullPage: true});

      await pay(opened, CARDS.visa);
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      await expect(opened.widget.locator('#result-title')).toHaveText(words.paid);
      await expect(opened.widget.locator('#receipt')).toContainText('4242');
      await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-paid.png`), fullPage: true});

      const succeeded = (await events()).filter((e) => e.type === 'slotpay:succeeded');
      expect(succeeded).toHaveLength(1);
      expect(succeeded[0].detail).toMatchObject({amount: opened.amount, currency: 'eur'});
      const checkout = await serverCheckout(stack, succeeded[0].detail.token);
      expect(checkout).toMatchObject({status: 'paid', amount: opened.amount, card: {last4: '4242'}});
    });
  });
}

/** The decline cards and the words each one shows (the sandbox's decline codes). */
const DECLINES = [
  {card: CARDS.declined, words: 'declined', code: 'card_declined'},
  {card: CARDS.insufficientFunds, words: 'insufficient_funds', code: 'card_declined'},
  {card: CARDS.lost, words: 'declined', code: 'card_declined'},
  {card: CARDS.stolen, words: 'declined', code: 'card_declined'},
  {card: CARDS.expired, words: 'expired_card', code: 'card_declined'},
  {card: CARDS.incorrectCvc, words: 'incorrect_cvc', code: 'card_declined'},
  {card: CARDS.processingError, words: 'processing_error', code: 'card_declined'},
] as const;

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('each decline card shows its message and allows another card, then 4242 succeeds', async ({page, stack, events}) => {
      const opened = await openCheckout(page, stack, embedding);
      const words = WORDS[opened.locale];
      for (const [i, decline] of DECLINES.entries()) {
        await pay(opened, decline.card);
        await expect(state(opened)).toHaveAttribute('data-state', 'failed');
        await expect(opened.widget.locator('#alert')).toHaveText(words[decline.words]);
        await expect(opened.widget.locator('#result-title')).toHaveText(words.failed);
        if (i === 0) await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-failed.png`), fullPage: true});
        await opened.widget.getByRole('button', {name: words.retry}).click();
        await expect(state(opened)).toHaveAttribute('data-state', 'ready');
        await expect(opened.widget.locator('#alert')).toHaveText('');
      }
      const failed = (await events()).filter((e) => e.type === 'slotpay:failed');
      expect(failed).toHaveLength(DECLINES.length);
      expect(failed.map((e) => e.detail.message)).toEqual(DECLINES.map((d) => words[d.words]));

      await pay(opened, CARDS.visa);
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      const token = (await events()).find((e) => e.type === 'slotpay:succeeded')!.detail.token;
      const checkout = await serverCheckout(stack, token);
      expect(checkout).toMatchObject({status: 'paid', card: {last4: '4242'}});
    });

    test('3-D Secure completed pays; 3-D Secure failed says so and another card pays', async ({page, stack, events}) => {
      let opened = await openCheckout(page, stack, embedding);
      const words = WORDS[opened.locale];
      await pay(opened, CARDS.threeDs);
      const challenge = page.frameLocator(CHALLENGE_FRAME);
      await expect(challenge.getByRole('button', {name: 'Complete'})).toBeVisible();
      await expect(state(opened)).toHaveAttribute('data-state', 'authenticating');
      // The viewport only: a full-page capture resizes the page under Stripe's modal.
      await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-3ds.png`)});
      await challenge.getByRole('button', {name: 'Complete'}).click();
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      await expect(opened.widget.locator('#receipt')).toContainText('3184');
      await expect(page.locator(CHALLENGE_FRAME)).toHaveCount(0);
      const paidToken = (await events()).find((e) => e.type === 'slotpay:succeeded')!.detail.token;
      expect(await serverCheckout(stack, paidToken)).toMatchObject({status: 'paid', card: {last4: '3184'}});

      opened = await openCheckout(page, stack, embedding);
      await pay(opened, CARDS.threeDs);
      await challenge.getByRole('button', {name: 'Fail'}).click();
      await expect(state(opened)).toHaveAttribute('data-state', 'failed');
      await expect(opened.widget.locator('#alert')).toHaveText(words.authentication_failed);
      const failed = (await events()).filter((e) => e.type === 'slotpay:failed');
      expect(failed).toHaveLength(1);
      const failedToken = failed[0].detail.token;
      expect((await serverCheckout(stack, failedToken)).status).not.toBe('paid');
      await opened.widget.getByRole('button', {name: words.retry}).click();
      await pay(opened, CARDS.mastercard);
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      expect(await serverCheckout(stack, failedToken)).toMatchObject({status: 'paid', card: {last4: '4444'}});
    });

    test('a double click on Pay sends one pay request', async ({page, stack}) => {
      const opened = await openCheckout(page, stack, embedding);
      const pays: string[] = [];
      const methods: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (request.method() === 'POST' && /^\/v1\/checkouts\/[^/]+\/pay$/.test(url.pathname)) pays.push(request.url());
        if (request.method() === 'POST' && url.pathname === '/v1/payment_methods') methods.push(request.url());
      });
      await opened.widget.locator('#email').fill('client@example.com');
      await fillCard(opened, CARDS.visa);
      // Scrolled to first (see clickPay).
      await opened.widget.locator('#pay').scrollIntoViewIfNeeded();
      await opened.widget.locator('#pay').dblclick();
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      expect(pays).toHaveLength(1);
      expect(methods).toHaveLength(1);
    });
  });
}

test('booking a Colour (deposit, cancellation fee): consent saves the card for the fee', async ({page, stack}) => {
  const opened = await openCheckout(page, stack, 'booking', {service: 'colour'});
  await expect(opened.widget.locator('#amount')).toHaveText('€20.00');
  const consent = opened.widget.locator('#save-card');
  await expect(consent).toBeVisible();
  // The fee reads as the amount beside it does (both as the browser's Intl writes them).
  await expect(opened.widget.locator('#consent-text')).toContainText('of up to €30.00,');
  await consent.check();
  await pay(opened, CARDS.visa);
  await expect(state(opened)).toHaveAttribute('data-state', 'paid');
  const token = await opened.widget.getAttribute('checkout');
  expect(await serverCheckout(stack, token!)).toMatchObject({status: 'paid', amount: 2000, card_saved: true});
});
