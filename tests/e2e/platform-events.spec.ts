/**
 * The booking platform hears how its bookings end from slotpay's events: the demo booking
 * site's backend (tests/support/hosts.mjs) receives them at /slotpay-events, verifies each with
 * the official `standardwebhooks` package, handles each event id once, and keeps each booking's
 * state, which the booking page shows. Paid on the page, paid after the tab was closed during
 * 3-D Secure, refunded, forged, and a hold that lapses unpaid.
 *
 * Run: npx playwright test tests/e2e/platform-events.spec.ts
 */
import {randomBytes} from 'node:crypto';
import {Webhook} from 'standardwebhooks';
import type {Page} from '@playwright/test';
import {CARDS, CHALLENGE_FRAME, expect, openCheckout, pay, serverCheckout, state, test, type Stack} from '../support/checkout';
// @ts-ignore: plain ESM JavaScript shared with the demo script.
import {startStack} from '../support/stack.mjs';

/** The stack with what this file reads beyond the shared type. */
type EventsStack = Stack & {server: {adminToken: string}; bookingEndpoint: {id: string; url: string}};

/** A booking as the booking site's backend reports it (`GET /api/bookings/{ref}`). */
type Booking = {
  ref: string;
  state: 'pending' | 'confirmed' | 'released' | 'partially_refunded' | 'refunded';
  reason: string | null;
  checkout: string;
  amount: {amount: number; currency: string};
  amount_refunded: number;
  payment_failures: number;
  events: string[];
};

/** What reached the backend's /slotpay-events (`GET /api/_test/webhooks`). */
type Counts = {verified: number; refused: number; duplicates: number; unknown_bookings: number};

async function backend<T>(stack: Stack, path: string): Promise<T> {
  const response = await fetch(`${stack.origins.booking}${path}`);
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

const booking = (stack: Stack, ref: string) => backend<Booking>(stack, `/api/bookings/${encodeURIComponent(ref)}`);
const counts = (stack: Stack) => backend<Counts>(stack, '/api/_test/webhooks');

/** The booking reference the page keeps in its address once it has booked. */
async function bookingRef(page: Page): Promise<string> {
  await expect(page).toHaveURL(/[?&]booking=BK-/);
  return new URL(page.url()).searchParams.get('booking')!;
}

/** A booking made straight through the backend's API, as the page makes it. */
async function bookThroughBackend(stack: Stack): Promise<Booking> {
  const catalogue = await backend<{services: {id: string}[]; slots: {id: string}[]}>(stack, '/api/catalogue');
  const response = await fetch(`${stack.origins.booking}/api/bookings`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({service_id: catalogue.services[0].id, slot: catalogue.slots[1].id}),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Booking;
}

/** A refund through the platform API (it takes an Idempotency-Key). */
async function refund(stack: EventsStack, token: string, amount?: number) {
  const response = await fetch(`${stack.server.url}/v1/admin/checkouts/${token}/refunds`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${stack.server.adminToken}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': `refund-${randomBytes(8).toString('hex')}`,
    },
    body: JSON.stringify(amount === undefined ? {} : {amount}),
  });
  expect(response.status, await response.text()).toBeLessThan(300);
}

