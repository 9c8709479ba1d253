/**
 * The two demo sites, each a tiny Node HTTP server on its own port (its own origin), serving
 * the files of `www/demo/` (the platform's booking page) and `www/salon/` (a salon's own page).
 * HTML files are templates: `%SLOTPAY%` (the slotpay server's URL) and the other `%NAMES%`
 * below are replaced when served, so the pages work on any ports.
 *
 * - Booking host: the page asks *its own backend* (`/api/...`) for services and slots and to
 *   book one; the backend creates the checkout through slotpay's platform API (it holds the
 *   admin token; the browser only gets the checkout token) and the page mounts
 *   `<slotpay-checkout checkout="TOKEN">`. The backend learns how each booking ends from
 *   slotpay's events (Standard Webhooks at `POST /slotpay-events`, verified with the official
 *   `standardwebhooks` package), not from the browser, so a client who closes the tab during
 *   3-D Secure still ends with a confirmed booking; the page polls `GET /api/bookings/{ref}`.
 * - Salon host: the page embeds the widget with the script tag, under the strict CSP below,
 *   and collects CSP violation reports at `/csp-report`.
 */
import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {createServer} from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {Webhook} from 'standardwebhooks';
import {prepaymentCheckout} from './platform.mjs';

const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../www');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const MAX_BODY = 64 * 1024;

