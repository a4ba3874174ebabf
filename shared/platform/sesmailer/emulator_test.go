package sesmailer

// Tests against real SES wire protocols: moto and aws-ses-v2-local, started
// for this test binary by testenv (or MOTO_ENDPOINT / SESLOCAL_ENDPOINT).
// Each test skips when its emulator is not installed, unless
// REQUIRE_EMULATORS=1, where it fails instead.
//
// This file is an internal test (package sesmailer) so that its helper names
// cannot collide with the external test package's.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go"

	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/emails"
)

const emuSubject = "Ada Admin invited you to 14West Wiki on Confluence"

// emuClient is an SES client for an emulator at endpoint.
func emuClient(endpoint string) *ses.Client {
	return ses.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

// emuCtx bounds every emulator call: aws-ses-v2-local never answers actions
// it does not implement, so an unbounded call could hang the suite.
func emuCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// emuAddr returns a fresh address so tests never see each other's mail.
func emuAddr(t *testing.T, name, domain string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return name + "-" + hex.EncodeToString(b) + "@" + domain
}

// emuAcceptURL returns an accept link with a fresh token.
func emuAcceptURL(t *testing.T) string {
	return "https://guests.example/invitations/accept?token=" + strings.TrimSuffix(emuAddr(t, "tok", "x"), "@x")
}

func emuRender(t *testing.T, to, message, acceptURL string) emails.Message {
	t.Helper()
	m, err := emails.RenderInvitation(emails.Invitation{
		To: to, InviterName: "Ada Admin", InviterEmail: "ada@14west.example", OrgName: "14West",
		SiteName: "14West Wiki", SiteHost: "14west.example.net", Message: message,
		AcceptURL: acceptURL, ExpiresAt: time.Now().Add(72 * time.Hour), Kind: emails.KindGuest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// verifiedMailer verifies a fresh sender on moto and returns a Mailer for it.
func verifiedMailer(t *testing.T, ctx context.Context, client *ses.Client) (*Mailer, string) {
	t.Helper()
	sender := emuAddr(t, "invitations", "14west.example")
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)}); err != nil {
		t.Fatalf("VerifyEmailIdentity: %v", err)
	}
	return New(client, sender), sender
}

// mailTo returns the messages addressed (To, Cc or Bcc) to addr.
func mailTo(t *testing.T, ctx context.Context, r mailbox.Reader, addr string) []mailbox.Mail {
	t.Helper()
	all, err := r.Messages(ctx)
	if err != nil {
		t.Fatalf("read mailbox: %v", err)
	}
	var out []mailbox.Mail
	for _, m := range all {
		if slices.Contains(m.To, addr) || slices.Contains(m.Cc, addr) || slices.Contains(m.Bcc, addr) {
			out = append(out, m)
		}
	}
	return out
}

// one returns the single message to addr, failing otherwise.
func one(t *testing.T, ctx context.Context, r mailbox.Reader, addr string) mailbox.Mail {
	t.Helper()
	got := mailTo(t, ctx, r, addr)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s, want 1: %+v", len(got), addr, got)
	}
	return got[0]
}

