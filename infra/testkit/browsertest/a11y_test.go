package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// TestMain stops the binary's browser after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Shutdown()
	os.Exit(code)
}

// pages serves small HTML pages by path, each a full document around body.
func pages(t *testing.T, bodies map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>` + b + `</body></html>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const labelled = `
<form>
  <label for="a">Email</label><input id="a" type="email">
  <label>Role <select name="role"><option>guest</option></select></label>
  <textarea aria-label="Message"></textarea>
  <span id="lb">Space key</span><input aria-labelledby="lb">
  <input type="hidden" name="csrf" value="x">
  <div style="display:none"><input id="invisible"></div>
  <input hidden id="hiddenattr">
  <input type="submit">
  <input type="image" src="data:," alt="Send">
  <button>Invite</button>
  <button aria-label="Close">×</button>
  <button><img src="data:," alt="Delete"></button>
  <a href="/x">Audit log</a>
  <a href="/y" title="Home"></a>
  <a>not a link without href</a>
</form>`

const unlabelled = `
<form>
  <input id="noname" placeholder="Email">
  <select name="role"><option>guest</option></select>
  <label for="t"> </label><textarea id="t"></textarea>
  <input aria-labelledby="missing" id="dangling">
  <input type="button">
  <button></button>
  <button><img src="data:,"></button>
  <a href="/x"><span aria-hidden="true">→</span></a>
  <div role="button"></div>
  <label>Fine <input id="ok"></label>
</form>`

// TestCheckLabels: a page whose every control, button and link has a name
// passes; a page with unlabelled ones fails, naming each offending element
// (and not the labelled one next to them).
func TestCheckLabels(t *testing.T) {
	tab := browsertest.New(t)
	base := pages(t, map[string]string{"/good": labelled, "/bad": unlabelled})

	tab.Do("open the labelled page", chromedp.Navigate(base+"/good"))
	if err := tab.CheckLabels(); err != nil {
		t.Fatalf("labelled page: %v", err)
	}
	tab.Labels()

	tab.Do("open the unlabelled page", chromedp.Navigate(base+"/bad"))
	err := tab.CheckLabels()
	if err == nil {
		t.Fatal("the unlabelled page passed the check")
	}
	msg := err.Error()
	t.Logf("the check says: %v", msg)
	for _, want := range []string{
		`unlabelled input: <input id="noname" placeholder="Email">`,
		`unlabelled select: <select name="role">`,
		`unlabelled textarea: <textarea id="t">`,
		`unlabelled input: <input aria-labelledby="missing" id="dangling">`,
		`nameless button: <input type="button">`,
		`nameless button: <button></button>`,
		`nameless button: <button><img src="data:,"></button>`,
		`nameless link: <a href="/x">`,
		`nameless button: <div role="button"></div>`,
		"9 elements",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %s", want)
		}
	}
	if strings.Contains(msg, `id="ok"`) {
		t.Errorf("the labelled input is blamed too: %s", msg)
	}
}

const keyboard = `
<style>#plain:focus { outline: none; } #ring:focus { outline: none; box-shadow: 0 0 0 3px #36c; }</style>
<label for="first">First</label><input id="first" name="first">
<label for="second">Second</label><input id="second" name="second">
<button id="go" type="button">Go</button>
<button id="plain" type="button">No ring</button>
<button id="ring" type="button">Own ring</button>
<div id="nofocus">not focusable</div>
<p>Clicks: <output id="clicks">0</output>, typed: <output id="echo">-</output></p>
<div id="dialog" role="dialog" aria-label="A dialog">open</div>
<script>
let n = 0;
document.getElementById('first').addEventListener('input', (e) => { document.getElementById('echo').textContent = e.target.value; });
document.getElementById('go').addEventListener('click', () => { document.getElementById('clicks').textContent = String(++n); });
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') document.getElementById('dialog').textContent = 'closed'; });
</script>`

// TestKeyboard: Tab and Shift+Tab move the focus in document order, TabTo
// reports the path it took, typing fills the focused field, Enter and Space
// press the focused button, Escape reaches the page; an element that
// cannot take the focus is never reached, and the error shows the path.
func TestKeyboard(t *testing.T) {
	tab := browsertest.New(t)
	base := pages(t, map[string]string{"/": keyboard})
	tab.Do("open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#go")))

	if f := tab.Focused(); f.Tag != "body" {
		t.Fatalf("focused before any key: %v", f)
	}
	tab.PressTab()
	if f := tab.Focused(); f.ID != "first" || f.Name != "first" || f.Text != "First" || f.Tag != "input" {
		t.Fatalf("first Tab focused %+v", f)
	}
	tab.Type("pat@agency.example")
	tab.PressTab()
	tab.PressShiftTab()
	if f := tab.Focused(); f.ID != "first" {
		t.Fatalf("Shift+Tab went to %v", f)
	}
	if v := tab.Text("#echo"); v != "pat@agency.example" {
		t.Fatalf("typed value %q", v)
	}

	path := tab.TabTo("#go")
	if len(path) != 2 || path[0].ID != "second" || path[1].String() != `button#go "Go"` {
		t.Fatalf("path to #go: %v", path)
	}
	tab.FocusVisible() // Chromium's own ring
	tab.PressEnter()
	tab.PressSpace()
	if c := tab.Text("#clicks"); c != "2" {
		t.Fatalf("Enter and Space pressed the button %s times, want 2", c)
	}
	tab.PressEscape()
	if d := tab.Text("#dialog"); d != "closed" {
		t.Fatalf("Escape: dialog %q", d)
	}

	tab.TabTo("#plain")
	err := tab.CheckFocusVisible()
	if err == nil || !strings.Contains(err.Error(), `id="plain"`) {
		t.Fatalf("a button whose outline is removed passed the focus check: %v", err)
	}
	t.Logf("the check says: %v", err)
	tab.TabTo("#ring")
	if err := tab.CheckFocusVisible(); err != nil {
		t.Fatalf("a box-shadow ring: %v", err)
	}

	path, err = tab.FocusPath("#nofocus", 8)
	if err == nil {
		t.Fatalf("a div without tabindex took the focus: %v", path)
	}
	t.Logf("the check says: %v", err)
	if len(path) != 8 || !strings.Contains(err.Error(), `input#first[name="first"] "First"`) || !strings.Contains(err.Error(), "after 8 Tab presses") {
		t.Fatalf("the error shows the path: %v (%d steps)", err, len(path))
	}
}
