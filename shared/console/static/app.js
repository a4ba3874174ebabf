// The admin console's shell: loads config.json, finishes or starts the
// sign-in, keeps the org and site chosen in the header, and routes the
// address's hash (#/screen/arg…) to one module per screen under screens/.
// Each screen module exports title and render(container, ctx, args).

import { beginSignIn, claims, currentToken, finishSignIn, signOut } from "./auth.js";
import { configure } from "./api.js";
import { neutralize } from "./text.js";
import { clearProblems, fill, h, showProblem } from "./ui.js";

const screens = {
  invite: () => import("./screens/invite.js"),
  invitations: () => import("./screens/invitations.js"),
  groups: () => import("./screens/groups.js"),
  guests: () => import("./screens/guests.js"),
  billing: () => import("./screens/billing.js"),
  audit: () => import("./screens/audit.js"),
  external: () => import("./screens/external.js"),
  user: () => import("./screens/user.js"),
};
const HOME = "invite";
const SCOPE_KEY = "ga.scope";

const $ = (id) => document.getElementById(id);
let config = null;
let rendering = 0;

/** The org and site the console works on (config, or what the admin chose in this tab). */
function scope() {
  const saved = JSON.parse(sessionStorage.getItem(SCOPE_KEY) || "null");
  return saved || { org: config.orgId || "", site: config.siteId || "" };
}

function showSignedIn(signedIn) {
  $("scope").hidden = !signedIn;
  $("nav").hidden = !signedIn;
  $("signout").hidden = !signedIn;
  $("who").hidden = !signedIn;
  if (signedIn) {
    const s = scope();
    $("scope-org").value = s.org;
    $("scope-site").value = s.site;
    fill($("who"), "Signed in as ", h("strong", {}, claims().sub || "?"));
  }
}

function heading(text) {
  return h("h1", { tabindex: "-1", id: "screen-title" }, text);
}

function signInScreen(message) {
  showSignedIn(false);
  const btn = h("button", { type: "button", id: "signin" }, "Sign in");
  btn.addEventListener("click", () => {
    btn.disabled = true;
    beginSignIn(config).catch((e) => { btn.disabled = false; showProblem(e); });
  });
  document.title = "Sign in · Guest access admin console";
  const h1 = heading("Sign in");
  fill($("screen"), h1,
    message ? h("p", { class: "warning", id: "signin-reason" }, message) : null,
    h("p", {}, "Sign in with your organisation's identity provider to manage guests, groups, billing and external users."),
    btn);
  h1.focus();
}

/** Render the screen the hash names. */
async function route(focus = true) {
  if (!currentToken()) {
    signInScreen();
    return;
  }
  showSignedIn(true);
  const [name, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!screens[name]) {
    location.replace("#/" + HOME);
    return;
  }
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === "#/" + name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const mine = ++rendering;
  clearProblems();
  let mod;
  try {
    mod = await screens[name]();
  } catch (e) {
    showProblem(e);
    return;
  }
  if (mine !== rendering) return;
  const h1 = heading(mod.title);
  const body = h("div", { id: "screen-body" });
  fill($("screen"), h1, body);
  document.title = mod.title + " · Guest access admin console";
  const s = scope();
  const ctx = {
    config,
    org: s.org,
    site: s.site,
    args,
    /** Still the screen on show (not navigated away). */
    live: () => mine === rendering,
    setTitle: (t) => { h1.textContent = neutralize(t); document.title = neutralize(t) + " · Guest access admin console"; },
    go: (hash) => { location.hash = hash; },
  };
  if (focus) h1.focus();
  try {
    await mod.render(body, ctx);
  } catch (e) {
    if (mine === rendering) showProblem(e);
  }
}

async function main() {
  const res = await fetch("config.json", { cache: "no-store" });
  config = await res.json();
  configure(config.apiBaseUrl, () => signInScreen("Your session ended or was refused by the API (401). Sign in again."));
  $("signout").addEventListener("click", () => {
    signOut();
    sessionStorage.removeItem(SCOPE_KEY);
    signInScreen("You are signed out.");
  });
  $("scope").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const org = $("scope-org").value.trim();
    const site = $("scope-site").value.trim();
    if (!$("scope").checkValidity()) {
      showProblem(new Error("Organisation and site are ids: lower-case letters, digits and hyphens."));
      return;
    }
    sessionStorage.setItem(SCOPE_KEY, JSON.stringify({ org, site }));
    route();
  });
  window.addEventListener("hashchange", () => route());
  // A link to the screen on show starts it afresh (no hashchange fires).
  $("nav").addEventListener("click", (ev) => {
    const a = ev.target.closest("a");
    if (a && a.getAttribute("href") === location.hash) {
      ev.preventDefault();
      route();
    }
  });
  try {
    const done = await finishSignIn(config);
    if (done && !location.hash) location.replace("#/" + HOME);
  } catch (e) {
    signInScreen(e.message);
    return;
  }
  route(true);
}

main().catch((e) => {
  fill($("screen"), heading("The console could not start"), h("p", { role: "alert" }, e.message));
});
