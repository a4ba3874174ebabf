package emails

import (
	"strings"
	"testing"
	"time"
)

func TestRenderPasscode(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	m, err := RenderPasscode(Passcode{To: "pat@agency.example", OrgName: "Acme <b>\r\nBcc: x", Code: "012345", ExpiresAt: at, PageURL: "https://api.example/orgs/acme/verify"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || !strings.Contains(m.Subject, "012345") {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "\n    012345\n") || !strings.Contains(m.Text, "https://api.example/orgs/acme/verify") || !strings.Contains(m.Text, "03:04 UTC") {
		t.Fatalf("text %q", m.Text)
	}
	if strings.Contains(m.HTML, "<b>") || !strings.Contains(m.HTML, "Acme &lt;b&gt;") || !strings.Contains(m.HTML, `id="code">012345<`) {
		t.Fatalf("html %q", m.HTML)
	}
	for _, bad := range []Passcode{
		{To: "a@b.example", Code: "12345", PageURL: "https://x.example"},
		{To: "a@b.example", Code: "12345x", PageURL: "https://x.example"},
		{To: "a@b.example", Code: "123456", PageURL: "javascript:alert(1)"},
		{To: "a@b.example\r\nBcc: c@d.example", Code: "123456", PageURL: "https://x.example"},
	} {
		if _, err := RenderPasscode(bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
}

// TestRenderPasscodeLink: the link that verifies without the code is in
// both bodies (escaped in the HTML); a link that is not http(s) is refused.
func TestRenderPasscodeLink(t *testing.T) {
	link := "https://api.example/orgs/acme/verify?email=pat%40agency.example&key=abc_-"
	m, err := RenderPasscode(Passcode{To: "pat@agency.example", OrgName: "Acme", Code: "012345", PageURL: "https://api.example/orgs/acme/verify", LinkURL: link})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "\n"+link+"\n") || !strings.Contains(m.HTML, `id="link" href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Fatalf("text %q\nhtml %q", m.Text, m.HTML)
	}
	if _, err := RenderPasscode(Passcode{To: "pat@agency.example", Code: "012345", PageURL: "https://x.example", LinkURL: "javascript:alert(1)"}); err == nil {
		t.Fatal("a javascript: link was accepted")
	}
}
