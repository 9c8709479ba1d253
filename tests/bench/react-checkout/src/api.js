// Calls to the slotpay server's public API: the checkout view, pay (with an Idempotency-Key) and
// refresh. Network failures, 5xx and 429 are retried with the same request, so the same key;
// other answers are final.

const RETRY_DELAYS_MS = [1000, 2000, 4000];
const TIMEOUT_MS = 20_000;
const PAY_STATUSES = ['succeeded', 'requires_action', 'processing', 'failed'];

/** A refusal from the server: `{kind: 'api', code, message, declineCode}`, or the network. */
export class ApiProblem extends Error {
  constructor(problem) {
    super(problem.message ?? problem.code ?? problem.kind);
    this.problem = problem;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(url, init = {}) {
  let last = null;
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await sleep(RETRY_DELAYS_MS[attempt - 1]);
    let response;
    try {
      response = await fetch(url, {...init, credentials: 'omit', signal: AbortSignal.timeout(TIMEOUT_MS)});
    } catch {
      continue; // offline, refused, timed out: try again
    }
    const answer = {status: response.status, body: await response.json().catch(() => null)};
    if (answer.status < 500 && answer.status !== 429) return answer;
    last = answer;
  }
  // The server kept failing: its own words (stripe_unavailable) if it sent any.
  if (last?.body?.error) return last;
  throw new ApiProblem({kind: 'network', code: 'network_error'});
}

function refusal(body) {
  const error = body?.error ?? {};
  return new ApiProblem({
    kind: 'api',
    code: error.code ?? 'internal_error',
    message: error.message,
    declineCode: error.decline_code,
  });
}

/** `GET /v1/checkouts/{token}`: the checkout's public view. */
export async function getCheckout(api, token) {
  const {status, body} = await send(`${api}/v1/checkouts/${encodeURIComponent(token)}`);
  if (status === 200 && body?.token) return body;
  throw refusal(body);
}

/** The answer of pay or refresh: 2xx, or a 402 that carries `{status: "failed", error}`. */
function payAnswer({status, body}) {
  if (((status >= 200 && status < 300) || status === 402) && PAY_STATUSES.includes(body?.status)) return body;
  throw refusal(body);
}

/** `POST /v1/checkouts/{token}/pay` with `key` as Idempotency-Key. */
export async function pay(api, token, request, key) {
  return payAnswer(
    await send(`${api}/v1/checkouts/${encodeURIComponent(token)}/pay`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'Idempotency-Key': key},
      body: JSON.stringify(request),
    }),
  );
}

/** `POST /v1/checkouts/{token}/refresh`, after 3-D Secure. */
export async function refresh(api, token) {
  return payAnswer(await send(`${api}/v1/checkouts/${encodeURIComponent(token)}/refresh`, {method: 'POST'}));
}
