/**
 * The two demo sites, each a tiny Node HTTP server on its own port (its own origin), serving
 * the files of `www/demo/` (the platform's booking page) and `www/salon/` (a salon's own page).
 * HTML files are templates: `%SLOTPAY%` (the slotpay server's URL) and the other `%NAMES%`
 * below are replaced when served, so the pages work on any ports.
 *
 * - Booking host: the page asks *its own backend* (`/api/...`) for services and slots and to
 *   book one; the backend creates the checkout through slotpay's platform API (it holds the
 *   admin token; the browser only gets the checkout token) and the page mounts
 *   `<slotpay-checkout checkout="TOKEN">`.
 * - Salon host: the page embeds the widget with the script tag, under the strict CSP below,
 *   and collects CSP violation reports at `/csp-report`.
 */
import {readFile} from 'node:fs/promises';
import {createServer} from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

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

function readBody(req) {
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
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

/**
 * The platform's booking page on `http://127.0.0.1:PORT`. `createCheckout(input)` and
 * `services()` are the backend's calls to slotpay's platform API.
 */
export function startBookingHost({port, slotpayUrl, sandboxUrl, createCheckout, services}) {
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${slotpayUrl} ${sandboxUrl} 'wasm-unsafe-eval'`,
    `style-src 'self' ${slotpayUrl}`,
    `connect-src 'self' ${slotpayUrl} ${sandboxUrl}`,
    `frame-src ${sandboxUrl}`,
    "img-src 'self' data:",
  ].join('; ');
  const slots = demoSlots();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://host');
      if (req.method === 'GET' && url.pathname === '/api/catalogue') {
        const list = (await services()).data ?? [];
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
        const service = ((await services()).data ?? []).find((s) => s.id === input?.service_id && s.active);
        const slot = slots.find((s) => s.id === input?.slot);
        if (!service || !slot) {
          return sendJson(res, 400, {error: {code: 'invalid_booking', message: 'Pick a service and a free slot'}});
        }
        // The amount is decided here, server-side: the service's prepayment.
        const checkout = await createCheckout({
          service_id: service.id,
          amount: service.prepayment_amount.amount,
          currency: service.prepayment_amount.currency,
          description: `${service.name}, ${slot.label}`,
          booking_ref: `BK-${slot.id}`,
        });
        return sendJson(res, 201, {checkout: checkout.token, description: checkout.description});
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
