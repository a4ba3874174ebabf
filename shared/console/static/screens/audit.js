// The audit log: newest first, a page at a time, with the API's filters
// (actor, target, from, to). Without actor or target a page reads at most 31
// days and may come back short or empty with a next page.
// Calls: GET /orgs/{org}/audit.

import { get, path } from "../api.js";
import { field, fill, h, pager, table, when } from "../ui.js";

export const title = "Audit log";

function rfc3339(local) {
  if (!local) return "";
  const d = new Date(local);
  return isNaN(d) ? local : d.toISOString();
}

function change(e) {
  if (!e.before && !e.after) return "";
  return h("details", {}, h("summary", {}, e.before && e.after ? "Before and after" : e.after ? "After" : "Before"),
    e.before ? h("pre", {}, "before: " + JSON.stringify(e.before, null, 1)) : null,
    e.after ? h("pre", {}, "after: " + JSON.stringify(e.after, null, 1)) : null);
}

export async function render(el, ctx) {
  const { org } = ctx;
  const actor = h("input", { name: "actor", autocomplete: "off" });
  const target = h("input", { name: "target", autocomplete: "off" });
  const from = h("input", { name: "from", type: "datetime-local" });
  const to = h("input", { name: "to", type: "datetime-local" });
  const list = h("div", { id: "audit-list" });
  const filters = h("form", { "aria-label": "Filter the audit log" },
    h("div", { class: "row" },
      field("Actor (account id or system)", actor),
      field("Target (user/<id>, group/<id>, space/<site>/<key>, invitation/<id>, site/<id>, org/<id>)", target),
      field("From", from), field("To", to)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show entries")));
  function load() {
    pager(list, async (cursor) => {
      const r = await get(path("orgs", org, "audit"), { limit: 25, cursor, actor: actor.value.trim(), target: target.value.trim(), from: rfc3339(from.value), to: rfc3339(to.value) });
      return { items: r.entries, next: r.next };
    }, (items) => table("Audit entries", [
      { title: "When", cell: (e) => when(e.at) },
      { title: "Actor", cell: (e) => h("span", { class: "rid" }, e.actor) },
      { title: "Action", cell: (e) => h("span", { class: "audit-action" }, e.action) },
      { title: "Target", cell: (e) => h("span", { class: "rid" }, e.target) },
      { title: "Change", cell: change },
      { title: "Request id", cell: (e) => (e.requestId ? h("code", { class: "rid" }, e.requestId) : "") },
    ], items, "No entries on this page (a page without actor or target covers at most 31 days: try the next page)."));
  }
  filters.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  fill(el, filters, list);
  load();
}
