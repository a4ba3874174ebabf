package fanout_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/roles"
)

// noEmails takes the invitations' email jobs and sends nothing.
type noEmails struct{}

func (noEmails) Send(context.Context, ...queue.Message) error { return nil }

// TestConcurrentGuestMaking races 120 guest-making requests — membership
// adds, direct roles, invites — and a group role job on a site with room
// for 25 guests: the guest count never passes 5 × paid users (sampled all
// along), and afterwards every member's access is what a from-scratch
// recomputation of their sources gives, and the counters match a recount.
func TestConcurrentGuestMaking(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency")
		ids := fx.users(t, "j", "agency", 10) // the job makes these guests
		var others []string
		for i := range 80 {
			id := fmt.Sprintf("o%d", i)
			u := domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@agency.example", Status: domain.UserActive}
			if err := fx.st.CreateUser(ctx, u, demo.SiteID, nil); err != nil {
				t.Fatal(err)
			}
			others = append(others, id)
		}
		rs := &roles.Service{Store: fx.st}
		inv := &invitations.Inviter{Store: invitationsdb.New(fx.st), Emails: noEmails{}, Config: invitations.Config{AcceptURL: "https://x.example/accept", Lifetime: time.Hour}}
		job, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "guest")
		if err != nil {
			t.Fatal(err)
		}
		// The plan runs first: the job reserves its 10 slots and begins; its
		// pages (2 members each) then race everything below, including
		// changes to its own members.
		fx.svc.PageMembers = 2
		if m, ok := fx.q.pop(); !ok || fx.svc.Handle(ctx, m.Body) != nil {
			t.Fatal("plan")
		}
		var over atomic.Int32
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Add(1)
		go func() { // the invariant, all along
			defer sampler.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s, err := fx.st.Site(ctx, demo.OrgID, demo.SiteID); err == nil && s.Guests > 5*s.PaidUsers {
					over.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[string]int{}
		record := func(kind string, err error) {
			mu.Lock()
			outcomes[kind+":"+domain.ErrorCode(err)]++
			mu.Unlock()
		}
		wg.Add(1)
		go func() { defer wg.Done(); pump(t, fx.svc, fx.q, false) }()
		for i, id := range others {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, err := fx.groups.AddMember(ctx, admin, demo.OrgID, demo.GuestGroup, id)
					record("member", err)
				} else {
					_, err := rs.SetDirect(ctx, admin, demo.OrgID, demo.SiteID, "confluence", id, "guest")
					record("direct", err)
				}
			}()
		}
		for i, id := range ids {
			wg.Add(1)
			go func() { // the job's own members change while it runs
				defer wg.Done()
				switch i % 3 {
				case 0:
					_, err := rs.SetDirect(ctx, admin, demo.OrgID, demo.SiteID, "confluence", id, "user")
					record("job-member-direct", err)
				case 1:
					_, err := fx.groups.RemoveMember(ctx, admin, demo.OrgID, "agency", id)
					record("job-member-remove", err)
				default:
					_, err := fx.groups.AddMember(ctx, admin, demo.OrgID, demo.GuestGroup, id)
					record("job-member-guest-group", err)
				}
			}()
		}
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := inv.Invite(ctx, admin, demo.OrgID, demo.SiteID, domain.InviteInput{Emails: []string{fmt.Sprintf("inv%d@agency.example", i)},
					Products: map[string]domain.ProductInput{"confluence": {Role: "guest"}}})
				record("invite", err)
			}()
		}
		wg.Wait()
		pump(t, fx.svc, fx.q, false)
		close(stop)
		sampler.Wait()
		got, _ := fx.st.Job(ctx, demo.OrgID, job.ID)
		site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
		t.Logf("outcomes %v; job %s (%d changed); site: %d guests, %d paid, %d free slots", outcomes, got.State, got.Changed, site.Guests, site.PaidUsers, site.GuestSlots)
		if over.Load() > 0 {
			t.Errorf("guests passed 5 × paid users in %d samples", over.Load())
		}
		if got.State != domain.JobDone {
			t.Errorf("the job began before the race and must finish done: %+v", got)
		}
		if site.Guests > 5*site.PaidUsers || !got.State.Finished() {
			t.Errorf("site %+v, job %s", site, got.State)
		}
		// Invitees hold their guest seats too: recount them with the others.
		var all []string
		all = append(all, ids...)
		all = append(all, others...)
		invited := fx.invitees(t)
		all = append(all, invited...)
		fx.check(t, all)
		// The counters against the role index, with no write in flight.
		storetest.AssertNoDrift(t, fx.st, demo.OrgID, demo.SiteID)
	})
}

// invitees lists the accounts the invites made (from the email guards).
func (fx *fixture) invitees(t *testing.T) []string {
	t.Helper()
	var out []string
	for i := range 40 {
		sc, err := invitationsdb.New(fx.st).LoadInvite(context.Background(), demo.OrgID, demo.SiteID, demo.AdminID, nil, []string{fmt.Sprintf("inv%d@agency.example", i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range sc.Accounts {
			out = append(out, e.AccountID)
		}
	}
	return out
}
