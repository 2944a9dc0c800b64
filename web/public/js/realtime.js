// Live order updates: MQTT over WebSocket to AWS IoT Core through its custom authorizer.
//
// The authorizer name is in the URL (`?x-amz-customauthorizer-name=...`, signing disabled); the access token
// goes as the MQTT password, so it never appears in a URL. The client id is `<sub>-<tab>` and the only
// subscription is `<prefix>/<sub>/+`: the authorizer's policy allows nothing else. A connection ends when
// its token expires; this client then reconnects with a fresh one. While it is down, `onState("down")`
// tells the page to poll instead.
import mqtt from "../vendor/mqtt.esm.js";

const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000, 20000];

export class Realtime {
  /**
   * @param {{url: string, topicPrefix: string}} config the `realtime` part of config.json
   * @param {{sub: () => string, accessToken: () => Promise<string|null>,
   *          onMessage: (topic: string, message: object) => void, onState: (state: string) => void}} hooks
   */
  constructor(config, hooks) {
    this.config = config;
    this.hooks = hooks;
    this.tab = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
    this.client = null;
    this.failures = 0;
    this.stopped = false;
    this.timer = null;
  }

  get topicFilter() {
    return `${this.config.topicPrefix}/${this.hooks.sub()}/+`;
  }

  start() {
    this.stopped = false;
    this.#connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.client?.end(true);
    this.client = null;
  }

  async #connect() {
    clearTimeout(this.timer);
    const token = await this.hooks.accessToken().catch(() => null);
    if (this.stopped) return;
    if (!token) {
      this.hooks.onState("down");
      return;
    }
    const client = mqtt.connect(this.config.url, {
      clientId: `${this.hooks.sub()}-${this.tab}`,
      username: "",
      password: token,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0, // reconnect here instead, with a fresh token each time
      // Plain timers: mqtt.js's worker timers run from a blob: URL, which the page's CSP refuses.
      timerVariant: "native",
      connectTimeout: 10_000,
    });
    this.client = client;
    let subscribed = false;
    client.on("connect", () => {
      client.subscribe(this.topicFilter, { qos: 1 }, (error, granted) => {
        subscribed = !error && granted?.every((grant) => grant.qos !== 128);
        if (!subscribed) {
          client.end(true);
          return;
        }
        this.failures = 0;
        this.hooks.onState("live");
      });
    });
    client.on("message", (topic, payload) => {
      try {
        this.hooks.onMessage(topic, JSON.parse(new TextDecoder().decode(payload)));
      } catch {
        // Not an order update: ignore it.
      }
    });
    client.on("close", () => {
      if (this.client !== client) return;
      this.client = null;
      this.hooks.onState("down");
      if (this.stopped) return;
      const delay = RECONNECT_DELAYS_MS[Math.min(this.failures, RECONNECT_DELAYS_MS.length - 1)];
      this.failures += 1;
      this.timer = setTimeout(() => this.#connect(), delay);
    });
    client.on("error", () => client.end(true));
  }
}
