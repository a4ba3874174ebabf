// Groups and memberships: the org's groups (create; open one), and one group
// (#/groups/{id}): rename, delete (a job), its role on each product of the
// site (a job over every member, followed to the end), its members (add,
// remove). A lookup opens a user's page (their groups and roles).
// Calls: GET/POST /orgs/{org}/groups, GET/PATCH/DELETE /orgs/{org}/groups/{id},
// PUT /orgs/{org}/groups/{id}/roles/{site}/{product}, GET /orgs/{org}/jobs/{id},
// GET /orgs/{org}/groups/{id}/members, PUT/DELETE …/members/{account}.

import { call, get, idempotencyKey, path } from "../api.js";
import { count } from "../text.js";
import { act, announce, confirmDialog, field, fill, form, h, pager, select, table, when } from "../ui.js";
import { followJob } from "./jobs.js";

export const title = "Groups";

const roleText = (g) => g.roles.map((r) => `${r.site}/${r.product}: ${r.role}`).join(", ") || "no roles";

export async function render(el, ctx) {
  if (ctx.args[0]) return renderGroup(el, ctx, ctx.args[0]);
  const { org } = ctx;
  const list = h("div", { id: "group-list" });
  let page;
  const name = h("input", { name: "name", autocomplete: "off" });
  const id = h("input", { name: "id", autocomplete: "off" });
  let key = idempotencyKey();
  const create = form("Create a group", "Create group", async (f) => {
    const body = { name: name.value };
    if (id.value.trim()) body.id = id.value.trim();
    const res = await call("POST", path("orgs", org, "groups"), { body, idempotencyKey: key });
    key = idempotencyKey();
    announce(`Created group ${res.body.name} (${res.body.id}).`);
    f.reset();
    page.reload();
  }, h("div", { class: "row" }, field("Name", name), field("Id (optional; from the name when empty)", id)));
  create.addEventListener("input", () => { key = idempotencyKey(); });

  const account = h("input", { name: "accountId", autocomplete: "off" });
  const lookup = h("form", { "aria-label": "Find a user", class: "row" }, field("Account id", account), h("button", { type: "submit" }, "Show user"));
  lookup.addEventListener("submit", (ev) => { ev.preventDefault(); if (account.value.trim()) ctx.go("#/user/" + encodeURIComponent(account.value.trim())); });

  fill(el,
    h("section", { "aria-labelledby": "gl-h" }, h("h2", { id: "gl-h" }, "The organisation's groups"), list),
    h("section", { "aria-labelledby": "gc-h" }, h("h2", { id: "gc-h" }, "Create a group"), create),
    h("section", { "aria-labelledby": "gu-h" }, h("h2", { id: "gu-h" }, "A user's groups and roles"), lookup));
  page = pager(list, async (cursor) => {
    const r = await get(path("orgs", org, "groups"), { limit: 20, cursor });
    return { items: r.groups, next: r.next };
  }, (items) => table("Groups", [
    { title: "Group", cell: (g) => h("a", { href: "#/groups/" + encodeURIComponent(g.id) }, g.name + " (" + g.id + ")") },
    { title: "Members", cell: (g) => String(g.memberCount) },
    { title: "Roles", cell: roleText },
    { title: "Created", cell: (g) => when(g.createdAt) },
  ], items, "No groups yet."));
}

