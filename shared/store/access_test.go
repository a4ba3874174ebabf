package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// member adds accountID to groupID the way the groups service does: read
// the user's access for the group's role keys, recompute, write.
func member(ctx context.Context, st *store.Store, orgID, groupID, accountID string, add bool) error {
	for attempt := 0; attempt < 4; attempt++ {
		sc, err := st.LoadMembership(ctx, orgID, demo.AdminID, groupID, accountID)
		if err != nil {
			return err
		}
		var keys []string
		for k := range sc.Group.Roles {
			keys = append(keys, k)
		}
		before, err := st.AccessItems(ctx, orgID, accountID, keys)
		if err != nil {
			return err
		}
		after := map[string]domain.Access{}
		for _, k := range keys {
			cur, ok := before[k]
			if !ok {
				cur = domain.Access{Product: domain.Confluence, Direct: domain.RoleNone}
			}
			role := domain.RoleNone
			if add {
				role = sc.Group.Roles[k]
			}
			after[k] = cur.WithGroup(groupID, role)
		}
		ch := domain.AccessChange{User: *sc.User, Before: before, After: after,
			Audit: domain.NewAudit(orgID, demo.AdminID, "test", domain.UserTarget(accountID), "", time.Now(), nil, nil)}
		if add {
			ch.AddMember = groupID
		} else {
			ch.RemoveMember = groupID
		}
		err = st.ChangeAccess(ctx, ch)
		if err == domain.ErrAccessChanged {
			continue
		}
		return err
	}
	return domain.ErrAccessChanged
}

// plainUser creates an active account with no access.
func plainUser(t *testing.T, st *store.Store, orgID, id string) domain.User {
	t.Helper()
	u := domain.User{OrgID: orgID, AccountID: id, Email: id + "@agency.example", Status: domain.UserActive, CreatedAt: time.Now()}
	if err := st.CreateUser(context.Background(), u, demo.SiteID, nil); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestMembershipRecomputesFromAllSources(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		plainUser(t, st, demo.OrgID, "m1")
		k := domain.SiteProductKey(demo.SiteID, domain.Confluence)
		site0, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		// Guest group: m1 becomes a guest.
		if err := member(ctx, st, demo.OrgID, demo.GuestGroup, "m1", true); err != nil {
			t.Fatal(err)
		}
		a, _ := st.Access(ctx, demo.OrgID, "m1", demo.SiteID, domain.Confluence)
		if a.Effective != domain.RoleGuest || a.Groups[demo.GuestGroup] != domain.RoleGuest {
			t.Fatalf("after guest group: %+v", a)
		}
		// Paid group too: paid user (guest → paid conversion in the counters).
		if err := member(ctx, st, demo.OrgID, demo.PaidGroup, "m1", true); err != nil {
			t.Fatal(err)
		}
		site, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		if site.Guests != site0.Guests || site.PaidUsers != site0.PaidUsers+1 {
			t.Errorf("counters after guest+paid groups: %+v (from %+v)", site, site0)
		}
		// Already a member: refused, nothing changed.
		if err := member(ctx, st, demo.OrgID, demo.PaidGroup, "m1", true); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("second add: %v", err)
		}
		// Leaving the paid group leaves exactly what the guest group gives.
		if err := member(ctx, st, demo.OrgID, demo.PaidGroup, "m1", false); err != nil {
			t.Fatal(err)
		}
		a, _ = st.Access(ctx, demo.OrgID, "m1", demo.SiteID, domain.Confluence)
		site, _ = st.Site(ctx, demo.OrgID, demo.SiteID)
		if a.Effective != domain.RoleGuest || len(a.Groups) != 1 || site.Guests != site0.Guests+1 || site.PaidUsers != site0.PaidUsers {
			t.Errorf("after leaving staff: %+v, site %+v", a, site)
		}
		// Leaving the last source deletes the access item and frees the slot.
		if err := member(ctx, st, demo.OrgID, demo.GuestGroup, "m1", false); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Access(ctx, demo.OrgID, "m1", demo.SiteID, domain.Confluence); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("access after leaving every group: %v", err)
		}
		if site, _ = st.Site(ctx, demo.OrgID, demo.SiteID); site != site0 {
			t.Errorf("counters did not return: %+v, want %+v", site, site0)
		}
		if err := member(ctx, st, demo.OrgID, demo.GuestGroup, "m1", false); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("removing a non-member: %v", err)
		}
		g, _ := st.Group(ctx, demo.OrgID, demo.GuestGroup)
		if g.MemberCount != 0 {
			t.Errorf("member count = %d", g.MemberCount)
		}
		_ = k
	})
}

