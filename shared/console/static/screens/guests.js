// Guests by space: the site's spaces (register one; list a space's guests;
// rename one, open or close it to anonymous access, name its admins),
// and the site's guests (filter by space and state) with assign, move,
// unassign and remove. A move is asked for when the API answers that the
// guest is in another space (409 naming currentSpace).
// Calls: GET/POST /orgs/{org}/sites/{site}/spaces, GET/PATCH …/spaces/{key},
// PUT/DELETE …/spaces/{key}/admins/{a}, GET …/spaces/{key}/guests,
// GET /orgs/{org}/sites/{site}/guests, PUT/DELETE …/guests/{a}/space,
// DELETE /orgs/{org}/users/{a}.

import { ApiError, call, get, idempotencyKey, path } from "../api.js";
import { act, announce, confirmDialog, field, fill, form, h, pager, select, table, uid } from "../ui.js";

export const title = "Guests by space";

async function allSpaces(org, site) {
  const out = [];
  let cursor;
  do {
    const r = await get(path("orgs", org, "sites", site, "spaces"), { limit: 100, cursor });
    out.push(...r.spaces);
    cursor = r.next;
  } while (cursor);
  return out;
}

export async function render(el, ctx) {
  const { org, site } = ctx;
  let spaces = await allSpaces(org, site);
  const spacesBox = h("div", { id: "space-list" });
  const spaceGuests = h("div", { id: "space-guests" });
  const guestsBox = h("div", { id: "guest-list" });
  let page;

  async function assign(g, key, btn) {
    const sp = path("orgs", org, "sites", site, "guests", g.accountId, "space");
    const res = await act(btn, guestsBox, async () => {
      try {
        return await call("PUT", sp, { body: { space: key }, idempotencyKey: idempotencyKey() });
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 409 || !e.problem.currentSpace) throw e;
        if (!await confirmDialog("Move this guest?", `${g.email} is in space ${e.problem.currentSpace}. A guest has one space: move them to ${key}?`, "Move guest")) return null;
        return call("PUT", sp, { body: { space: key, move: true }, idempotencyKey: idempotencyKey() });
      }
    });
    if (!res) return;
    const r = res.body;
    announce(r.moved ? `Moved ${g.email} from ${r.previous} to ${r.space}.` : r.changed ? `Assigned ${g.email} to ${r.space}.` : `${g.email} already was in ${r.space}.`);
    page.reload();
  }

  async function unassign(g, btn) {
    const res = await act(btn, guestsBox, () => call("DELETE", path("orgs", org, "sites", site, "guests", g.accountId, "space"), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    announce(res.body.changed ? `${g.email} left ${res.body.previous}; they have no space now.` : `${g.email} had no space.`);
    page.reload();
  }

  async function removeUser(g, btn) {
    if (!await confirmDialog("Remove this user from the organisation?", `${g.email} loses every role, group and pending invitation in ${org}; their seat is released.`, "Remove user", true)) return;
    const res = await act(btn, guestsBox, () => call("DELETE", path("orgs", org, "users", g.accountId), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    announce(`Removed ${res.body.email} from ${org}.`);
    page.reload();
  }

  function guestActions(g) {
    const choose = select("space", spaces.map((s) => [s.key, s.key + " — " + s.name]), g.space || (spaces[0] && spaces[0].key));
    choose.id = uid("space-for");
    const lbl = h("label", { for: choose.id, class: "sr-only" }, "Space for " + g.email);
    return h("div", { class: "actions" }, lbl, choose,
      h("button", { type: "button", "aria-label": (g.space ? "Move " : "Assign ") + g.email + " to the chosen space", onclick: (ev) => assign(g, choose.value, ev.currentTarget) }, g.space ? "Move" : "Assign"),
      g.space ? h("button", { type: "button", class: "secondary", "aria-label": "Unassign " + g.email, onclick: (ev) => unassign(g, ev.currentTarget) }, "Unassign") : null,
      h("button", { type: "button", class: "danger", "aria-label": "Remove " + g.email + " from the organisation", onclick: (ev) => removeUser(g, ev.currentTarget) }, "Remove"));
  }

  function showSpaces() {
    fill(spacesBox, table("Spaces", [
      { title: "Key", cell: (s) => s.key },
      { title: "Name", cell: (s) => s.name },
      { title: "Anonymous access", cell: (s) => (s.anonymousAccess ? "yes" : "no") },
      { title: "Actions", cell: (s) => h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": "Show the guests of " + s.key, onclick: () => showSpaceGuests(s) }, "Show guests"),
        h("button", { type: "button", class: "secondary", "aria-label": "Manage space " + s.key, onclick: () => manageSpace(s.key) }, "Manage")) },
    ], spaces, "No spaces registered."));
  }

  function showSpaceGuests(s) {
    fill(spaceGuests, h("h3", { id: "sg-h", tabindex: "-1" }, "Guests of " + s.key), h("div", { id: "sg-list" }));
    pager(spaceGuests.querySelector("#sg-list"), async (cursor) => {
      const r = await get(path("orgs", org, "sites", site, "spaces", s.key, "guests"), { limit: 20, cursor });
      return { items: r.guests, next: r.next };
    }, (items) => table("Guests of " + s.key, [
      { title: "Email", cell: (g) => h("a", { href: "#/user/" + encodeURIComponent(g.accountId) }, g.email) },
      { title: "Account id", cell: (g) => g.accountId },
    ], items, "No guests in this space."));
    spaceGuests.querySelector("h3").focus();
  }

  // One space: rename, anonymous access, its admins.
  async function manageSpace(k) {
    const spath = path("orgs", org, "sites", site, "spaces", k);
    const sp = await get(spath);
    const name = h("input", { name: "name", value: sp.name, autocomplete: "off" });
    const anon = h("input", { type: "checkbox", name: "anonymousAccess", checked: sp.anonymousAccess });
    const edit = form("Change space " + k, "Save space", async () => {
      const r = (await call("PATCH", spath, { body: { name: name.value, anonymousAccess: anon.checked }, idempotencyKey: idempotencyKey() })).body;
      announce(`Space ${r.key}: ${r.name}, anonymous access ${r.anonymousAccess ? "on" : "off"}.`);
      spaces = await allSpaces(org, site);
      showSpaces();
    }, field("Name", name), field("Open to anonymous access", anon, { inline: true }));
    const admin = h("input", { name: "accountId", autocomplete: "off" });
    const addAdmin = form("Add a space admin", "Add admin", async () => {
      await call("PUT", path("orgs", org, "sites", site, "spaces", k, "admins", admin.value.trim()), { idempotencyKey: idempotencyKey() });
      announce(`${admin.value.trim()} is an admin of ${k}.`);
      manageSpace(k);
    }, field("Account id (a paid user)", admin));
    const removeAdmin = async (a, btn) => {
      if (!await confirmDialog("Remove this space admin?", `${a} stops being an admin of ${k}.`, "Remove admin", true)) return;
      if (await act(btn, spaceGuests, () => call("DELETE", path("orgs", org, "sites", site, "spaces", k, "admins", a), { idempotencyKey: idempotencyKey() }))) {
        announce(`${a} is no longer an admin of ${k}.`);
        manageSpace(k);
      }
    };
    fill(spaceGuests, h("h3", { id: "sm-h", tabindex: "-1" }, "Space " + k), edit,
      h("h4", {}, "Admins"),
      table("Admins of " + k, [
        { title: "Account id", cell: (a) => h("a", { href: "#/user/" + encodeURIComponent(a) }, a) },
        { title: "Actions", cell: (a) => h("button", { type: "button", class: "danger", "aria-label": "Remove " + a + " as admin of " + k, onclick: (ev) => removeAdmin(a, ev.currentTarget) }, "Remove") },
      ], sp.admins || [], "No space admins."), addAdmin);
    spaceGuests.querySelector("h3").focus();
  }

  const key = h("input", { name: "key", autocomplete: "off" });
  const name = h("input", { name: "name", autocomplete: "off" });
  const anon = h("input", { type: "checkbox", name: "anonymousAccess" });
  const create = form("Register a space", "Register space", async (f) => {
    const r = (await call("POST", path("orgs", org, "sites", site, "spaces"), { body: { key: key.value.trim(), name: name.value, anonymousAccess: anon.checked }, idempotencyKey: idempotencyKey() })).body;
    announce(`Registered space ${r.key}.`);
    f.reset();
    spaces = await allSpaces(org, site);
    showSpaces();
  }, h("div", { class: "row" }, field("Key (upper-case letters and digits)", key), field("Name", name)), field("Open to anonymous access", anon, { inline: true }));

  const spaceFilter = select("space", [["", "Any space"], ...spaces.map((s) => s.key)], "");
  const statusFilter = select("status", [["", "Any state"], "invited", "active", "unassigned", "suspended"], "");
  const filter = h("form", { "aria-label": "Filter guests", class: "row" }, field("Space", spaceFilter), field("State", statusFilter), h("button", { type: "submit" }, "Show"));
  function loadGuests() {
    page = pager(guestsBox, async (cursor) => {
      const r = await get(path("orgs", org, "sites", site, "guests"), { limit: 20, cursor, space: spaceFilter.value, status: statusFilter.value });
      return { items: r.guests, next: r.next };
    }, (items) => table("Guests", [
      { title: "Email", cell: (g) => h("a", { href: "#/user/" + encodeURIComponent(g.accountId) }, g.email) },
      { title: "State", cell: (g) => g.status },
      { title: "Space", cell: (g) => h("span", { class: "guest-space" }, g.space || "none") },
      { title: "Guest through", cell: (g) => [g.direct === "guest" ? "direct role" : "", ...g.groups.map((x) => "group " + x)].filter(Boolean).join(", ") },
      { title: "External", cell: (g) => (g.external ? "yes" : "no") },
      { title: "Actions", cell: guestActions },
    ], items, "No guests."));
  }
  filter.addEventListener("submit", (ev) => { ev.preventDefault(); loadGuests(); });

  fill(el,
    h("section", { "aria-labelledby": "gs-h" }, h("h2", { id: "gs-h" }, `Guests of site ${site}`), filter, guestsBox),
    h("section", { "aria-labelledby": "sp-h" }, h("h2", { id: "sp-h" }, "Spaces"), spacesBox, spaceGuests, h("h3", {}, "Register a space"), create));
  showSpaces();
  loadGuests();
}
