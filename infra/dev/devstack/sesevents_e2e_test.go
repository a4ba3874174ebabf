package devstack_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// simulator returns a fresh address of SES's mailbox simulator that
// produces the given outcome (bounce, complaint).
func simulator(outcome string) string {
	return outcome + "+" + domain.NewID()[:8] + "@" + devstack.SimulatorDomain
}

// invitationOf reads one invitation through the list API.
func (e *env) invitationOf(t *testing.T, admin, id string) map[string]any {
	t.Helper()
	r := e.do(t, http.MethodGet, invitePath(demo.OrgID, demo.SiteID)+"?limit=100", admin, "")
	byID, _ := listed(t, r.json(t))
	inv, ok := byID[id]
	if !ok {
		t.Fatalf("invitation %s not listed: %s", id, r.body)
	}
	return inv
}

// waitDelivery waits for SES's event to reach the invitation's delivery.
func (e *env) waitDelivery(t *testing.T, admin, id, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := e.invitationOf(t, admin, id)["emailDelivery"]
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("invitation %s emailDelivery = %v, want %s (SES event not recorded)", id, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditActions counts the audit entries of one target by action.
func (e *env) auditActions(t *testing.T, admin, target string) map[string]int {
	t.Helper()
	r := e.do(t, http.MethodGet, "/orgs/"+demo.OrgID+"/audit?target="+url.QueryEscape(target), admin, "")
	if r.status != 200 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	out := map[string]int{}
	for _, x := range r.json(t)["entries"].([]any) {
		out[x.(map[string]any)["action"].(string)]++
	}
	return out
}

// suppressions lists the demo org's suppressed addresses (reason by address).
func (e *env) suppressions(t *testing.T, admin string) map[string]string {
	t.Helper()
	r := e.do(t, http.MethodGet, "/orgs/"+demo.OrgID+"/suppressions", admin, "")
	if r.status != 200 {
		t.Fatalf("suppressions: %d %s", r.status, r.body)
	}
	out := map[string]string{}
	for _, x := range r.json(t)["suppressions"].([]any) {
		s := x.(map[string]any)
		out[s["email"].(string)] = s["reason"].(string)
	}
	return out
}

// TestSESBounceSuppressesUntilCleared is issue 17's flow through make
// dev's stack: an invitation to SES's bounce simulator is sent, SES's
// bounce comes back (configuration set -> SNS -> SQS -> SesEventsFunction)
// and the invitation shows bounced (list, audit); a resend and the retry
// job do not email it (the email sender's check records it bounced); a site admin cannot clear it; the org admin clears
// it (audited) and the resend emails it again. The same event delivered
// twice records once; a complaint shows complained.
func TestSESBounceSuppressesUntilCleared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin, siteAdmin := e.token(t, demo.AdminID), e.token(t, demo.SiteAdminID)
		addr := simulator("bounce")
		r := e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
		res := results(t, r)
		if r.status != 200 || len(res) != 1 || res[0]["emailDelivery"] != "pending" {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		id := res[0]["invitationId"].(string)
		e.waitDelivery(t, admin, id, "bounced")
		if got := e.suppressions(t, admin); got[addr] != "bounced" {
			t.Fatalf("suppressions = %v, want %s bounced", got, addr)
		}
		if a := e.auditActions(t, admin, domain.InvitationTarget(id)); a[domain.ActionEmailBounced] != 1 {
			t.Fatalf("audit of the invitation = %v", a)
		}

		// SNS and SQS deliver at least once: the same event again records nothing.
		inv, err := e.Store.InvitationOfOrg(ctx, demo.OrgID, id)
		if err != nil || inv == nil || inv.MessageID == "" {
			t.Fatalf("invitation = %+v %v", inv, err)
		}
		body, _ := devstack.SimulatedEvent(emails.Message{To: addr, Tags: map[string]string{emails.TagOrg: demo.OrgID, emails.TagInvitation: id}}, inv.MessageID, time.Now())
		if err := e.SESEvents.Send(ctx, queue.Message{Body: body}, queue.Message{Body: body}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for e.SESEvents.Stats().InFlight+e.SESEvents.Stats().Visible > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if a := e.auditActions(t, admin, domain.InvitationTarget(id)); a[domain.ActionEmailBounced] != 1 {
			t.Fatalf("after the event twice more: audit = %v, want one bounce", a)
		}

		// Not emailed again: neither a resend (queued; the email sender's
		// suppression check records it bounced) nor the retry job.
		e.clock.Store(2 * 60)
		rs := e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID)+"/"+id+"/resend", admin, "")
		if rs.status != 200 || rs.json(t)["emailDelivery"] != "pending" {
			t.Fatalf("resend while suppressed: %d %s", rs.status, rs.body)
		}
		if n := len(e.mailTo(t, addr)); n != 1 {
			t.Fatalf("%d emails to a suppressed address, want only the first", n)
		}
		e.waitDelivery(t, admin, id, "bounced")
		if rep, err := e.RetryEmails(ctx); err != nil || rep.Due != 0 {
			t.Fatalf("retry job while suppressed: %+v %v", rep, err)
		}

		// Only an org admin clears it.
		path := "/orgs/" + demo.OrgID + "/suppressions/" + url.PathEscape(addr)
		if d := e.do(t, http.MethodDelete, path, siteAdmin, ""); d.status != http.StatusForbidden {
			t.Fatalf("site admin clear: %d %s", d.status, d.body)
		}
		if d := e.do(t, http.MethodDelete, path, admin, ""); d.status != 200 || d.json(t)["email"] != addr {
			t.Fatalf("clear: %d %s", d.status, d.body)
		}
		if got := e.suppressions(t, admin); got[addr] != "" {
			t.Fatalf("still suppressed after the clear: %v", got)
		}
		if d := e.do(t, http.MethodDelete, path, admin, ""); d.status != http.StatusNotFound {
			t.Fatalf("second clear: %d %s", d.status, d.body)
		}
		if a := e.auditActions(t, admin, domain.OrgTarget(demo.OrgID)); a[domain.ActionSuppressionClear] < 1 {
			t.Fatalf("org audit = %v, want the clear", a)
		}

		// Cleared: the resend emails it (and the simulator bounces it again).
		e.clock.Store(4 * 60)
		rs = e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID)+"/"+id+"/resend", admin, "")
		if rs.status != 200 || rs.json(t)["emailDelivery"] != "pending" {
			t.Fatalf("resend after the clear: %d %s", rs.status, rs.body)
		}
		if n := len(e.mailTo(t, addr)); n != 2 {
			t.Fatalf("%d emails after the clear, want 2", n)
		}
		e.waitDelivery(t, admin, id, "bounced")

		// A complaint shows complained.
		caddr := simulator("complaint")
		r = e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", caddr))
		if r.status != 200 {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		cid := results(t, r)[0]["invitationId"].(string)
		e.waitDelivery(t, admin, cid, "complained")
		if got := e.suppressions(t, admin); got[caddr] != "complained" {
			t.Fatalf("suppressions = %v", got)
		}
		// Per org: the other org may still email it.
		if s, err := e.Store.Suppression(ctx, demo.OtherOrgID, caddr); s != nil || err != nil {
			t.Errorf("%s suppressed for %s too: %+v %v", caddr, demo.OtherOrgID, s, err)
		}
	})
}
