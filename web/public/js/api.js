// The order API: POST /orders, GET /orders, GET /orders/{orderId} and its receipt link, with a clear message for
// every error (never the server's own wording: it is written for developers).

const MAX_PLACE_ATTEMPTS = 4;

/** An API call that did not succeed; `message` is what the customer reads. */
export class ApiError extends Error {
  constructor(message, { status = 0, fields = [], retryable = false, retryAfterSeconds = 0 } = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.retryable = retryable;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

async function errorFrom(response) {
  const body = await response.json().catch(() => ({}));
  const fields = Array.isArray(body.fields) ? body.fields : [];
  const retryAfterSeconds = Number(response.headers.get("Retry-After")) || 0;
  const status = response.status;
  if (status === 401) {
    return new ApiError("Your session has ended. Sign in again.", { status });
  }
  if (status === 429) {
    const wait = retryAfterSeconds || 5;
    return new ApiError(`Too many requests right now. Wait ${wait} seconds, then try again.`, {
      status,
      retryable: true,
      retryAfterSeconds: wait,
    });
  }
  if (status === 409 && retryAfterSeconds) {
    // The same order is still being placed: asking again with the same key is safe.
    return new ApiError("Your order is still being placed…", { status, retryable: true, retryAfterSeconds });
  }
  if (status >= 500) {
    return new ApiError("The shop could not answer just now. It is safe to try again: you will not be charged twice.", {
      status,
      retryable: true,
      retryAfterSeconds,
    });
  }
  if (status === 404) return new ApiError("We could not find that order.", { status });
  // The server names each wrong field; the page words each one for the customer (main.js).
  if (fields.length) return new ApiError("Please correct the marked fields.", { status, fields });
  return new ApiError("The shop could not take this request. Check your order and try again.", { status });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Api {
  /**
   * @param {string} baseUrl "" when the API is served on the page's own origin.
   * @param {() => Promise<string|null>} accessToken
   */
  constructor(baseUrl, accessToken) {
    this.baseUrl = baseUrl;
    this.accessToken = accessToken;
  }

  async #call(method, path, { body, headers = {} } = {}) {
    const token = await this.accessToken();
    if (!token) throw new ApiError("Your session has ended. Sign in again.", { status: 401 });
    let response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body ? { "Content-Type": "application/json" } : {}),
          ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError("The network is not answering. Check your connection; it is safe to try again.", {
        retryable: true,
      });
    }
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  }

  /**
   * Place an order once, whatever the network does: one Idempotency-Key per submit, reused on every retry,
   * so the server replays its first answer instead of making a second order.
   */
  async placeOrder(order, idempotencyKey, onRetry = () => {}) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#call("POST", "/orders", { body: order, headers: { "Idempotency-Key": idempotencyKey } });
      } catch (error) {
        if (!(error instanceof ApiError) || !error.retryable || attempt >= MAX_PLACE_ATTEMPTS) throw error;
        onRetry(error, attempt);
        const backoff = Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(Math.max(backoff, error.retryAfterSeconds * 1000));
      }
    }
  }

  /** `{order, timeline}` of one of the customer's orders. */
  getOrder(orderId) {
    return this.#call("GET", `/orders/${encodeURIComponent(orderId)}`);
  }

  /** `{url, expiresInSeconds}`: a short-lived link to the receipt of one of the customer's orders. */
  receiptLink(orderId) {
    return this.#call("GET", `/orders/${encodeURIComponent(orderId)}/receipt`);
  }

  /** `{orders, nextToken}`: the customer's orders, newest first. */
  listOrders(nextToken = null) {
    const query = nextToken ? `?${new URLSearchParams({ nextToken })}` : "";
    return this.#call("GET", `/orders${query}`);
  }
}