/** The slots the booking page offers: tomorrow and the day after, four times a day. */
export function demoSlots(now = new Date()) {
  const slots = [];
  for (const days of [1, 2]) {
    for (const [h, m] of [[9, 30], [11, 0], [14, 30], [16, 0]]) {
      const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, h, m);
      const pad = (n) => String(n).padStart(2, '0');
      const id = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(h)}${pad(m)}`;
      const label = d.toLocaleString('en-GB', {weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'});
      slots.push({id, label});
    }
  }
  return slots;
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers});
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, 'application/json', JSON.stringify(value));
}

/** The request's body as it came (a Buffer): signatures are over these exact bytes. */
function readRawBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readBody(req) {
  return (await readRawBody(req)).toString('utf8');
}

/**
 * Serves `dir`'s files by name (no subdirectories, so no path tricks); HTML through
 * `template`. Resolves to false when there is no such file.
 */
async function serveFile(res, dir, pathname, template, headers) {
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  if (!/^[\w-]+\.(html|js|css|svg)$/.test(name)) return false;
  let body;
  try {
    body = await readFile(path.join(WWW, dir, name), 'utf8');
  } catch {
    return false;
  }
  const ext = path.extname(name);
  if (ext === '.html') body = template(body);
  send(res, 200, TYPES[ext], body, ext === '.html' ? headers : {});
  return true;
}

/** Replaces each `%NAME%` of `values` in `text`. */
function fill(text, values) {
  return text.replace(/%([A-Z_]+)%/g, (all, name) => (name in values ? values[name] : all));
}

/** HTML-escapes a value put into a template. */
function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Listens on 127.0.0.1:`port`; resolves to `{url, close()}`. */
function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** The slotpay events the booking backend acts on (its webhook endpoint asks for these only). */
export const BOOKING_EVENTS = [
  'checkout.paid',
  'checkout.authorized',
  'checkout.captured',
  'checkout.payment_failed',
  'checkout.canceled',
  'checkout.expired',
  'refund.succeeded',
];

/** How long a booked slot is held for its deposit by default: 15 minutes. */
export const BOOKING_HOLD_SECONDS = 900;

/**
 * How far along each state of a booking is. Deliveries are at least once and a retry can
 * arrive after a newer event (an `authorized` retried after the `canceled` that followed it),
 * so a booking only ever moves forward: a late, older event cannot undo a newer one.
 */
const PROGRESS = {pending: 0, confirmed: 1, partially_refunded: 2, released: 3, refunded: 3};

/**
 * The booking backend's own records: each booking the page made (by its reference), the
 * state slotpay's events brought it to, and the event ids already handled.
 */
function bookingLedger() {
  /** @type {Map<string, any>} */
  const bookings = new Map();
  /** Event ids handled: slotpay delivers at least once, and the id is the same on every retry. */
  const seen = new Set();
  /**
   * For the tests: requests to `/slotpay-events` that passed verification, that failed it,
   * that repeated an event already handled, and events about checkouts this site did not book.
   */
  const counts = {verified: 0, refused: 0, duplicates: 0, unknown_bookings: 0};

  /** The state an event tells about `booking`, or null when it changes nothing. */
  function stateFrom(event, booking) {
    const checkout = event.data.checkout;
    switch (event.type) {
      case 'checkout.paid':
      case 'checkout.authorized':
      case 'checkout.captured':
        return {state: 'confirmed'};
      case 'checkout.expired':
        return {state: 'released', reason: 'expired'};
      case 'checkout.canceled':
        return {state: 'released', reason: 'canceled'};
      case 'refund.succeeded':
        // Everything taken has been given back, or not.
        return {state: booking.amount_refunded >= checkout.amount_captured ? 'refunded' : 'partially_refunded'};
      default:
        return null;
    }
  }

  /** Moves the booking an event is about; events about other checkouts change nothing. */
  function apply(event) {
    const checkout = event.data?.checkout;
    // Events about checkouts this site did not book (the salon's own page, payment links
    // staff sent) are acknowledged and left alone.
    const booking = checkout && bookings.get(checkout.booking_ref ?? checkout.token);
    if (!booking || booking.checkout !== checkout.token) {
      counts.unknown_bookings += 1;
      return;
    }
    booking.events.push(event.type);
    if (event.type === 'checkout.payment_failed') {
      // A declined card or a failed 3-D Secure: the client may try again while the slot is held.
      booking.payment_failures += 1;
      booking.last_payment_error = checkout.last_error?.message ?? null;
      return;
    }
    if (event.type === 'refund.succeeded') {
      // What has been refunded so far: the checkout's own total, or the refunds heard of when
      // that is more (the checkout a refund event carries may not count that refund yet).
      const refund = event.data.refund;
      if (refund?.id) booking.refunds.set(refund.id, refund.amount);
      const heard = [...booking.refunds.values()].reduce((sum, amount) => sum + amount, 0);
      booking.amount_refunded = Math.max(booking.amount_refunded, checkout.amount_refunded, heard);
    }
    const next = stateFrom(event, booking);
    if (!next) return;
    if (PROGRESS[next.state] > PROGRESS[booking.state]) {
      booking.state = next.state;
      booking.reason = next.reason ?? null;
    }
  }

  return {
    counts,
    /** Records a booking the page just made, held for its deposit. */
    add(ref, checkout) {
      const booking = {
        ref,
        checkout: checkout.token,
        description: checkout.description,
        amount: {amount: checkout.amount, currency: checkout.currency},
        held_until: checkout.expires_at ?? null,
        state: 'pending',
        reason: null,
        payment_failures: 0,
        last_payment_error: null,
        amount_refunded: 0,
        /** Succeeded refunds heard of: id → amount. */
        refunds: new Map(),
        events: [],
      };
      bookings.set(ref, booking);
      return booking;
    },
    get(ref) {
      return bookings.get(ref);
    },
    /** Handles one verified event: applied once per id, however often it is delivered. */
    handle(event) {
      counts.verified += 1;
      if (seen.has(event.id)) {
        counts.duplicates += 1;
        return;
      }
      apply(event);
      // Marked seen once applied: had applying thrown, slotpay's retry would still be applied.
      seen.add(event.id);
    },
  };
}

/** A booking as the page sees it. */
function bookingView(b) {
  return {
    ref: b.ref,
    state: b.state,
    reason: b.reason,
    checkout: b.checkout,
    description: b.description,
    amount: b.amount,
    amount_refunded: b.amount_refunded,
    held_until: b.held_until,
    payment_failures: b.payment_failures,
    last_payment_error: b.last_payment_error,
    events: b.events,
  };
}

/**
 * The platform's booking page on `http://127.0.0.1:PORT`. `createCheckout(input)` and
 * `services()` are the backend's calls to slotpay's platform API; `webhookSecret` (`whsec_...`)
 * is the signing secret of the webhook endpoint slotpay sends this backend's events to (it
 * stays here: never sent to the browser, never logged); `holdSeconds` is how long a booked
 * slot waits for its deposit.
 */
