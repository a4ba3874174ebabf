package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/billing/billingdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// limitedSite writes org "ul" with site "s" whose user limit is 4, and one
// paid user on it: 3 user slots left (and 5 guest slots).
func limitedSite(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.CreateOrg(ctx, domain.Org{ID: "ul", Name: "UL", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSite(ctx, domain.Site{OrgID: "ul", ID: "s", Name: "S", Host: "s.example", CreatedAt: now, UserLimit: 4}); err != nil {
		t.Fatal(err)
	}
	paid := []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}
	if err := st.CreateUser(ctx, domain.User{OrgID: "ul", AccountID: "p1", Email: "p1@ul.example", Status: domain.UserActive, CreatedAt: now}, "s", paid); err != nil {
		t.Fatal(err)
	}
}

// TestUserLimitHoldsUnderConcurrency races 12 invites (guests and paid
// users) for a site with 3 free user slots: exactly 3 succeed, the others
// are refused by the user limit, and the counters hold what was written.
// Without the userSlots condition in counterUpdate all 12 succeed (checked).
func TestUserLimitHoldsUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		st := fx.st
		ctx := context.Background()
		limitedSite(t, st)
		const racers = 12
		outcomes := raceInvites(st, "ul", "s", racers, func(i int) domain.Kind {
			if i%2 == 1 {
				return domain.KindPaid
			}
			return domain.KindGuest
		})
		if outcomes["ok"] != 3 || outcomes[string(domain.OutcomeUserLimit)] != racers-3 {
			t.Errorf("outcomes = %v, want 3 ok and %d user_limit", outcomes, racers-3)
		}
		site, _ := st.Site(ctx, "ul", "s")
		if site.PaidUsers+site.Guests != 4 || site.UserSlots != 0 || site.UserLimit != 4 || site.Billing().FreeUserSlots != 0 {
			t.Errorf("site = %+v", site)
		}
		storetest.AssertNoDrift(t, st, "ul", "s")
	})
}

// TestUserLimitKeepsWhatFits: a mixed batch of 5 on a site with 3 free user
// slots invites the first 3 and refuses 2 with the site's numbers; an
// all-or-nothing request and CreateUser are refused whole and write
// nothing.
func TestUserLimitKeepsWhatFits(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		limitedSite(t, fx.st)
		now := time.Now().UTC()
		var batch []domain.NewInvitation
		for i, k := range []domain.Kind{domain.KindGuest, domain.KindPaid, domain.KindGuest, domain.KindGuest, domain.KindPaid} {
			n, _ := newGuest("ul", "s", fmt.Sprintf("f%d@agency.example", i), k, now)
			batch = append(batch, n)
		}
		fx.c.Reset()
		res := create(t, fx.st, "s", false, batch...)
		if len(res.Refused) != 2 || res.Refused[0].Index != 3 || res.Refused[1].Index != 4 || res.Refused[0].Outcome != domain.OutcomeUserLimit ||
			res.Refused[1].Outcome != domain.OutcomeUserLimit || res.Site == nil || res.Site.UserSlots != 3 {
			t.Fatalf("result = %+v", res)
		}
		if got := fx.c.Counts()["TransactWriteItems"]; got != 2 {
			t.Errorf("%d transactions, want 2", got)
		}
		site, _ := fx.st.Site(ctx, "ul", "s")
		if site.Guests != 2 || site.PaidUsers != 2 || site.UserSlots != 0 {
			t.Errorf("site = %+v", site)
		}
		before := len(scanAll(t, fx))
		// All or nothing: refused whole, as the user limit.
		n, _ := newGuest("ul", "s", "whole@agency.example", domain.KindGuest, now)
		res = create(t, fx.st, "s", true, n)
		if len(res.Refused) != 1 || res.Refused[0].Outcome != domain.OutcomeUserLimit {
			t.Errorf("whole = %+v", res)
		}
		// CreateUser's refusal names the user limit with the real numbers.
		err := fx.st.CreateUser(ctx, domain.User{OrgID: "ul", AccountID: "p-direct", Email: "pd@agency.example", Status: domain.UserActive},
			"s", []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}})
		e, ok := err.(*domain.Error)
		if !ok || e.Code != domain.EUSERLIMIT || e.Extra["userLimit"] != int64(4) || e.Extra["paidUsers"] != int64(2) || e.Extra["guests"] != int64(2) {
			t.Errorf("CreateUser over the user limit: %#v", err)
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		storetest.AssertNoDrift(t, fx.st, "ul", "s")
	})
}