// checkDelivered asserts what every delivered invitation must look like.
func checkDelivered(t *testing.T, m mailbox.Mail, id, from, to, acceptURL string) {
	t.Helper()
	if m.ID != id {
		t.Errorf("ID = %q, want %q (returned by Send)", m.ID, id)
	}
	if m.From != from {
		t.Errorf("From = %q, want %q", m.From, from)
	}
	if !slices.Equal(m.To, []string{to}) || len(m.Cc) != 0 || len(m.Bcc) != 0 {
		t.Errorf("recipients To=%q Cc=%q Bcc=%q, want only To=%q", m.To, m.Cc, m.Bcc, to)
	}
	if m.Subject != emuSubject {
		t.Errorf("Subject = %q, want %q", m.Subject, emuSubject)
	}
	link, ok := mailbox.FindLink(m.Text, "https://guests.example/invitations/accept?token=")
	if !ok || link != acceptURL {
		t.Errorf("accept link in text = %q (found %v), want %q:\n%s", link, ok, acceptURL, m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+acceptURL+`"`) || !strings.Contains(m.HTML, "Accept invitation</a>") {
		t.Errorf("HTML lacks the accept button:\n%s", m.HTML)
	}
}

func TestMotoSendAndReadBack(t *testing.T) {
	ep := testenv.Moto(t)
	ctx := emuCtx(t)
	mailer, sender := verifiedMailer(t, ctx, emuClient(ep))
	to := emuAddr(t, "pat", "agency.example")
	accept := emuAcceptURL(t)

	id, err := mailer.Send(ctx, emuRender(t, to, `Welcome <script>alert("x")</script> & enjoy`, accept))
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	m := one(t, ctx, mailbox.Moto{BaseURL: ep}, to)
	checkDelivered(t, m, id, sender, to, accept)
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Welcome &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; enjoy") {
		t.Errorf("personal message not escaped in HTML:\n%s", m.HTML)
	}
	// moto keeps only the HTML body; the mailbox derives the text from it.
	if !strings.Contains(m.Text, `Welcome <script>alert("x")</script> & enjoy`) {
		t.Errorf("personal message missing from text:\n%s", m.Text)
	}
}

