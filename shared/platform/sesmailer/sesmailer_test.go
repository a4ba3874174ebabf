package sesmailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/sesmailer"
)

func render(t *testing.T, to, message string) emails.Message {
	t.Helper()
	m, err := emails.RenderInvitation(emails.Invitation{To: to, InviterName: "Ada Admin", SiteName: "14West Wiki", SiteHost: "14west.example.net",
		Message: message, AcceptURL: "https://guests.example/invitations/accept?token=tok123", ExpiresAt: time.Now().Add(time.Hour), Kind: emails.KindGuest})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func find(t *testing.T, r mailbox.Reader, to string) []mailbox.Mail {
	t.Helper()
	all, err := r.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []mailbox.Mail
	for _, m := range all {
		for _, x := range m.To {
			if x == to {
				out = append(out, m)
			}
		}
	}
	return out
}

func TestSendThroughMoto(t *testing.T) {
	ep := testenv.Moto(t)
	ctx := context.Background()
	client := testenv.SES(ep)
	sender := "sender-" + domain.NewID()[:8] + "@14west.example"
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)}); err != nil {
		t.Fatal(err)
	}
	to := "pat-" + domain.NewID()[:8] + "@agency.example"
	id, err := sesmailer.New(client, sender).Send(ctx, render(t, to, "Hi <script>x</script>\nBcc: evil@attacker.example"))
	if err != nil || id == "" {
		t.Fatalf("send: %q %v", id, err)
	}
	got := find(t, mailbox.Moto{BaseURL: ep}, to)
	if len(got) != 1 {
		t.Fatalf("messages to %s: %d", to, len(got))
	}
	m := got[0]
	if m.ID != id || m.From != sender || m.Subject != "Ada Admin invited you to 14West Wiki on Confluence" || len(m.To) != 1 {
		t.Errorf("mail = %+v", m)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML not escaped: %s", m.HTML)
	}
	if link, ok := mailbox.FindLink(m.HTML, "https://guests.example/invitations/accept?token="); !ok || !strings.HasSuffix(link, "tok123") {
		t.Errorf("link = %q %v", link, ok)
	}
	if len(find(t, mailbox.Moto{BaseURL: ep}, "evil@attacker.example")) != 0 {
		t.Error("injected Bcc received mail")
	}
}

// Moto, like SES, refuses a sender that is not verified.
func TestUnverifiedSenderFails(t *testing.T) {
	ep := testenv.Moto(t)
	to := "nobody-" + domain.NewID()[:8] + "@agency.example"
	_, err := sesmailer.New(testenv.SES(ep), "unverified-"+domain.NewID()[:8]+"@14west.example").Send(context.Background(), render(t, to, ""))
	if err == nil {
		t.Fatal("unverified sender accepted")
	}
	if len(find(t, mailbox.Moto{BaseURL: ep}, to)) != 0 {
		t.Error("refused mail was stored")
	}
}

func TestRecipientWithControlCharactersNeverReachesSES(t *testing.T) {
	// No endpoint needed: the check runs before any call (an unroutable
	// endpoint proves no request was attempted successfully).
	m := emails.Message{To: "a@agency.example\r\nBcc: evil@attacker.example", Subject: "s", Text: "t", HTML: "h"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := sesmailer.New(testenv.SES("http://127.0.0.1:1"), "s@14west.example").Send(ctx, m)
	if err == nil || !strings.Contains(err.Error(), "control") {
		t.Errorf("err = %v", err)
	}
}

func TestSendThroughSESLocal(t *testing.T) {
	ep := testenv.SESLocal(t)
	to := "lee-" + domain.NewID()[:8] + "@agency.example"
	id, err := sesmailer.New(testenv.SES(ep), "invitations@14west.example").Send(context.Background(), render(t, to, "Line 1\nLine 2"))
	if err != nil {
		t.Fatal(err)
	}
	got := find(t, mailbox.SESLocal{BaseURL: ep}, to)
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("messages = %+v", got)
	}
	if !strings.Contains(got[0].Text, "> Line 1\n> Line 2") || !strings.Contains(got[0].HTML, "Line 1<br>Line 2") {
		t.Errorf("bodies:\n%s\n%s", got[0].Text, got[0].HTML)
	}
}
