// Invite: emails, a message, direct product roles and/or groups. Before
// sending, the console works out what the invitees become (screens/paid.js);
// when they would be paid users it shows the billing effect (GET …/billing)
// and sends only once the admin ticks the confirmation. Then it shows each
// address's result and the API's warnings.
// Calls: GET /orgs/{org}/groups, GET /orgs/{org}/groups/{id},
// GET /orgs/{org}/sites/{site}/billing, POST /orgs/{org}/sites/{site}/invitations.

import { call, get, idempotencyKey, path } from "../api.js";
import { announce, fill, h, field, form, select, table, uid, when } from "../ui.js";
import { count } from "../text.js";
import { groupRole, planKind } from "./paid.js";

export const title = "Invite people";

/** Every group of the org (following next). */
export async function allGroups(org) {
  const out = [];
  let cursor;
  do {
    const page = await get(path("orgs", org, "groups"), { limit: 100, cursor });
    out.push(...page.groups);
    cursor = page.next;
  } while (cursor);
  return out;
}

function parseEmails(text) {
  return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

function resultTable(results) {
  return table("Invitation results", [
    { title: "Email", cell: (x) => x.email },
    { title: "Result", cell: (x) => h("span", { class: "status" }, x.status) },
    { title: "Reason", cell: (x) => x.reason || "" },
    { title: "Becomes", cell: (x) => x.kind || "" },
    { title: "Email delivery", cell: (x) => x.emailDelivery || "" },
    { title: "Link expires", cell: (x) => when(x.expiresAt) },
  ], results);
}

export async function render(el, ctx) {
  const { org, site } = ctx;
  const groups = await allGroups(org);
  if (!ctx.live()) return;

  const emails = h("textarea", { name: "emails", rows: 3, autocomplete: "off", spellcheck: "false" });
  const message = h("textarea", { name: "message", rows: 3, maxlength: 1000 });
  const conf = select("products.confluence.role", [["none", "No direct role"], ["guest", "Guest (one space, free up to 5 per paid user)"], ["user", "User (paid)"]], "none");
  const jira = select("products.jira.role", [["none", "No direct role"], ["user", "User (paid)"]], "none");
  const jsm = select("products.jira-service-management.role", [["none", "No direct role"], ["user", "User (paid)"]], "none");
  const allOrNothing = h("input", { type: "checkbox", name: "allOrNothing" });
  const boxes = groups.map((g) => {
    const r = groupRole(g, site, "confluence");
    const box = h("input", { type: "checkbox", name: "group", value: g.id, id: uid("grp") });
    return { g, box, node: h("div", { class: "field inline" }, box, h("label", { for: box.id }, g.name + " (" + g.id + ")"),
      h("span", { class: "tag " + (r === "guest" ? "guest" : r === "none" ? "" : "paid") }, "Confluence: " + r)) };
  });
  const groupSet = h("fieldset", { "data-field": "groups" }, h("legend", {}, "Groups"),
    boxes.length ? boxes.map((b) => b.node) : h("p", { class: "muted" }, "This organisation has no groups."));
  const plan = h("div", { id: "invite-plan", "aria-live": "polite" });
  const confirmBox = h("input", { type: "checkbox", name: "confirmPaid", id: "confirm-paid" });
  const results = h("div", { id: "invite-results" });
  let key = idempotencyKey();
  let billing = null;

  const chosen = () => boxes.filter((b) => b.box.checked).map((b) => b.g);

  async function showPlan(groupsNow) {
    const p = planKind(site, conf.value, groupsNow || chosen());
    const n = parseEmails(emails.value).length;
    if (p.kind !== "paid") {
      confirmBox.checked = false;
      fill(plan, h("p", { id: "invite-kind" }, p.kind === "guest"
        ? "The invitees become guests on Confluence (free: up to 5 guests per paid user, each in one space)."
        : "The invitees get no Confluence access" + (Object.values({ jira: jira.value, jsm: jsm.value }).some((v) => v !== "none") ? " (Jira roles only)." : ".")));
      return p;
    }
    if (!billing) {
      try {
        billing = await get(path("orgs", org, "sites", site, "billing"));
      } catch {
        billing = null;
      }
    }
    const effect = billing
      ? [`This site has ${count(billing.paidUsers, "paid user")} and ${count(billing.guests, "guest")}; it may have ${count(billing.userLimit, "user")} in all (${billing.freeUserSlots} free).`,
         `Each paid user is a billed seat: inviting ${n ? count(n, "invitee") : "them"} adds ${n ? count(n, "seat") : "one seat each"} (and room for ${count(n ? 5 * n : 5, "more guest")}, 5 per paid user).`]
      : ["Each paid user is a billed seat."];
    fill(plan, h("div", { class: "warning", id: "paid-warning" },
      h("h2", {}, "These invitees become paid users, not guests"),
      h("p", {}, `${n ? count(n, "invitee") : "The invitees"} ${n === 1 ? "becomes a paid Confluence user" : "become paid Confluence users"} because of: ${p.paidBy.join("; ")}.`),
      effect.map((t) => h("p", {}, t)),
      field("I understand: these invitees become paid users and are billed", confirmBox, { inline: true })));
    return p;
  }

  const f = form("Invite people", "Send invitations", async (frm, btn) => {
    fill(results);
    // Read the chosen groups' roles afresh: what the API will use.
    const fresh = [];
    for (const g of chosen()) fresh.push(await get(path("orgs", org, "groups", g.id)));
    const p = await showPlan(fresh);
    if (p.kind === "paid" && !confirmBox.checked) {
      const err = new Error("Confirm that these invitees become paid users, or choose a guest role or a guest group.");
      err.problem = { title: "Confirmation needed", detail: err.message, errors: { confirmPaid: "tick to confirm paid users" } };
      throw Object.assign(err, { status: 0 });
    }
    const body = { emails: parseEmails(emails.value) };
    const products = {};
    for (const [name, sel] of [["confluence", conf], ["jira", jira], ["jira-service-management", jsm]]) {
      if (sel.value !== "none") products[name] = { role: sel.value };
    }
    if (Object.keys(products).length) body.products = products;
    const gs = chosen().map((g) => g.id);
    if (gs.length) body.groups = gs;
    if (message.value.trim()) body.message = message.value;
    if (allOrNothing.checked) body.allOrNothing = true;
    let res;
    try {
      res = await call("POST", path("orgs", org, "sites", site, "invitations"), { body, idempotencyKey: key });
    } catch (e) {
      // An all-or-nothing refusal answers each address's result in the problem.
      if (e.problem && Array.isArray(e.problem.results)) fill(results, resultTable(e.problem.results));
      throw e;
    }
    key = idempotencyKey();
    billing = null;
    showResults(res.body, res.headers.get("Idempotent-Replayed") === "true");
    announce(`Invitations processed: ${res.body.summary.invited} invited.`);
  },
  field("Email addresses (one per line, or separated by commas)", emails),
  field("Personal message (optional)", message),
  h("fieldset", { "data-field": "products" }, h("legend", {}, "Direct roles on this site"),
    field("Confluence", conf), field("Jira", jira), field("Jira Service Management", jsm)),
  groupSet,
  field("All or nothing: invite nobody if any address is refused", allOrNothing, { inline: true }),
  plan);

  f.addEventListener("input", () => { key = idempotencyKey(); });
  f.addEventListener("change", (ev) => { if (ev.target !== confirmBox) showPlan(); });

  function showResults(r, replayed) {
    fill(results, h("section", { "aria-labelledby": "results-h" },
      h("h2", { id: "results-h", tabindex: "-1" }, "Results"),
      replayed ? h("p", { class: "muted" }, "This is the kept answer to the same request sent before (Idempotent-Replayed).") : null,
      h("p", { id: "invite-summary" }, `Invited ${r.summary.invited}, already members ${r.summary.alreadyMember}, already invited ${r.summary.alreadyInvited}, invalid ${r.summary.invalid}, refused by the guest limit ${r.summary.refusedByGuestLimit}` +
        (r.summary.refusedByUserLimit ? `, refused by the user limit ${r.summary.refusedByUserLimit}` : "") + `; emails queued ${r.summary.emailsQueued ?? 0} (the invitations list shows each one sent or failed). The invitees are: ${r.kind}.`),
      r.warnings.length ? h("div", { class: "warning", id: "invite-warnings" }, h("h3", {}, "Warnings"), h("ul", {}, r.warnings.map((w) => h("li", {}, w)))) : null,
      resultTable(r.results),
      h("p", { class: "muted" }, `Billing now: ${count(r.billing.paidUsers, "paid user")}, ${count(r.billing.guests, "guest")}, ${count(r.billing.freeGuestSlots, "free guest slot")}, ${count(r.billing.freeUserSlots, "free user slot")}.`)));
    results.querySelector("h2").focus();
  }

  fill(el, h("p", { class: "muted" }, `Invite up to 10 people to site ${site} of ${org}. Choose a direct role, groups, or both.`), f, results);
  showPlan();
}
