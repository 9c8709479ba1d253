/**
 * Every way to pay on each of the three embeddings, with the merchant offering card, iDEAL and
 * SEPA Debit: iDEAL authorized at the (sandbox) bank and back to the page the client paid from;
 * iDEAL failed at the bank, then a card on the same checkout; SEPA Debit reserved as pending,
 * then paid when the debit settles (Stripe's webhook); Google Pay from the Express Checkout
 * Element above the form, with the wallet's email; Bancontact on the payment link.
 *
 * Run: npx playwright test tests/e2e/checkout-methods.spec.ts
 */
import {
  ARTIFACTS, CARDS, EMBEDDINGS, WORDS, clickPay, expect, openCheckout, pay, serverCheckout, state, test, type Opened,
  type Stack,
} from '../support/checkout';
import type {Page} from '@playwright/test';
import path from 'node:path';

/** The methods the merchant offers while this file runs (card alone before and after). */
async function offer(stack: Stack, methods: string[]) {
  await stack.admin('PUT', `/merchants/${stack.merchant.id}/integration`, {payment_methods: methods});
  const integration = await stack.admin('GET', `/merchants/${stack.merchant.id}/integration`);
  expect(integration.payment_methods).toEqual(methods);
}

test.beforeAll(async ({stack}) => offer(stack, ['card', 'ideal', 'sepa_debit']));
test.afterAll(async ({stack}) => offer(stack, ['card']));

/** Picks a tab of the Payment Element (they show only when there are several methods). */
async function choose(opened: Opened, method: 'iDEAL' | 'SEPA Debit' | 'Card' | 'Bancontact') {
  await opened.card.getByRole('tab', {name: method}).click();
  await expect(opened.card.getByRole('tab', {name: method})).toHaveAttribute('aria-selected', 'true');
}

/**
 * After the bank: paid, as the page shows it. The widget reads the checkout again and shows its
 * receipt; when Stripe's webhook was faster, the page itself already knows (the booking page
 * shows the booking confirmed, the link page its "Paid" page without any form).
 */
async function paidAfterReturn(page: Page, opened: Opened) {
  await expect
    .poll(
      async () => {
        if (opened.embedding === 'booking' && (await page.locator('#booking-status').getAttribute('data-state')) === 'confirmed') {
          return 'paid';
        }
        if (opened.embedding === 'link' && (await page.getByRole('heading', {name: 'Paid, thank you'}).count())) return 'paid';
        if (!(await opened.widget.count())) return 'no widget';
        const shown = await state(opened).getAttribute('data-state');
        if (shown === 'paid') await expect(opened.widget.locator('#receipt')).toContainText('iDEAL');
        return shown;
      },
      {timeout: 15_000},
    )
    .toBe('paid');
}

