/**
 * The admin pages in Chromium against the real server and stripe-sandbox (the stack of
 * tests/support/stack.mjs): sign-in and sign-out; the System Guide's integration flows (add
 * then cancel: nothing added; an invalid secret key and a publishable key pasted as the
 * secret key: the error next to its field, nothing added; keys pasted with spaces: saved
 * trimmed and said so; Active after verification; Error after the key is revoked in the
 * sandbox and "Verify now"; delete with cancel, then with confirm); a service below Stripe's
 * minimum refused; a payment link created, copied, resent, canceled; a payment made on a link
 * page, refunded in part from its page after a confirmation, the refund in the downloaded CSV; axe-core on every
 * page. Screenshots of the integration details (Active, Error) and the payments table go to
 * tests/artifacts/.
 *
 * Run: npx playwright test tests/e2e/admin.spec.ts
 */
import type {Page} from '@playwright/test';
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {ARTIFACTS, CARDS, expect, pay, test, type Opened, type Stack} from '../support/checkout';

const require = createRequire(import.meta.url);

/** The admin token the stack started the server with. */
function adminToken(stack: Stack): string {
  return (stack.server as unknown as {adminToken: string}).adminToken;
}

async function signIn(page: Page, stack: Stack) {
  await page.goto(`${stack.server.url}/admin/sign-in`);
  await page.getByLabel('Admin token').fill(adminToken(stack));
  await page.getByRole('button', {name: 'Sign in with the token'}).click();
  await expect(page.getByRole('heading', {name: 'Merchants', level: 1})).toBeVisible();
}

/** A new merchant, added through the pages; resolves to its id. */
async function addMerchant(page: Page, stack: Stack, name: string): Promise<string> {
  await page.goto(`${stack.server.url}/admin/merchants`);
  await page.getByRole('link', {name: 'Add merchant'}).click();
  await page.getByLabel('Name', {exact: true}).fill(name);
  await page.getByLabel('Allowed origins (optional)').fill('https://salon.example');
  await page.getByRole('button', {name: 'Add merchant'}).click();
  await expect(page.getByText(`Merchant ${name} added`)).toBeVisible();
  return page.url().split('/').pop()!;
}

/** A fresh sandbox account (its own keys: revoking them touches no other test). */
async function sandboxAccount(stack: Stack, name: string) {
  return stack.control('POST', '/accounts', {country: 'FR', default_currency: 'eur', business_name: name});
}

/** The "Add integration" form, filled; `secret` as typed. */
async function fillIntegration(page: Page, publishable: string, secret: string) {
  await page.getByLabel('Name', {exact: true}).fill('Stripe payments');
  await page.getByLabel('Publishable key').fill(publishable);
  await page.getByLabel('Secret or restricted key').fill(secret);
  await page.getByLabel('Sandbox').check();
}

test.describe('sign-in', () => {
  test('a wrong token is refused, the admin token signs in, sign-out ends the session', async ({page, stack}) => {
    await page.goto(`${stack.server.url}/admin/merchants`);
    await expect(page).toHaveURL(/\/admin\/sign-in\?next=%2Fadmin%2Fmerchants$/);
    await page.getByLabel('Admin token').fill('not the admin token, clearly');
    await page.getByRole('button', {name: 'Sign in with the token'}).click();
    await expect(page.getByText('This is not the admin token.').first()).toBeVisible();
    await expect(page.getByLabel('Admin token')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Admin token')).toHaveValue('');
    await signIn(page, stack);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'slotpay_admin')!;
    expect(session).toMatchObject({httpOnly: true, sameSite: 'Strict', path: '/admin'});
    await page.getByRole('button', {name: 'Sign out'}).click();
    await expect(page.getByText('You are signed out.')).toBeVisible();
    await page.goto(`${stack.server.url}/admin/merchants`);
    await expect(page).toHaveURL(/\/admin\/sign-in/);
  });
});

