package emails

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRenderReverification: the email names the org (escaped in the HTML,
// free of control characters in the subject), links the verification page
// in both bodies, and refuses a bad address or link.
func TestRenderReverification(t *testing.T) {
	r := Reverification{To: "pat@agency.example", OrgName: "<b>Acme</b>\r\nBcc: x@evil.example", VerifyURL: "https://guest.example/v1/orgs/acme/verify",
		LapsedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)}
	m, err := RenderReverification(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || !strings.Contains(m.Subject, "Acme") {
		t.Errorf("subject %q", m.Subject)
	}
	if strings.Contains(m.HTML, "<b>Acme</b>") || !strings.Contains(m.HTML, "&lt;b&gt;Acme&lt;/b&gt;") {
		t.Errorf("org name not escaped in the HTML:\n%s", m.HTML)
	}
	for _, body := range []string{m.Text, m.HTML} {
		if !strings.Contains(body, "https://guest.example/v1/orgs/acme/verify") || !strings.Contains(body, "27 November 2026 at 09:30 UTC") {
			t.Errorf("body without the link or the lapse:\n%s", body)
		}
	}
	if !strings.Contains(m.HTML, `href="https://guest.example/v1/orgs/acme/verify"`) || m.To != r.To {
		t.Errorf("message %+v", m)
	}
	bad := r
	bad.To = "pat@agency.example, eve@evil.example"
	if _, err := RenderReverification(bad); !errors.Is(err, ErrBadRecipient) {
		t.Errorf("bad recipient: %v", err)
	}
	bad = r
	bad.VerifyURL = "javascript:alert(1)"
	if _, err := RenderReverification(bad); !errors.Is(err, ErrBadAcceptURL) {
		t.Errorf("bad link: %v", err)
	}
}