/** A call to the sandbox's REST API with the merchant account's secret key. */
async function sandboxApi(stack: Stack, method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
  const response = await fetch(`${stack.sandbox.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${stack.sandbox.secretKey}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  expect(response.ok, `${method} ${path}`).toBe(true);
  return response.json();
}

/** The newest PaymentIntent of the merchant's sandbox account. */
async function newestIntent(stack: Stack): Promise<{id: string; status: string}> {
  return (await sandboxApi(stack, 'GET', '/v1/payment_intents?limit=1')).data[0];
}

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('iDEAL authorized at the bank comes back paid', async ({page, stack}) => {
      const opened = await openCheckout(page, stack, embedding);
      await choose(opened, 'iDEAL');
      await opened.card.getByLabel('iDEAL Bank').selectOption('ing');
      await opened.widget.locator('#email').fill('client@example.com');
      await clickPay(opened);
      await page.waitForURL(/\/_sandbox\/bank\//);
      await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-bank.png`)});
      await page.getByRole('button', {name: 'Authorize test payment'}).click();
      await page.waitForURL((url) => url.searchParams.get('redirect_status') === 'succeeded');
      expect(new URL(page.url()).searchParams.get('slotpay_checkout')).toMatch(/^cs_/);
      await paidAfterReturn(page, opened);
      const token = new URL(page.url()).searchParams.get('slotpay_checkout')!;
      expect(await serverCheckout(stack, token)).toMatchObject({status: 'paid', payment_method_type: 'ideal'});
    });

    test('iDEAL failed at the bank lets the client pay the same checkout by card', async ({page, stack}) => {
      const opened = await openCheckout(page, stack, embedding);
      const words = WORDS[opened.locale];
      await choose(opened, 'iDEAL');
      await opened.widget.locator('#email').fill('client@example.com');
      await clickPay(opened);
      await page.waitForURL(/\/_sandbox\/bank\//);
      await page.getByRole('button', {name: 'Fail test payment'}).click();
      await page.waitForURL((url) => url.searchParams.get('redirect_status') === 'failed');
      const token = new URL(page.url()).searchParams.get('slotpay_checkout')!;
      await expect(state(opened)).toHaveAttribute('data-state', 'failed', {timeout: 15_000});
      await expect(opened.widget.locator('#alert')).toHaveText(words.authentication_failed);
      expect((await serverCheckout(stack, token)).status).not.toBe('paid');

      await opened.widget.getByRole('button', {name: words.retry}).click();
      await expect(state(opened)).toHaveAttribute('data-state', 'ready');
      await choose(opened, 'Card');
      await pay(opened, CARDS.visa);
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      expect(await serverCheckout(stack, token)).toMatchObject({status: 'paid', card: {last4: '4242'}});
    });

    test('SEPA Debit reserves the booking, then the settled debit pays it', async ({page, stack, events}) => {
      const opened = await openCheckout(page, stack, embedding);
      await opened.widget.locator('#email').fill('lea@example.com');
      await choose(opened, 'SEPA Debit');
      await expect(opened.card.locator('#mandate')).toContainText('authorise (A) Salon Lumière and Stripe');
      const sepa = opened.card.locator('#panel-sepa_debit');
      await sepa.getByLabel('Full name').fill('Léa Martin');
      await sepa.getByLabel('Email').fill('lea@example.com');
      await sepa.getByLabel('IBAN').fill('DE89 3704 0044 0532 0130 00');
      await clickPay(opened);
      await expect(state(opened)).toHaveAttribute('data-state', 'pending');
      await expect(opened.widget.locator('#result-title')).toHaveText(
        opened.locale === 'fr' ? 'Réservation confirmée' : 'Booking reserved',
      );
      await page.screenshot({path: path.join(ARTIFACTS, `${embedding}-pending.png`), fullPage: true});
      const token = (await events()).find((e) => e.type === 'slotpay:ready')!.detail.token;
      expect((await serverCheckout(stack, token)).status).toBe('processing');

      const intent = await newestIntent(stack);
      expect(intent.status).toBe('processing');
      await stack.control('POST', `/payment_intents/${intent.id}/settle`);
      await expect
        .poll(async () => (await serverCheckout(stack, token)).status, {timeout: 15_000})
        .toBe('paid');
      expect(await serverCheckout(stack, token)).toMatchObject({payment_method_type: 'sepa_debit'});
    });
  });
}

for (const embedding of EMBEDDINGS) {
  test.describe(embedding, () => {
    test('Google Pay above the form on a registered domain, on a 360 px phone: the wallet pays by card with its email; cancelled, nothing is charged', async ({page, stack}) => {
      await page.setViewportSize({width: 360, height: 740});
      const opened = await openCheckout(page, stack, embedding);
      const host = new URL(page.url()).hostname;
      const domains = await sandboxApi(stack, 'GET', `/v1/payment_method_domains?domain_name=${host}`);
      expect(domains.data[0]).toMatchObject({domain_name: host, enabled: true, google_pay: {status: 'active'}});
      const googlePay = opened.express.getByRole('button', {name: 'Book with Google Pay'});
      await expect(googlePay).toBeVisible();
      // Apple Pay never runs on an IP address or localhost, so the sandbox does not offer it here;
      // the Payment Element below shows no wallet of its own.
      await expect(opened.express.getByRole('button', {name: 'Book with Apple Pay'})).toBeHidden();
      await expect(opened.card.getByRole('tab', {name: 'Google Pay'})).toBeHidden();
      await expect(opened.widget.locator('#email')).toHaveValue('');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await opened.widget.locator('slotpay-express').scrollIntoViewIfNeeded();
      await page.screenshot({path: path.join(ARTIFACTS, `checkout-express-${embedding}-phone.png`)});

      const intentsBefore = (await sandboxApi(stack, 'GET', '/v1/payment_intents?limit=100')).data.length;
      await googlePay.click();
      await expect(opened.express.getByRole('group', {name: 'Google Pay (sandbox)'})).toBeVisible();
      await opened.express.getByRole('button', {name: 'Cancel'}).click();
      await expect(opened.express.getByRole('group', {name: 'Google Pay (sandbox)'})).toBeHidden();
      await expect(state(opened)).toHaveAttribute('data-state', 'ready');
      expect((await sandboxApi(stack, 'GET', '/v1/payment_intents?limit=100')).data.length).toBe(intentsBefore);

      await googlePay.click();
      await opened.express.getByLabel('Email').fill('wallet.client@example.com');
      await opened.express.getByRole('button', {name: 'Pay', exact: true}).click();
      await expect(state(opened)).toHaveAttribute('data-state', 'paid');
      await expect(opened.widget.locator('#receipt')).toContainText('4242');
      // The wallet's email is the checkout's: it fills the form and gets the receipt.
      await expect(opened.widget.locator('#email')).toHaveValue('wallet.client@example.com');
      const intent = await newestIntent(stack);
      const charge = (await sandboxApi(stack, 'GET', `/v1/charges?payment_intent=${intent.id}`)).data[0];
      expect(charge.payment_method_details.card.wallet.type).toBe('google_pay');
      const token = (intent as {metadata: {slotpay_checkout: string}}).metadata.slotpay_checkout;
      expect(await serverCheckout(stack, token)).toMatchObject({status: 'paid', customer_email: 'wallet.client@example.com'});
      await page.screenshot({path: path.join(ARTIFACTS, `checkout-google-pay-paid-${embedding}-phone.png`), fullPage: true});
    });
  });
}