// TestUserLimitRefusesRolesAndMemberships: on a full site a membership
// and a direct role that add a user are refused with the numbers and write
// nothing; a guest becoming paid adds none and passes; a freed slot lets
// the next one in.
func TestUserLimitRefusesRolesAndMemberships(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		if err := demo.SeedLimited(ctx, st, 0, 5); err != nil { // 3 paid users: 2 slots
			t.Fatal(err)
		}
		for _, id := range []string{"m1", "m2", "m3"} {
			plainUser(t, st, demo.OrgID, id)
		}
		for _, id := range []string{"m1", "m2"} {
			if err := member(ctx, st, demo.OrgID, demo.GuestGroup, id, true); err != nil {
				t.Fatal(err)
			}
		}
		before := len(scanAll(t, fx))
		err := member(ctx, st, demo.OrgID, demo.GuestGroup, "m3", true)
		var e *domain.Error
		if !asErr(err, &e) || e.Code != domain.EUSERLIMIT || e.Extra["userLimit"] != int64(5) || e.Extra["paidUsers"] != int64(3) || e.Extra["guests"] != int64(2) {
			t.Fatalf("membership past the user limit: %#v", err)
		}
		k := domain.SiteProductKey(demo.SiteID, domain.Confluence)
		u, _ := st.User(ctx, demo.OrgID, "m3")
		direct := domain.AccessChange{User: u, Before: map[string]domain.Access{},
			After: map[string]domain.Access{k: domain.Access{Product: domain.Confluence}.WithDirect(domain.RoleUser)},
			Audit: domain.NewAudit(demo.OrgID, demo.AdminID, "test", domain.UserTarget("m3"), "", time.Now(), nil, nil)}
		if err := st.ChangeAccess(ctx, direct); !asErr(err, &e) || e.Code != domain.EUSERLIMIT || e.Extra["userLimit"] != int64(5) {
			t.Fatalf("direct role past the user limit: %#v", err)
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		// A guest becoming paid adds no user.
		if err := member(ctx, st, demo.OrgID, demo.PaidGroup, "m1", true); err != nil {
			t.Fatalf("guest to paid on a full site: %v", err)
		}
		// Freeing a slot lets the next one in.
		if err := member(ctx, st, demo.OrgID, demo.GuestGroup, "m2", false); err != nil {
			t.Fatal(err)
		}
		if err := st.ChangeAccess(ctx, direct); err != nil {
			t.Fatalf("direct role once a slot is free: %v", err)
		}
		if s, _ := st.Site(ctx, demo.OrgID, demo.SiteID); s.PaidUsers != 5 || s.Guests != 0 || s.UserSlots != 0 {
			t.Errorf("site = %+v", s)
		}
		checkCounters(t, fx)
		storetest.AssertNoDrift(t, st, demo.OrgID, demo.SiteID)
	})
}

