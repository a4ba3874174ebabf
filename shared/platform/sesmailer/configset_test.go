package sesmailer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/emails"
)

func taggedMsg(t *testing.T, to string) emails.Message {
	m := emuRender(t, to, "hello", emuAcceptURL(t))
	m.Tags = map[string]string{emails.TagOrg: "14west", emails.TagKind: emails.KindTagInvitation, emails.TagInvitation: "0123456789abcdef"}
	return m
}

// Every send names the configuration set and carries its tags (what SES's
// events bring back); SES v1's wire form as documented.
func TestSendNamesTheConfigurationSetAndTags(t *testing.T) {
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
	m := New(emuClient(srv.URL), "invitations@14west.example")
	if _, err := m.WithConfigurationSet("guestaccess-email").Send(context.Background(), taggedMsg(t, "pat@agency.example")); err != nil {
		t.Fatal(err)
	}
	f := *form.Load()
	for k, v := range map[string]string{
		"ConfigurationSetName": "guestaccess-email",
		// Sorted by name: invitation, kind, org.
		"Tags.member.1.Name": "invitation", "Tags.member.1.Value": "0123456789abcdef",
		"Tags.member.2.Name": "kind", "Tags.member.2.Value": "invitation",
		"Tags.member.3.Name": "org", "Tags.member.3.Value": "14west",
	} {
		if got := strings.Join(f[k], ","); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// The Mailer it was derived from is unchanged: no configuration set.
	if _, err := m.Send(context.Background(), emails.Message{To: "pat@agency.example", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if f := *form.Load(); len(f["ConfigurationSetName"]) != 0 || len(f["Tags.member.1.Name"]) != 0 {
		t.Errorf("untagged send without a configuration set sent %v", f)
	}
}

// A tag SES would refuse (or that could smuggle anything) is refused
// before any request.
func TestSendRefusesABadTag(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	for _, tags := range []map[string]string{{"org": "a b"}, {"org": ""}, {"o#": "x"}, {"org": "x\r\ny"}} {
		msg := emails.Message{To: "pat@agency.example", Subject: "s", Text: "t", Tags: tags}
		if _, err := New(emuClient(srv.URL), "invitations@14west.example").Send(context.Background(), msg); err == nil {
			t.Errorf("tags %q accepted", tags)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests reached SES", calls.Load())
	}
}

// Both emulators take a send with a configuration set and tags: moto once
// the set exists (as SES requires), aws-ses-v2-local as it is.
func TestConfigurationSetSendOnEmulators(t *testing.T) {
	t.Run("moto", func(t *testing.T) {
		ep := testenv.Moto(t)
		ctx := emuCtx(t)
		client := emuClient(ep)
		mailer, sender := verifiedMailer(t, ctx, client)
		set := "cs-" + strings.TrimSuffix(emuAddr(t, "x", "y"), "@y")
		if _, err := client.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &types.ConfigurationSet{Name: aws.String(set)}}); err != nil {
			t.Fatalf("CreateConfigurationSet: %v", err)
		}
		to := emuAddr(t, "pat", "agency.example")
		msg := taggedMsg(t, to)
		id, err := mailer.WithConfigurationSet(set).Send(ctx, msg)
		if err != nil || id == "" {
			t.Fatalf("Send = %q, %v", id, err)
		}
		if m := one(t, ctx, mailbox.Moto{BaseURL: ep}, to); m.ID != id || m.From != sender {
			t.Errorf("stored %+v", m)
		}
	})
	t.Run("seslocal", func(t *testing.T) {
		ep := testenv.SESLocal(t)
		ctx := emuCtx(t)
		to := emuAddr(t, "lee", "agency.example")
		id, err := New(emuClient(ep), emuAddr(t, "invitations", "14west.example")).WithConfigurationSet("guestaccess-dev-email").Send(ctx, taggedMsg(t, to))
		if err != nil || id == "" {
			t.Fatalf("Send = %q, %v", id, err)
		}
		if m := one(t, ctx, mailbox.SESLocal{BaseURL: ep}, to); m.ID != id {
			t.Errorf("stored %+v", m)
		}
	})
}
