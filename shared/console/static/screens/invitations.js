// Invitations: a site's invitations a page at a time (filter by state), with
// resend and revoke (revoke asks first). An invitation whose email bounced
// or was complained about says so (its address is not emailed again) and
// offers an org admin to allow email to the address again (asks first).
// Calls: GET /orgs/{org}/sites/{site}/invitations,
// POST …/invitations/{id}/resend, POST …/invitations/{id}/revoke,
// DELETE /orgs/{org}/suppressions/{email}.

import { call, get, idempotencyKey, path } from "../api.js";
import { act, announce, confirmDialog, field, fill, h, pager, select, table, when } from "../ui.js";

export const title = "Invitations";

/** An invitation whose address is suppressed: SES reported a bounce or a complaint. */
function suppressed(inv) {
  return inv.emailDelivery === "bounced" || inv.emailDelivery === "complained";
}

export async function render(el, ctx) {
  const { org, site } = ctx;
  const status = select("status", [["", "Any"], "pending", "accepted", "revoked", "expired"], "");
  const filter = h("form", { "aria-label": "Filter invitations", class: "row" }, field("State", status), h("button", { type: "submit" }, "Show"));
  const list = h("div", { id: "invitation-list" });
  let page;

  async function resend(inv, btn) {
    const res = await act(btn, list, () => call("POST", path("orgs", org, "sites", site, "invitations", inv.id, "resend"), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    announce(`${res.body.message} (${inv.email}: email ${res.body.emailDelivery}).`);
    page.reload();
  }

  async function allowEmail(inv, btn) {
    const ok = await confirmDialog("Allow email to this address again?", [
      `An email to ${inv.email} ${inv.emailDelivery === "complained" ? "was reported as spam by its recipient" : "bounced: the mailbox does not exist or refused it"}, so it is not emailed for this organisation.`,
      "Allow it only when you know the address works now, or the recipient asked for email again. Then resend the invitation."],
    "Allow email", false);
    if (!ok) return;
    const res = await act(btn, list, () => call("DELETE", path("orgs", org, "suppressions", inv.email), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    announce(`${res.body.message} (${res.body.email})`);
    page.reload();
  }

  async function revoke(inv, btn) {
    const ok = await confirmDialog("Revoke this invitation?", [`The invitation to ${inv.email} stops working, and the seat and memberships it holds are released.`], "Revoke invitation", true);
    if (!ok) return;
    const res = await act(btn, list, () => call("POST", path("orgs", org, "sites", site, "invitations", inv.id, "revoke"), { idempotencyKey: idempotencyKey() }));
    if (!res) return;
    announce(`Revoked the invitation to ${inv.email}` + (res.body.groups.length ? `; memberships released: ${res.body.groups.join(", ")}.` : "."));
    page.reload();
  }

  function show(items) {
    return table("Invitations", [
      { title: "Email", cell: (i) => i.email },
      { title: "State", cell: (i) => i.status },
      { title: "Becomes", cell: (i) => h("span", { class: "tag " + i.kind }, i.kind) },
      { title: "Roles", cell: (i) => Object.entries(i.roles).map(([p, r]) => p + ": " + r).join(", ") },
      { title: "Groups", cell: (i) => i.groups.join(", ") },
      { title: "Email delivery", cell: (i) => suppressed(i)
        ? h("span", { class: "tag suppressed", title: "Not emailed again until an org admin allows it" }, i.emailDelivery + ": not emailed")
        : i.emailDelivery },
      { title: "Expires", cell: (i) => when(i.expiresAt) },
      { title: "Actions", cell: (i) => i.status === "pending" ? h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": "Resend to " + i.email, onclick: (ev) => resend(i, ev.currentTarget) }, "Resend"),
        suppressed(i) ? h("button", { type: "button", class: "secondary", "aria-label": "Allow email to " + i.email + " again", onclick: (ev) => allowEmail(i, ev.currentTarget) }, "Allow email") : null,
        h("button", { type: "button", class: "danger", "aria-label": "Revoke invitation to " + i.email, onclick: (ev) => revoke(i, ev.currentTarget) }, "Revoke")) : "" },
    ], items, "No invitations.");
  }

  function load() {
    page = pager(list, async (cursor) => {
      const r = await get(path("orgs", org, "sites", site, "invitations"), { limit: 20, cursor, status: status.value });
      return { items: r.invitations, next: r.next };
    }, show);
  }
  filter.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  fill(el, filter, list);
  load();
}
