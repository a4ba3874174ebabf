package devstack_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestExpiryReleasesTheSeat (rules §7: expiring an invitation releases it):
// a delivered invitation left unaccepted past its expiry holds its seat
// until the scheduled job runs; the run releases it (the seat is back in
// the billing summary), the invitation lists as expired, its link answers
// the expired page, a resend is a 409 and a new invite of the address
// works. An invitation that is not yet due stays as it is.
func TestExpiryReleasesTheSeat(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.PaidUsers = 2 })
			ctx := context.Background()
			admin := e.token(t, demo.AdminID)
			billing := func() map[string]any {
				return mustStatus(t, e.do(t, "GET", billingPath(demo.OrgID, demo.SiteID), admin, ""), 200, "billing")
			}
			empty := billing()
			id, addr := e.inviteGuest(t, admin, demo.SiteID)
			token := e.tokens(t, addr)[0]
			held := billing()
			if held["guests"] != empty["guests"].(float64)+1 || held["freeGuestSlots"] != empty["freeGuestSlots"].(float64)-1 {
				t.Fatalf("billing after the invite %v, before %v", held, empty)
			}
			// Not yet due: the job leaves it.
			e.clock.Add(6 * 24 * 3600)
			if rep, err := e.RetryEmails(ctx); err != nil || rep.Lapsed != 0 || rep.Expired != 0 {
				t.Fatalf("run before expiry: %+v %v", rep, err)
			}
			later, _ := e.inviteGuest(t, admin, demo.SiteID) // expires 6 days after the first
			// Past the first's expiry: listed expired, still holding its seat until the run.
			e.clock.Add(2 * 24 * 3600)
			if got := e.invitations(t, admin, "expired", 10); !slices.Equal(got, []string{id}) {
				t.Errorf("expired before the run = %v", got)
			}
			if b := billing(); b["guests"] != held["guests"].(float64)+1 {
				t.Errorf("billing before the run %v", b)
			}
			rep, err := e.RetryEmails(ctx)
			if err != nil || rep.Lapsed != 1 || rep.Expired != 1 || rep.Busy != 0 || rep.Skipped != 0 {
				t.Fatalf("run after expiry: %+v %v", rep, err)
			}
			if b := billing(); b["guests"] != held["guests"] || b["freeGuestSlots"] != held["freeGuestSlots"] {
				t.Errorf("billing after the run %v, want the seat back: %v", b, held)
			}
			if got := e.invitations(t, admin, "expired", 10); !slices.Equal(got, []string{id}) {
				t.Errorf("expired after the run = %v", got)
			}
			var expired []map[string]any
			for _, a := range e.auditEntries(t, admin, "?target="+url.QueryEscape(domain.InvitationTarget(id))) {
				if a["action"] == domain.ActionInvitationExpire {
					expired = append(expired, a)
				}
			}
			if len(expired) != 1 || expired[0]["actor"] != domain.ActorSystem {
				t.Errorf("invitation.expire audit entries = %v", expired)
			}
			if got := e.invitations(t, admin, "pending", 10); !slices.Equal(got, []string{later}) {
				t.Errorf("pending after the run = %v", got)
			}
			page := e.do(t, "GET", "/invitations/accept?token="+url.QueryEscape(token), "", "")
			if page.status != 410 || !strings.Contains(string(page.body), "expired") {
				t.Errorf("the link's page: %d %s", page.status, page.body)
			}
			if p := e.accept(t, token); p.status != 410 {
				t.Errorf("accept through the lapsed link: %d %s", p.status, p.body)
			}
			r := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, id), admin, "")
			if m := problem(t, r, 409, "resend of a released invitation"); !strings.Contains(m["detail"].(string)+m["title"].(string), "invite") {
				t.Errorf("409 says %v", m)
			}
			if n := len(e.mailTo(t, addr)); n != 1 {
				t.Errorf("emails after the refused resend: %d", n)
			}
			// Released once: the next run finds nothing.
			if rep, err := e.RetryEmails(ctx); err != nil || rep.Lapsed != 0 || rep.Expired != 0 {
				t.Errorf("second run: %+v %v", rep, err)
			}
			// The address is free again.
			again := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
			if res := results(t, again); again.status != 200 || res[0]["status"] != "invited" {
				t.Errorf("invite again: %d %s", again.status, again.body)
			}
			if b := billing(); b["guests"] != held["guests"].(float64)+1 {
				t.Errorf("billing after inviting again %v", b)
			}
			e.countersMatchItems(t)
			storetest.AssertNoDrift(t, e.Store, demo.OrgID, demo.SiteID)
		})
	}
}