test.describe('integration (System Guide)', () => {
  test('add, cancel, refused keys, spaces trimmed, Active, Error after revocation, delete', async ({page, stack}) => {
    const keys = await sandboxAccount(stack, 'Salon Admin E2E');
    await signIn(page, stack);
    const merchant = await addMerchant(page, stack, 'Salon Admin E2E');
    const integration = `${stack.server.url}/admin/merchants/${merchant}/integration`;
    await page.getByRole('navigation', {name: 'Merchant'}).getByRole('link', {name: 'Integration'}).click();
    await expect(page.getByRole('heading', {name: 'External integrations'})).toBeVisible();
    await expect(page.getByText('No integration yet')).toBeVisible();

    // Add, then Cancel: back to the list, nothing added.
    await page.getByRole('link', {name: 'Add integration'}).click();
    await expect(page.getByLabel('Integration', {exact: true})).toHaveValue('stripe');
    await fillIntegration(page, keys.publishable_key, keys.secret_key);
    await page.getByRole('link', {name: 'Cancel'}).click();
    await expect(page.getByRole('heading', {name: 'External integrations'})).toBeVisible();
    await expect(page.getByText('No integration yet')).toBeVisible();
    await stack.admin('GET', `/merchants/${merchant}/integration`, undefined, [404]);

    // An invalid secret key: the error next to the field, nothing added.
    await page.getByRole('link', {name: 'Add integration'}).click();
    await fillIntegration(page, keys.publishable_key, 'sk_test_123');
    await page.getByRole('button', {name: 'Save integration'}).click();
    const secret = page.getByLabel('Secret or restricted key');
    await expect(page.getByRole('alert').getByText('There is a problem')).toBeVisible();
    await expect(page.locator('#f-secret_key-error')).toContainText('The secret key is incomplete');
    await expect(secret).toHaveAttribute('aria-invalid', 'true');
    await expect(secret).toHaveAttribute('aria-describedby', 'f-secret_key-hint f-secret_key-error');
    await expect(secret).toHaveValue('');
    await expect(page.getByLabel('Publishable key')).toHaveValue(keys.publishable_key);
    await stack.admin('GET', `/merchants/${merchant}/integration`, undefined, [404]);

    // A well-formed key Stripe does not know: invalid too, nothing added.
    await secret.fill(`sk_test_${'Q7'.repeat(20)}`);
    await page.getByRole('button', {name: 'Save integration'}).click();
    await expect(page.locator('#f-secret_key-error')).toContainText('Stripe does not accept this secret key');
    await stack.admin('GET', `/merchants/${merchant}/integration`, undefined, [404]);

    // The publishable key pasted as the secret key is named as such.
    await secret.fill(keys.publishable_key);
    await page.getByRole('button', {name: 'Save integration'}).click();
    await expect(page.locator('#f-secret_key-error')).toContainText(
      'This is a publishable key (pk_...); paste the secret key (sk_...) or a restricted key (rk_...) here',
    );
    await expect(page.locator('li[data-code="publishable_key_in_secret_field"] a')).toHaveAttribute('href', '#f-secret_key');
    await stack.admin('GET', `/merchants/${merchant}/integration`, undefined, [404]);

    // Keys pasted with spaces: saved trimmed, the page says so; verified at once: Active.
    await page.getByLabel('Publishable key').fill(`  ${keys.publishable_key} `);
    await secret.fill(` ${keys.secret_key}\t`);
    await page.getByRole('button', {name: 'Save integration'}).click();
    await expect(page).toHaveURL(integration);
    await expect(page.getByText('Integration added')).toBeVisible();
    await expect(page.getByText('Integration activated')).toBeVisible();
    await expect(page.getByText('Surrounding spaces were removed from the secret key')).toBeVisible();
    await expect(page.getByText('Surrounding spaces were removed from the publishable key')).toBeVisible();
    await expect(page.locator('[data-status]')).toHaveText('Active');
    await expect(page.getByText(`${keys.secret_key.slice(0, 8)}...${keys.secret_key.slice(-4)}`)).toBeVisible();
    await expect(page.getByText(`/v1/webhooks/stripe/${merchant}`)).toBeVisible();
    await expect(page.getByText("Registered through Stripe's API by slotpay")).toBeVisible();
    const stored = await stack.admin('GET', `/merchants/${merchant}/integration`);
    expect(stored).toMatchObject({status: 'active', active: true, payments_available: true});
    await page.screenshot({path: path.join(ARTIFACTS, 'admin-integration-active.png'), fullPage: true});

    // Revoked in the sandbox, "Verify now": Error with Stripe's reason.
    await stack.control('POST', '/keys/revoke', {key: keys.secret_key});
    await page.getByRole('button', {name: 'Verify now'}).click();
    await expect(page.getByText(/^Verification failed: /)).toBeVisible();
    await expect(page.locator('[data-status]')).toHaveText('Error');
    await expect(page.locator('.status-reason')).toContainText('api_key_expired');
    await page.screenshot({path: path.join(ARTIFACTS, 'admin-integration-error.png'), fullPage: true});

    // Delete: the confirmation, canceled; then confirmed.
    await page.locator('.status-card').getByRole('link', {name: 'Delete'}).click();
    await expect(page.getByText('Are you sure you want to delete the integration Stripe payments')).toBeVisible();
    await page.getByRole('link', {name: 'Cancel'}).click();
    await expect(page).toHaveURL(integration);
    await stack.admin('GET', `/merchants/${merchant}/integration`);
    await page.locator('.status-card').getByRole('link', {name: 'Delete'}).click();
    await page.getByRole('button', {name: 'Delete integration'}).click();
    await expect(page.getByText('Integration deleted')).toBeVisible();
    await expect(page.getByText('No integration yet')).toBeVisible();
    await stack.admin('GET', `/merchants/${merchant}/integration`, undefined, [404]);
  });
});