// TestConcurrentGuestMakingAdds races membership adds of a guest group
// against the site's free slots: exactly the free slots succeed, the rest are
// refused by the guest limit, and every member's access is what their
// sources give (the checker).
func TestConcurrentGuestMakingAdds(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		raceSite(t, st) // one paid user: 5 free slots
		if err := st.CreateGroup(ctx, domain.Group{OrgID: "race", ID: "g", Name: "G", Roles: map[string]domain.Role{domain.SiteProductKey("s", domain.Confluence): domain.RoleGuest}}, nil); err != nil {
			t.Fatal(err)
		}
		const racers = 12
		for i := range racers {
			u := domain.User{OrgID: "race", AccountID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@agency.example", i), Status: domain.UserActive}
			if err := st.CreateUser(ctx, u, "s", nil); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		out := map[string]int{}
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := member(ctx, st, "race", "g", fmt.Sprintf("u%d", i), true)
				mu.Lock()
				out[domain.ErrorCode(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if out[""] != 5 || out[domain.ELIMIT] != racers-5 {
			t.Errorf("outcomes %v, want 5 ok and %d guest-limit", out, racers-5)
		}
		site, _ := st.Site(ctx, "race", "s")
		if site.Guests != 5 || site.GuestSlots != 0 {
			t.Errorf("site = %+v", site)
		}
		members := 0
		for i := range racers {
			id := fmt.Sprintf("u%d", i)
			gs, _ := st.UserGroups(ctx, "race", id)
			a, err := st.Access(ctx, "race", id, "s", domain.Confluence)
			isMember := len(gs) == 1
			if isMember {
				members++
			}
			// The checker: access is exactly what the sources give.
			if isMember != (err == nil && a.Effective == domain.RoleGuest && a.Groups["g"] == domain.RoleGuest) {
				t.Errorf("%s: member %v, access %+v %v", id, isMember, a, err)
			}
		}
		g, _ := st.Group(ctx, "race", "g")
		if members != 5 || g.MemberCount != 5 {
			t.Errorf("members %d, count %d", members, g.MemberCount)
		}
		storetest.AssertNoDrift(t, st, "race", "s")
	})
}

func TestGroupNamesAndPages(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		if err := st.CreateGroup(ctx, domain.Group{OrgID: demo.OrgID, ID: "agency", Name: "Agency"}, nil); err != nil {
			t.Fatal(err)
		}
		err := st.CreateGroup(ctx, domain.Group{OrgID: demo.OrgID, ID: "agency-2", Name: "AGENCY"}, nil)
		if e, ok := err.(*domain.Error); !ok || e.Code != domain.ECONFLICT || e.Fields["name"] == "" {
			t.Errorf("same name in other case: %v", err)
		}
		g, _ := st.Group(ctx, demo.OrgID, "agency")
		if _, err := st.RenameGroup(ctx, g, "Staff", domain.NewAudit(demo.OrgID, demo.AdminID, "t", "g", "", time.Now(), nil, nil)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("rename onto an existing name: %v", err)
		}
		g2, err := st.RenameGroup(ctx, g, "Agency Partners", domain.NewAudit(demo.OrgID, demo.AdminID, "t", "g", "", time.Now(), nil, nil))
		if err != nil || g2.Version != 1 {
			t.Fatalf("rename: %+v %v", g2, err)
		}
		// The old name is free again.
		if err := st.CreateGroup(ctx, domain.Group{OrgID: demo.OrgID, ID: "agency-old", Name: "agency"}, nil); err != nil {
			t.Errorf("old name not freed: %v", err)
		}
		var all []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			p, err := st.Groups(ctx, demo.OrgID, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range p.Items {
				all = append(all, g.ID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if fmt.Sprint(all) != "[agency agency-old partners staff]" {
			t.Errorf("groups by page = %v", all)
		}
		if _, err := st.Groups(ctx, demo.OrgID, 2, "not-a-cursor"); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

// TestConcurrentChangesOfOneUser adds each user to two groups at once: the
// version condition makes the second writer re-read, so both groups end up
// as sources and the counters count each user once.
func TestConcurrentChangesOfOneUser(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		site0, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		const users = 6
		for i := range users {
			plainUser(t, st, demo.OrgID, fmt.Sprintf("c%d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*users)
		for i := range users {
			for _, g := range []string{demo.GuestGroup, demo.PaidGroup} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- member(ctx, st, demo.OrgID, g, fmt.Sprintf("c%d", i), true)
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("add: %v", err)
			}
		}
		for i := range users {
			a, err := st.Access(ctx, demo.OrgID, fmt.Sprintf("c%d", i), demo.SiteID, domain.Confluence)
			if err != nil || a.Effective != domain.RoleUser || len(a.Groups) != 2 {
				t.Errorf("c%d: %+v %v", i, a, err)
			}
		}
		site, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		if site.PaidUsers != site0.PaidUsers+users || site.Guests != site0.Guests {
			t.Errorf("counters %+v, from %+v: each user counted once, as paid", site, site0)
		}
		storetest.AssertNoDrift(t, st, demo.OrgID, demo.SiteID)
	})
}
