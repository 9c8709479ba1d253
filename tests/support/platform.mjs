/**
 * The booking site's backend's calls of slotpay's platform API, typed by the API document:
 * `slotpay-api.d.ts` is generated from `docs/openapi.json` by openapi-typescript (`./dev
 * openapi`, and again by `./dev test` before it type-checks this file), so a change to the
 * API that breaks the booking backend fails the test run's typescript stage.
 */

/** @typedef {import('./slotpay-api').components['schemas']} Schemas */
/** @typedef {(method: string, apiPath: string, body?: unknown) => Promise<any>} AdminCall */

/**
 * The calls, over `admin` (the stack's platform API call with the admin token).
 * @param {AdminCall} admin
 */
export function platformClient(admin) {
  return {
    /**
     * A merchant's services.
     * @param {string} merchantId
     * @returns {Promise<Schemas['ServiceView'][]>}
     */
    async services(merchantId) {
      /** @type {Schemas['List_ServiceView']} */
      const list = await admin('GET', `/merchants/${merchantId}/services`);
      return list.data;
    },
    /**
     * A checkout (or payment link) for a merchant.
     * @param {string} merchantId
     * @param {Schemas['CheckoutInput']} input
     * @returns {Promise<Schemas['CheckoutAdminView']>}
     */
    createCheckout(merchantId, input) {
      return admin('POST', `/merchants/${merchantId}/checkouts`, input);
    },
    /**
     * The booking site's webhook endpoint (its secret is in the answer, once).
     * @param {Schemas['EndpointInput']} input
     * @returns {Promise<{id: string, url: string, secret: string}>}
     */
    async registerEndpoint(input) {
      /** @type {Schemas['EndpointView']} */
      const endpoint = await admin('POST', '/webhook-endpoints', input);
      if (!endpoint.secret) throw new Error('slotpay answered no signing secret for a new endpoint');
      return {id: endpoint.id, url: endpoint.url, secret: endpoint.secret};
    },
  };
}

/**
 * The checkout of a booking: the service's prepayment, decided by the booking backend (never
 * by the browser), held for `holdSeconds`.
 * @param {Schemas['ServiceView']} service
 * @param {{description: string, bookingRef: string, holdSeconds: number}} booking
 * @returns {Schemas['CheckoutInput']}
 */
export function prepaymentCheckout(service, {description, bookingRef, holdSeconds}) {
  return {
    service_id: service.id,
    amount: service.prepayment_amount.amount,
    currency: service.prepayment_amount.currency,
    description,
    booking_ref: bookingRef,
    expires_in: holdSeconds,
  };
}
