/**
 * Playwright helpers for the widget's end-to-end tests: a `test` whose worker-scoped `stack`
 * fixture is the whole slotpay stack (`stack.mjs`, started once per worker), the three ways a
 * client reaches the checkout (`openCheckout`: the platform's booking page, the salon's
 * script tag under a strict CSP, the payment link page), and the widget's test hooks (its open
 * shadow root: `#frame[data-state]`, `#email`, `#pay`, `#alert`, `#retry`, `#value-N`; the card
 * iframe in the light-DOM `<slotpay-card>`).
 */
import {expect, test as base, type FrameLocator, type Locator, type Page} from '@playwright/test';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
// @ts-ignore: plain ESM JavaScript shared with the demo script.
import {createCheckout, ROOT, startStack} from './stack.mjs';

/** What `startStack()` resolves to (see stack.mjs). */
export type Stack = {
  sandbox: {url: string; accountId: string; publishableKey: string; secretKey: string};
  server: {url: string; dataDir: string};
  merchant: {id: string; name: string};
  services: Record<'haircut' | 'colour', {id: string; name: string; prepayment_amount: {amount: number; currency: string}}>;
  link: {token: string; url: string};
  bookingUrl: string;
  salonUrl: string;
  origins: {booking: string; salon: string};
  /** The emails the server sent, listed by the stack's SMTP server (JSON). */
  mailsUrl: string;
  /** The booking site's webhook endpoint at slotpay. */
  bookingEndpoint: {id: string; url: string};
  cspReports: unknown[];
  startServer(): Promise<void>;
  stopServer(signal?: string): Promise<void>;
  restartServer(signal?: string): Promise<void>;
  serverLog(): string;
  admin(method: string, path: string, body?: unknown, expect?: number[]): Promise<any>;
  control(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
};

export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
mkdirSync(ARTIFACTS, {recursive: true});

/** The event types the widget dispatches on its element (bubbling, composed). */
export const EVENT_TYPES = ['slotpay:ready', 'slotpay:succeeded', 'slotpay:failed'] as const;

type Fixtures = {
  /** Every `slotpay:*` event the page's document heard, recorded from before any page script. */
  events: () => Promise<{type: string; detail: any}[]>;
  /**
   * Automatic: fails the test if the browser reported a Content-Security-Policy violation
   * (console) or the salon's host received a CSP report while it ran. The pages' policies
   * are strict, so anything the widget or Stripe.js loads or injects that they do not allow
   * shows here.
   */
  cspGuard: void;
};

export const test = base.extend<Fixtures, {stack: Stack}>({
  stack: [
    async ({}, use) => {
      // The browser tests decline card after card on one checkout and one merchant (each
      // decline message in turn): the card-testing defences, tested on their own in
      // server/tests/api/security.rs and ./dev fault, are set out of their way.
      const stack = (await startStack({
        serverEnv: {
          SLOTPAY_MAX_DECLINES_PER_CHECKOUT: '1000',
          SLOTPAY_MERCHANT_DECLINE_BUDGET: '1000000/600',
          SLOTPAY_CATALOGUE_CHECKOUTS_PER_CLIENT: '1000000/600',
        },
      })) as Stack;
      await use(stack);
      await stack.stop();
    },
    {scope: 'worker', timeout: 120_000},
  ],
  cspGuard: [
    async ({page, stack}, use) => {
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
      });
      const reportsBefore = stack.cspReports.length;
      await use();
      // Reports are posted asynchronously by the browser: give them a moment.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(violations, 'CSP violations in the console').toEqual([]);
      expect(stack.cspReports.slice(reportsBefore), 'CSP reports received by the salon').toEqual([]);
    },
    {auto: true},
  ],
  events: async ({page}, use) => {
    // An init script runs in every document before its own scripts, outside the page's CSP.
    await page.addInitScript((types) => {
      const w = window as unknown as {__slotpayEvents: {type: string; detail: unknown}[]};
      w.__slotpayEvents = [];
      for (const type of types) {
        document.addEventListener(type, (e) => w.__slotpayEvents.push({type, detail: (e as CustomEvent).detail}));
      }
    }, EVENT_TYPES as unknown as string[]);
    await use(() =>
      page.evaluate(() => (window as unknown as {__slotpayEvents?: {type: string; detail: any}[]}).__slotpayEvents ?? []),
    );
  },
});

export {expect};

/** The three embeddings. */
export type Embedding = 'booking' | 'salon' | 'link';
export const EMBEDDINGS: Embedding[] = ['booking', 'salon', 'link'];

/** A checkout opened in the page. */
export type Opened = {
  embedding: Embedding;
  /** The widget's element (its shadow root holds the view). */
  widget: Locator;
  /** The Payment Element's iframe. */
  card: FrameLocator;
  /** The Express Checkout Element's iframe (the wallets' buttons). */
  express: FrameLocator;
  /** en or fr: the booking page and the link are English, the salon's page French. */
  locale: 'en' | 'fr';
  /** The amount due, in minor units, and its currency. */
  amount: number;
  currency: string;
};

