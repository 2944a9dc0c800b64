// The order page: sign in, see the catalogue, place an order, watch it live, see past orders.
import { Api, ApiError } from "./api.js";
import { Auth, SignInError } from "./auth.js";
import { Realtime } from "./realtime.js";

const POLL_INTERVAL_MS = 2000;
const TERMINAL = new Set(["FULFILLED", "FAILED", "REJECTED"]);
const STAGE = { PENDING: 0, ACCEPTED: 1, REJECTED: 1, FULFILLED: 2, FAILED: 2 };
const STATUS_LABEL = {
  PENDING: "Received",
  ACCEPTED: "Accepted, being prepared",
  REJECTED: "Rejected",
  FULFILLED: "Fulfilled: shipped",
  FAILED: "Failed",
};
const EVENT_LABEL = {
  OrderPlaced: "Order received",
  OrderAccepted: "Accepted",
  OrderRejected: "Rejected",
  OrderFulfilled: "Shipped",
  OrderFailed: "Failed",
  ReceiptReady: "Receipt ready",
};

const $ = (id) => document.getElementById(id);

/** `OUT_OF_STOCK` or `OutOfStock` → `Out of stock`. */
export function readableReason(reason) {
  const words = String(reason)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replaceAll("_", " ")
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : "";
}

/** What the customer reads about a rejected or failed order: the server's message, else its reason code. */
function reasonText(source) {
  if (!source) return "";
  if (source.message) return source.message;
  return source.reason ? readableReason(source.reason) : "";
}

function showAlert(message, fields = []) {
  const alert = $("alert");
  alert.replaceChildren(document.createTextNode(message));
  alert.hidden = !message;
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const { field } of fields) {
    const input = inputForField(field);
    input?.setAttribute("aria-invalid", "true");
  }
}

function inputForField(field) {
  const address = /^shippingAddress\.(\w+)$/.exec(field);
  if (address) return $(`ship-${address[1]}`);
  const line = /^items\.(\d+)\./.exec(field);
  if (line) return document.querySelectorAll("#catalogue input")[Number(line[1])] ?? null;
  return null;
}

function announce(text) {
  $("announcer").textContent = text;
}

