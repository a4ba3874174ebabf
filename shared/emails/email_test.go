package emails

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
)

func base() Invitation {
	return Invitation{
		To:           "pat@agency.example",
		InviterName:  "Ada Admin",
		InviterEmail: "ada@14west.example",
		OrgName:      "14West",
		SiteName:     "14West Wiki",
		SiteHost:     "14west.example.net",
		AcceptURL:    "https://guests.example/invitations/accept?token=abc&x=1",
		ExpiresAt:    time.Date(2026, 12, 5, 10, 30, 0, 0, time.FixedZone("CET", 3600)),
		Kind:         KindGuest,
	}
}

func render(t *testing.T, inv Invitation) Message {
	t.Helper()
	m, err := RenderInvitation(inv)
	if err != nil {
		t.Fatalf("RenderInvitation: %v", err)
	}
	return m
}

func TestRenderContent(t *testing.T) {
	inv := base()
	inv.Message = "See you soon,\nAda"
	m := render(t, inv)
	if m.To != inv.To {
		t.Errorf("To = %q", m.To)
	}
	if want := "Ada Admin invited you to 14West Wiki on Confluence"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	for _, want := range []string{
		"Ada Admin (ada@14west.example) invited you to join 14West Wiki (14west.example.net) of 14West",
		"> See you soon,\n> Ada\n",
		"\n" + inv.AcceptURL + "\n",
		"expires on Saturday, 5 December 2026 at 09:30 UTC",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text body lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{
		`<a href="https://guests.example/invitations/accept?token=abc&amp;x=1"`,
		">Accept invitation</a>",
		"See you soon,<br>Ada</blockquote>",
		"Saturday, 5 December 2026 at 09:30 UTC",
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML body lacks %q:\n%s", want, m.HTML)
		}
	}
}

func TestNoMessageNoExpiry(t *testing.T) {
	inv := base()
	inv.ExpiresAt = time.Time{}
	m := render(t, inv)
	if strings.Contains(m.Text, "wrote:") || strings.Contains(m.HTML, "<blockquote") {
		t.Errorf("empty message rendered:\n%s\n%s", m.Text, m.HTML)
	}
	if strings.Contains(m.Text, "expires") || strings.Contains(m.Text, "0001") {
		t.Errorf("zero expiry rendered:\n%s", m.Text)
	}
}

func TestHTMLEscapesMessage(t *testing.T) {
	inv := base()
	inv.Message = `Hi <script>alert("x")</script> & welcome` + "\n" + `<a href="javascript:evil()">click</a>`
	m := render(t, inv)
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, `<a href="javascript`) {
		t.Fatalf("HTML not escaped:\n%s", m.HTML)
	}
	want := `Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; welcome<br>&lt;a href=&#34;javascript:evil()&#34;&gt;click&lt;/a&gt;`
	if !strings.Contains(m.HTML, want) {
		t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
	}
	// The text body is plain text: the message is quoted as typed.
	if !strings.Contains(m.Text, `> Hi <script>alert("x")</script> & welcome`) {
		t.Errorf("text body lacks the raw message:\n%s", m.Text)
	}
}

func TestHTMLEscapesNames(t *testing.T) {
	inv := base()
	inv.InviterName = `<b>Eve</b> "the" & co`
	inv.SiteName = `<img src=x onerror=alert(1)>`
	m := render(t, inv)
	if strings.Contains(m.HTML, "<b>Eve") || strings.Contains(m.HTML, "<img") {
		t.Fatalf("names not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;Eve&lt;/b&gt; &#34;the&#34; &amp; co") {
		t.Errorf("escaped inviter missing:\n%s", m.HTML)
	}
}

func TestHeaderInjectionInMessageStaysInBody(t *testing.T) {
	inv := base()
	inv.Message = "Hello\r\nBcc: evil@x.com\r\nSubject: pwned"
	m := render(t, inv)
	for name, v := range map[string]string{"Subject": m.Subject, "To": m.To} {
		if strings.Contains(v, "evil") || strings.Contains(v, "pwned") || strings.ContainsAny(v, "\r\n") {
			t.Errorf("%s carries the message: %q", name, v)
		}
	}
	if m.To != "pat@agency.example" {
		t.Errorf("To = %q", m.To)
	}
	if !strings.Contains(m.Text, "> Bcc: evil@x.com\n") || strings.Contains(m.Text, "\r") {
		t.Errorf("text body:\n%q", m.Text)
	}
	if !strings.Contains(m.HTML, "Hello<br>Bcc: evil@x.com<br>Subject: pwned") {
		t.Errorf("HTML body:\n%s", m.HTML)
	}
}

func TestSubjectSanitised(t *testing.T) {
	inv := base()
	inv.InviterName = "Eve\r\nBcc: evil@x.com\t\x00\x7f\u0085\u2028"
	inv.SiteName = "Site\nTo: other@x.com"
	m := render(t, inv)
	if strings.ContainsFunc(m.Subject, unicode.IsControl) || strings.ContainsAny(m.Subject, "\u2028") {
		t.Errorf("subject has control characters: %q", m.Subject)
	}
	if want := "Eve Bcc: evil@x.com invited you to Site To: other@x.com on Confluence"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}

	inv.InviterName = strings.Repeat("é", 500)
	inv.SiteName = strings.Repeat("s", 500)
	m = render(t, inv)
	if n := len([]rune(m.Subject)); n > maxSubjectRunes {
		t.Errorf("subject not capped: %d runes", n)
	}
	if !strings.Contains(m.Subject, strings.Repeat("é", maxNameRunes-1)+"… invited you to") {
		t.Errorf("inviter not capped: %q", m.Subject)
	}
}