test('paid on the booking page: the backend confirms the booking from the verified event, once', async ({page, stack}) => {
  const before = await counts(stack);
  const opened = await openCheckout(page, stack, 'booking');
  const ref = await bookingRef(page);
  const status = page.locator('#booking-status');
  await expect(status).toHaveAttribute('data-state', 'pending');
  // The 15-minute hold the backend asked for, on the page and counted down in the widget.
  await expect(status).toContainText('Slot held until');
  await expect(opened.widget.locator('#hold')).toHaveText(/^Slot held for 1[45]:[0-5]\d, then released if unpaid\.$/);
  const held = await booking(stack, ref);
  expect(held).toMatchObject({state: 'pending', events: []});
  expect((await serverCheckout(stack, held.checkout)).expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(800);

  await pay(opened, CARDS.visa);
  await expect(state(opened)).toHaveAttribute('data-state', 'paid');
  await expect(status).toHaveAttribute('data-state', 'confirmed');
  await expect(status).toHaveText('Booking confirmed: the deposit of €13.50 is paid.');
  expect(await booking(stack, ref)).toMatchObject({state: 'confirmed', events: ['checkout.paid']});
  // (Other deliveries for the shared stack may arrive meanwhile: the counts only grow.)
  const after = await counts(stack);
  expect(after.verified).toBeGreaterThan(before.verified);
  expect(after.refused).toBe(before.refused);

  // Delivered again (at least once): acknowledged, counted as a duplicate, applied once.
  const events = await stack.admin('GET', `/events?checkout=${held.checkout}&type=checkout.paid`);
  expect(events.data).toHaveLength(1);
  await stack.admin('POST', `/events/${events.data[0].id}/resend`);
  await expect.poll(async () => (await counts(stack)).duplicates).toBeGreaterThan(after.duplicates);
  expect(await booking(stack, ref)).toMatchObject({state: 'confirmed', events: ['checkout.paid']});
});

test('refunds reach the booking: part of the deposit, then the rest', async ({page, stack}) => {
  const opened = await openCheckout(page, stack, 'booking');
  const ref = await bookingRef(page);
  await pay(opened, CARDS.visa);
  await expect(page.locator('#booking-status')).toHaveAttribute('data-state', 'confirmed');
  const {checkout} = await booking(stack, ref);

  await refund(stack as EventsStack, checkout, 500);
  await expect.poll(async () => (await booking(stack, ref)).state).toBe('partially_refunded');
  expect((await booking(stack, ref)).amount_refunded).toBe(500);
  await refund(stack as EventsStack, checkout);
  await expect.poll(async () => (await booking(stack, ref)).state).toBe('refunded');
  expect(await booking(stack, ref)).toMatchObject({
    amount_refunded: 1350,
    events: ['checkout.paid', 'refund.succeeded', 'refund.succeeded'],
  });

  // The page, reopened at its address, shows the booking as the backend knows it.
  await page.reload();
  await expect(page.locator('#booking-status')).toHaveText('Refunded: the deposit of €13.50 was paid back.');
  await expect(page.locator('#checkout slotpay-checkout')).toHaveCount(0);
});

test('the tab closed during 3-D Secure, the challenge completed anyway: the backend still confirms the booking', async ({page, context, stack}) => {
  const opened = await openCheckout(page, stack, 'booking');
  const ref = await bookingRef(page);
  await pay(opened, CARDS.threeDs);
  const challenge = page.frameLocator(CHALLENGE_FRAME);
  await expect(challenge.getByRole('button', {name: 'Complete'})).toBeVisible();
  // The challenge page's address names the PaymentIntent and its client secret, which is all
  // the sandbox's challenge needs: the client finishes it elsewhere (their bank's app).
  const src = new URL((await page.locator(CHALLENGE_FRAME).getAttribute('src'))!);
  const intent = src.searchParams.get('intent')!;
  const clientSecret = src.searchParams.get('client_secret')!;
  expect(intent).toMatch(/^pi_/);
  await page.close();

  expect((await booking(stack, ref)).state).toBe('pending');
  await stack.control('POST', `/3ds/${intent}/complete`, {client_secret: clientSecret});
  // Nobody is left to call refresh: slotpay hears it from Stripe's webhook, the backend from slotpay's.
  await expect.poll(async () => (await booking(stack, ref)).state, {timeout: 20_000}).toBe('confirmed');
  expect((await booking(stack, ref)).events).toContain('checkout.paid');
  const {checkout} = await booking(stack, ref);
  expect(await serverCheckout(stack, checkout)).toMatchObject({status: 'paid', card: {last4: '3184'}});

  const again = await context.newPage();
  await again.goto(`${stack.bookingUrl}?booking=${encodeURIComponent(ref)}`);
  await expect(again.locator('#booking-status')).toHaveText('Booking confirmed: the deposit of €13.50 is paid.');
});

test('a forged event is refused with 400 and changes nothing', async ({stack}) => {
  const held = await bookThroughBackend(stack);
  const before = await counts(stack);
  // What slotpay would send when the deposit is paid, signed with a secret that is not the endpoint's.
  const id = `evt_${randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({
    id,
    type: 'checkout.paid',
    created: Math.floor(Date.now() / 1000),
    merchant_id: stack.merchant.id,
    data: {checkout: {token: held.checkout, booking_ref: held.ref, status: 'paid', ...held.amount}},
  });
  const now = new Date();
  const forger = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
  const unsigned = {
    'Content-Type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  };
  const post = (h: Record<string, string>) => fetch(`${stack.origins.booking}/slotpay-events`, {method: 'POST', headers: h, body});

  expect((await post({...unsigned, 'webhook-signature': forger.sign(id, now, body)})).status).toBe(400);
  expect((await post(unsigned)).status).toBe(400);

  expect((await counts(stack)).refused).toBe(before.refused + 2);
  expect(await booking(stack, held.ref)).toMatchObject({state: 'pending', events: []});
});

test('a hold that lapses unpaid releases the slot', async ({page}) => {
  // 60 s is the shortest hold slotpay takes, so this test waits a minute; its own stack, so the
  // shared one keeps the booking page's usual 15-minute hold.
  test.setTimeout(150_000);
  const short = (await startStack({bookingHoldSeconds: 60})) as EventsStack;
  try {
    const opened = await openCheckout(page, short, 'booking');
    const ref = await bookingRef(page);
    const status = page.locator('#booking-status');
    await expect(status).toContainText('Slot held until');
    await expect(opened.widget.locator('#hold')).toHaveText(/^Slot held for (1:00|0:[0-5]\d), then released if unpaid\.$/);
    // A declined card: noted, and the slot stays held.
    await pay(opened, CARDS.declined);
    await expect(state(opened)).toHaveAttribute('data-state', 'failed');
    await expect(status).toContainText('Payment not completed yet: the slot is still held until');
    expect(await booking(short, ref)).toMatchObject({state: 'pending', payment_failures: 1});

    await expect(status).toHaveAttribute('data-state', 'released', {timeout: 90_000});
    await expect(status).toHaveText('Slot released: the deposit was not paid in time. Choose another time to book again.');
    await expect(page.locator('#checkout slotpay-checkout')).toHaveCount(0);
    const released = await booking(short, ref);
    expect(released).toMatchObject({state: 'released', reason: 'expired'});
    expect(released.events).toEqual(['checkout.payment_failed', 'checkout.expired']);
    expect((await serverCheckout(short, released.checkout)).status).toBe('expired');
  } finally {
    await short.stop();
  }
});