// TestUserLimitJobReservation: a group job's user slots are reserved when
// it begins (refused whole, nothing written, past the limit); while held,
// an invite is refused; a failed page gives its share back.
func TestUserLimitJobReservation(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		if err := demo.SeedLimited(ctx, st, 0, 5); err != nil { // 3 paid users: 2 slots
			t.Fatal(err)
		}
		job := domain.Job{OrgID: demo.OrgID, ID: "job-ul", GroupID: demo.GuestGroup, Kind: domain.JobGroupRole, State: domain.JobPlanning, CreatedAt: time.Now()}
		if err := st.StartJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		before := len(scanAll(t, fx))
		big := job
		big.ReservedUsers = map[string]int64{demo.SiteID: 3}
		err := st.BeginJob(ctx, big, nil)
		var e *domain.Error
		if !asErr(err, &e) || e.Code != domain.EUSERLIMIT || e.Extra["userLimit"] != int64(5) || e.Extra["requested"] != int64(3) {
			t.Fatalf("job past the user limit: %#v", err)
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refused job wrote: %d items, were %d", after, before)
		}
		if j, _ := st.Job(ctx, demo.OrgID, job.ID); j.State != domain.JobPlanning {
			t.Errorf("refused job began: %+v", j)
		}
		fits := job
		fits.ReservedUsers = map[string]int64{demo.SiteID: 2}
		if err := st.BeginJob(ctx, fits, nil); err != nil {
			t.Fatal(err)
		}
		s, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		if s.UserSlots != 0 || s.ReservedUsers != 2 || s.Summary().ReservedUsers != 2 {
			t.Errorf("site while reserved = %+v", s)
		}
		n, _ := newGuest(demo.OrgID, demo.SiteID, "late@agency.example", domain.KindGuest, time.Now().UTC())
		if res := create(t, st, demo.SiteID, false, n); len(res.Refused) != 1 || res.Refused[0].Outcome != domain.OutcomeUserLimit {
			t.Errorf("invite while the job holds the slots: %+v", res)
		}
		page := domain.JobPage{OrgID: demo.OrgID, JobID: job.ID, ReservedUsers: map[string]int64{demo.SiteID: 2}}
		if err := st.FailPage(ctx, fits, page, "test"); err != nil {
			t.Fatal(err)
		}
		if s, _ := st.Site(ctx, demo.OrgID, demo.SiteID); s.UserSlots != 2 || s.ReservedUsers != 0 {
			t.Errorf("site after the failed page = %+v", s)
		}
		storetest.AssertNoDrift(t, st, demo.OrgID, demo.SiteID)
	})
}

// TestSiteWrittenBeforeTheUserLimit: a site item without userLimit and
// userSlots (as written before the limit) keeps working and is not limited;
// its billing shows the default; the recount reports the two as drift and
// its repair writes them, after which the limit holds.
func TestSiteWrittenBeforeTheUserLimit(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		limitedSite(t, st)
		for _, it := range scanAll(t, fx) {
			if sv(it, "type") == "site" {
				delete(it, "userLimit")
				delete(it, "userSlots")
				if _, err := fx.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table()), Item: it}); err != nil {
					t.Fatal(err)
				}
			}
		}
		now := time.Now().UTC()
		var batch []domain.NewInvitation
		for i := range 5 {
			n, _ := newGuest("ul", "s", fmt.Sprintf("old%d@agency.example", i), domain.KindGuest, now)
			batch = append(batch, n)
		}
		if res := create(t, st, "s", false, batch...); len(res.Refused) != 0 {
			t.Fatalf("an old site is not limited: %+v", res)
		}
		site, _ := st.Site(ctx, "ul", "s")
		if b := site.Billing(); site.UserLimit != 0 || b.UserLimit != domain.DefaultUserLimit || b.FreeUserSlots != domain.DefaultUserLimit-6 {
			t.Errorf("old site %+v, billing %+v", site, b)
		}
		r, err := storetest.Recount(ctx, st, "ul", "s")
		if err != nil || fmt.Sprint(r.Drift) != "[userLimit userSlots]" {
			t.Fatalf("recount of an old site: %+v %v", r, err)
		}
		audit := domain.NewAudit("ul", demo.AdminID, domain.ActionBillingRecount, domain.SiteTarget("s"), "", now, nil, nil)
		if err := billingdb.New(st).RepairCounters(ctx, "ul", "s", r.Stored, r.Counted, audit); err != nil {
			t.Fatal(err)
		}
		storetest.AssertNoDrift(t, st, "ul", "s")
		site, _ = st.Site(ctx, "ul", "s")
		if site.UserLimit != domain.DefaultUserLimit || site.UserSlots != domain.DefaultUserLimit-6 {
			t.Errorf("repaired site = %+v", site)
		}
	})
}
