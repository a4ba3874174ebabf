// DOM helpers shared by the screens: an element builder, labelled fields,
// the problem display (alert region plus each field error next to its field),
// a confirmation dialog that traps and returns focus, tables, pagers and
// progress bars. Nothing here uses innerHTML: text is always text, and
// always shown without invisible or direction-changing characters
// (text.js neutralize).

import { ApiError } from "./api.js";
import { neutralize } from "./text.js";

let seq = 0;
/** A unique element id with a readable prefix. */
export function uid(prefix = "f") {
  seq += 1;
  return prefix + "-" + seq;
}

/**
 * h("button", {type: "button", onclick: fn, class: "x"}, "text", child…):
 * attributes starting with "on" are listeners, true booleans set an empty
 * attribute, false/null/undefined skip it; children are nodes or text
 * (neutralized).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked") el.checked = !!v;
    else if (k === "aria-label" || k === "title") el.setAttribute(k, neutralize(v));
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(neutralize(c)));
  }
}

/** Empty a node and put children in it. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A labelled form field: field("Emails", h("textarea", {name: "emails"}), {hint}).
 * The control gets an id, the label points at it, and data-field (its name
 * unless given) tells the problem display where a field error goes.
 */
export function field(label, control, opts = {}) {
  control.id = control.id || uid(control.name || "f");
  if (!control.dataset.field && (opts.field || control.name)) control.dataset.field = opts.field || control.name;
  const kids = [h("label", { for: control.id }, label), control];
  if (opts.hint) {
    const hint = h("p", { id: uid("hint"), class: "muted hint" }, opts.hint);
    control.setAttribute("aria-describedby", hint.id);
    kids.push(hint);
  }
  return h("div", { class: "field" + (opts.inline ? " inline" : "") }, kids);
}

/** A labelled select from [value, text] pairs (or plain strings). */
export function select(name, options, value) {
  return h("select", { name }, options.map((o) => {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    return h("option", { value: v, selected: v === value }, t);
  }));
}

const alertEl = () => document.getElementById("alert");
const statusEl = () => document.getElementById("status");

/** Say something went well (a polite live region). */
export function announce(text) {
  fill(statusEl(), text);
}

/**
 * Clear the alert region and every field error in root, and the status
 * region unless keepStatus (a list reloading after an action keeps its news).
 */
export function clearProblems(root = document, keepStatus = false) {
  fill(alertEl());
  if (!keepStatus) fill(statusEl());
  for (const p of root.querySelectorAll(".field-error")) {
    const ctl = root.querySelector(`[aria-describedby~="${p.id}"]`);
    if (ctl) {
      const rest = (ctl.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== p.id);
      if (rest.length) ctl.setAttribute("aria-describedby", rest.join(" "));
      else ctl.removeAttribute("aria-describedby");
      ctl.removeAttribute("aria-invalid");
    }
    p.remove();
  }
}

function controlFor(root, key) {
  if (!root) return null;
  // products.confluence.role → products.confluence → products; emails[2] → emails
  let k = key;
  for (;;) {
    const el = root.querySelector(`[data-field="${CSS.escape(k)}"]`) || root.querySelector(`[name="${CSS.escape(k)}"]`);
    if (el) return el;
    const cut = Math.max(k.lastIndexOf("."), k.lastIndexOf("["));
    if (cut <= 0) return null;
    k = k.slice(0, cut);
  }
}

/**
 * Show an error: the problem's title, detail and request id in the alert
 * region, and each field error next to the control it names inside form
 * (aria-invalid, aria-describedby). Focus goes to the first invalid field.
 */
export function showProblem(err, form) {
  clearProblems(form || document);
  const p = err instanceof ApiError || (err && err.problem) ? err.problem : { title: "Something went wrong", detail: err && err.message ? err.message : String(err) };
  const kids = [h("h2", {}, p.title || "Error" + (err.status ? " " + err.status : ""))];
  if (p.detail) kids.push(h("p", { class: "detail" }, p.detail));
  if (err.retryAfter) kids.push(h("p", {}, "Try again in " + err.retryAfter + " s."));
  const unplaced = [];
  let first = null;
  for (const [key, msg] of Object.entries(p.errors || {})) {
    const ctl = controlFor(form, key);
    if (!ctl) {
      unplaced.push(h("li", {}, key + ": " + msg));
      continue;
    }
    const note = h("p", { id: uid("err"), class: "field-error", "data-for": key }, msg);
    const wrap = ctl.closest(".field, fieldset") || ctl;
    wrap.append(note);
    ctl.setAttribute("aria-invalid", "true");
    ctl.setAttribute("aria-describedby", ((ctl.getAttribute("aria-describedby") || "") + " " + note.id).trim());
    first = first || ctl;
  }
  if (unplaced.length) kids.push(h("ul", {}, unplaced));
  const rid = p.requestId || (err && err.requestId);
  if (rid) kids.push(h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, rid)));
  fill(alertEl(), kids);
  if (first) first.focus();
}

