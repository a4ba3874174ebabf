package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// TestTenThousandMembers changes the role of a group of 10,000 guests to
// user through the queue and counts the calls: every member converts to a
// paid user, the counters follow exactly, and the cost stays within 3
// DynamoDB calls per 100 members and 1 message per page. On moto the group
// has 500 members (6 pages): moto deep-copies its whole table for every
// transaction, and with 2,000 members (4,000 items) it ran for minutes and
// grew past 8 GB; the code path and the calls per 100 members are the same.
func TestTenThousandMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 members: not in -short")
	}
	each(t, func(t *testing.T, fx *fixture) {
		n := 10000
		if fx.backend == "moto" {
			n = 500
		}
		ctx := context.Background()
		fx.group(t, "big")
		k := domain.SiteProductKey(demo.SiteID, domain.Confluence)
		ms := make([]store.BulkMember, n)
		for i := range ms {
			id := fmt.Sprintf("big%05d", i)
			ms[i] = store.BulkMember{User: domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@agency.example"}, GroupID: "big", SiteID: demo.SiteID,
				Access: domain.Access{Product: domain.Confluence, Direct: domain.RoleGuest}.Recompute()}
		}
		start := time.Now()
		if err := fx.st.BulkLoadMembers(ctx, ms); err != nil {
			t.Fatal(err)
		}
		t.Logf("loaded %d guests with BatchWriteItem in %v", n, time.Since(start).Round(time.Millisecond))
		before, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
		j, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "big", demo.SiteID, "confluence", "user")
		if err != nil {
			t.Fatal(err)
		}
		fx.calls.Reset()
		fx.q.sent = 0
		start = time.Now()
		pump(t, fx.svc, fx.q, false)
		c := fx.calls.Counts()
		calls := fx.calls.Total()
		got, err := fx.st.Job(ctx, demo.OrgID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d members on %s: %d DynamoDB calls %v (%.2f per 100 members), %d queue messages for %d pages, in %v",
			n, t.Name(), calls, c, float64(calls)/float64(n)*100, fx.q.sent, got.Pages, time.Since(start).Round(time.Millisecond))
		if got.State != domain.JobDone || got.Changed != n || got.Done != n || len(got.Conversions) != n {
			t.Fatalf("job: state %s, changed %d, done %d, %d conversions", got.State, got.Changed, got.Done, len(got.Conversions))
		}
		after, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
		if after.Guests != before.Guests-int64(n) || after.PaidUsers != before.PaidUsers+int64(n) || after.GuestSlots != 5*after.PaidUsers-after.Guests {
			t.Errorf("counters %+v, before %+v", after, before)
		}
		// Per job, a few calls whatever its size (read the job, the group and
		// the sites, begin, finish); per 100 members, at most 3.
		if limit := 3*n/100 + 8; calls > limit {
			t.Errorf("%d DynamoDB calls for %d members, want ≤ %d (3 per 100 members and 8 per job)", calls, n, limit)
		}
		if fx.q.sent > got.Pages+3 { // the pages, plus the finisher's few checks
			t.Errorf("%d messages for %d pages", fx.q.sent, got.Pages)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			a, _ := fx.st.Access(ctx, demo.OrgID, fmt.Sprintf("big%05d", i), demo.SiteID, domain.Confluence)
			if a.Effective != domain.RoleUser || a.Groups["big"] != domain.RoleUser || a.Direct != domain.RoleGuest {
				t.Errorf("member %d: %+v", i, a)
			}
		}
		_ = k
	})
}
