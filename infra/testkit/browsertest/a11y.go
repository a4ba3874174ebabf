package browsertest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Accessibility checks on a tab, generic over the page it shows: every form
// control and every button and link has an accessible name, the page can be
// used by keyboard alone, and the focused element shows where the focus is.
//
// Each check comes twice: CheckX returns an error naming the offending
// elements (their outer HTML, cut short), which a test of the check itself
// can inspect; X fails the test with that error and a screenshot.

// MaxTabs bounds TabTo: a page whose element takes more Tab presses than
// this to reach is not usable by keyboard in practice either.
const MaxTabs = 60

// a11yJS defines, in the page, the helpers the checks share: visible(el),
// name(el) (the accessible name, simplified from the W3C algorithm:
// aria-labelledby, aria-label, the labels of a form control, the text and
// image alternatives of a button or link, title) and short(el) (the start of
// its outer HTML).
const a11yJS = `
const visible = (el) => {
  if (el.closest('[aria-hidden="true"]')) return false;
  if (el.getClientRects().length === 0) return false;
  const s = getComputedStyle(el);
  return s.visibility !== 'hidden' && s.display !== 'none';
};
const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
const textOf = (el) => {
  if (el.nodeType === Node.TEXT_NODE) return el.textContent;
  if (el.nodeType !== Node.ELEMENT_NODE) return '';
  if (el.getAttribute('aria-hidden') === 'true') return '';
  if (el.hasAttribute('aria-label')) return el.getAttribute('aria-label');
  if (el.tagName === 'IMG' || (el.tagName === 'INPUT' && el.type === 'image')) return el.getAttribute('alt') || '';
  let s = '';
  for (const c of el.childNodes) s += ' ' + textOf(c);
  return s;
};
const name = (el) => {
  const by = clean(el.getAttribute('aria-labelledby'));
  if (by) {
    const t = clean(by.split(' ').map((id) => { const r = document.getElementById(id); return r ? r.textContent : ''; }).join(' '));
    if (t) return t;
  }
  const aria = clean(el.getAttribute('aria-label'));
  if (aria) return aria;
  const tag = el.tagName;
  if (tag === 'INPUT' && ['submit', 'reset'].includes(el.type)) return clean(el.value) || el.type;
  if (tag === 'INPUT' && el.type === 'button') return clean(el.value);
  if (tag === 'INPUT' && el.type === 'image') return clean(el.getAttribute('alt'));
  if (el.labels && el.labels.length) {
    const t = clean(Array.from(el.labels).map((l) => textOf(l)).join(' '));
    if (t) return t;
  }
  if (tag === 'BUTTON' || tag === 'A' || el.getAttribute('role') === 'button' || el.getAttribute('role') === 'link') {
    const t = clean(textOf(el));
    if (t) return t;
  }
  return clean(el.getAttribute('title'));
};
const isButton = (el) => el.tagName === 'INPUT' && ['submit', 'reset', 'button', 'image'].includes(el.type);
const short = (el) => {
  const h = clean(el.outerHTML);
  return h.length > 160 ? h.slice(0, 157) + '...' : h;
};
`

