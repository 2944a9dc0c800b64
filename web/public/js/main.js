// The order page: sign in, see the catalogue, place an order, watch it live, see past orders.
// The live-updates client (MQTT, most of the page's bytes) is imported only once the customer is signed in.
import { Api, ApiError } from "./api.js";
import { Auth, SignInError } from "./auth.js";

const POLL_INTERVAL_MS = 2000;
const EARLY_PUSHES_KEPT = 20; // an order's pushes before it ships are a handful: this bounds what one placing keeps
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
// What this tab remembers across a reload (and the sign-in round trip): the order being watched, the form.
const WATCHING = "orderflow.watching";
const DRAFT = "orderflow.draft";
const EVENT_RANK = { OrderPlaced: 0, OrderAccepted: 1, OrderRejected: 1, OrderFulfilled: 2, OrderFailed: 2, ReceiptReady: 3 };
const rank = (detailType) => EVENT_RANK[detailType] ?? 9;
const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "postalCode", "country"];

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

/** The reference a customer reads and quotes: the order id's first eight characters, `9B0F-4956`. */
export function orderReference(orderId) {
  const head = String(orderId).replaceAll("-", "").slice(0, 8).toUpperCase();
  return `${head.slice(0, 4)}-${head.slice(4)}`;
}

/** What the customer reads about a rejected or failed order: the server's message, else its reason code. */
function reasonText(source) {
  if (!source) return "";
  if (source.message) return source.message;
  return source.reason ? readableReason(source.reason) : "";
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

/** Bring an element into view and give it focus (a heading or an input), so the customer sees what changed. */
function reveal(element) {
  element.scrollIntoView({ block: "center", behavior: "instant" });
  element.focus({ preventScroll: true });
}

function readStored(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? "null");
  } catch {
    return null;
  }
}

class OrderPage {
  constructor(config) {
    this.config = config;
    this.limits = { maxLineQuantity: 100, maxOrderLines: 50, ...config.limits };
    this.products = Object.fromEntries(config.catalogue.map((product) => [product.sku, product]));
    this.auth = new Auth(config.signIn);
    this.api = new Api(config.apiBaseUrl, () => this.auth.accessToken());
    this.realtime = null;
    this.socket = "off";
    this.current = null; // {orderId, status, seen: Set of event types}
    this.pollTimer = null;
    this.nextToken = null;
    this.placing = false;
    // Pushes for orders the page does not watch yet, kept while an order is being placed: the workflow can
    // accept (even ship) an order before the browser has read the 202 that names it.
    this.early = [];
    this.sentLines = []; // the lines of the last request sent: server errors name lines by their index here
  }

