// External users: the verified domains (add, remove), the external user
// policy (edit, preview who is affected, then apply under the version read),
// the test policy (preview, set, clear), resetting every external user's
// sessions, the external users list with its filters, and the CSV export
// (inline for a small directory; an export job with progress and part
// downloads for a large one).
// Calls: GET /orgs/{org}/domains, PUT/DELETE /orgs/{org}/domains/{d}, POST /orgs/{org}/domains/{d}/check,
// GET/PUT /orgs/{org}/external-policy, POST …/external-policy/preview,
// PUT/DELETE …/external-policy/test, POST /orgs/{org}/external-users/reset-sessions,
// GET /orgs/{org}/external-users, GET …/external-users/export,
// POST …/external-users/exports, GET …/exports/{id}, GET …/exports/{id}/csv.

import { call, get, idempotencyKey, path } from "../api.js";
import { act, announce, confirmDialog, download, field, fill, form, h, pager, pause, select, table, uid, when } from "../ui.js";

export const title = "External users";

function verifyText(v) {
  return v === "once" ? "once" : `every ${v.days} day(s)`;
}

function policyText(p) {
  return `two-step verification ${p.twoStepVerification}, verification lasts ${verifyText(p.verifyEvery)}, API tokens ${p.apiTokens}`;
}

/** Policy settings controls: answers {nodes, read()} (read throws a field error). */
function settings(p) {
  const two = select("twoStepVerification", ["on", "off"], p ? p.twoStepVerification : "off");
  const every = h("input", { name: "verifyEvery", type: "number", min: 1, max: 30, value: p && p.verifyEvery !== "once" ? p.verifyEvery.days : "" });
  const tokens = select("apiTokens", ["allowed", "blocked"], p ? p.apiTokens : "allowed");
  return {
    nodes: h("div", { class: "row" }, field("Two-step verification", two), field("Verification lasts (days, 1 to 30; empty: once)", every), field("API tokens", tokens)),
    read() {
      const days = every.value.trim();
      return { twoStepVerification: two.value, verifyEvery: days === "" ? "once" : { days: Number(days) }, apiTokens: tokens.value };
    },
  };
}

function previewView(pv) {
  const t = pv.totals;
  return [
    h("p", { class: "preview-totals" }, `Examined ${t.examined} external user(s): ${t.affected} affected` +
      (t.underTestPolicy ? `, ${t.underTestPolicy} under the test policy (not affected)` : "") +
      (Object.keys(t.byEffect).length ? " — " + Object.entries(t.byEffect).map(([k, v]) => `${k}: ${v}`).join(", ") : "") + (pv.more ? "; more to examine." : ".")),
    table("Affected users", [
      { title: "Email", cell: (u) => u.email },
      { title: "Status", cell: (u) => u.status },
      { title: "Effects", cell: (u) => h("ul", {}, u.effects.map((e) => h("li", {}, e.description))) },
    ], pv.users, "Nobody on this page is affected."),
  ];
}

