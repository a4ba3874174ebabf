// Billing: the site's paid users, guests and free slots as a picture (two
// stacked SVG bars built here: guests against the guest limit of 5 per paid
// user, and everyone against the user limit), with the same numbers as text
// and a table for screen readers; and a recount (optionally repairing).
// Calls: GET /orgs/{org}/sites/{site}/billing, POST …/billing/recount.

import { call, get, path } from "../api.js";
import { count } from "../text.js";
import { announce, field, fill, form, h, table, uid } from "../ui.js";

export const title = "Billing";

const NS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

const colours = { paid: "#0052cc", guests: "#36b37e", reserved: "#ffab00", free: "#dfe1e6" };

/** The least width a non-zero part is drawn at, so that 6 paid users
 * still show against a limit of 35,000 (the numbers say the exact share). */
const minPart = 30;

/** A stacked bar: parts [{label, value, colour}] over width, with a caption
 * line. Each non-zero part is at least minPart wide; the others share the
 * rest in proportion. */
function bar(y, caption, parts, width) {
  const total = Math.max(1, parts.reduce((a, p) => a + Math.max(0, p.value), 0));
  const raw = parts.map((p) => (Math.max(0, p.value) / total) * width);
  const small = raw.map((w) => w > 0 && w < minPart);
  const fixed = small.reduce((a, sm) => a + (sm ? minPart : 0), 0);
  const rest = raw.reduce((a, w, i) => a + (small[i] ? 0 : w), 0);
  const widths = raw.map((w, i) => (small[i] ? minPart : rest > 0 ? (w * (width - fixed)) / rest : 0));
  const g = s("g", {});
  g.append(s("text", { x: 0, y: y - 8, "font-size": 14, fill: "#172b4d" }, caption));
  let x = 0;
  parts.forEach((p, i) => {
    const w = widths[i];
    if (w > 0) {
      g.append(s("rect", { x, y, width: w, height: 28, fill: p.colour, stroke: "#172b4d", "stroke-width": 1 }, s("title", {}, `${p.label}: ${p.value}`)));
      if (w >= 24) g.append(s("text", { x: x + w / 2, y: y + 19, "font-size": 13, "text-anchor": "middle", fill: p.colour === colours.free || p.colour === colours.reserved ? "#172b4d" : "#fff" }, String(p.value)));
    }
    x += w;
  });
  return g;
}

/** The picture of a billing summary, with its text alternative. */
export function picture(b) {
  const titleId = uid("bt");
  const descId = uid("bd");
  const text = `${count(b.paidUsers, "paid user")} ${b.paidUsers === 1 ? "allows" : "allow"} ${count(b.guestLimit, "guest")}; ${count(b.guests, "guest")} now, ${count(b.reserved, "guest slot")} held by running jobs, ${count(b.freeGuestSlots, "free guest slot")}` +
    (b.overLimit ? " — over the guest limit" : "") + `. User limit ${b.userLimit}: ${count(b.paidUsers, "paid user")} plus ${count(b.guests, "guest")}, ${b.reservedUsers} held by jobs, ${b.freeUserSlots} free.`;
  const width = 560;
  const svg = s("svg", { viewBox: `0 0 ${width} 150`, role: "img", "aria-labelledby": `${titleId} ${descId}`, id: "billing-chart" },
    s("title", { id: titleId }, "Seats on this site"),
    s("desc", { id: descId }, text),
    bar(24, `Guests against the guest limit (${b.guestLimit} = 5 × ${b.paidUsers} paid)`, [
      { label: "Guests", value: b.guests, colour: colours.guests },
      { label: "Reserved by jobs", value: b.reserved, colour: colours.reserved },
      { label: "Free guest slots", value: b.freeGuestSlots, colour: colours.free },
    ], width),
    bar(100, `Paid users and guests against the user limit (${b.userLimit})`, [
      { label: "Paid users", value: b.paidUsers, colour: colours.paid },
      { label: "Guests", value: b.guests, colour: colours.guests },
      { label: "Reserved by jobs", value: b.reservedUsers, colour: colours.reserved },
      { label: "Free user slots", value: b.freeUserSlots, colour: colours.free },
    ], width));
  const legend = h("ul", { class: "legend", "aria-hidden": "true" },
    [["Paid users", colours.paid], ["Guests", colours.guests], ["Reserved by running jobs", colours.reserved], ["Free slots", colours.free]].map(([t, c]) => {
      const sw = s("svg", { width: 14, height: 14, viewBox: "0 0 14 14" }, s("rect", { width: 14, height: 14, fill: c, stroke: "#172b4d" }));
      return h("li", {}, sw, " ", t);
    }));
  return h("div", { class: "chart" }, svg, legend, h("p", { id: "billing-text" }, text));
}

export async function render(el, ctx) {
  const { org, site } = ctx;
  const box = h("div", { id: "billing" });
  const recountBox = h("div", { id: "recount" });

  async function load() {
    const b = await get(path("orgs", org, "sites", site, "billing"));
    fill(box, picture(b),
      table("Billing numbers", [{ title: "Measure", cell: (r) => r[0] }, { title: "Value", cell: (r) => String(r[1]) }], [
        ["Paid users", b.paidUsers], ["Guests", b.guests], ["Guest limit (5 per paid user)", b.guestLimit], ["Free guest slots", b.freeGuestSlots],
        ["Guest slots reserved by jobs", b.reserved], ["Over the guest limit", b.overLimit ? "yes" : "no"],
        ["User limit (paid users plus guests)", b.userLimit], ["Free user slots", b.freeUserSlots], ["User slots reserved by jobs", b.reservedUsers]]));
  }

  const repair = h("input", { type: "checkbox", name: "repair" });
  const recount = form("Recount", "Recount", async () => {
    const r = (await call("POST", path("orgs", org, "sites", site, "billing", "recount"), { body: { repair: repair.checked } })).body;
    fill(recountBox, h("p", {}, r.drift.length ? `Drift in ${r.drift.join(", ")}` + (r.repaired ? " — repaired." : " — not repaired.") : "The counters match the access items."),
      r.note ? h("p", { class: "muted" }, r.note) : null,
      table("Stored and counted", [{ title: "Counter", cell: (k) => k }, { title: "Stored", cell: (k) => String(r.stored[k]) }, { title: "Counted", cell: (k) => String(r.counted[k]) }],
        ["paidUsers", "guests", "guestSlots", "userLimit", "userSlots"]));
    announce("Recounted.");
    await load();
  }, h("p", { class: "muted" }, "Counts the paid users and guests from the access items and compares them with the counters."),
  field("Repair drifting counters (audited)", repair, { inline: true }));

  fill(el, h("section", { "aria-labelledby": "bs-h" }, h("h2", { id: "bs-h" }, `Site ${site}`), box),
    h("section", { "aria-labelledby": "br-h" }, h("h2", { id: "br-h" }, "Recount"), recount, recountBox));
  await load();
}