function formatMoney(cents, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function timelineEntry(detailType, time, detail) {
  const item = document.createElement("li");
  const reason = reasonText(detail);
  item.textContent = `${formatTime(time)}: ${EVENT_LABEL[detailType] ?? detailType}${reason ? ` (${reason})` : ""}`;
  return item;
}

class OrderPage {
  constructor(config) {
    this.config = config;
    this.auth = new Auth(config.signIn);
    this.api = new Api(config.apiBaseUrl, () => this.auth.accessToken());
    this.realtime = null;
    this.socket = "off";
    this.current = null; // {orderId, status, events: Set of event keys}
    this.pollTimer = null;
    this.nextToken = null;
    this.placing = false;
  }

  async start() {
    $("sign-in").addEventListener("click", () => this.auth.signIn());
    $("sign-out").addEventListener("click", () => {
      this.realtime?.stop();
      this.auth.signOut();
    });
    try {
      await this.auth.completeSignIn();
    } catch (error) {
      showAlert(error instanceof SignInError ? error.message : "Sign-in failed. Try again.");
    }
    if (!this.auth.signedIn) {
      $("sign-in").hidden = false;
      $("welcome").hidden = false;
      return;
    }
    $("signed-in-as").textContent = `Signed in as ${this.auth.user.email}`;
    $("signed-in-as").hidden = false;
    $("sign-out").hidden = false;
    this.renderCatalogue();
    $("shop").hidden = false;
    $("history").hidden = false;
    $("order-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.placeOrder();
    });
    $("more-orders").addEventListener("click", () => this.loadOrders(true));
    this.realtime = new Realtime(this.config.realtime, {
      sub: () => this.auth.user.sub,
      accessToken: () => this.auth.accessToken(),
      onMessage: (topic, message) => this.onNotification(message),
      onState: (state) => this.onSocketState(state),
    });
    this.realtime.start();
    await this.loadOrders();
  }

  // ---- catalogue and the order form ----------------------------------------------------------

  renderCatalogue() {
    const rows = this.config.catalogue.map((product) => {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = product.name;
      const price = document.createElement("td");
      price.textContent = formatMoney(product.unitPriceCents, this.config.currency);
      const cell = document.createElement("td");
      const label = document.createElement("label");
      label.className = "visually-hidden";
      label.htmlFor = `qty-${product.sku}`;
      label.textContent = `Quantity of ${product.name}`;
      const input = document.createElement("input");
      Object.assign(input, { type: "number", id: `qty-${product.sku}`, name: product.sku, min: 0, max: 100, value: 0 });
      input.dataset.sku = product.sku;
      input.addEventListener("input", () => this.updateTotal());
      cell.append(label, input);
      row.append(name, price, cell);
      return row;
    });
    $("catalogue").replaceChildren(...rows);
  }

  orderLines() {
    return [...document.querySelectorAll("#catalogue input")]
      .map((input) => ({ sku: input.dataset.sku, quantity: Number(input.value) }))
      .filter((line) => line.quantity > 0);
  }

  updateTotal() {
    const prices = Object.fromEntries(this.config.catalogue.map((p) => [p.sku, p.unitPriceCents]));
    const total = this.orderLines().reduce((sum, line) => sum + (prices[line.sku] ?? 0) * line.quantity, 0);
    $("order-total").textContent = formatMoney(total, this.config.currency);
  }

  orderRequest() {
    const value = (id) => $(id).value.trim();
    const address = {
      name: value("ship-name"),
      line1: value("ship-line1"),
      city: value("ship-city"),
      postalCode: value("ship-postalCode"),
      country: value("ship-country").toUpperCase(),
    };
    if (value("ship-line2")) address.line2 = value("ship-line2");
    return { items: this.orderLines(), shippingAddress: address };
  }

  checkForm(request) {
    const fields = [];
    if (request.items.length === 0) fields.push({ field: "items", message: "choose at least one product" });
    for (const [name, label] of [["name", "full name"], ["line1", "address line 1"], ["city", "city"],
      ["postalCode", "postal code"]]) {
      if (!request.shippingAddress[name]) fields.push({ field: `shippingAddress.${name}`, message: `${label} is required` });
    }
    if (!/^[A-Z]{2}$/.test(request.shippingAddress.country)) {
      fields.push({ field: "shippingAddress.country", message: "use a two-letter country code such as IE" });
    }
    return fields;
  }

  async placeOrder() {
    if (this.placing) return; // a second click while the first is on its way changes nothing
    const request = this.orderRequest();
    const problems = this.checkForm(request);
    if (problems.length) {
      showAlert(`Please check the form: ${problems.map((p) => p.message).join("; ")}.`, problems);
      inputForField(problems[0].field)?.focus();
      return;
    }
    // One key per submit, reused by every retry of this submit.
    const idempotencyKey = crypto.randomUUID();
    this.placing = true;
    $("place-order").disabled = true;
    showAlert("");
    try {
      const reply = await this.api.placeOrder(request, idempotencyKey, (error) => announce(error.message));
      this.track(reply.orderId, reply.status);
      for (const input of document.querySelectorAll("#catalogue input")) input.value = 0;
      this.updateTotal();
      this.loadOrders();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showAlert(error.message, error.fields);
      if (error.status === 401) this.auth.tokens = null;
    } finally {
      this.placing = false;
      $("place-order").disabled = false;
    }
  }

  // ---- the order being watched -----------------------------------------------------------------

  track(orderId, status) {
    this.current = { orderId, status: null, seen: new Set() };
    $("current-id").textContent = orderId;
    $("current-timeline").replaceChildren();
    $("current-reason").hidden = true;
    $("current").hidden = false;
    this.setStatus(status);
    this.refreshCurrent();
    this.schedulePolling();
  }

  setStatus(status, source = null) {
    const current = this.current;
    if (!current || !(status in STAGE)) return;
    if (current.status && STAGE[status] <= STAGE[current.status]) return; // never step back
    current.status = status;
    const element = $("current-status");
    element.dataset.status = status;
    element.textContent = STATUS_LABEL[status];
    const reason = reasonText(source);
    if (reason && (status === "FAILED" || status === "REJECTED")) {
      $("current-reason").textContent = `Reason: ${reason}`;
      $("current-reason").hidden = false;
    }
    announce(`Order ${current.orderId.slice(0, 8)}: ${STATUS_LABEL[status]}${reason ? `. ${reason}` : ""}`);
    if (TERMINAL.has(status)) {
      this.stopPolling();
      this.loadOrders();
    }
  }

  addEvent(key, detailType, time, detail) {
    if (!this.current || this.current.seen.has(key)) return;
    this.current.seen.add(key);
    $("current-timeline").append(timelineEntry(detailType, time, detail));
  }

  onNotification(message) {
    if (!this.current || message.orderId !== this.current.orderId) return;
    this.addEvent(`${message.type}`, message.type, message.occurredAt, message.details);
    if (message.status) this.setStatus(message.status, message.details);
  }

  /** Read the order back (after placing it, while the socket is down, and when it comes back). */
  async refreshCurrent() {
    const current = this.current;
    if (!current) return;
    try {
      const { order, timeline } = await this.api.getOrder(current.orderId);
      if (this.current !== current) return;
      for (const row of timeline) this.addEvent(row.detailType, row.detailType, row.time, row.detail);
      const failure = timeline.find((row) => row.detailType === "OrderFailed" || row.detailType === "OrderRejected");
      this.setStatus(order.status, failure?.detail ?? order);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!error.retryable) showAlert(error.message);
    }
  }

  onSocketState(state) {
    this.socket = state;
    const element = $("connection");
    element.dataset.state = state === "live" ? "live" : "polling";
    element.textContent =
      state === "live"
        ? "Live updates: on"
        : `Live updates: reconnecting; checking your order every ${POLL_INTERVAL_MS / 1000} seconds`;
    if (state === "live") this.refreshCurrent(); // catch up on anything sent while the socket was down
    this.schedulePolling();
  }

  schedulePolling() {
    this.stopPolling();
    if (this.socket === "live" || !this.current || TERMINAL.has(this.current.status)) return;
    this.pollTimer = setInterval(() => this.refreshCurrent(), POLL_INTERVAL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  // ---- past orders ---------------------------------------------------------------------------

  async loadOrders(more = false) {
    try {
      const page = await this.api.listOrders(more ? this.nextToken : null);
      this.nextToken = page.nextToken;
      const items = page.orders.map((order) => this.orderItem(order));
      if (more) $("orders").append(...items);
      else $("orders").replaceChildren(...items);
      $("history-empty").hidden = $("orders").children.length > 0;
      $("more-orders").hidden = !this.nextToken;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showAlert(error.message);
    }
  }

  orderItem(order) {
    const item = document.createElement("li");
    item.dataset.orderId = order.orderId;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "summary";
    const details = document.createElement("ol");
    details.className = "timeline";
    details.id = `timeline-${order.orderId}`;
    details.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", details.id);
    const total = formatMoney(order.totalCents, order.currency);
    button.textContent = `${formatTime(order.createdAt)} · ${total} · ${STATUS_LABEL[order.status] ?? order.status}`;
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.textContent = ` (order ${order.orderId})`;
    button.append(status);
    button.addEventListener("click", async () => {
      const open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", String(!open));
      details.hidden = open;
      if (open) return;
      try {
        const { timeline } = await this.api.getOrder(order.orderId);
        details.replaceChildren(...timeline.map((row) => timelineEntry(row.detailType, row.time, row.detail)));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        details.replaceChildren(Object.assign(document.createElement("li"), { textContent: error.message }));
      }
    });
    item.append(button, details);
    return item;
  }
}

async function main() {
  let config;
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    config = await response.json();
  } catch {
    showAlert("The page could not load its settings. Reload to try again.");
    return;
  }
  await new OrderPage(config).start();
}

main();