/**
 * Run an action from a button: disable it meanwhile, clear old problems (and
 * the status region; without a button, a reload, it stays), show
 * a thrown error (field errors inside form). Answers the action's result, or
 * undefined when it failed.
 */
export async function act(button, form, fn) {
  if (button) button.disabled = true;
  clearProblems(form || document, !button);
  try {
    return await fn();
  } catch (e) {
    showProblem(e, form);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/**
 * Ask before a change: a modal dialog (focus kept inside, Escape cancels) that answers true when confirmed; focus returns to what had
 * it.
 */
export function confirmDialog(title, text, confirmLabel = "Confirm", danger = false) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const headingId = uid("dlg");
    const yes = h("button", { type: "button", class: danger ? "danger" : "" }, confirmLabel);
    const no = h("button", { type: "button", class: "secondary" }, "Cancel");
    const dlg = h("dialog", { "aria-labelledby": headingId, "aria-modal": "true" },
      h("h2", { id: headingId }, title),
      (Array.isArray(text) ? text : [text]).map((t) => (t instanceof Node ? t : h("p", {}, t))),
      h("div", { class: "actions" }, yes, no));
    // The page behind is inert; Tab and Shift+Tab cycle inside the dialog
    // instead of leaving it for the browser's own controls.
    dlg.addEventListener("keydown", (ev) => {
      if (ev.key !== "Tab") return;
      const items = [...dlg.querySelectorAll("button, [href], input, select, textarea")].filter((x) => !x.disabled);
      const first = items[0];
      const last = items[items.length - 1];
      if (ev.shiftKey && document.activeElement === first) {
        ev.preventDefault();
        last.focus();
      } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first.focus();
      }
    });
    let answer = false;
    yes.addEventListener("click", () => { answer = true; dlg.close(); });
    no.addEventListener("click", () => dlg.close());
    dlg.addEventListener("close", () => {
      dlg.remove();
      if (back && back.isConnected) back.focus();
      resolve(answer);
    });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

/** A table: columns [{title, cell(row) → node|text}], rows. */
export function table(caption, columns, rows, empty = "Nothing to show.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.title)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", {}, c.cell(r)))))));
}

/**
 * A paged list in container: load(cursor) answers {items, next}; show(items)
 * answers the nodes. Buttons go to the first, previous and next pages.
 * Answers {reload} (reload the current page).
 */
export function pager(container, load, show) {
  const cursors = [""];
  let at = 0;
  const body = h("div");
  const first = h("button", { type: "button", class: "secondary" }, "First page");
  const prev = h("button", { type: "button", class: "secondary" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary" }, "Next page");
  const where = h("span", { class: "muted" });
  let nextCursor = "";
  async function go(i) {
    await act(null, container, async () => {
      const page = await load(cursors[i] || undefined);
      at = i;
      nextCursor = page.next || "";
      if (nextCursor) cursors[i + 1] = nextCursor;
      fill(body, show(page.items));
      first.disabled = prev.disabled = at === 0;
      next.disabled = !nextCursor;
      where.textContent = "Page " + (at + 1);
    });
  }
  first.addEventListener("click", () => go(0));
  prev.addEventListener("click", () => go(Math.max(0, at - 1)));
  next.addEventListener("click", () => go(at + 1));
  fill(container, body, h("div", { class: "pager" }, first, prev, next, where));
  go(0);
  return { reload: () => go(at) };
}

/** A labelled progress bar with a text of counts. */
export function progress(label, value, max, text) {
  const id = uid("prog");
  return h("div", { class: "progress" },
    h("label", { for: id }, label),
    h("progress", { id, value: Math.max(0, value), max: Math.max(1, max) }, text),
    h("p", { class: "progress-text" }, text));
}

/** A date-time as the admin's local time. */
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

/** A form with a submit handler (preventDefault done) and a submit button. */
export function form(label, submitText, onsubmit, ...children) {
  const btn = h("button", { type: "submit" }, submitText);
  const f = h("form", { "aria-label": label, novalidate: true }, children, h("div", { class: "actions" }, btn));
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(btn, f, () => onsubmit(f, btn));
  });
  return f;
}

/** Wait ms milliseconds (polling jobs). */
export function pause(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Save a Blob as a file the admin downloads. */
export function download(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
