package devstack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestReverifyJobOnDemand: POST /dev/schedules/ReverifyFunction runs the
// re-verification job as its schedule would: the external user whose
// verification lapsed gets one email through SES with the link to the
// org's verification page, the one still verified gets none, a pending
// rescan is done, and the next run sends nothing. The stack's cleanup holds
// the job's calls against its template policy.
func TestReverifyJobOnDemand(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		now := time.Now().UTC()
		org := domain.Org{ID: "rv" + strings.ToLower(domain.NewID()[:8]), Name: "Reverify Org", VerifiedDomains: []string{"14west.example"}, CreatedAt: now,
			Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}, PolicyVersion: 1}
		if err := e.Store.CreateOrg(ctx, org); err != nil {
			t.Fatal(err)
		}
		lapsed, fresh := unique("lapsed"), unique("fresh")
		mk := func(id, addr string, v time.Time) domain.User {
			return domain.User{OrgID: org.ID, AccountID: id, Email: addr, Status: domain.UserActive, External: true, CreatedAt: v,
				VerifiedAt: v, VerifyDueAt: v.Add(7 * 24 * time.Hour), VerifyState: domain.VerifyVerified}
		}
		if err := e.Store.BulkLoadProfiles(ctx, []domain.User{mk("lapsed", lapsed, now.Add(-8*24*time.Hour)), mk("fresh", fresh, now.Add(-time.Hour))}); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.RequestVerifyScan(ctx, org.ID, now.Add(-time.Minute), 1); err != nil {
			t.Fatal(err)
		}
		run := func() map[string]any {
			resp, err := http.Post(e.URL+"/dev/schedules/ReverifyFunction", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				Run struct {
					Report map[string]any
					Error  string
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Run.Error != "" {
				t.Fatalf("run: %d %+v %v", resp.StatusCode, out, err)
			}
			return out.Run.Report
		}
		rep := run()
		if rep["emailed"] != float64(1) || rep["scansDone"] != float64(1) || rep["stopped"] != false {
			t.Errorf("first run: %v", rep)
		}
		mails := e.mailTo(t, lapsed)
		if len(mails) != 1 {
			t.Fatalf("%d emails to the lapsed user", len(mails))
		}
		if _, ok := mailbox.FindLink(mails[0].Text, e.URL+"/orgs/"+org.ID+"/verify"); !ok {
			t.Errorf("no verification link in:\n%s", mails[0].Text)
		}
		if n := len(e.mailTo(t, fresh)); n != 0 {
			t.Errorf("%d emails to the verified user", n)
		}
		if rep := run(); rep["due"] != float64(0) || rep["emailed"] != float64(0) {
			t.Errorf("second run: %v", rep)
		}
		if n := len(e.mailTo(t, lapsed)); n != 1 {
			t.Errorf("%d emails to the lapsed user after two runs", n)
		}
	})
}
