// Sign-in: OAuth 2.0 authorization code with PKCE (S256) as a public client.
// The access token lives in memory and in sessionStorage (this tab only; never
// localStorage, cookies or URLs). The PKCE verifier and state wait in
// sessionStorage across the redirect to the identity provider, then go.

const TOKEN_KEY = "ga.token";
const PKCE_KEY = "ga.pkce";

let token = null;

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return b64url(a);
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

/** The redirect URI: the console's own root, as registered with the provider. */
export function redirectUri() {
  return location.origin + "/";
}

/** The signed-in token, or null (an expired one counts as none). */
export function currentToken() {
  if (!token) {
    try {
      token = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    } catch {
      token = null;
    }
  }
  if (token && token.expiresAt && Date.now() > token.expiresAt) {
    signOut();
  }
  return token ? token.accessToken : null;
}

/** The claims of the token (its subject), read without checking: for display only. */
export function claims() {
  const t = currentToken();
  if (!t) return {};
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

/** Forget the token (memory and sessionStorage). */
export function signOut() {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Go to the identity provider's sign-in page; come back to the same screen. */
export async function beginSignIn(config) {
  const verifier = random(32);
  const state = random(16);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  if (config.scope) q.set("scope", config.scope);
  location.assign(config.authorizeUrl + (config.authorizeUrl.includes("?") ? "&" : "?") + q);
}

/**
 * Finish a sign-in when the address carries the provider's answer: checks the
 * state, takes code and state out of the address bar at once, and trades the
 * code (with the verifier) for a token. Answers null when there was nothing to
 * finish, else {hash} (the screen to return to); throws an Error whose
 * message says what went wrong.
 */
export async function finishSignIn(config) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const state = params.get("state");
  const error = params.get("error");
  if (!code && !error) return null;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  for (const k of ["code", "state", "error", "error_description", "iss", "session_state"]) params.delete(k);
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + (saved?.hash || location.hash));
  if (error) throw new Error("The identity provider refused the sign-in: " + error + ".");
  if (!saved || !state || saved.state !== state) {
    throw new Error("The sign-in answer does not match the sign-in this tab started (state). Sign in again.");
  }
  const res = await fetch(config.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: config.clientId,
      code_verifier: saved.verifier,
    }),
  });
  let body = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok || !body.access_token) {
    throw new Error("The token endpoint refused the sign-in (" + (body.error || res.status) + "). Sign in again.");
  }
  token = {
    accessToken: body.access_token,
    expiresAt: body.expires_in ? Date.now() + (body.expires_in - 30) * 1000 : 0,
  };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token));
  return { hash: saved.hash || "" };
}
