package console

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// runText runs a script against static/text.js under node and decodes the
// JSON it prints (skipped without node; `make test` installs it).
func runText(t *testing.T, script string, out any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	cmd := exec.Command(node, "--input-type=module", "-e", `import * as text from "./text.js";`+script)
	cmd.Dir = "static"
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("node printed %q: %v", b, err)
	}
}

// TestConsoleInvisibleIsTheDomainRule: the console's rule for characters it
// does not show (text.js isInvisible) is shared/domain's Invisible, code
// point by code point over all of Unicode (surrogates aside: they are no
// characters).
func TestConsoleInvisibleIsTheDomainRule(t *testing.T) {
	var js []int
	runText(t, `const out = []; for (let c = 0; c <= 0x10FFFF; c++) { if (c >= 0xD800 && c <= 0xDFFF) continue; if (text.isInvisible(String.fromCodePoint(c))) out.push(c); } console.log(JSON.stringify(out));`, &js)
	inJS := map[rune]bool{}
	for _, c := range js {
		inJS[rune(c)] = true
	}
	var differ []string
	for c := rune(0); c <= 0x10FFFF; c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue
		}
		if inJS[c] != domain.Invisible(c) && len(differ) < 20 {
			differ = append(differ, fmt.Sprintf("U+%04X", c))
		}
	}
	if len(differ) > 0 {
		t.Errorf("text.js and domain.Invisible differ on %v", differ)
	}
	if len(js) < 100 {
		t.Errorf("text.js finds only %d invisible characters", len(js))
	}
}

// TestConsoleNeutralizeIsTheDomainRule: text.js neutralize gives what
// domain.NeutralizeText gives, on the cases that matter.
func TestConsoleNeutralizeIsTheDomainRule(t *testing.T) {
	cases := []string{
		"adm\u202enimda", "ad\u200bmin", "\u2066x\u2069", "a\u200db", "a \u200db", "\u200db", "a\u200d",
		"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "👨\u200d👩\u200d👧", "line\nnext\tcol\r\x00\x1b[31m",
		"\ufeffbom", "soft\u00adhyphen", "tag\U000E0041", "plain text", "\u3164", "a\u2028b",
	}
	var got []string
	in, _ := json.Marshal(cases)
	runText(t, `console.log(JSON.stringify(`+string(in)+`.map(text.neutralize)));`, &got)
	for i, c := range cases {
		if want := domain.NeutralizeText(c); i >= len(got) || got[i] != want {
			t.Errorf("neutralize(%+q) = %+q, domain says %+q", c, got[min(i, len(got)-1)], want)
		}
	}
}

// TestConsoleCounts: a count reads as a person would say it.
func TestConsoleCounts(t *testing.T) {
	var got []string
	runText(t, `console.log(JSON.stringify([text.count(1, "invitee"), text.count(0, "invitee"), text.count(6, "paid user"), text.count(1, "entry", "entries"), text.count(3, "entry", "entries")]));`, &got)
	want := []string{"1 invitee", "0 invitees", "6 paid users", "1 entry", "3 entries"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("counts = %q, want %q", got, want)
	}
}

// TestConsoleShowsNamesWithoutInvisibleCharacters: the console writes every
// text through ui.js h() and fill() (textContent would show U+202E at
// work), so a group named "adm\u202Enimda" before names were checked, or a
// display name from the identity provider, cannot turn the screen round:
// the text nodes and the labels it makes leave them out. Run under node
// with just enough of a document.
func TestConsoleShowsNamesWithoutInvisibleCharacters(t *testing.T) {
	var got []string
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	script := `
globalThis.Node = class Node {};
const el = (tag) => Object.assign(new Node(), { tag, kids: [], attrs: {}, dataset: {},
  append(...c) { this.kids.push(...c); }, replaceChildren() { this.kids = []; },
  setAttribute(k, v) { this.attrs[k] = v; }, addEventListener() {} });
globalThis.document = { createElement: el, createTextNode: (t) => Object.assign(new Node(), { text: t }) };
const { h, fill } = await import("./ui.js");
const p = h("p", { "aria-label": "Remove adm\u202enimda" }, "Group adm\u202enimda", 3);
const q = fill(h("div"), "ad\u200bmin");
console.log(JSON.stringify([p.kids[0].text, p.kids[1].text, p.attrs["aria-label"], q.kids[0].text]));`
	cmd := exec.Command(node, "--input-type=module", "-e", script)
	cmd.Dir = "static"
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, b)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("node printed %q: %v", b, err)
	}
	want := []string{"Group admnimda", "3", "Remove admnimda", "admin"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("console text = %+q, want %+q", got, want)
	}
}