test.describe('services', () => {
  test('a prepayment below the minimum is refused with the message', async ({page, stack}) => {
    await signIn(page, stack);
    const merchant = await addMerchant(page, stack, 'Nail Bar E2E');
    await page.goto(`${stack.server.url}/admin/merchants/${merchant}/services`);
    await page.getByRole('link', {name: 'Add service'}).click();
    await page.getByLabel('Name', {exact: true}).fill('Nail polish');
    await page.getByLabel('Price', {exact: true}).fill('4.00');
    await page.getByLabel('Currency', {exact: true}).fill('EUR');
    await page.getByLabel('A percentage of the price').check();
    await page.getByLabel('Percentage (for a percentage)').fill('10');
    await page.getByRole('button', {name: 'Save service'}).click();
    const percent = page.getByLabel('Percentage (for a percentage)');
    await expect(page.locator('#f-percent-error')).toContainText('The prepayment, 0.40 EUR, is below Stripe\'s minimum of 0.50 EUR');
    await expect(percent).toHaveAttribute('aria-invalid', 'true');
    expect((await stack.admin('GET', `/merchants/${merchant}/services`)).data).toEqual([]);
    await percent.fill('50');
    await page.getByRole('button', {name: 'Save service'}).click();
    await expect(page.getByText('Service Nail polish added')).toBeVisible();
    await expect(page.getByRole('cell', {name: '50 % of the price (€2.00 online)'})).toBeVisible();
  });
});

