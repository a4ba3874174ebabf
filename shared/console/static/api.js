// The API client: every call is a cross-origin fetch to the API with the
// bearer token. Errors come back as application/problem+json and are thrown
// as ApiError; a 401 signs the admin out and asks them to sign in again.

import { currentToken, signOut } from "./auth.js";

let base = "";
let onUnauthorized = () => {};

/** An API answer that is not a success: the problem document and status. */
export class ApiError extends Error {
  constructor(status, problem, requestId) {
    super(problem.detail || problem.title || "HTTP " + status);
    this.status = status;
    this.problem = problem;
    this.requestId = problem.requestId || requestId || "";
  }
}

/** Configure the client: the API's base URL and what a 401 does. */
export function configure(apiBaseUrl, unauthorized) {
  base = apiBaseUrl.replace(/\/+$/, "");
  onUnauthorized = unauthorized;
}

/** A path from segments, each escaped: path("orgs", org, "groups"). */
export function path(...segments) {
  return "/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
}

/** A fresh Idempotency-Key for one admin action (reused on its retries). */
export function idempotencyKey() {
  return crypto.randomUUID();
}

/**
 * Call the API. opts: body (JSON), query (object; empty values dropped),
 * idempotencyKey, raw (answer the Response instead of its JSON).
 * Answers {status, body, headers} or the Response when raw.
 */
export async function call(method, p, opts = {}) {
  const url = new URL(base + p);
  for (const [k, v] of Object.entries(opts.query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { Accept: "application/json, application/problem+json, text/csv" };
  const t = currentToken();
  if (t) headers.Authorization = "Bearer " + t;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, {
      title: "The API could not be reached",
      detail: "The request did not get an answer (network, or refused by the browser's cross-origin rules): " + e.message,
    });
  }
  if (res.ok && opts.raw) return res;
  const type = res.headers.get("Content-Type") || "";
  let body = null;
  if (type.includes("json")) {
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  } else if (!res.ok || type.startsWith("text/")) {
    body = await res.text();
  }
  if (!res.ok) {
    const problem = body && typeof body === "object" ? body : { title: res.statusText || "Error", status: res.status, detail: typeof body === "string" ? body.slice(0, 300) : "" };
    const err = new ApiError(res.status, problem, res.headers.get("X-Request-Id") || res.headers.get("Apigw-Requestid"));
    err.retryAfter = res.headers.get("Retry-After");
    if (res.status === 401) {
      signOut();
      onUnauthorized(err);
    }
    throw err;
  }
  return { status: res.status, body, headers: res.headers };
}

/** GET and answer the JSON body. */
export async function get(p, query) {
  return (await call("GET", p, { query })).body;
}