  async start() {
    $("sign-in").addEventListener("click", () => this.auth.signIn());
    $("sign-out").addEventListener("click", () => {
      this.realtime?.stop();
      sessionStorage.removeItem(WATCHING);
      sessionStorage.removeItem(DRAFT);
      this.auth.signOut();
    });
    try {
      await this.auth.completeSignIn();
    } catch (error) {
      this.showAlert(error instanceof SignInError ? error.message : "Sign-in failed. Try again.");
    }
    if (!this.auth.signedIn) {
      $("sign-in").hidden = false;
      $("welcome").hidden = false;
      return;
    }
    $("signed-in-as").textContent = `Signed in as ${this.auth.user.email}`;
    $("signed-in-as").hidden = false;
    $("sign-out").hidden = false;
    $("connection").hidden = false;
    this.renderCatalogue();
    this.restoreDraft();
    $("shop").hidden = false;
    $("history").hidden = false;
    $("order-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.placeOrder();
    });
    $("order-form").addEventListener("input", () => this.saveDraft());
    $("more-orders").addEventListener("click", () => this.loadOrders(true));
    const watching = readStored(WATCHING);
    if (watching?.orderId) {
      this.track(watching.orderId, null, watching.lines ?? [], { cartPending: Boolean(watching.cartPending) });
    }
    this.startLiveUpdates();
    await this.loadOrders();
  }

  async startLiveUpdates() {
    let Realtime;
    try {
      ({ Realtime } = await import("./realtime.js"));
    } catch {
      this.onSocketState("down"); // without the live channel the page polls the order instead
      return;
    }
    this.realtime = new Realtime(this.config.realtime, {
      sub: () => this.auth.user.sub,
      accessToken: () => this.auth.accessToken(),
      onMessage: (topic, message) => this.onNotification(message),
      onState: (state) => this.onSocketState(state),
    });
    this.realtime.start();
  }

  showAlert(message) {
    $("alert").textContent = message;
    $("alert").hidden = !message;
    if (message) reveal($("alert"));
  }

  // ---- catalogue and the order form ----------------------------------------------------------

  renderCatalogue() {
    const items = this.config.catalogue.map((product) => {
      const item = document.createElement("li");
      item.className = "product";
      const picture = Object.assign(document.createElement("img"), {
        src: `/img/${product.sku.toLowerCase()}.svg`,
        alt: "",
        width: 96,
        height: 96,
      });
      const name = Object.assign(document.createElement("span"), { className: "name", textContent: product.name });
      const price = Object.assign(document.createElement("span"), {
        className: "price",
        textContent: formatMoney(product.unitPriceCents, this.config.currency),
      });
      const label = Object.assign(document.createElement("label"), {
        className: "visually-hidden",
        htmlFor: `qty-${product.sku}`,
        textContent: `Quantity of ${product.name}`,
      });
      const input = Object.assign(document.createElement("input"), {
        type: "number",
        id: `qty-${product.sku}`,
        name: product.sku,
        min: 0,
        max: this.limits.maxLineQuantity,
        step: 1,
        value: 0,
        inputMode: "numeric",
      });
      input.dataset.sku = product.sku;
      input.addEventListener("input", () => {
        this.clearFieldError(input);
        this.updateTotal();
      });
      const error = Object.assign(document.createElement("p"), { className: "field-error", id: `qty-${product.sku}-error` });
      error.hidden = true;
      item.append(picture, name, price, label, input, error);
      return item;
    });
    $("catalogue").replaceChildren(...items);
    for (const field of ADDRESS_FIELDS) {
      const input = $(`ship-${field}`);
      const error = Object.assign(document.createElement("p"), { className: "field-error", id: `ship-${field}-error` });
      error.hidden = true;
      input.after(error);
      input.addEventListener("input", () => this.clearFieldError(input));
    }
  }

  quantityInputs() {
    return [...document.querySelectorAll("#catalogue input")];
  }

  /** Every product with a quantity typed in (valid or not), in catalogue order. */
  chosenLines() {
    return this.quantityInputs()
      .filter((input) => input.value.trim() !== "" && Number(input.value) !== 0)
      .map((input) => ({ sku: input.dataset.sku, quantity: Number(input.value), input }));
  }

  validQuantity(quantity) {
    return Number.isInteger(quantity) && quantity >= 1 && quantity <= this.limits.maxLineQuantity;
  }

  updateTotal() {
    const lines = this.chosenLines();
    const total = document.getElementById("order-total");
    if (lines.some((line) => !this.validQuantity(line.quantity))) {
      total.textContent = "check the quantities";
      return;
    }
    const cents = lines.reduce((sum, line) => sum + this.products[line.sku].unitPriceCents * line.quantity, 0);
    total.textContent = formatMoney(cents, this.config.currency);
  }

  address() {
    const value = (field) => $(`ship-${field}`).value.trim();
    const address = {
      name: value("name"),
      line1: value("line1"),
      city: value("city"),
      postalCode: value("postalCode"),
      country: value("country").toUpperCase(),
    };
    if (value("line2")) address.line2 = value("line2");
    return address;
  }

  /** Problems the API would report, found before sending: `{input, message}` each. */
  checkForm(lines, address) {
    const problems = [];
    if (lines.length === 0) {
      problems.push({ input: this.quantityInputs()[0], message: "Choose at least one product." });
    }
    if (lines.length > this.limits.maxOrderLines) {
      problems.push({ input: lines[0].input, message: `An order holds at most ${this.limits.maxOrderLines} products.` });
    }
    for (const line of lines) {
      if (!this.validQuantity(line.quantity)) {
        problems.push({ input: line.input, message: this.quantityMessage(line.sku) });
      }
    }
    for (const field of ["name", "line1", "city", "postalCode"]) {
      if (!address[field]) problems.push({ input: $(`ship-${field}`), message: `Enter your ${this.fieldName(field)}.` });
    }
    if (!/^[A-Z]{2}$/.test(address.country)) {
      problems.push({ input: $("ship-country"), message: "Use a two-letter country code such as IE." });
    }
    return problems;
  }

  quantityMessage(sku) {
    return `${this.products[sku]?.name ?? "This product"}: choose from 1 to ${this.limits.maxLineQuantity}.`;
  }

  fieldName(field) {
    return $(`ship-${field}`).labels[0].textContent.replace(/ \(.*\)$/, "").toLowerCase();
  }

  /** A server field error (`items.1.quantity`, `shippingAddress.city`) as `{input, message}` in the customer's words. */
  problemFromServer({ field }) {
    const line = /^items\.(\d+)(?:\.(\w+))?/.exec(field);
    if (line) {
      // The index counts the lines that were sent, not the catalogue's rows.
      const sent = this.sentLines[Number(line[1])];
      const input = sent ? $(`qty-${sent.sku}`) : this.quantityInputs()[0];
      if (line[2] === "quantity" && sent) return { input, message: this.quantityMessage(sent.sku) };
      return { input, message: `${this.products[sent?.sku]?.name ?? "A product"} cannot be ordered right now.` };
    }
    if (field === "items") return { input: this.quantityInputs()[0], message: "Choose at least one product." };
    const address = /^shippingAddress\.(\w+)$/.exec(field);
    if (address && $(`ship-${address[1]}`)) {
      const input = $(`ship-${address[1]}`);
      if (address[1] === "country") return { input, message: "Use a two-letter country code such as IE." };
      return { input, message: `Check your ${this.fieldName(address[1])} (at most ${input.maxLength} characters).` };
    }
    return { input: null, message: "Part of the order could not be accepted. Check it and try again." };
  }

  clearFieldError(input) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    const error = $(`${input.id}-error`);
    if (error) error.hidden = true;
  }

  /** Mark each wrong field with its message, list them by the button, and take the customer to the first. */
  showProblems(summary, problems) {
    for (const input of document.querySelectorAll("#order-form input")) this.clearFieldError(input);
    const box = $("form-errors");
    if (!summary) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const list = document.createElement("ul");
    for (const { input, message } of problems) {
      list.append(Object.assign(document.createElement("li"), { textContent: message }));
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      const error = $(`${input.id}-error`);
      if (error) {
        error.textContent = message;
        error.hidden = false;
        input.setAttribute("aria-describedby", error.id);
      }
    }
    box.replaceChildren(Object.assign(document.createElement("p"), { textContent: summary }));
    if (problems.length) box.append(list);
    box.hidden = false;
    const first = problems.find((problem) => problem.input)?.input;
    reveal(first ?? box);
  }

  saveDraft() {
    const quantities = Object.fromEntries(
      this.quantityInputs().filter((input) => input.value !== "0").map((input) => [input.dataset.sku, input.value]),
    );
    const address = Object.fromEntries(ADDRESS_FIELDS.map((field) => [field, $(`ship-${field}`).value]));
    sessionStorage.setItem(DRAFT, JSON.stringify({ quantities, address }));
  }

  restoreDraft() {
    const draft = readStored(DRAFT);
    if (!draft) return;
    for (const [sku, value] of Object.entries(draft.quantities ?? {})) {
      const input = $(`qty-${sku}`);
      if (input) input.value = value;
    }
    for (const field of ADDRESS_FIELDS) {
      if (draft.address?.[field]) $(`ship-${field}`).value = draft.address[field];
    }
    this.updateTotal();
  }

  emptyCart() {
    for (const input of this.quantityInputs()) input.value = 0;
    this.updateTotal();
    this.saveDraft();
  }

  async placeOrder() {
    if (this.placing) return; // a second click while the first is on its way changes nothing
    const lines = this.chosenLines();
    const address = this.address();
    const problems = this.checkForm(lines, address);
    if (problems.length) {
      this.showProblems("Your order was not placed yet: please correct the marked fields.", problems);
      return;
    }
    const request = { items: lines.map(({ sku, quantity }) => ({ sku, quantity })), shippingAddress: address };
    this.sentLines = request.items;
    // One key per submit, reused by every retry of this submit.
    const idempotencyKey = crypto.randomUUID();
    this.placing = true;
    $("place-order").disabled = true;
    $("place-order").textContent = "Placing your order…";
    this.showProblems("");
    try {
      const reply = await this.api.placeOrder(request, idempotencyKey, (error) => announce(error.message));
      this.track(reply.orderId, reply.status, request.items, { placedNow: true });
      reveal($("current-title"));
      this.showPlacedOrder(reply, request.items);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // The cart and the address stay as they are: the customer corrects them and tries again.
      this.showProblems(`Your order was not placed. ${error.message}`, error.fields.map((f) => this.problemFromServer(f)));
      if (error.status === 401) this.auth.tokens = null;
    } finally {
      this.placing = false;
      this.early = [];
      $("place-order").disabled = false;
      $("place-order").textContent = "Place order";
    }
  }

  // ---- the order being watched -----------------------------------------------------------------

  track(orderId, status, lines, { placedNow = false, cartPending = placedNow } = {}) {
    // cartPending: the cart still holds this order's products, to empty once it ships.
    this.current = { orderId, status: null, seen: new Set(), lines, cartPending };
    this.rememberWatched();
    $("current").dataset.orderId = orderId;
    $("current-ref").textContent = orderReference(orderId);
    $("current-timeline").replaceChildren();
    $("current-reason").hidden = true;
    $("current-status").dataset.status = "";
    $("current-status").textContent = "";
    this.renderItems($("current-items"), $("current-total"), lines);
    $("current").hidden = false;
    // The 202 is the shop's word that it has the order: no need to wait for the audit trail to say so.
    if (placedNow) this.addEvent("OrderPlaced", new Date().toISOString(), null);
    if (status) this.setStatus(status);
    // Pushes can arrive out of order (EventBridge keeps none): the kept ones are replayed in the order they happened.
    const early = this.early.sort((a, b) => (Date.parse(a.occurredAt) || 0) - (Date.parse(b.occurredAt) || 0));
    this.early = [];
    for (const message of early) this.onNotification(message);
    this.refreshCurrent();
    this.schedulePolling();
  }

  rememberWatched() {
    const { orderId, lines, cartPending } = this.current;
    sessionStorage.setItem(WATCHING, JSON.stringify({ orderId, lines, cartPending }));
  }

  renderItems(list, totalElement, lines) {
    let cents = 0;
    list.replaceChildren(
      ...lines.map((line) => {
        const product = this.products[line.sku];
        const unit = line.unitPriceCents ?? product?.unitPriceCents ?? 0;
        cents += unit * line.quantity;
        const item = document.createElement("li");
        if (product) {
          item.append(Object.assign(document.createElement("img"), {
            src: `/img/${line.sku.toLowerCase()}.svg`, alt: "", width: 40, height: 40,
          }));
        }
        item.append(`${product?.name ?? line.sku} × ${line.quantity}`);
        item.append(Object.assign(document.createElement("span"), {
          className: "line-price", textContent: formatMoney(unit * line.quantity, this.config.currency),
        }));
        return item;
      }),
    );
    totalElement.textContent = formatMoney(cents, this.config.currency);
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
      const sentence = reason.replace(/\.$/, "");
      $("current-reason").textContent = `Reason: ${sentence}. Your cart is kept below: change it and order again.`;
      $("current-reason").hidden = false;
    }
    announce(`Order ${orderReference(current.orderId)}: ${STATUS_LABEL[status]}${reason ? `. ${reason}` : ""}`);
    this.updateHistoryRow(current.orderId, status);
    if (TERMINAL.has(status)) {
      this.stopPolling();
      // A failed order keeps its cart, to fix and send again; a shipped one empties it (once).
      if (status === "FULFILLED" && current.cartPending) this.emptyCart();
      current.cartPending = false;
      this.rememberWatched();
      // Its history row was brought up to date above: the list is not read again for it.
    }
  }

  addEvent(detailType, time, detail) {
    if (!this.current || this.current.seen.has(detailType)) return;
    this.current.seen.add(detailType);
    // In the order of the order's life, whichever arrives first (the receipt's event often beats "Shipped").
    const entry = this.timelineEntry(this.current.orderId, detailType, time, detail);
    const later = [...$("current-timeline").children].find((item) => rank(item.dataset.event) > rank(detailType));
    $("current-timeline").insertBefore(entry, later ?? null);
  }

  timelineEntry(orderId, detailType, time, detail) {
    const item = document.createElement("li");
    const reason = reasonText(detail);
    item.dataset.event = detailType;
    item.textContent = `${formatTime(time)}: ${EVENT_LABEL[detailType] ?? detailType}${reason ? ` (${reason})` : ""}`;
    if (detailType === "ReceiptReady") item.append(" ", this.receiptButton(orderId));
    return item;
  }

  receiptButton(orderId) {
    const button = Object.assign(document.createElement("button"), {
      type: "button",
      className: "link",
      textContent: "View receipt",
    });
    button.setAttribute("aria-label", `View receipt of order ${orderReference(orderId)} (opens a new tab)`);
    button.addEventListener("click", async () => {
      // Opened now, while the click counts as the customer's, then pointed at the link once it is made.
      const tab = window.open("", "_blank");
      try {
        const { url } = await this.api.receiptLink(orderId);
        if (tab) {
          tab.opener = null;
          tab.location.href = url;
        } else {
          window.location.assign(url);
        }
      } catch (error) {
        tab?.close();
        if (!(error instanceof ApiError)) throw error;
        this.showAlert(`The receipt could not be opened. ${error.message}`);
      }
    });
    return button;
  }

  onNotification(message) {
    if (!this.current || message.orderId !== this.current.orderId) {
      if (this.placing && this.early.length < EARLY_PUSHES_KEPT) this.early.push(message);
      return;
    }
    this.addEvent(message.type, message.occurredAt, message.details);
    if (message.status) this.setStatus(message.status, message.details);
  }

  /** Read the order back (after placing it, after a reload, while the socket is down, and when it comes back). */
  async refreshCurrent() {
    const current = this.current;
    if (!current) return;
    try {
      const { order, timeline } = await this.api.getOrder(current.orderId);
      if (this.current !== current) return;
      if (Array.isArray(order.items)) this.renderItems($("current-items"), $("current-total"), order.items);
      for (const row of storyOf(order, timeline)) this.addEvent(row.detailType, row.time, row.detail);
      const failure = timeline.find((row) => row.detailType === "OrderFailed" || row.detailType === "OrderRejected");
      this.setStatus(order.status, failure?.detail ?? order);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 404 && this.current === current) {
        sessionStorage.removeItem(WATCHING); // not this customer's (another sign-in in this tab): forget it
        this.current = null;
        $("current").hidden = true;
      } else if (!error.retryable) {
        this.showAlert(error.message);
      }
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
      // A row already shown is kept (with its open details), only brought up to date.
      const shown = new Map([...$("orders").children].map((row) => [row.dataset.orderId, row]));
      const items = page.orders.map((order) => {
        const row = shown.get(order.orderId);
        if (!row) return this.orderItem(order);
        if (order.status in STAGE) this.updateHistoryRow(order.orderId, order.status);
        return row;
      });
      if (more) $("orders").append(...items);
      else $("orders").replaceChildren(...items);
      $("history-empty").hidden = $("orders").children.length > 0;
      $("more-orders").hidden = !this.nextToken;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.showAlert(error.message);
    }
  }

  /**
   * Put the order just placed at the top of the history, from the API's reply: the list is read when the page
   * opens (and on "more"), never again per order. A submit retried after a lost reply finds its row there.
   */
  showPlacedOrder(reply, items) {
    if (document.querySelector(`#orders li[data-order-id="${CSS.escape(reply.orderId)}"]`)) return;
    const now = new Date().toISOString();
    $("orders").prepend(this.orderItem({
      orderId: reply.orderId, status: reply.status, createdAt: now, updatedAt: now,
      totalCents: reply.totalCents, currency: reply.currency, items,
    }));
    $("history-empty").hidden = true;
  }

  /** Show a status on the order's history row; a list read earlier never takes a row back to an older status. */
  updateHistoryRow(orderId, status) {
    const state = document.querySelector(`#orders li[data-order-id="${CSS.escape(orderId)}"] .state`);
    if (!state || (state.dataset.status && STAGE[status] < STAGE[state.dataset.status])) return;
    state.dataset.status = status;
    state.textContent = STATUS_LABEL[status] ?? status;
  }

  orderItem(order) {
    const item = document.createElement("li");
    item.dataset.orderId = order.orderId;
    const button = Object.assign(document.createElement("button"), { type: "button", className: "summary" });
    const details = Object.assign(document.createElement("div"), { className: "details", id: `details-${order.orderId}` });
    details.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", details.id);
    let status = order.status;
    if (this.current?.orderId === order.orderId && STAGE[this.current.status] > STAGE[status]) {
      status = this.current.status; // what the customer already saw live is newer than this list
    }
    const count = (order.items ?? []).reduce((sum, line) => sum + line.quantity, 0);
    const part = (className, text) => Object.assign(document.createElement("span"), { className, textContent: text });
    const state = part("state status", STATUS_LABEL[status] ?? status);
    state.dataset.status = status;
    button.append(
      part("ref", `Order ${orderReference(order.orderId)}`),
      part("when", formatTime(order.createdAt)),
      part("count", `${count} ${count === 1 ? "item" : "items"}`),
      part("total", formatMoney(order.totalCents, order.currency)),
      state,
    );
    button.addEventListener("click", async () => {
      const open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", String(!open));
      details.hidden = open;
      if (open) return;
      try {
        const { order: full, timeline } = await this.api.getOrder(order.orderId);
        const items = Object.assign(document.createElement("ul"), { className: "items" });
        items.setAttribute("aria-label", "Items in this order");
        const total = document.createElement("span");
        this.renderItems(items, total, full.items ?? []);
        const events = Object.assign(document.createElement("ol"), { className: "timeline" });
        events.setAttribute("aria-label", "What happened");
        events.append(...storyOf(full, timeline).map((row) =>
          this.timelineEntry(order.orderId, row.detailType, row.time, row.detail)));
        details.replaceChildren(items, events);
        if (full.status in STAGE) this.updateHistoryRow(order.orderId, full.status);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        details.replaceChildren(Object.assign(document.createElement("p"), { textContent: error.message }));
      }
    });
    item.append(button, details);
    return item;
  }
}

/**
 * The order's whole story from what the API knows: an order that exists was received, so it gets an "Order
 * received" row (at its creation) while the audit has not recorded OrderPlaced yet; and the receipt's own event
 * goes to the live channel only, so an order that has a receipt gets a "Receipt ready" row (at the time it was
 * shipped) when the audit has none.
 */
function storyOf(order, timeline) {
  const story = [...timeline];
  if (order.createdAt && !story.some((row) => row.detailType === "OrderPlaced")) {
    story.unshift({ detailType: "OrderPlaced", time: order.createdAt, detail: null });
  }
  if (order.receiptKey && !story.some((row) => row.detailType === "ReceiptReady")) {
    const shipped = story.find((row) => row.detailType === "OrderFulfilled");
    story.push({ detailType: "ReceiptReady", time: shipped?.time ?? order.updatedAt, detail: null });
  }
  return story;
}

async function main() {
  let config;
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    config = await response.json();
  } catch {
    $("alert").textContent = "The page could not load its settings. Reload to try again.";
    $("alert").hidden = false;
    return;
  }
  await new OrderPage(config).start();
}

main();