for (const embedding of EMBEDDINGS) {
  test(`${embedding}: no wallet where the domain is not enabled, nor where the merchant switched wallets off`, async ({page, stack}) => {
    const opened = await openCheckout(page, stack, embedding);
    const host = new URL(page.url()).hostname;
    const domain = (await sandboxApi(stack, 'GET', `/v1/payment_method_domains?domain_name=${host}`)).data[0];
    await expect(opened.express.getByRole('button', {name: 'Book with Google Pay'})).toBeVisible();
    await sandboxApi(stack, 'POST', `/v1/payment_method_domains/${domain.id}`, {enabled: 'false'});
    // The Elements learn the wallets from their Elements session: wait for the Express Checkout
    // Element's answer, so that "no wallet" is not read before it.
    const expressSession = () =>
      page.waitForResponse((r) => r.url().includes('/_sandbox/elements/session') && r.frame().url().includes('/express.html'));
    try {
      const answered = expressSession();
      const again = await openCheckout(page, stack, embedding);
      expect(await (await answered).json()).toMatchObject({google_pay: false, apple_pay: false});
      await expect(again.card.getByRole('tab', {name: 'iDEAL'})).toBeVisible();
      await expect(again.express.getByRole('button', {name: 'Book with Google Pay'})).toBeHidden();
      await expect(again.widget.locator('slotpay-express')).toBeHidden();
      await expect(again.card.getByRole('tab', {name: 'Google Pay'})).toBeHidden();
    } finally {
      await sandboxApi(stack, 'POST', `/v1/payment_method_domains/${domain.id}`, {enabled: 'true'});
    }
    await stack.admin('PUT', `/merchants/${stack.merchant.id}/integration`, {wallets: false});
    try {
      const off = await openCheckout(page, stack, embedding);
      // The domain allows Google Pay; the merchant does not: no Express Checkout Element at all.
      await expect(off.card.getByRole('tab', {name: 'iDEAL'})).toBeVisible();
      await expect(off.widget.locator('slotpay-express iframe')).toHaveCount(0);
      await expect(off.card.getByRole('tab', {name: 'Google Pay'})).toBeHidden();
    } finally {
      await stack.admin('PUT', `/merchants/${stack.merchant.id}/integration`, {wallets: true});
    }
  });
}

test('Bancontact on the payment link: the holder named, authorized at the bank, paid', async ({page, stack}) => {
  await offer(stack, ['card', 'bancontact']);
  try {
    const opened = await openCheckout(page, stack, 'link');
    await choose(opened, 'Bancontact');
    await opened.widget.locator('#email').fill('client@example.com');
    // The holder's name is required before anything is sent.
    await clickPay(opened);
    await expect(opened.card.getByText('Your name is incomplete.')).toBeVisible();
    await expect(state(opened)).toHaveAttribute('data-state', 'ready');
    await opened.card.getByRole('textbox', {name: 'Full name'}).fill('Léa Martin');
    await clickPay(opened);
    await page.waitForURL(/\/_sandbox\/bank\//);
    await page.getByRole('button', {name: 'Authorize test payment'}).click();
    await page.waitForURL((url) => url.searchParams.get('redirect_status') === 'succeeded');
    const token = new URL(page.url()).searchParams.get('slotpay_checkout')!;
    await expect
      .poll(async () => (await serverCheckout(stack, token)).status, {timeout: 15_000})
      .toBe('paid');
    expect(await serverCheckout(stack, token)).toMatchObject({payment_method_type: 'bancontact'});
  } finally {
    await offer(stack, ['card', 'ideal', 'sepa_debit']);
  }
});