export async function render(el, ctx) {
  const { org } = ctx;
  const opath = (...s) => path("orgs", org, ...s);
  let pol = await get(opath("external-policy"));

  // --- Policy: edit, preview, apply.
  const current = h("p", { id: "policy-current" });
  const showCurrent = () => fill(current, `Now: ${policyText(pol.policy)} (version ${pol.version}).` +
    (pol.sessionsResetAt ? ` Sessions last reset ${when(pol.sessionsResetAt)}.` : "") +
    (pol.testPolicy ? ` Test policy: ${policyText(pol.testPolicy)} for ${pol.testPolicy.users.map((u) => u.email || u.accountId).join(", ")}.` : " No test policy."));
  showCurrent();
  const ps = settings(pol.policy);
  const previewBox = h("div", { id: "policy-preview", "aria-live": "polite" });
  let previewed = null; // {body, version} the preview was for
  const apply = h("button", { type: "button", id: "apply-policy", hidden: true }, "Apply this policy");
  const policyForm = form("External user policy", "Preview the change", async (f) => {
    const body = ps.read();
    apply.hidden = true;
    let cursor;
    const pages = [];
    // Examine the whole directory, a page at a time, up to 10 pages here.
    for (let i = 0; i < 10; i++) {
      const r = await call("POST", opath("external-policy", "preview"), { body, query: { limit: 100, cursor } });
      pages.push(r.body);
      if (!r.body.more) break;
      cursor = r.body.next;
    }
    const last = pages[pages.length - 1];
    const merged = { users: pages.flatMap((p) => p.users), more: last.more, version: last.version,
      totals: pages.reduce((a, p) => ({ examined: a.examined + p.totals.examined, affected: a.affected + p.totals.affected, underTestPolicy: a.underTestPolicy + p.totals.underTestPolicy,
        byEffect: Object.entries(p.totals.byEffect).reduce((m, [k, v]) => ({ ...m, [k]: (m[k] || 0) + v }), a.byEffect) }), { examined: 0, affected: 0, underTestPolicy: 0, byEffect: {} }) };
    previewed = { body, version: last.version };
    fill(previewBox, h("h3", { id: "preview-h", tabindex: "-1" }, `Preview: ${policyText(body)}`), previewView(merged));
    apply.hidden = false;
    previewBox.querySelector("h3").focus();
  }, ps.nodes);
  policyForm.addEventListener("input", () => { apply.hidden = true; previewed = null; });
  policyForm.addEventListener("change", () => { apply.hidden = true; previewed = null; });
  apply.addEventListener("click", async () => {
    if (!previewed) return;
    const r = await act(apply, policyForm, () => call("PUT", opath("external-policy"), { body: { ...previewed.body, version: previewed.version }, idempotencyKey: idempotencyKey() }));
    if (!r) return;
    pol = r.body;
    showCurrent();
    apply.hidden = true;
    announce(pol.changed ? `Policy applied (version ${pol.version}).` : "The policy was already this; nothing changed.");
  });

  // --- Test policy.
  const ts = settings(pol.testPolicy);
  const users = h("input", { name: "users", autocomplete: "off", value: pol.testPolicy ? pol.testPolicy.users.map((u) => u.accountId).join(", ") : "" });
  const testBox = h("div", { id: "test-preview" });
  const testUsers = () => users.value.split(/[\s,]+/).filter(Boolean);
  const testForm = form("Test policy", "Set test policy", async () => {
    const r = await call("PUT", opath("external-policy", "test"), { body: { ...ts.read(), users: testUsers(), version: pol.version }, idempotencyKey: idempotencyKey() });
    pol = r.body;
    showCurrent();
    announce("Test policy set.");
  }, ts.nodes, field("External users it applies to (account ids, 1 to 5)", users));
  const testPreview = h("button", { type: "button", class: "secondary" }, "Preview the test policy");
  testPreview.addEventListener("click", async () => {
    const r = await act(testPreview, testForm, () => call("POST", opath("external-policy", "preview"), { body: { ...ts.read(), test: true, users: testUsers() } }));
    if (r) fill(testBox, previewView(r.body));
  });
  const clearTest = h("button", { type: "button", class: "danger" }, "Clear the test policy");
  clearTest.addEventListener("click", async () => {
    if (!await confirmDialog("Clear the test policy?", "Its users are under the organisation's policy again.", "Clear test policy", true)) return;
    const r = await act(clearTest, testForm, () => call("DELETE", opath("external-policy", "test"), { body: { version: pol.version }, idempotencyKey: idempotencyKey() }));
    if (!r) return;
    pol = r.body;
    showCurrent();
    announce("Test policy cleared.");
  });

  // --- Reset every external user's sessions.
  const reset = h("button", { type: "button", class: "danger" }, "Make every external user verify again");
  reset.addEventListener("click", async () => {
    if (!await confirmDialog("Reset every external user's sessions?", "Every external user under two-step verification must verify at their next access.", "Reset sessions", true)) return;
    const r = await act(reset, null, () => call("POST", opath("external-users", "reset-sessions"), { idempotencyKey: idempotencyKey() }));
    if (!r) return;
    pol = r.body;
    showCurrent();
    announce(`Sessions reset at ${when(pol.sessionsResetAt)}.`);
  });

  // --- Verified domains: claimed, then proven by a DNS TXT challenge.
  const domainsBox = h("div", { id: "domain-list" });
  const statusText = (e) => ({
    pending: "pending: publish the record, then check",
    verified: "verified",
    lapsing: `lapsing: record missing since ${when(e.lapsingSince)}`,
    unverified: "unverified: the record went missing; publish it again",
  }[e.status] || e.status) + (e.checkedAt ? ` (checked ${when(e.checkedAt)})` : "");
  async function showDomains(list) {
    const es = list || (await get(opath("domains"))).entries;
    fill(domainsBox, table("Domains", [
      { title: "Domain", cell: (e) => e.domain },
      { title: "Status", cell: (e) => statusText(e) },
      { title: "DNS record (TXT)", cell: (e) => e.record ? h("span", {}, h("code", {}, e.record.name), " ", h("code", {}, e.record.value)) : "none (verified before proofs)" },
      { title: "Actions", cell: (e) => h("span", {},
        e.record ? h("button", { type: "button", "aria-label": "Check domain " + e.domain, onclick: (ev) => checkDomain(e.domain, ev.currentTarget) }, "Check now") : "",
        " ",
        h("button", { type: "button", class: "danger", "aria-label": "Remove domain " + e.domain, onclick: (ev) => removeDomain(e.domain, ev.currentTarget) }, "Remove")) },
    ], es, "No domains: every user is external."));
  }
  async function checkDomain(d, btn) {
    const r = await act(btn, domainsBox, () => call("POST", opath("domains", d, "check"), { idempotencyKey: idempotencyKey() }));
    if (r) { announce(`${d}: ${statusText(r.body)}.`); showDomains(); usersPage.reload(); }
  }
  async function removeDomain(d, btn) {
    if (!await confirmDialog("Remove this domain?", `Users at ${d} become external at once.`, "Remove domain", true)) return;
    const r = await act(btn, domainsBox, () => call("DELETE", opath("domains", d), { idempotencyKey: idempotencyKey() }));
    if (r) { announce(`Removed ${d}.`); showDomains(r.body.entries); usersPage.reload(); }
  }
  const domain = h("input", { name: "domain", autocomplete: "off" });
  const addDomain = form("Add a domain", "Add domain", async (f) => {
    const r = await call("PUT", opath("domains", domain.value.trim()), { idempotencyKey: idempotencyKey() });
    announce(r.body.status === "pending"
      ? `Claimed ${r.body.domain}: publish TXT ${r.body.record.value} at ${r.body.record.name}, then check it.`
      : `${r.body.domain}: ${r.body.status}.`);
    f.reset();
    showDomains();
  }, field("Domain (such as example.com)", domain));

  // --- External users and export.
  const fDomain = h("input", { name: "domain", autocomplete: "off" });
  const fStatus = select("status", [["", "Any"], "invited", "active", "suspended"], "");
  const fVerif = select("verification", [["", "Any"], "not_required", "verified", "required"], "");
  const filters = () => ({ domain: fDomain.value.trim(), status: fStatus.value, verification: fVerif.value });
  const usersBox = h("div", { id: "external-list" });
  const filterForm = h("form", { "aria-label": "Filter external users", class: "row" },
    field("Domain", fDomain), field("Status", fStatus), field("Verification", fVerif), h("button", { type: "submit" }, "Show"));
  let usersPage;
  async function resetOne(u, btn) {
    const r = await act(btn, usersBox, () => call("POST", opath("users", u.accountId, "reset-session"), { idempotencyKey: idempotencyKey() }));
    if (r) announce(`${u.email} must verify again.`);
  }
  function loadUsers() {
    usersPage = pager(usersBox, async (cursor) => {
      const r = await get(opath("external-users"), { limit: 20, cursor, ...filters() });
      return { items: r.users, next: r.next };
    }, (items) => table("External users", [
      { title: "Email", cell: (u) => h("a", { href: "#/user/" + encodeURIComponent(u.accountId) }, u.email) },
      { title: "Status", cell: (u) => u.status },
      { title: "Roles", cell: (u) => u.roles.map((r) => `${r.site}/${r.product}: ${r.role}`).join(", ") },
      { title: "Spaces", cell: (u) => u.spaces.map((s) => `${s.site}:${s.space}`).join(", ") },
      { title: "Paid seat", cell: (u) => (u.billable ? "yes" : "no") },
      { title: "Verification", cell: (u) => u.verification.state + (u.verification.dueAt ? ` (due ${when(u.verification.dueAt)})` : "") },
      { title: "Actions", cell: (u) => h("button", { type: "button", class: "secondary", "aria-label": "Reset the session of " + u.email, onclick: (ev) => resetOne(u, ev.currentTarget) }, "Reset session") },
    ], items, "No external users on this page."));
  }
  filterForm.addEventListener("submit", (ev) => { ev.preventDefault(); loadUsers(); });

  const exportBox = h("div", { id: "export", "aria-live": "polite" });
  async function followExport(job) {
    const box = h("div", { class: "export-job" });
    fill(exportBox, box);
    let delay = 300;
    for (;;) {
      const running = job.status === "running";
      const pid = uid("exp");
      fill(box, h("label", { for: pid }, `Export ${job.id}: ${job.status}`),
        running ? h("progress", { id: pid }, "running") : h("progress", { id: pid, value: 1, max: 1 }, job.status),
        h("p", {}, `${job.rows} row(s) in ${job.pages} page(s)` + (job.status === "done" ? ` — ${job.parts} part(s) to download.` : job.error ? ` — ${job.error}` : " so far.")));
      if (!running || !ctx.live()) break;
      await pause(delay);
      delay = Math.min(delay * 1.5, 2000);
      job = await get(opath("external-users", "exports", job.id));
    }
    if (job.status !== "done") return;
    box.append(h("ul", { class: "parts" }, Array.from({ length: job.parts }, (_, i) => {
      const b = h("button", { type: "button", class: "secondary" }, `Download part ${i + 1} of ${job.parts}`);
      b.addEventListener("click", async () => {
        const res = await act(b, exportBox, () => call("GET", opath("external-users", "exports", job.id, "csv"), { query: { part: i + 1 }, raw: true }));
        if (res) download(await res.blob(), `external-users-${job.id}-part${i + 1}.csv`);
      });
      return h("li", {}, b);
    })));
  }
  const quick = h("button", { type: "button" }, "Download CSV");
  quick.addEventListener("click", async () => {
    const res = await act(quick, filterForm, () => call("GET", opath("external-users", "export"), { query: filters(), raw: true }));
    if (!res) return;
    if (res.status === 202) {
      announce("The directory is large: the export runs as a job.");
      await followExport(await res.json());
      return;
    }
    const blob = await res.blob();
    fill(exportBox, h("p", { id: "export-done" }, `Downloaded external-users.csv (${blob.size} bytes).`));
    download(blob, "external-users.csv");
  });
  const asJob = h("button", { type: "button", class: "secondary" }, "Export as a job");
  asJob.addEventListener("click", async () => {
    const res = await act(asJob, filterForm, () => call("POST", opath("external-users", "exports"), { query: filters(), idempotencyKey: idempotencyKey() }));
    if (res) await followExport(res.body);
  });

  fill(el,
    h("section", { "aria-labelledby": "ep-h" }, h("h2", { id: "ep-h" }, "Policy"), current, policyForm, previewBox, apply),
    h("section", { "aria-labelledby": "et-h" }, h("h2", { id: "et-h" }, "Test policy"), testForm, h("div", { class: "actions" }, testPreview, clearTest), testBox),
    h("section", { "aria-labelledby": "er-h" }, h("h2", { id: "er-h" }, "Sessions"), reset),
    h("section", { "aria-labelledby": "ed-h" }, h("h2", { id: "ed-h" }, "Verified domains"), domainsBox, addDomain),
    h("section", { "aria-labelledby": "eu-h" }, h("h2", { id: "eu-h" }, "External users"), filterForm, usersBox,
      h("h3", {}, "Export (with the filters above)"), h("div", { class: "actions" }, quick, asJob), exportBox));
  await showDomains();
  loadUsers();
}
