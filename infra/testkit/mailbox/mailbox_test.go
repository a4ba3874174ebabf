package mailbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// serve answers path with body, as the emulators do.
func serve(t *testing.T, path, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// motoDump is the shape of moto 5.x's /moto-api/data.json after a SendEmail
// with an HTML part, a SendEmail with only a text part and a SendRawEmail
// (trimmed: other services and SES models omitted).
const motoDump = `{
 "sqs": {"Message": [{"body": "not mail"}]},
 "ses": {
  "EmailIdentity": [{"email_identity": "from@x.example"}],
  "Message": [
   {"body": "<p>Hi &lt;script&gt; &amp; co<br>line 2</p><a href=\"https://g.example/accept?token=abc&amp;x=1\">Accept invitation</a>",
    "destinations": {"ToAddresses": ["Pat <pat@agency.example>"], "CcAddresses": ["cc@agency.example"]},
    "id": "m1", "source": "from@x.example", "subject": "S1"},
   {"body": "plain body https://g.example/accept?token=def",
    "destinations": {"ToAddresses": ["lee@agency.example"]},
    "id": "m2", "source": "from@x.example", "subject": "S2"}
  ],
  "RawMessage": [
   {"id": "m3", "source": "from@x.example", "destinations": ["raw@agency.example"],
    "raw_data": "From: Guest Access <from@x.example>\r\nTo: Raw <raw@agency.example>\r\nSubject: =?UTF-8?Q?Caf=C3=A9_invite?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 https://g.example/accept?token=ghi\r\n--b1\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+Q2Fmw6k8L3A+\r\n--b1--\r\n"}
  ],
  "TemplateMessage": []
 }
}`

func TestMotoMessages(t *testing.T) {
	base := serve(t, "/moto-api/data.json", "application/javascript", motoDump)
	got, err := Moto{BaseURL: base + "/"}.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d messages: %+v", len(got), got)
	}
	m1, m2, m3 := got[0], got[1], got[2]
	if m1.ID != "m1" || m1.From != "from@x.example" || m1.Subject != "S1" ||
		!slices.Equal(m1.To, []string{"pat@agency.example"}) || !slices.Equal(m1.Cc, []string{"cc@agency.example"}) || len(m1.Bcc) != 0 {
		t.Errorf("m1 = %+v", m1)
	}
	if !strings.HasPrefix(m1.HTML, "<p>Hi &lt;script&gt;") {
		t.Errorf("m1.HTML = %q", m1.HTML)
	}
	if want := "Hi <script> & co\nline 2\nAccept invitation (https://g.example/accept?token=abc&x=1)\n"; m1.Text != want {
		t.Errorf("m1.Text = %q, want %q", m1.Text, want)
	}
	if l, ok := FindLink(m1.Text, "https://g.example/accept?token="); !ok || l != "https://g.example/accept?token=abc&x=1" {
		t.Errorf("link in m1 = %q %v", l, ok)
	}
	if m2.HTML != "" || m2.Text != "plain body https://g.example/accept?token=def" || !slices.Equal(m2.To, []string{"lee@agency.example"}) {
		t.Errorf("m2 = %+v", m2)
	}
	if m3.ID != "m3" || m3.From != "Guest Access <from@x.example>" || m3.Subject != "Café invite" ||
		!slices.Equal(m3.To, []string{"raw@agency.example"}) || m3.Text != "Café https://g.example/accept?token=ghi" || m3.HTML != "<p>Café</p>" {
		t.Errorf("m3 = %+v", m3)
	}
}

func TestMotoNoSES(t *testing.T) {
	got, err := Moto{BaseURL: serve(t, "/moto-api/data.json", "application/json", `{"core": {}}`)}.Messages(context.Background())
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v", got, err)
	}
}