func TestSubjectFallbacks(t *testing.T) {
	inv := base()
	inv.InviterName, inv.SiteName = " \r\n", ""
	m := render(t, inv)
	if want := "ada@14west.example invited you to 14west.example.net on Confluence"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
}

func TestRecipientRefused(t *testing.T) {
	for _, to := range []string{
		"pat@agency.example\r\nBcc: x@y.example",
		"pat@agency.example\n",
		"pat@agency.example\r",
		"pat\t@agency.example",
		"pat@agency.example\x00",
		"pat@agency.example\u0085",
		"Pat <pat@agency.example>",
		"<pat@agency.example>",
		"pat@agency.example (Pat)",
		"a@b.example, c@d.example",
		" pat@agency.example",
		"pat",
		"",
	} {
		inv := base()
		inv.To = to
		_, err := RenderInvitation(inv)
		if !errors.Is(err, ErrBadRecipient) {
			t.Errorf("To %q: err = %v, want ErrBadRecipient", to, err)
		}
		if err != nil && strings.Contains(err.Error(), "agency") {
			t.Errorf("error leaks the address: %v", err)
		}
	}
}

func TestAcceptURLRefused(t *testing.T) {
	for _, u := range []string{
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"javascript://guests.example/%0aalert(1)",
		"data:text/html,<script>alert(1)</script>",
		"/relative?token=abc",
		"//guests.example/accept",
		"ftp://guests.example/a",
		"https:opaque",
		"https://guests.example/a b",
		"https://guests.example/a\r\nb",
		"",
	} {
		inv := base()
		inv.AcceptURL = u
		_, err := RenderInvitation(inv)
		if !errors.Is(err, ErrBadAcceptURL) {
			t.Errorf("AcceptURL %q: err = %v, want ErrBadAcceptURL", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:3000/invitations/accept?token=t", "HTTPS://guests.example/a"} {
		inv := base()
		inv.AcceptURL = u
		if _, err := RenderInvitation(inv); err != nil {
			t.Errorf("AcceptURL %q refused: %v", u, err)
		}
	}
}

// TestWordingByKind pins what the email says the invitee becomes: the subject
// and heading name the products, both bodies say the role, and only a guest
// is told they join as a guest.
func TestWordingByKind(t *testing.T) {
	const lead = "Ada Admin (ada@14west.example) invited you to join 14West Wiki (14west.example.net) of 14West"
	cases := []struct {
		name    string
		kind    string
		roles   map[string]string
		subject string
		becomes string
	}{
		{"guest", KindGuest, map[string]string{"confluence": "guest"}, " on Confluence",
			" as a guest in Confluence (you will get access to one space)."},
		{"guest by group", KindGuest, nil, " on Confluence",
			" as a guest in Confluence (you will get access to one space)."},
		{"paid", KindPaid, map[string]string{"confluence": "user"}, " on Confluence", " as a Confluence user."},
		{"paid by group", KindPaid, nil, " on Confluence", " as a Confluence user."},
		{"paid admin", KindPaid, map[string]string{"confluence": "admin"}, " on Confluence", " as a Confluence administrator."},
		{"paid and jira", KindPaid, map[string]string{"confluence": "user", "jira": "user"}, " on Confluence and Jira",
			" as a Confluence user and a Jira user."},
		{"guest and two products", KindGuest, map[string]string{"jira-service-management": "admin", "jira": "user", "confluence": "guest"},
			" on Confluence, Jira and Jira Service Management",
			" as a guest in Confluence (you will get access to one space), a Jira user and a Jira Service Management administrator."},
		{"jira only", KindNone, map[string]string{"jira": "user", "confluence": "none"}, " on Jira", " as a Jira user."},
		{"jira only, empty kind", "", map[string]string{"jira": "user"}, " on Jira", " as a Jira user."},
		{"empty kind, confluence role", "", map[string]string{"confluence": "user"}, " on Confluence", " as a Confluence user."},
		{"none overrides confluence role", KindNone, map[string]string{"confluence": "user", "jira": "admin"}, " on Jira", " as a Jira administrator."},
		{"unknown product", "", map[string]string{"opsgenie": "user"}, " on opsgenie", " as an opsgenie user."},
		{"unknown role", "", map[string]string{"jira": "owner"}, "", "."},
		{"nothing", "", nil, "", "."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := base()
			inv.Kind, inv.Roles = c.kind, c.roles
			m := render(t, inv)
			if want := "Ada Admin invited you to 14West Wiki" + c.subject; m.Subject != want {
				t.Errorf("Subject = %q, want %q", m.Subject, want)
			}
			if want := lead + c.becomes + "\n"; !strings.Contains(m.Text, want) {
				t.Errorf("text body lacks %q:\n%s", want, m.Text)
			}
			if want := "of 14West" + c.becomes + "</p>"; !strings.Contains(m.HTML, want) {
				t.Errorf("HTML body lacks %q:\n%s", want, m.HTML)
			}
			if want := ">Join 14West Wiki" + c.subject + "</h1>"; !strings.Contains(m.HTML, want) {
				t.Errorf("HTML body lacks %q:\n%s", want, m.HTML)
			}
			guest := strings.Contains(c.becomes, "guest")
			for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
				if strings.Contains(body, "a guest") != guest {
					t.Errorf("%s mentions a guest: %v, want %v", part, !guest, guest)
				}
			}
			if strings.Contains(m.Subject, "guest") {
				t.Errorf("subject mentions a guest: %q", m.Subject)
			}
		})
	}
}

