package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/spaces"
	"github.com/guestaccess/guestaccess/shared/users"
)

// Issue 16, items 5 and 6, as they happened on `make dev`, on both
// backends: after ordinary use (invite, assign, unassign, revoke, a few
// hundred audit entries) the audit log's target filter still finds each
// target's entries, and a site's invitations filtered by status follow
// their cursors to the end. On the embedded backend both failed: minidyn
// v0.8.2's index upkeep went out of step when the access item lost its
// space and was then deleted (the target filter found nothing), and its
// filtered Queries counted other partitions' entries against Limit (the
// cursor named an audit entry; PATCHES.md, 1 and 2).

// auditTargets reads the whole audit log of the demo org for a target,
// pages of size, and returns the actions.
func auditTargets(t *testing.T, fx fixture, target string, size int) []string {
	t.Helper()
	var out []string
	q := domain.AuditQuery{Target: target, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: size}
	for range 100 {
		p, err := auditdb.New(fx.st).AuditLog(context.Background(), demo.OrgID, q)
		if err != nil {
			t.Fatalf("audit of %s: %v", target, err)
		}
		for _, e := range p.Items {
			if e.Target != target {
				t.Errorf("audit of %s lists an entry on %s", target, e.Target)
			}
			out = append(out, e.Action)
		}
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
	t.Fatalf("audit of %s: more than 100 pages", target)
	return nil
}

func TestAuditTargetAfterAssignUnassignRevoke(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		now := time.Now().UTC()
		admin := caller(demo.AdminID)
		n, _ := newGuest(demo.OrgID, demo.SiteID, "drift@agency.example", domain.KindGuest, now)
		create(t, fx.st, demo.SiteID, false, n)
		acct, inv := n.User.AccountID, n.Invitation.ID
		svc := spaces.New(fx.st, nil)
		if _, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, acct, demo.SpaceENG, false); err != nil {
			t.Fatalf("assign: %v", err)
		}
		if _, err := svc.Unassign(ctx, admin, demo.OrgID, demo.SiteID, acct); err != nil {
			t.Fatalf("unassign: %v", err)
		}
		if _, err := users.New(fx.st, nil).Revoke(ctx, admin, demo.OrgID, demo.SiteID, inv); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		for target, want := range map[string]string{
			domain.UserTarget(acct):         "[guest.space.unassign guest.space.assign invitation.create]",
			domain.InvitationTarget(inv):    "[invitation.revoke]",
			domain.UserTarget(demo.GuestID): "[user.create]", // seeded by the personas
		} {
			for _, size := range []int{1, 2, 5} {
				if got := fmt.Sprint(auditTargets(t, fx, target, size)); got != want {
					t.Errorf("audit of %s after assign, unassign, revoke (pages of %d): %s, want %s", target, size, got, want)
				}
			}
		}
	})
}

func TestFilteredInvitationsFollowToTheEnd(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		var pending []string
		for i := range 7 {
			n, _ := newGuest(demo.OrgID, demo.SiteID, fmt.Sprintf("list%d@agency.example", i), domain.KindGuest, now.Add(time.Duration(i)*time.Second))
			create(t, fx.st, demo.SiteID, false, n)
			pending = append([]string{n.Invitation.ID}, pending...) // newest first
		}
		// Some hundreds of audit entries: their GSI1 entries sort below the
		// site's invitations, where a filtered Query must not read (minidyn
		// read 100 of them a Query; past the store's 4 Queries a page, the
		// page's cursor named one of them). Written 8 at a time.
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < 480; i += 8 {
					e := domain.NewAudit(demo.OrgID, demo.AdminID, "external.export", domain.OrgTarget(demo.OrgID), "req", now.Add(time.Duration(i)*time.Millisecond), nil, nil)
					if err := fx.st.RecordAudit(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, size := range []int{2, 3, 7} {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				if page > 10 {
					t.Fatalf("pages of %d: more than 10 pages", size)
				}
				p, err := invitationsdb.New(fx.st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{Status: domain.InvitationPending}, now, size, cursor)
				if err != nil {
					t.Fatalf("pages of %d, page %d: %v (the cursor this list gave was refused)", size, page+1, err)
				}
				for _, inv := range p.Items {
					got = append(got, inv.ID)
				}
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(pending) {
				t.Errorf("pending invitations in pages of %d: %v, want %v", size, got, pending)
			}
		}
	})
}