async function renderGroup(el, ctx, groupId) {
  const { org, site } = ctx;
  const gpath = path("orgs", org, "groups", groupId);
  let group = await get(gpath);
  ctx.setTitle("Group " + group.name);
  const summary = h("p", { id: "group-summary" });
  const showSummary = () => fill(summary, `Id ${group.id}; ${count(group.memberCount, "member")}; roles: ${roleText(group)}.`);
  showSummary();

  // Rename.
  const name = h("input", { name: "name", value: group.name, autocomplete: "off" });
  const rename = form("Rename the group", "Rename", async () => {
    group = (await call("PATCH", gpath, { body: { name: name.value } })).body;
    ctx.setTitle("Group " + group.name);
    showSummary();
    announce(`Renamed to ${group.name}.`);
  }, field("New name", name));

  // Role on this site's products: a job.
  const product = select("product", ["confluence", "jira", "jira-service-management"], "confluence");
  const role = select("role", ["none", "guest", "user", "admin"], "guest");
  const jobBox = h("div", { id: "role-job", "aria-live": "polite" });
  const roleForm = form("Set the group's role", "Change role", async () => {
    const res = await call("PUT", path("orgs", org, "groups", groupId, "roles", site, product.value), { body: { role: role.value }, idempotencyKey: idempotencyKey() });
    const job = await followJob(org, res.body, jobBox, ctx.live);
    announce(`Role change on ${site}/${product.value}: ${job.state}.`);
    group = await get(gpath);
    showSummary();
  }, h("p", { class: "muted" }, `Every member's role on site ${site} is recomputed; guests may become paid users (or the reverse). A change that would pass the guest limit is refused whole.`),
  h("div", { class: "row" }, field("Product", product), field("Role", role)));

  // Members.
  const list = h("div", { id: "member-list" });
  let page;
  const account = h("input", { name: "accountId", autocomplete: "off" });
  const effect = h("div", { id: "member-effect" });
  const add = form("Add a member", "Add member", async (f) => {
    const res = await call("PUT", path("orgs", org, "groups", groupId, "members", account.value.trim()), { idempotencyKey: idempotencyKey() });
    fill(effect, res.body.warnings.length ? h("div", { class: "warning" }, h("ul", {}, res.body.warnings.map((w) => h("li", {}, w)))) : null);
    announce(`${account.value.trim()} is ${res.body.member ? "a member" : "not a member"} of ${group.name}.`);
    f.reset();
    page.reload();
  }, field("Account id", account));

  async function remove(m, btn) {
    if (!await confirmDialog("Remove from the group?", `${m.email} leaves ${group.name}; their roles are recomputed without it.`, "Remove member", true)) return;
    const res = await act(btn, list, () => call("DELETE", path("orgs", org, "groups", groupId, "members", m.accountId), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    fill(effect, res.body.warnings.length ? h("div", { class: "warning" }, h("ul", {}, res.body.warnings.map((w) => h("li", {}, w)))) : null);
    announce(`${m.email} left ${group.name}.`);
    page.reload();
  }

  // Delete: a job.
  const delBox = h("div", { id: "delete-job" });
  const del = h("button", { type: "button", class: "danger" }, "Delete group");
  del.addEventListener("click", async () => {
    if (!await confirmDialog("Delete this group?", `Every member leaves ${group.name} first (their roles recomputed), then the group goes.`, "Delete group", true)) return;
    const res = await act(del, null, () => call("DELETE", gpath, { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    const job = await followJob(org, res.body, delBox, ctx.live);
    announce(`Deleting ${group.name}: ${job.state}.`);
  });

  fill(el, h("p", {}, h("a", { href: "#/groups" }, "All groups")), summary,
    h("section", { "aria-labelledby": "gr-h" }, h("h2", { id: "gr-h" }, `Role on site ${site}`), roleForm, jobBox),
    h("section", { "aria-labelledby": "gm-h" }, h("h2", { id: "gm-h" }, "Members"), list, add, effect),
    h("section", { "aria-labelledby": "gn-h" }, h("h2", { id: "gn-h" }, "Rename or delete"), rename, del, delBox));
  page = pager(list, async (cursor) => {
    const r = await get(path("orgs", org, "groups", groupId, "members"), { limit: 20, cursor });
    return { items: r.members, next: r.next };
  }, (items) => table("Members", [
    { title: "Email", cell: (m) => h("a", { href: "#/user/" + encodeURIComponent(m.accountId) }, m.email) },
    { title: "Account id", cell: (m) => m.accountId },
    { title: "Actions", cell: (m) => h("button", { type: "button", class: "danger", "aria-label": "Remove " + m.email + " from the group", onclick: (ev) => remove(m, ev.currentTarget) }, "Remove") },
  ], items, "No members."));
}