// TestHTMLEscapesEveryField puts markup in every user-controlled value and
// requires the HTML body to carry each one escaped and none raw.
func TestHTMLEscapesEveryField(t *testing.T) {
	const evil = `<i id="x">'&`
	const escaped = `&lt;i id=&#34;x&#34;&gt;&#39;&amp;`
	inv := base()
	inv.InviterName = "N" + evil
	inv.InviterEmail = "E" + evil
	inv.OrgName = "O" + evil
	inv.SiteName = "S" + evil
	inv.SiteHost = "H" + evil
	inv.Message = "M" + evil
	inv.Roles = map[string]string{"P" + evil: "user"}
	inv.AcceptURL = `https://guests.example/accept?token=abc&x="><script>alert(1)</script>`
	m := render(t, inv)
	if strings.Contains(m.HTML, "<i ") || strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, `"x"`) || strings.Contains(m.HTML, `'&`) {
		t.Fatalf("raw markup in the HTML body:\n%s", m.HTML)
	}
	for _, p := range []string{"N", "E", "O", "S", "H", "M", "P"} {
		if !strings.Contains(m.HTML, p+escaped) {
			t.Errorf("HTML lacks %q:\n%s", p+escaped, m.HTML)
		}
	}
	url := `https://guests.example/accept?token=abc&amp;x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`
	if n := strings.Count(m.HTML, `<a href="`+url+`" style=`); n != 2 {
		t.Errorf("escaped accept URL in %d links, want 2:\n%s", n, m.HTML)
	}
	if !strings.Contains(m.HTML, `word-break:break-all">`+url+`</a>`) {
		t.Errorf("escaped accept URL text missing:\n%s", m.HTML)
	}
	// The text body is plain text: values appear as typed.
	if !strings.Contains(m.Text, "N"+evil+" (E"+evil+") invited you to join S"+evil) || !strings.Contains(m.Text, "> M"+evil) {
		t.Errorf("text body:\n%s", m.Text)
	}
}

func TestBecomes(t *testing.T) {
	if got := Becomes(KindPaid, nil); got != "as a Confluence user" {
		t.Errorf("Becomes(paid) = %q", got)
	}
	if got := Becomes(KindNone, nil); got != "" {
		t.Errorf("Becomes(none) = %q", got)
	}
	if got := Becomes("", map[string]string{"jira": "user", "confluence": "guest"}); got != "as a guest in Confluence (you will get access to one space) and a Jira user" {
		t.Errorf("Becomes(jira+guest) = %q", got)
	}
	if got := Becomes("", map[string]string{"x\r\nBcc: y": "user"}); got != "as a x Bcc: y user" {
		t.Errorf("control characters in a product reach the text: %q", got)
	}
}

// TestInvisibleCharactersAreNotShown (issue 16, item 10): the inviter's
// message and the names are free text here, so a U+202E that would turn
// the rest of a line round, or a U+200B that hides inside a word, is left
// out of both bodies and the subject; joiners inside a Persian word and an
// emoji sequence stay.
func TestInvisibleCharactersAreNotShown(t *testing.T) {
	inv := base()
	inv.InviterName = "Ada\u202e nimdA"
	inv.SiteName = "14West\u200b Wiki"
	inv.OrgName = "\u206614West\u2069"
	inv.Message = "Log in at adm\u202enimda.example\u202c now\nمی\u200cخواهم 👨\u200d👩\u200d👧"
	m := render(t, inv)
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML, "subject": m.Subject} {
		for _, r := range []rune{0x202e, 0x202c, 0x200b, 0x2066, 0x2069} {
			if strings.ContainsRune(body, r) {
				t.Errorf("%s part contains U+%04X", part, r)
			}
		}
	}
	for _, want := range []string{"admnimda.example now", "می\u200cخواهم", "👨\u200d👩\u200d👧", "Ada nimdA", "14West Wiki"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("a body lacks %q:\n%s\n%s", want, m.Text, m.HTML)
		}
	}
}