// moto enforces, like SES, that the sender is a verified identity.
func TestMotoUnverifiedSenderRefused(t *testing.T) {
	ep := testenv.Moto(t)
	ctx := emuCtx(t)
	to := emuAddr(t, "pat", "agency.example")
	accept := emuAcceptURL(t)
	mailer := New(emuClient(ep), emuAddr(t, "unverified", "14west.example"))

	id, err := mailer.Send(ctx, emuRender(t, to, "secret personal note", accept))
	if err == nil {
		t.Fatalf("unverified sender accepted, message id %q", id)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MessageRejected" {
		t.Errorf("err = %v, want an SES MessageRejected error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "sesmailer: ") || strings.Contains(msg, accept) || strings.Contains(msg, "secret personal note") {
		t.Errorf("error lacks context or leaks the body: %v", err)
	}
	if got := mailTo(t, ctx, mailbox.Moto{BaseURL: ep}, to); len(got) != 0 {
		t.Errorf("refused message was stored: %+v", got)
	}
}

// A header-injection attempt in the personal message stays in the bodies: the
// injected Bcc gets nothing and the headers are untouched.
func TestMotoHeaderInjectionStaysInBody(t *testing.T) {
	ep := testenv.Moto(t)
	ctx := emuCtx(t)
	mailer, sender := verifiedMailer(t, ctx, emuClient(ep))
	box := mailbox.Moto{BaseURL: ep}
	to := emuAddr(t, "pat", "agency.example")
	evil := emuAddr(t, "evil", "attacker.example")
	accept := emuAcceptURL(t)
	injection := "Hello\r\nBcc: " + evil + "\r\nSubject: pwned\r\n\r\n<b>body</b>"

	id, err := mailer.Send(ctx, emuRender(t, to, injection, accept))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := one(t, ctx, box, to)
	checkDelivered(t, m, id, sender, to, accept)
	if got := mailTo(t, ctx, box, evil); len(got) != 0 {
		t.Errorf("injected Bcc received mail: %+v", got)
	}
	if strings.Contains(m.Subject, "pwned") || strings.Contains(m.Subject, evil) || strings.Contains(m.From, evil) {
		t.Errorf("injection reached a header: subject %q from %q", m.Subject, m.From)
	}
	if !strings.Contains(m.HTML, "Hello<br>Bcc: "+evil+"<br>Subject: pwned<br><br>&lt;b&gt;body&lt;/b&gt;") {
		t.Errorf("injection not kept (escaped) in the HTML body:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Bcc: "+evil) {
		t.Errorf("injection not kept in the text body:\n%s", m.Text)
	}

	// The same attempt in a recipient never reaches SES.
	if _, err := mailer.Send(ctx, emails.Message{To: to + "\r\nBcc: " + evil, Subject: "s", Text: "t"}); !errors.Is(err, emails.ErrBadRecipient) {
		t.Errorf("Send with CR/LF in To: err = %v, want ErrBadRecipient", err)
	}
	if got := mailTo(t, ctx, box, evil); len(got) != 0 {
		t.Errorf("injected Bcc received mail: %+v", got)
	}
}

func TestSESLocalSendAndReadBack(t *testing.T) {
	ep := testenv.SESLocal(t)
	ctx := emuCtx(t)
	// aws-ses-v2-local does not check senders (and never answers
	// VerifyEmailIdentity), so none is verified here.
	sender := emuAddr(t, "invitations", "14west.example")
	to := emuAddr(t, "lee", "agency.example")
	accept := emuAcceptURL(t)
	msg := emuRender(t, to, "Line 1 <script>x</script>\r\nBcc: evil@attacker.example", accept)

	id, err := New(emuClient(ep), sender).Send(ctx, msg)
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	m := one(t, ctx, mailbox.SESLocal{BaseURL: ep}, to)
	checkDelivered(t, m, id, sender, to, accept)
	// aws-ses-v2-local keeps both bodies exactly as sent.
	if m.Text != msg.Text || m.HTML != msg.HTML {
		t.Errorf("bodies changed in transit:\n%q\n%q", m.Text, m.HTML)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Line 1 &lt;script&gt;x&lt;/script&gt;<br>Bcc: evil@attacker.example") {
		t.Errorf("HTML body:\n%s", m.HTML)
	}
	if got := mailTo(t, ctx, mailbox.SESLocal{BaseURL: ep}, "evil@attacker.example"); len(got) != 0 {
		t.Errorf("injected Bcc received mail: %+v", got)
	}
}

// A recipient with control characters is refused before any request is made.
func TestSendRefusesUnsafeRecipientWithoutCallingSES(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "unexpected call", http.StatusInternalServerError)
	}))
	defer srv.Close()
	mailer := New(emuClient(srv.URL), "invitations@14west.example")
	for _, to := range []string{
		"pat@agency.example\r\nBcc: evil@attacker.example",
		"pat@agency.example\n",
		"pat@agency.example\t",
		"pat@agency.example\x00",
		"Pat <pat@agency.example>",
		"a@agency.example, b@agency.example",
		"",
	} {
		_, err := mailer.Send(context.Background(), emails.Message{To: to, Subject: "s", Text: "t", HTML: "h"})
		if !errors.Is(err, emails.ErrBadRecipient) {
			t.Errorf("To %q: err = %v, want ErrBadRecipient", to, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached SES", n)
	}
}

// Send maps the message onto SES v1 SendEmail as documented.
func TestSendRequestShape(t *testing.T) {
	var form atomic.Pointer[map[string][]string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		f := map[string][]string(r.PostForm)
		form.Store(&f)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>mid-1</MessageId></SendEmailResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></SendEmailResponse>`))
	}))
	defer srv.Close()
	id, err := New(emuClient(srv.URL), "invitations@14west.example").Send(context.Background(),
		emails.Message{To: "pat@agency.example", Subject: "Subj é", Text: "text body", HTML: "<p>html</p>"})
	if err != nil || id != "mid-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	f := *form.Load()
	want := map[string]string{
		"Action":                            "SendEmail",
		"Source":                            "invitations@14west.example",
		"Destination.ToAddresses.member.1":  "pat@agency.example",
		"Message.Subject.Data":              "Subj é",
		"Message.Subject.Charset":           "UTF-8",
		"Message.Body.Text.Data":            "text body",
		"Message.Body.Text.Charset":         "UTF-8",
		"Message.Body.Html.Data":            "<p>html</p>",
		"Message.Body.Html.Charset":         "UTF-8",
		"Destination.ToAddresses.member.2":  "",
		"Destination.CcAddresses.member.1":  "",
		"Destination.BccAddresses.member.1": "",
	}
	for k, v := range want {
		if got := strings.Join(f[k], ","); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