export function startBookingHost({port, slotpayUrl, sandboxUrl, createCheckout, services, webhookSecret, holdSeconds = BOOKING_HOLD_SECONDS}) {
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${slotpayUrl} ${sandboxUrl} 'wasm-unsafe-eval'`,
    `style-src 'self' ${slotpayUrl}`,
    `connect-src 'self' ${slotpayUrl} ${sandboxUrl}`,
    `frame-src ${sandboxUrl}`,
    "img-src 'self' data:",
  ].join('; ');
  const slots = demoSlots();
  const webhook = new Webhook(webhookSecret);
  const ledger = bookingLedger();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://host');
      if (req.method === 'POST' && url.pathname === '/slotpay-events') {
        let event;
        try {
          // The raw bytes and slotpay's headers: a re-serialised body would not match the
          // signature. Throws when the signature is wrong or the timestamp stale (a replay).
          event = webhook.verify(await readRawBody(req), /** @type {Record<string, string>} */ (req.headers));
        } catch {
          ledger.counts.refused += 1;
          return sendJson(res, 400, {error: {code: 'invalid_signature', message: 'The event could not be verified'}});
        }
        ledger.handle(event);
        return send(res, 204, 'text/plain', '');
      }
      if (req.method === 'GET' && url.pathname === '/api/_test/webhooks') {
        return sendJson(res, 200, ledger.counts);
      }
      if (req.method === 'GET' && url.pathname.startsWith('/api/bookings/')) {
        // References are letters, digits and dashes: nothing to decode.
        const booking = ledger.get(url.pathname.slice('/api/bookings/'.length));
        if (!booking) return sendJson(res, 404, {error: {code: 'not_found', message: 'No such booking'}});
        return sendJson(res, 200, bookingView(booking));
      }
      if (req.method === 'GET' && url.pathname === '/api/catalogue') {
        const list = await services();
        return sendJson(res, 200, {
          services: list
            .filter((s) => s.active)
            .map((s) => ({id: s.id, name: s.name, price: s.price, prepayment: s.prepayment_amount})),
          slots,
        });
      }
      if (req.method === 'POST' && url.pathname === '/api/bookings') {
        let input;
        try {
          input = JSON.parse(await readBody(req));
        } catch {
          return sendJson(res, 400, {error: {code: 'invalid_json', message: 'Send the booking as JSON'}});
        }
        const service = (await services()).find((s) => s.id === input?.service_id && s.active);
        const slot = slots.find((s) => s.id === input?.slot);
        if (!service || !slot) {
          return sendJson(res, 400, {error: {code: 'invalid_booking', message: 'Pick a service and a free slot'}});
        }
        // Each booking its own reference: the same slot booked again (after a hold lapsed)
        // is another booking with its own outcome.
        const ref = `BK-${slot.id}-${randomBytes(3).toString('hex').toUpperCase()}`;
        // The amount is decided here, server-side: the service's prepayment. The slot is
        // held for `holdSeconds`; unpaid by then, slotpay says `checkout.expired`.
        const checkout = await createCheckout(
          prepaymentCheckout(service, {description: `${service.name}, ${slot.label}`, bookingRef: ref, holdSeconds}),
        );
        const booking = ledger.add(ref, checkout);
        return sendJson(res, 201, bookingView(booking));
      }
      if (req.method === 'GET') {
        const served = await serveFile(res, 'demo', url.pathname, (html) => fill(html, {SLOTPAY: escape(slotpayUrl)}), {
          'Content-Security-Policy': csp,
        });
        if (served) return;
      }
      sendJson(res, 404, {error: {code: 'not_found', message: 'No such page'}});
    } catch (error) {
      console.error('booking host:', error);
      sendJson(res, 502, {error: {code: 'upstream_error', message: 'The booking could not be made'}});
    }
  });
  return listen(server, port);
}

/**
 * The salon's own page on `http://localhost:PORT`, embedding by script tag under a strict
 * CSP that names only slotpay's and Stripe's (the sandbox's) origins. `reports` receives the
 * bodies posted to `/csp-report`. `?service=svc_...` picks the service (the Haircut by default).
 */
export function startSalonHost({port, slotpayUrl, sandboxUrl, merchantId, serviceId, reports}) {
  const csp = [
    "default-src 'none'",
    `script-src ${slotpayUrl} ${sandboxUrl} 'wasm-unsafe-eval'`,
    `style-src ${slotpayUrl} 'self'`,
    `connect-src ${slotpayUrl} ${sandboxUrl}`,
    `frame-src ${sandboxUrl}`,
    "img-src 'self' data:",
    'report-uri /csp-report',
  ].join('; ');
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://host');
      if (req.method === 'POST' && url.pathname === '/csp-report') {
        const body = await readBody(req);
        try {
          reports.push(JSON.parse(body));
        } catch {
          reports.push({unparsed: body});
        }
        return send(res, 204, 'text/plain', '');
      }
      if (req.method === 'GET') {
        const service = /^svc_\w+$/.test(url.searchParams.get('service') ?? '') ? url.searchParams.get('service') : serviceId;
        const served = await serveFile(
          res,
          'salon',
          url.pathname,
          (html) => fill(html, {SLOTPAY: escape(slotpayUrl), MERCHANT: escape(merchantId), SERVICE: escape(service)}),
          {'Content-Security-Policy': csp},
        );
        if (served) return;
      }
      send(res, 404, 'text/plain', 'Not found');
    } catch (error) {
      console.error('salon host:', error);
      send(res, 500, 'text/plain', 'Error');
    }
  });
  return listen(server, port);
}
