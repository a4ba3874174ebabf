// One user (#/user/{account}): their groups and effective roles (each with
// why), a direct role on this site's products, suspend or restore, reset
// their verification session, their API tokens (list, revoke; make one only
// for yourself), and removal from the organisation.
// Calls: GET /orgs/{org}/users/{a}/groups, GET /orgs/{org}/users/{a}/roles,
// PUT /orgs/{org}/sites/{site}/products/{p}/users/{a}/role,
// PUT /orgs/{org}/users/{a}/status, POST /orgs/{org}/users/{a}/reset-session,
// GET/POST /orgs/{org}/users/{a}/api-tokens, DELETE …/api-tokens/{id},
// DELETE /orgs/{org}/users/{a}.

import { call, get, idempotencyKey, path } from "../api.js";
import { claims } from "../auth.js";
import { act, announce, confirmDialog, field, fill, form, h, select, table, when } from "../ui.js";

export const title = "User";

export async function render(el, ctx) {
  const { org, site } = ctx;
  const account = ctx.args[0];
  ctx.setTitle("User " + account);
  const upath = (...s) => path("orgs", org, "users", account, ...s);
  const groupsBox = h("div", { id: "user-groups" });
  const rolesBox = h("div", { id: "user-roles" });
  const tokensBox = h("div", { id: "user-tokens" });
  const out = h("div", { id: "user-effect" });

  async function refresh() {
    const [gs, rs] = await Promise.all([get(upath("groups")), get(upath("roles"))]);
    fill(groupsBox, table("Groups", [
      { title: "Group", cell: (g) => h("a", { href: "#/groups/" + encodeURIComponent(g.id) }, g.name + " (" + g.id + ")") },
      { title: "Roles", cell: (g) => g.roles.map((r) => `${r.site}/${r.product}: ${r.role}`).join(", ") },
    ], gs.groups, "In no group."));
    fill(rolesBox, table("Effective roles", [
      { title: "Site", cell: (r) => r.site },
      { title: "Product", cell: (r) => r.product },
      { title: "Role", cell: (r) => r.role + (r.kind ? " (" + r.kind + ")" : "") },
      { title: "Why", cell: (r) => ["direct: " + r.direct, ...r.groups.map((g) => `group ${g.name}: ${g.role}`)].join("; ") },
    ], rs.roles, "No roles."));
    const ts = await get(upath("api-tokens"));
    fill(tokensBox, table("API tokens", [
      { title: "Label", cell: (t) => t.label },
      { title: "Created", cell: (t) => when(t.createdAt) },
      { title: "Expires", cell: (t) => when(t.expiresAt) + (t.expired ? " (expired)" : "") },
      { title: "Actions", cell: (t) => h("button", { type: "button", class: "danger", "aria-label": "Revoke API token " + t.label, onclick: (ev) => revokeToken(t, ev.currentTarget) }, "Revoke") },
    ], ts.tokens, "No API tokens."));
  }

  async function revokeToken(t, btn) {
    if (!await confirmDialog("Revoke this API token?", `The token ${t.label} stops working at once.`, "Revoke token", true)) return;
    if (await act(btn, tokensBox, () => call("DELETE", upath("api-tokens", t.id)))) {
      announce(`Revoked API token ${t.label}.`);
      await refresh();
    }
  }

  const product = select("product", ["confluence", "jira", "jira-service-management"], "confluence");
  const role = select("role", ["none", "guest", "user", "admin"], "none");
  const direct = form("Set a direct role", "Set direct role", async () => {
    const r = (await call("PUT", path("orgs", org, "sites", site, "products", product.value, "users", account, "role"), { body: { role: role.value }, idempotencyKey: idempotencyKey() })).body;
    fill(out, h("p", {}, `${r.site}/${r.product}: ${r.before} → ${r.after} (${r.why.join("; ")}).`),
      r.warnings.length ? h("div", { class: "warning" }, h("ul", {}, r.warnings.map((w) => h("li", {}, w)))) : null);
    announce("Direct role set.");
    await refresh();
  }, h("div", { class: "row" }, field("Product", product), field("Role", role)));

  const status = select("status", ["active", "suspended"], "suspended");
  const statusForm = form("Suspend or restore", "Set status", async () => {
    const r = (await call("PUT", upath("status"), { body: { status: status.value }, idempotencyKey: idempotencyKey() })).body;
    announce(`${r.email} is ${r.status}.`);
  }, field("Status", status));

  const reset = h("button", { type: "button", class: "secondary" }, "Reset verification session");
  reset.addEventListener("click", async () => {
    const r = await act(reset, null, () => call("POST", upath("reset-session"), { idempotencyKey: idempotencyKey() }));
    if (r) announce(`${r.body.email} must verify again (reset at ${when(r.body.sessionsResetAt)}).`);
  });

  const remove = h("button", { type: "button", class: "danger" }, "Remove from the organisation");
  remove.addEventListener("click", async () => {
    if (!await confirmDialog("Remove this user?", `${account} loses every role, group and pending invitation in ${org}; their seats are released.`, "Remove user", true)) return;
    const r = await act(remove, null, () => call("DELETE", upath(), { idempotencyKey: idempotencyKey() }));
    if (!r) return;
    fill(out, h("p", {}, `Removed ${r.body.email}: groups ${r.body.groups.join(", ") || "none"}; invitations ${r.body.invitations.length}; released ` +
      r.body.released.map((x) => `${x.site}: ${x.paidUsers} paid, ${x.guests} guests`).join("; ") + "."));
    announce(`Removed ${r.body.email}.`);
  });

  const mine = claims().sub === account;
  const label = h("input", { name: "label", autocomplete: "off" });
  const days = h("input", { name: "expiresInDays", type: "number", min: 1, max: 365, value: 90 });
  const secret = h("div", { id: "token-secret" });
  const make = form("Make an API token", "Make token", async (f) => {
    const r = (await call("POST", upath("api-tokens"), { body: { label: label.value, expiresInDays: Number(days.value) } })).body;
    fill(secret, h("div", { class: "warning" }, h("p", {}, "Copy the secret now; it is never shown again:"), h("p", {}, h("code", {}, r.secret))));
    f.reset();
    await refresh();
  }, h("div", { class: "row" }, field("Label", label), field("Expires in days", days)));

  fill(el, h("p", { class: "muted" }, `Account ${account} in ${org}; roles set on site ${site}.`), out,
    h("section", { "aria-labelledby": "ug-h" }, h("h2", { id: "ug-h" }, "Groups"), groupsBox),
    h("section", { "aria-labelledby": "ur-h" }, h("h2", { id: "ur-h" }, "Roles"), rolesBox, direct),
    h("section", { "aria-labelledby": "us-h" }, h("h2", { id: "us-h" }, "Status and session"), statusForm, reset),
    h("section", { "aria-labelledby": "ut-h" }, h("h2", { id: "ut-h" }, "API tokens"), tokensBox, mine ? [make, secret] : h("p", { class: "muted" }, "Only the user themselves may make an API token.")),
    h("section", { "aria-labelledby": "ux-h" }, h("h2", { id: "ux-h" }, "Remove"), remove));
  await refresh();
}