/** The same text with every kind of space as a plain space (Intl uses narrow no-break spaces). */
export function spaces(text: string | null): string {
  return (text ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim();
}

/** An amount as the browser formats it for `locale`, spaces normalised. */
export function formatted(amount: number, currency: string, locale: string): string {
  return spaces(new Intl.NumberFormat(locale, {style: 'currency', currency: currency.toUpperCase()}).format(amount / 100));
}

/**
 * Opens the checkout the way a client reaches it: the booking page (choose a service and a
 * slot, "Book and pay deposit"), the salon's page (script tag; `?service=`), or a fresh payment
 * link from the platform API. Resolves once the widget is ready to take a card.
 */
export async function openCheckout(
  page: Page,
  stack: Stack,
  embedding: Embedding,
  options: {service?: 'haircut' | 'colour'; ready?: boolean} = {},
): Promise<Opened> {
  const service = stack.services[options.service ?? 'haircut'];
  let widget: Locator;
  let amount = service.prepayment_amount.amount;
  let locale: 'en' | 'fr' = 'en';
  if (embedding === 'booking') {
    await page.goto(stack.bookingUrl);
    await page.locator(`input[name="service"][value="${service.id}"]`).check();
    await page.locator('input[name="slot"]').nth(2).check();
    await page.getByRole('button', {name: 'Book and pay deposit'}).click();
    widget = page.locator('#checkout slotpay-checkout');
  } else if (embedding === 'salon') {
    await page.goto(`${stack.salonUrl}?service=${service.id}`);
    widget = page.locator('.slotpay-embed');
    locale = 'fr';
  } else {
    const link = await createCheckout(stack, {
      amount: 3500,
      currency: 'eur',
      description: 'Beard trim and hot towel',
      booking_ref: `LINK-${Date.now()}`,
      link: true,
    });
    amount = 3500;
    await page.goto(link.url);
    widget = page.locator('slotpay-checkout');
  }
  const opened: Opened = {
    embedding,
    widget,
    card: page.frameLocator(`${embeddingHost(embedding)} slotpay-card iframe`),
    express: page.frameLocator(`${embeddingHost(embedding)} slotpay-express iframe`),
    locale,
    amount,
    currency: 'eur',
  };
  if (options.ready !== false) {
    await expect(widget.locator('#frame')).toHaveAttribute('data-state', 'ready', {timeout: 15_000});
  }
  return opened;
}

function embeddingHost(embedding: Embedding): string {
  return embedding === 'booking' ? '#checkout slotpay-checkout' : embedding === 'salon' ? '.slotpay-embed' : 'slotpay-checkout';
}

/** The widget's state (`data-state` of its frame). */
export function state(opened: Opened): Locator {
  return opened.widget.locator('#frame');
}

/** Types a card number and the other fields inside the card iframe. */
export async function fillCard(opened: Opened, number: string) {
  const number_ = opened.card.getByLabel('Credit or debit card number');
  await number_.fill('');
  await number_.pressSequentially(number);
  await opened.card.getByLabel('Credit or debit card expiration date').fill('12 / 34');
  await opened.card.getByLabel('Credit or debit card CVC/CVV').fill(number.length === 15 ? '1234' : '123');
  const postal = opened.card.getByLabel('ZIP');
  if (await postal.isVisible()) await postal.fill('69003');
}

/** Email, card, Pay. */
export async function pay(opened: Opened, number: string, email = 'client@example.com') {
  const field = opened.widget.locator('#email');
  if ((await field.inputValue()) !== email) await field.fill(email);
  await fillCard(opened, number);
  await clickPay(opened);
}

/**
 * Pay, scrolled to first as a client does. When Pay stands on the viewport's bottom edge (the
 * salon's column with the Payment Element's tabs: its bottom at 719.5 px of 720), a click
 * Playwright scrolls to itself reaches no element at all (no pointerdown in the page, checked
 * with a capture listener); scrolled first, the same click lands on Pay.
 */
export async function clickPay(opened: Opened) {
  const button = opened.widget.locator('#pay');
  await button.scrollIntoViewIfNeeded();
  await button.click();
}

/** The checkout as the platform API sees it. */
export function serverCheckout(stack: Stack, token: string): Promise<any> {
  return stack.admin('GET', `/checkouts/${token}`);
}

/** The words the tests expect, per locale (the widget's src/i18n.rs). */
export const WORDS = {
  en: {
    declined: 'Your card was declined.',
    insufficient_funds: 'Your card has insufficient funds.',
    expired_card: 'Your card has expired.',
    incorrect_cvc: "Your card's security code is incorrect.",
    processing_error: 'An error occurred while processing your card. Try again in a little bit.',
    authentication_failed: 'We could not authenticate your payment. Try again or use another card.',
    paid: 'Payment successful',
    failed: 'Payment failed',
    retry: 'Try another card',
    pay: 'Pay',
    below_minimum: 'Your payment must be no less than 0.50 EUR',
    test_mode: 'Test mode',
  },
  fr: {
    declined: 'Votre carte a été refusée.',
    insufficient_funds: 'Le solde de votre carte est insuffisant.',
    expired_card: 'Votre carte a expiré.',
    incorrect_cvc: 'Le code de sécurité de votre carte est incorrect.',
    processing_error: 'Une erreur est survenue lors du traitement de votre carte. Réessayez dans un instant.',
    authentication_failed: "Nous n'avons pas pu authentifier votre paiement. Réessayez ou utilisez une autre carte.",
    paid: 'Paiement réussi',
    failed: 'Échec du paiement',
    retry: 'Essayer une autre carte',
    pay: 'Payer',
    below_minimum: "Votre paiement doit être d'au moins 0,50 €",
    test_mode: 'Mode test',
  },
} as const;

/** The sandbox's test cards the tests use. */
export const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  lost: '4000000000009987',
  stolen: '4000000000009979',
  expired: '4000000000000069',
  incorrectCvc: '4000000000000127',
  processingError: '4000000000000119',
  threeDs: '4000002760003184',
} as const;

export const CHALLENGE_FRAME = 'iframe[name^="__privateStripeChallengeFrame"]';
