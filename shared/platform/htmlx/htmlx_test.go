package htmlx

import (
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`plain text`:                  `plain text`,
		`<script>alert("x")</script>`: `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
		`a & b`:                       `a &amp; b`,
		`it's`:                        `it&#39;s`,
		`&amp;`:                       `&amp;amp;`,
		"nul\x00here":                 "nul\uFFFDhere",
		"bad\xffutf8":                 "bad\uFFFDutf8",
		`é ü 漢`:                       `é ü 漢`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextIsEscaped(t *testing.T) {
	var b Builder
	b.Markup(`<p>`)
	b.Text(`<script>alert(1)</script> & <img src=x onerror=alert(1)>`)
	b.Markup(`</p>`)
	want := `<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;</p>`
	if b.String() != want {
		t.Errorf("got %s\nwant %s", b.String(), want)
	}
}

func TestAttrIsQuotedAndEscaped(t *testing.T) {
	var b Builder
	b.Markup(`<input type="hidden" name="token"`)
	b.Attr("value", `x" autofocus onfocus="alert(1)`)
	b.Attr("title", `it's <b>`)
	b.Markup(`>`)
	want := `<input type="hidden" name="token" value="x&#34; autofocus onfocus=&#34;alert(1)" title="it&#39;s &lt;b&gt;">`
	if b.String() != want {
		t.Errorf("got %s\nwant %s", b.String(), want)
	}
}

func TestParseURL(t *testing.T) {
	for _, u := range []string{
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		" javascript:alert(1)",
		"javascript://guests.example/%0aalert(1)",
		"vbscript:msgbox(1)",
		"data:text/html,<script>alert(1)</script>",
		"/relative?token=abc",
		"relative",
		"//guests.example/accept",
		"ftp://guests.example/a",
		"https:opaque",
		"https://",
		"https://guests.example/a b",
		"https://guests.example/a\tb",
		"https://guests.example/a\r\nb",
		"https://guests.example/a\u2028b",
		"https://guests.example/\xff",
		"",
	} {
		got, err := ParseURL(u)
		if !errors.Is(err, ErrURL) || got != (URL{}) {
			t.Errorf("ParseURL(%q) = %q, %v; want ErrURL", u, got, err)
		}
		if err != nil && u != "" && strings.Contains(err.Error(), u) {
			t.Errorf("error leaks the URL: %v", err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:3000/invitations/accept?token=t", "HTTPS://guests.example/a", "https://guests.example/a?x=1&y=2"} {
		got, err := ParseURL(u)
		if err != nil || got.String() != u {
			t.Errorf("ParseURL(%q) = %q, %v", u, got, err)
		}
	}
}

func TestURLAttrIsEscaped(t *testing.T) {
	u, err := ParseURL(`https://guests.example/accept?token=a&x="><script>alert(1)</script>`)
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	b.Markup(`<a`)
	b.URLAttr("href", u)
	b.Markup(`>go</a>`)
	want := `<a href="https://guests.example/accept?token=a&amp;x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">go</a>`
	if b.String() != want {
		t.Errorf("got %s\nwant %s", b.String(), want)
	}
}

func TestAttrNamesAreChecked(t *testing.T) {
	panics := func(f func()) (p bool) {
		defer func() { p = recover() != nil }()
		f()
		return false
	}
	var b Builder
	for _, name := range []constant{"href", "HREF", "src", "action", "formaction", "onclick", "onmouseover", "style", "srcset", "http-equiv", "content", "", "a b", `x"`, "x=y"} {
		if !panics(func() { b.Attr(name, "v") }) {
			t.Errorf("Attr(%q) did not panic", name)
		}
	}
	u, _ := ParseURL("https://guests.example/")
	for _, name := range []constant{"value", "title", "onclick", "style", ""} {
		if !panics(func() { b.URLAttr(name, u) }) {
			t.Errorf("URLAttr(%q) did not panic", name)
		}
	}
	if panics(func() { b.Attr("value", "v"); b.Attr("data-x", "v"); b.URLAttr("href", u); b.URLAttr("action", u) }) {
		t.Error("a plain attribute panicked")
	}
	if b.String() != ` value="v" data-x="v" href="https://guests.example/" action="https://guests.example/"` {
		t.Errorf("got %q", b.String())
	}
}

// TestOnlyConstantsAreMarkup type-checks this package together with calls
// that pass a string variable where markup or an attribute name is expected,
// and requires each of them (and only them) to be a compile error.
func TestOnlyConstantsAreMarkup(t *testing.T) {
	const probe = `package htmlx

func probe(user string, b *Builder) {
	const c = "<b>"
	b.Markup("<p>" + c)
	b.Markup(user) // ERROR
	b.Attr("value", user)
	b.Attr(user, "v") // ERROR
	b.URLAttr(user, URL{}) // ERROR
	b.Markup(constant(user))
}
`
	fset := token.NewFileSet()
	src, err := os.ReadFile("htmlx.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for name, text := range map[string]string{"htmlx.go": string(src), "probe.go": probe} {
		f, err := parser.ParseFile(fset, name, text, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	errLines := map[int]bool{}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil), Error: func(err error) {
		te := err.(types.Error)
		if p := fset.Position(te.Pos); p.Filename == "probe.go" {
			errLines[p.Line] = true
		} else {
			t.Errorf("unexpected error: %v", err)
		}
	}}
	_, _ = conf.Check("htmlx", fset, files, nil)
	for i, line := range strings.Split(probe, "\n") {
		if want := strings.HasSuffix(line, "// ERROR"); errLines[i+1] != want {
			t.Errorf("probe line %d %q: compile error %v, want %v", i+1, strings.TrimSpace(line), errLines[i+1], want)
		}
	}
}

// TestTextAndAttrLeaveOutInvisibleCharacters: what a page shows cannot be
// turned round or hidden by the text it shows (domain.NeutralizeText).
func TestTextAndAttrLeaveOutInvisibleCharacters(t *testing.T) {
	var b Builder
	b.Markup(`<p`)
	b.Attr("title", "x\u202ey")
	b.Markup(`>`)
	b.Text("adm\u202enimda <b>\u200b")
	b.Markup(`</p>`)
	if got, want := b.String(), `<p title="xy">admnimda &lt;b&gt;</p>`; got != want {
		t.Errorf("got %+q, want %+q", got, want)
	}
}
