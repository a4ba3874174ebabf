package devstack_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
)

// TestEmailedLinksIgnoreHostHeader: the API functions build the links they
// email from the request context's domain (shared/platform/publicurl), which the
// gateway fills from its own listener, as API Gateway fills it with the host
// it served the request on. A client's Host header naming another domain
// never reaches a link: an attacker cannot get the service to email a
// guest a link to their own site (an accept link is a secret, a
// verification page asks for a passcode). Two Hosts: a foreign domain, and
// a loopback address on another port (the shape of the local gateway's own
// name, which shared/platform/publicurl would put in a link).
func TestEmailedLinksIgnoreHostHeader(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, evil := range []string{"localhost:1", "attacker.example"} {
			linksIgnoreHost(t, e, evil)
		}
	})
}

func linksIgnoreHost(t *testing.T, e *env, evil string) {
	t.Helper()
	// The invitation (InviteGuestsFunction).
	a := unique("hosty")
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), guestBody("", a), "Host", evil)
	if r.status != 200 {
		t.Fatalf("invite (Host %s): %d %s", evil, r.status, r.body)
	}
	mails := e.mailTo(t, a)
	if len(mails) != 1 {
		t.Fatalf("mails to %s = %d, want 1", a, len(mails))
	}
	if strings.Contains(mails[0].Text+mails[0].HTML, evil) {
		t.Errorf("the Host header reached the invitation:\n%s", mails[0].Text)
	}
	if _, ok := mailbox.FindLink(mails[0].Text, e.URL+"/invitations/accept?token="); !ok {
		t.Errorf("no accept link under %s:\n%s", e.URL, mails[0].Text)
	}

	// The passcode email (VerifyFunction) links the verification page.
	org, _, addr := e.verifyOrg(t)
	r = e.do(t, "POST", verifyPath(org), "", url.Values{"action": {"send"}, "email": {addr}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Host", evil)
	wantPage(t, r, 200, "a 6-digit code is on its way")
	mails = e.mailTo(t, addr)
	if len(mails) != 1 {
		t.Fatalf("mails to %s = %d, want 1", addr, len(mails))
	}
	if strings.Contains(mails[0].Text+mails[0].HTML, evil) {
		t.Errorf("the Host header reached the passcode email:\n%s", mails[0].Text)
	}
	if _, ok := mailbox.FindLink(mails[0].Text, e.URL+verifyPath(org)); !ok {
		t.Errorf("no verification page link under %s:\n%s", e.URL, mails[0].Text)
	}
}