// sesLocalStore is the shape of aws-ses-v2-local 2.10's GET /store.
const sesLocalStoreJSON = `{"templates": {}, "emails": [
 {"messageId": "ses-1", "from": "from@x.example", "replyTo": [],
  "destination": {"to": ["lee@agency.example"], "cc": [], "bcc": ["Hidden <b@agency.example>"]},
  "subject": "S", "body": {"text": "text https://g.example/a?token=1", "html": "<p>html</p>"},
  "attachments": [], "at": 1795848426},
 {"messageId": "ses-2", "from": "from@x.example", "replyTo": [],
  "destination": {"to": ["x@agency.example"], "cc": [], "bcc": []},
  "subject": "Only HTML", "body": {"html": "<p>a<br>b</p>"},
  "attachments": [], "at": 1795848427}
]}`

func TestSESLocalMessages(t *testing.T) {
	got, err := SESLocal{BaseURL: serve(t, "/store", "application/json; charset=utf-8", sesLocalStoreJSON)}.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	want := Mail{ID: "ses-1", From: "from@x.example", To: []string{"lee@agency.example"}, Bcc: []string{"b@agency.example"},
		Subject: "S", Text: "text https://g.example/a?token=1", HTML: "<p>html</p>"}
	g := got[0]
	if g.ID != want.ID || g.From != want.From || !slices.Equal(g.To, want.To) || len(g.Cc) != 0 || !slices.Equal(g.Bcc, want.Bcc) ||
		g.Subject != want.Subject || g.Text != want.Text || g.HTML != want.HTML {
		t.Errorf("got %+v, want %+v", g, want)
	}
	if got[1].Text != "a\nb\n" {
		t.Errorf("derived text = %q", got[1].Text)
	}
}

func TestReaderErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := (SESLocal{BaseURL: serve(t, "/other", "text/plain", "")}).Messages(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v", err)
	}
	if _, err := (Moto{BaseURL: serve(t, "/moto-api/data.json", "text/html", "<html>")}).Messages(ctx); err == nil {
		t.Error("bad JSON accepted")
	}
	if _, err := (Moto{BaseURL: "http://127.0.0.1:1"}).Messages(ctx); err == nil {
		t.Error("unreachable server: no error")
	}
}

func TestFindLink(t *testing.T) {
	const p = "http://127.0.0.1:3000/invitations/accept?token="
	for _, c := range []struct {
		body, want string
		ok         bool
	}{
		{"Accept:\n" + p + "abc-_123\n\nbye", p + "abc-_123", true},
		{"Go to " + p + "abc.", p + "abc", true},
		{"Button (" + p + "abc)", p + "abc", true},
		{`<a href="` + p + `abc">x</a>`, p + "abc", true},
		{"<" + p + "abc>", p + "abc", true},
		{p + "first " + p + "second", p + "first", true},
		{"https://evil.example/?next=" + p + "abc", "", false},
		{"https://evil.example/?next=" + p + "abc and " + p + "good", p + "good", true},
		{"no link here", "", false},
		{"", "", false},
	} {
		got, ok := FindLink(c.body, p)
		if got != c.want || ok != c.ok {
			t.Errorf("FindLink(%q) = %q, %v; want %q, %v", c.body, got, ok, c.want, c.ok)
		}
	}
	if _, ok := FindLink("anything", ""); ok {
		t.Error("empty prefix matched")
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<!doctype html><html><head><title>T</title><style>p{}</style></head><body>
<!-- c --><h1>Title</h1><p>Hello &amp; <b>welcome</b>,<br/>friend</p>
<a href="https://x.example/a?b=1&amp;c=2" style="x">Accept invitation</a>
<a href='https://x.example/same'>https://x.example/same</a><script>alert(1)</script></body></html>`
	want := "Title\n\nHello & welcome,\nfriend\n\nAccept invitation (https://x.example/a?b=1&c=2)\nhttps://x.example/same\n"
	if got := HTMLToText(in); got != want {
		t.Errorf("HTMLToText = %q, want %q", got, want)
	}
	if looksLikeHTML("plain <3 text with a < b") {
		t.Error("plain text taken as HTML")
	}
}
