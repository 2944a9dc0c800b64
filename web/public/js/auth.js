// Sign-in with Cognito managed login: OAuth 2.0 authorization code grant with PKCE (RFC 7636).
// The tokens stay in this tab's sessionStorage; the access token is what the API and IoT authorizers verify.

const TOKENS = "orderflow.tokens";
const PENDING = "orderflow.signIn";
// Refresh a token this long before it expires: the IoT authorizer refuses one with under 5 minutes left.
const REFRESH_MARGIN_SECONDS = 6 * 60;

export class SignInError extends Error {}

function base64Url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomString(byteCount) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

/** The claims of a JWT, for display and timing only: the servers verify the signature. */
export function claimsOf(jwt) {
  const payload = jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
}

export class Auth {
  /** @param {{url: string, clientId: string, scopes: string[]}} config the `signIn` part of config.json */
  constructor(config) {
    this.config = config;
    this.redirectUri = `${window.location.origin}/`;
    this.refreshing = null;
  }

  get tokens() {
    const stored = sessionStorage.getItem(TOKENS);
    return stored ? JSON.parse(stored) : null;
  }

  set tokens(value) {
    if (value) sessionStorage.setItem(TOKENS, JSON.stringify(value));
    else sessionStorage.removeItem(TOKENS);
  }

  get signedIn() {
    return this.tokens !== null;
  }

  /** `sub` and `email` of the signed-in customer. */
  get user() {
    const tokens = this.tokens;
    if (!tokens) return null;
    const id = claimsOf(tokens.idToken);
    return { sub: id.sub, email: id.email ?? id["cognito:username"] ?? id.sub };
  }

  /** Go to the managed login page; it comes back to this page with `?code=...&state=...`. */
  async signIn() {
    const verifier = randomString(48);
    const state = randomString(16);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      scope: this.config.scopes.join(" "),
      state,
      code_challenge: base64Url(digest),
      code_challenge_method: "S256",
    });
    window.location.assign(`${this.config.url}/oauth2/authorize?${query}`);
  }

  /** After the redirect back: exchange the code for tokens. Returns whether a sign-in was completed. */
  async completeSignIn() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return false;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
    sessionStorage.removeItem(PENDING);
    // Leave the one-time code out of the address bar and the history.
    window.history.replaceState(null, "", window.location.pathname);
    if (params.has("error")) {
      throw new SignInError(`Sign-in did not complete: ${params.get("error_description") || params.get("error")}.`);
    }
    if (!pending || pending.state !== params.get("state")) {
      throw new SignInError("Sign-in did not complete: the answer did not match this tab's request. Sign in again.");
    }
    this.tokens = await this.#token({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    return true;
  }

  /** A valid access token (refreshed when close to expiry), or null when the customer must sign in again. */
  async accessToken() {
    const tokens = this.tokens;
    if (!tokens) return null;
    if (claimsOf(tokens.accessToken).exp - Date.now() / 1000 > REFRESH_MARGIN_SECONDS) return tokens.accessToken;
    this.refreshing ??= this.#refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Forget the tokens here and end the managed login session, coming back to this page. */
  signOut() {
    this.tokens = null;
    const query = new URLSearchParams({ client_id: this.config.clientId, logout_uri: this.redirectUri });
    window.location.assign(`${this.config.url}/logout?${query}`);
  }

  async #refresh() {
    const tokens = this.tokens;
    if (!tokens?.refreshToken) {
      this.tokens = null;
      return null;
    }
    try {
      const fresh = await this.#token({ grant_type: "refresh_token", refresh_token: tokens.refreshToken });
      this.tokens = { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken };
      return this.tokens.accessToken;
    } catch (error) {
      if (error instanceof SignInError) {
        this.tokens = null; // the refresh token was revoked or expired: sign in again
        return null;
      }
      throw error;
    }
  }

  async #token(fields) {
    const response = await fetch(`${this.config.url}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: this.config.clientId, ...fields }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new SignInError(`Sign-in failed (${body.error || response.status}). Sign in again.`);
    }
    return { accessToken: body.access_token, idToken: body.id_token, refreshToken: body.refresh_token };
  }
}