test.describe('payment links and payments', () => {
  test.use({permissions: ['clipboard-read', 'clipboard-write']});

  test('a link created, copied, resent and canceled', async ({page, stack}) => {
    await signIn(page, stack);
    await page.goto(`${stack.server.url}/admin/merchants/${stack.merchant.id}/links/new`);
    await page.getByLabel('Description').fill('Admin e2e: colour touch-up');
    await page.getByLabel('Amount').fill('42.00');
    await page.getByLabel('Valid for').selectOption('3');
    await page.getByRole('button', {name: 'Create payment link'}).click();
    await expect(page.getByText('Payment link created for €42.00')).toBeVisible();
    const card = page.locator('.link-card', {hasText: 'Admin e2e: colour touch-up'});
    const url = await card.getByLabel('Link').inputValue();
    expect(url).toMatch(new RegExp(`^${stack.server.url}/pay/cs_`));
    await expect(card.getByLabel('Link')).toHaveAttribute('readonly', '');
    await card.getByRole('button', {name: /^Copy/}).click();
    await expect(card.getByRole('status')).toHaveText('Link copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    const token = url.split('/').pop()!;
    const before = (await stack.admin('GET', `/checkouts/${token}`)).expires_at;
    await card.getByRole('button', {name: /^Renew/}).click();
    await expect(page.getByText(/^Payment link renewed: it is valid until /)).toBeVisible();
    const after = (await stack.admin('GET', `/checkouts/${token}`)).expires_at;
    expect(after - before).toBeGreaterThan(3 * 86_400);
    await page.locator('.link-card', {hasText: 'Admin e2e: colour touch-up'}).getByRole('button', {name: /^Cancel link/}).click();
    // A confirmation first, stating the amount; nothing is canceled until it is confirmed.
    await expect(page.getByRole('heading', {name: 'Cancel this payment link?'})).toBeVisible();
    await expect(page.locator('.card-warning')).toContainText('€');
    expect((await stack.admin('GET', `/checkouts/${token}`)).status).toBe('open');
    await page.getByRole('button', {name: 'Cancel the link'}).click();
    await expect(page.getByText('Payment link canceled')).toBeVisible();
    await expect(page.locator('.link-card', {hasText: 'Admin e2e: colour touch-up'}).locator('.badge')).toHaveText('Canceled');
    expect((await stack.admin('GET', `/checkouts/${token}`)).status).toBe('canceled');
  });

  test('a payment on a link page, refunded in part from its page, shows in the CSV', async ({page, stack}) => {
    await signIn(page, stack);
    await page.goto(`${stack.server.url}/admin/merchants/${stack.merchant.id}/links/new`);
    await page.getByLabel('Description').fill('Admin e2e: balayage');
    await page.getByLabel('Amount').fill('60.00');
    await page.getByLabel('Client\'s email (optional)').fill('lea@example.com');
    await page.getByRole('button', {name: 'Create payment link'}).click();
    const url = await page.locator('.link-card', {hasText: 'Admin e2e: balayage'}).getByLabel('Link').inputValue();
    const token = url.split('/').pop()!;

    // Emailed from its page: the SMTP server receives the link.
    await page.goto(`${stack.server.url}/admin/checkouts/${token}`);
    await expect(page.getByLabel('Client\'s email')).toHaveValue('lea@example.com');
    await page.getByRole('button', {name: 'Email the link'}).click();
    await expect(page.getByText('Payment link emailed to lea@example.com')).toBeVisible();
    const mails = async (subject: string) =>
      ((await (await fetch(`${stack.mailsUrl}?to=lea@example.com`)).json()) as {subject: string; text: string}[])
        .filter((m) => m.subject === subject);
    await expect.poll(async () => (await mails('Payment link: Admin e2e: balayage at Salon Lumière')).length).toBe(1);
    expect((await mails('Payment link: Admin e2e: balayage at Salon Lumière'))[0].text).toContain(url);
    // An address the mail server refuses: the email fails with its answer and can be sent again.
    await page.goto(`${stack.server.url}/admin/checkouts/${token}`);
    await page.getByLabel('Client\'s email').fill('refused@example.com');
    await page.getByRole('button', {name: 'Email the link'}).click();
    await expect(page.getByText('Payment link emailed to refused@example.com')).toBeVisible();
    await expect.poll(async () => {
      await page.reload();
      return page.getByRole('button', {name: /^Send again/}).count();
    }).toBe(1);
    await expect(page.getByText(/550/).first()).toBeVisible();
    await page.getByRole('button', {name: /^Send again/}).click();
    await expect(page.getByText('The email is being sent again')).toBeVisible();

    // The client pays on the link page, typing the card in the sandbox's iframe.
    await page.goto(url);
    const opened: Opened = {
      embedding: 'link',
      widget: page.locator('slotpay-checkout'),
      card: page.frameLocator('slotpay-checkout slotpay-card iframe'),
      locale: 'en',
      amount: 6000,
      currency: 'eur',
    };
    await expect(opened.widget.locator('#frame')).toHaveAttribute('data-state', 'ready', {timeout: 15_000});
    await pay(opened, CARDS.visa, 'lea@example.com');
    await expect(opened.widget.locator('#frame')).toHaveAttribute('data-state', 'paid', {timeout: 15_000});
    // slotpay's receipt reaches the client too.
    await expect.poll(async () => (await mails('Receipt: Admin e2e: balayage at Salon Lumière')).length, {timeout: 15_000}).toBe(1);

    // Its page in the admin: PaymentIntent, remaining amount; a partial refund.
    await page.goto(`${stack.server.url}/admin/merchants/${stack.merchant.id}/payments`);
    await page.getByRole('link', {name: 'Admin e2e: balayage'}).first().click();
    await expect(page).toHaveURL(`${stack.server.url}/admin/checkouts/${token}`);
    const checkout = await stack.admin('GET', `/checkouts/${token}`);
    await expect(page.getByTitle(checkout.payment_intent_id)).toBeVisible();
    await expect(page.getByRole('button', {name: `Copy ${checkout.payment_intent_id}`})).toBeVisible();
    await expect(page.locator('#remaining')).toHaveText('€60.00');
    const amount = page.getByLabel('Amount to refund');
    await expect(amount).toHaveAttribute('aria-describedby', 'f-refund_amount-hint');
    await expect(page.locator('#f-refund_amount-hint')).toContainText('Remaining refundable: €60.00');
    await amount.fill('15.00');
    await page.getByLabel('Reason').selectOption('requested_by_customer');
    await page.getByRole('button', {name: 'Refund…'}).click();
    // The confirmation states the amount and what stays; only it refunds.
    await expect(page.getByRole('heading', {name: 'Refund €15.00?'})).toBeVisible();
    await expect(page.locator('.card-warning')).toContainText('€45.00 stays refundable after it.');
    await expect(page.locator('.card-warning')).toContainText('Reason sent to Stripe: Requested by the client.');
    expect((await stack.admin('GET', `/checkouts/${token}`)).amount_refunded).toBe(0);
    await page.getByRole('button', {name: 'Refund €15.00'}).click();
    await expect(page.getByText(/^Refund of €15\.00 (made|requested)/)).toBeVisible();
    expect((await stack.admin('GET', `/checkouts/${token}`)).refunds[0].reason).toBe('requested_by_customer');
    await expect(page.locator('#remaining')).toHaveText('€45.00');
    await expect(page.locator('[data-status]')).toHaveText('Partially refunded');

    // The payments table, and the CSV report with the refund.
    await page.goto(`${stack.server.url}/admin/merchants/${stack.merchant.id}/payments`);
    await expect(page.locator('#payments-table')).toContainText('Admin e2e: balayage');
    await page.screenshot({path: path.join(ARTIFACTS, 'admin-payments.png'), fullPage: true});
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', {name: 'Download CSV report'}).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const [header, ...rows] = csv.trim().split('\r\n');
    const refunded = header.split(',').indexOf('refunded');
    const row = rows.find((r) => r.startsWith(token))!;
    expect(row, csv).toBeTruthy();
    expect(row.split(',')[refunded]).toBe('15.00');
  });
});

test.describe('axe-core', () => {
  // axe is injected as a script: the admin CSP blocks that (rightly), so only here is it
  // bypassed.
  test.use({bypassCSP: true});
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  async function axe(page: Page, label: string) {
    await page.addScriptTag({content: axeSource});
    const result = await page.evaluate(async () => {
      const axe = (window as unknown as {axe: any}).axe;
      const r = await axe.run(document);
      return {
        violations: r.violations.map(
          (v: any) => `${v.id} (${v.impact}): ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`,
        ),
        passed: r.passes.map((p: any) => p.id),
      };
    });
    expect(result.violations, `axe violations on ${label}`).toEqual([]);
    expect(result.passed, label).toEqual(expect.arrayContaining(['color-contrast', 'document-title', 'html-has-lang']));
  }

  test('no violations on any admin page', async ({page, stack}) => {
    // About twenty pages, each loaded and checked: slow when the machine is shared.
    test.setTimeout(180_000);
    const base = stack.server.url;
    await page.goto(`${base}/admin/sign-in`);
    await axe(page, 'the sign-in page');
    await signIn(page, stack);
    const m = stack.merchant.id;
    const link = await stack.admin('POST', `/merchants/${m}/checkouts`, {
      amount: 2500, currency: 'eur', description: 'Axe check', link: true,
    });
    const pages: [string, string][] = [
      ['merchants', '/admin/merchants'],
      ['API reference', '/docs'],
      ['new merchant', '/admin/merchants/new'],
      ['merchant overview', `/admin/merchants/${m}`],
      ['merchant edit', `/admin/merchants/${m}/edit`],
      ['merchant delete confirmation', `/admin/merchants/${m}/delete`],
      ['integrations', `/admin/merchants/${m}/integrations`],
      ['integration details', `/admin/merchants/${m}/integration`],
      ['integration edit', `/admin/merchants/${m}/integration/edit`],
      ['integration delete confirmation', `/admin/merchants/${m}/integration/delete`],
      ['services', `/admin/merchants/${m}/services`],
      ['new service', `/admin/merchants/${m}/services/new`],
      ['service edit', `/admin/merchants/${m}/services/${stack.services.colour.id}/edit`],
      ['payment links', `/admin/merchants/${m}/links`],
      ['new payment link', `/admin/merchants/${m}/links/new`],
      ['payments', `/admin/merchants/${m}/payments`],
      ['payment details', `/admin/checkouts/${link.token}`],
      ['not found', '/admin/merchants/mer_000000000000000000000000'],
    ];
    for (const [label, url] of pages) {
      await page.goto(base + url);
      await axe(page, label);
    }
    // Forms with their errors shown (a merchant without an integration for the first).
    const bare = await stack.admin('POST', '/merchants', {name: 'Axe check salon'});
    await page.goto(`${base}/admin/merchants/${bare.id}/integrations/new`);
    await page.getByLabel('Secret or restricted key').fill('sk_test_123');
    await page.getByRole('button', {name: 'Save integration'}).click();
    await expect(page.locator('#f-secret_key-error')).toBeVisible();
    await axe(page, 'the add integration form with errors');
    await page.goto(`${base}/admin/merchants/${m}/services/new`);
    await page.getByRole('button', {name: 'Save service'}).click();
    await expect(page.locator('#error-summary')).toBeVisible();
    await axe(page, 'the service form with errors');
  });
});

test.describe('on a phone', () => {
  /** How far `page` reaches past the screen: the page itself, or any box that scrolls sideways
   * (a table in its scrolling wrapper hides columns just as well). */
  async function overflow(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const wide: string[] = [];
      const doc = document.documentElement;
      if (doc.scrollWidth > window.innerWidth) wide.push(`the page is ${doc.scrollWidth} px wide`);
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
        // Text for screen readers only is clipped to a pixel on purpose.
        if (el.closest('.visually-hidden, .skip-link')) continue;
        const box = el.getBoundingClientRect();
        if (box.width > 0 && box.right > window.innerWidth + 0.5) {
          wide.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ends at ${Math.round(box.right)} px`);
        }
        const style = getComputedStyle(el);
        // An id cut with an ellipsis on purpose (copied whole by its button) is not hidden content.
        // A field's own text scrolls inside it by nature (a long link has its copy button).
        const field = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
        if (!field && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'visible' && style.textOverflow !== 'ellipsis') {
          wide.push(`<${el.tagName.toLowerCase()} class="${el.className}"> scrolls sideways (${el.scrollWidth} > ${el.clientWidth} px)`);
        }
      }
      return wide.slice(0, 5);
    });
  }

  test('every admin page fits a 360 px screen, with screenshots at phone and desktop sizes', async ({page, stack}) => {
    test.setTimeout(240_000);
    const base = stack.server.url;
    const m = stack.merchant.id;
    // A paid and partly refunded payment (its page has events, refunds and deliveries), made
    // through the public API as the widget does, and an open link.
    const paid = await stack.admin('POST', `/merchants/${m}/checkouts`, {
      amount: 4800, currency: 'eur', description: 'Phone check: cut and colour', booking_ref: 'BK-2026-0042',
      customer_email: 'a.client.with.a.long.address@example.com',
    });
    const pm = await page.request.post(`${stack.sandbox.url}/v1/payment_methods`, {
      headers: {authorization: `Bearer ${stack.sandbox.publishableKey}`},
      form: {type: 'card', 'card[number]': '4242424242424242', 'card[exp_month]': '12', 'card[exp_year]': '2034', 'card[cvc]': '123'},
    });
    expect(pm.ok(), await pm.text()).toBe(true);
    const paying = await page.request.post(`${base}/v1/checkouts/${paid.token}/pay`, {
      headers: {'idempotency-key': 'phone-check', origin: stack.origins.booking},
      data: {payment_method: (await pm.json()).id, email: 'a.client.with.a.long.address@example.com', save_card: false},
    });
    expect(paying.status(), await paying.text()).toBe(200);
    const refunding = await page.request.post(`${base}/v1/admin/checkouts/${paid.token}/refunds`, {
      headers: {authorization: `Bearer ${adminToken(stack)}`, 'idempotency-key': 'phone-refund'},
      data: {amount: 800, reason: 'requested_by_customer'},
    });
    expect(refunding.status(), await refunding.text()).toBe(200);
    const link = await stack.admin('POST', `/merchants/${m}/checkouts`, {
      amount: 2500, currency: 'eur', description: 'Phone check link', link: true,
    });
    const endpoint = stack.bookingEndpoint.id;

    const problems: string[] = [];
    await page.setViewportSize({width: 360, height: 740});
    await page.goto(`${base}/admin/sign-in`);
    for (const p of await overflow(page)) problems.push(`/admin/sign-in at 360 px: ${p}`);
    await signIn(page, stack);
    const pages: [string, string][] = [
      ['merchants', '/admin/merchants'],
      ['merchant-new', '/admin/merchants/new'],
      ['merchant', `/admin/merchants/${m}`],
      ['merchant-edit', `/admin/merchants/${m}/edit`],
      ['integrations', `/admin/merchants/${m}/integrations`],
      ['integration', `/admin/merchants/${m}/integration`],
      ['integration-edit', `/admin/merchants/${m}/integration/edit`],
      ['services', `/admin/merchants/${m}/services`],
      ['service-new', `/admin/merchants/${m}/services/new`],
      ['links', `/admin/merchants/${m}/links`],
      ['link-new', `/admin/merchants/${m}/links/new`],
      ['payments', `/admin/merchants/${m}/payments`],
      ['payment-paid', `/admin/checkouts/${paid.token}`],
      ['payment-link', `/admin/checkouts/${link.token}`],
      ['webhooks', '/admin/webhooks'],
      ['webhook', `/admin/webhooks/${endpoint}`],
      ['webhook-edit', `/admin/webhooks/${endpoint}/edit`],
    ];
    for (const [name, url] of pages) {
      await page.setViewportSize({width: 360, height: 740});
      await page.goto(base + url);
      for (const p of await overflow(page)) problems.push(`${url} at 360 px: ${p}`);
      await page.setViewportSize({width: 390, height: 844});
      await page.screenshot({path: path.join(ARTIFACTS, 'admin-phone', `${name}-390.png`), fullPage: true});
      await page.setViewportSize({width: 1280, height: 800});
      await page.screenshot({path: path.join(ARTIFACTS, 'admin-phone', `${name}-1280.png`), fullPage: true});
    }
    // The API reference (long: checked, not photographed).
    await page.setViewportSize({width: 360, height: 740});
    await page.goto(`${base}/docs`);
    for (const p of await overflow(page)) problems.push(`/docs at 360 px: ${p}`);
    // The refund's confirmation step too.
    await page.setViewportSize({width: 360, height: 740});
    await page.goto(`${base}/admin/checkouts/${paid.token}`);
    await page.getByRole('button', {name: 'Refund…'}).click();
    await expect(page.getByRole('heading', {name: /^Refund .*\?$/})).toBeVisible();
    for (const p of await overflow(page)) problems.push(`the refund confirmation at 360 px: ${p}`);
    await page.screenshot({path: path.join(ARTIFACTS, 'admin-phone', 'refund-confirm-360.png'), fullPage: true});
    expect(problems).toEqual([]);
  });
});