// CheckLabels checks the page's names: every visible input, select and
// textarea (not type=hidden) has an accessible name from a <label for>, a
// wrapping <label>, aria-label or aria-labelledby (a placeholder is not a
// name); every visible button (<button>, input type=button/submit/reset/
// image, role=button) and link (<a href>, role=link) has a non-empty one
// (its text, an image's alt, aria-label, aria-labelledby or title). It
// returns an error listing each offending element's outer HTML, cut short,
// or nil.
func (b *Tab) CheckLabels() error {
	bad, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {`+a11yJS+`
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || isButton(el) || !visible(el)) continue;
    if (!name(el)) bad.push('unlabelled ' + el.tagName.toLowerCase() + ': ' + short(el));
  }
  for (const el of document.querySelectorAll('button, input, a[href], [role=button], [role=link]')) {
    if ((el.tagName === 'INPUT' && !isButton(el)) || !visible(el)) continue;
    if (!name(el)) bad.push('nameless ' + (el.tagName === 'A' || el.getAttribute('role') === 'link' ? 'link' : 'button') + ': ' + short(el));
  }
  return bad;
})()`))
	if err != nil {
		return fmt.Errorf("check labels: %w", err)
	}
	if len(bad) > 0 {
		noun := "elements"
		if len(bad) == 1 {
			noun = "element"
		}
		return fmt.Errorf("%d %s without an accessible name:\n\t%s", len(bad), noun, strings.Join(bad, "\n\t"))
	}
	return nil
}

// Labels fails the test (with a screenshot) when CheckLabels finds an
// element without an accessible name.
func (b *Tab) Labels() {
	b.t.Helper()
	if err := b.CheckLabels(); err != nil {
		b.Screenshot("failed-labels")
		b.t.Fatalf("browser: %v", err)
	}
}

// Focus describes the focused element (document.activeElement).
type Focus struct {
	// Tag is the element's lower-case tag name ("body" when nothing is
	// focused).
	Tag string `json:"tag"`
	// ID and Name are its id and name attributes.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Text is its accessible name (or the start of its text).
	Text string `json:"text"`
	// HTML is the start of its outer HTML.
	HTML string `json:"html"`
}

// String is a short form for failure messages: tag#id[name="n"] "text".
func (f Focus) String() string {
	s := f.Tag
	if f.ID != "" {
		s += "#" + f.ID
	}
	if f.Name != "" {
		s += `[name="` + f.Name + `"]`
	}
	if f.Text != "" {
		s += fmt.Sprintf(" %q", f.Text)
	}
	return s
}

// focused reads the focused element and whether it matches sel (when sel is
// not empty).
func (b *Tab) focused(sel string) (Focus, bool, error) {
	type answer struct {
		Focus
		Match bool `json:"match"`
	}
	q := fmt.Sprintf("%q", sel)
	a, err := chromedp.Run(b.ctx, chromedp.Evaluate[answer](`(() => {`+a11yJS+`
  const el = document.activeElement || document.body;
  const sel = `+q+`;
  return {tag: el.tagName.toLowerCase(), id: el.id || '', name: el.getAttribute('name') || '',
    text: el === document.body ? '' : (name(el) || clean(el.innerText || '').slice(0, 60)),
    html: el === document.body ? '' : short(el), match: sel !== '' && el.matches(sel)};
})()`))
	return a.Focus, a.Match, err
}

// Focused returns the focused element.
func (b *Tab) Focused() Focus {
	b.t.Helper()
	f, _, err := b.focused("")
	if err != nil {
		b.t.Fatalf("browser: read the focused element: %v", err)
	}
	return f
}

// Press sends keys (kb constants such as kb.Tab, or text) as keyboard
// events (input.dispatchKeyEvent) to whatever has the focus, with optional
// modifiers.
func (b *Tab) Press(what, keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.Do(what, chromedp.KeyEvent(keys, opts...))
}

// PressTab moves the focus forward as the Tab key does.
func (b *Tab) PressTab() { b.t.Helper(); b.Press("press Tab", kb.Tab) }

// PressShiftTab moves the focus back as Shift+Tab does.
func (b *Tab) PressShiftTab() {
	b.t.Helper()
	b.Press("press Shift+Tab", kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
}

// PressEnter presses Enter (activates a focused button or link, submits a
// form from a text field).
func (b *Tab) PressEnter() { b.t.Helper(); b.Press("press Enter", kb.Enter) }

// PressSpace presses the space bar (activates a focused button, toggles a
// checkbox).
func (b *Tab) PressSpace() { b.t.Helper(); b.Press("press Space", " ") }

// PressEscape presses Escape (closes a dialog).
func (b *Tab) PressEscape() { b.t.Helper(); b.Press("press Escape", kb.Escape) }

// Type types text, key by key, into the focused element.
func (b *Tab) Type(text string) { b.t.Helper(); b.Press("type "+text, text) }

// FocusPath presses Tab until the element matching sel has the focus, at
// most limit times (MaxTabs when limit <= 0), and returns the elements focused
// on the way (the last is the target). It returns an error with that path
// when the element is never reached: it is missing, hidden, not focusable,
// or behind a keyboard trap.
func (b *Tab) FocusPath(sel string, limit int) ([]Focus, error) {
	if limit <= 0 {
		limit = MaxTabs
	}
	var path []Focus
	f, ok, err := b.focused(sel)
	if err != nil {
		return nil, err
	}
	if ok {
		return []Focus{f}, nil
	}
	for i := 0; i < limit; i++ {
		if err := chromedp.Do(b.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return path, err
		}
		f, ok, err := b.focused(sel)
		if err != nil {
			return path, err
		}
		path = append(path, f)
		if ok {
			return path, nil
		}
	}
	steps := make([]string, len(path))
	for i, f := range path {
		steps[i] = f.String()
	}
	return path, fmt.Errorf("%s not focused after %d Tab presses; focus went: %s", sel, limit, strings.Join(steps, " → "))
}

// TabTo presses Tab until the element matching sel has the focus (at most
// MaxTabs times) and returns the focus path; it fails the test with the
// path when the element is never reached.
func (b *Tab) TabTo(sel string) []Focus {
	b.t.Helper()
	path, err := b.FocusPath(sel, 0)
	if err != nil {
		b.Screenshot("failed-tab-to")
		b.t.Fatalf("browser: %v", err)
	}
	return path
}

// CheckFocusVisible checks that the focused element shows a focus
// indicator: its computed outline (style not none, width above zero, colour
// not transparent) or box-shadow is set. Call it after moving the focus by
// keyboard (the browser's own ring is drawn for :focus-visible, which a
// mouse click on a button does not give). It returns an error naming the
// element and its styles, or nil.
func (b *Tab) CheckFocusVisible() error {
	type answer struct {
		Body    bool   `json:"body"`
		HTML    string `json:"html"`
		Outline string `json:"outline"`
		Shadow  string `json:"shadow"`
		OK      bool   `json:"ok"`
	}
	a, err := chromedp.Run(b.ctx, chromedp.Evaluate[answer](`(() => {`+a11yJS+`
  const el = document.activeElement;
  if (!el || el === document.body) return {body: true};
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && s.outlineColor !== 'rgba(0, 0, 0, 0)' && s.outlineColor !== 'transparent';
  const shadow = s.boxShadow !== '' && s.boxShadow !== 'none';
  return {html: short(el), outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor, shadow: s.boxShadow, ok: outline || shadow};
})()`))
	switch {
	case err != nil:
		return fmt.Errorf("check the focus indicator: %w", err)
	case a.Body:
		return errors.New("no element has the focus")
	case !a.OK:
		return fmt.Errorf("the focused element shows no focus indicator (outline %q, box-shadow %q): %s", a.Outline, a.Shadow, a.HTML)
	}
	return nil
}

// FocusVisible fails the test (with a screenshot) when CheckFocusVisible
// finds no focus indicator on the focused element.
func (b *Tab) FocusVisible() {
	b.t.Helper()
	if err := b.CheckFocusVisible(); err != nil {
		b.Screenshot("failed-focus-visible")
		b.t.Fatalf("browser: %v", err)
	}
}
