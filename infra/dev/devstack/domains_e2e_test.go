package devstack_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestDomainCheckScheduleOnDemand: the /dev page publishes a claimed
// domain's challenge in the stack's DNS server; POST
// /dev/schedules/DomainCheckFunction runs the scheduled check as its
// schedule would: it verifies the domain once due, then, with the record
// removed, marks it lapsing (still verified) and after the grace period
// unverified, its users external again; each change audited by system.
// The stack's cleanup holds the function's calls against its template policy.
func TestDomainCheckScheduleOnDemand(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		const d = "partner.example"
		run := func() map[string]any {
			t.Helper()
			resp, err := http.Post(e.URL+"/dev/schedules/DomainCheckFunction", "", nil)
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
		dns := func(action string) {
			t.Helper()
			resp, err := http.PostForm(e.URL+"/dev/dns", url.Values{"org": {demo.OrgID}, "domain": {d}, "action": {action}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/dev/dns %s: %d", action, resp.StatusCode)
			}
		}
		verified := func() bool {
			ds := mustStatus(t, e.do(t, "GET", extOrg+"/domains", admin, ""), 200, "domains")["domains"].([]any)
			return slices.Contains(ds, any(d))
		}
		mustStatus(t, e.do(t, "PUT", extOrg+"/domains/"+d, admin, ""), 200, "claim")
		dns("publish")
		if rep := run(); rep["due"] != float64(0) {
			t.Fatalf("a run before the claim is due: %v", rep)
		}
		e.clock.Store(int64(domain.DefaultPendingCheck.Seconds()))
		if rep := run(); rep["verified"] != float64(1) || !verified() {
			t.Fatalf("the run after publishing: %v", rep)
		}
		dns("remove")
		e.clock.Add(int64(domain.DefaultDomainRecheck.Seconds()))
		if rep := run(); rep["lapsing"] != float64(1) || !verified() {
			t.Fatalf("the run after removing the record: %v", rep)
		}
		e.clock.Add(int64(domain.DefaultDomainGrace.Seconds()))
		if rep := run(); rep["unverified"] != float64(1) || verified() {
			t.Fatalf("the run after the grace period: %v", rep)
		}
		entries := mustStatus(t, e.do(t, "GET", extOrg+"/domains", admin, ""), 200, "domains")["entries"].([]any)
		var st any
		for _, x := range entries {
			if m := x.(map[string]any); m["domain"] == d {
				st = m["status"]
			}
		}
		if st != "unverified" {
			t.Errorf("entries: %v", entries)
		}
		if got := emailsOf(e.externalEmails(t, "")); !slices.Contains(got, demo.GuestEmail) {
			t.Errorf("gus is not external again: %v", got)
		}
		var acts []string
		for _, a := range e.auditEntries(t, admin, "?target="+url.QueryEscape(domain.OrgTarget(demo.OrgID))) {
			if strings.HasPrefix(a["action"].(string), "org.domain.") && a["actor"] == domain.ActorSystem {
				acts = append(acts, a["action"].(string))
			}
		}
		slices.Sort(acts)
		if want := []string{domain.ActionDomainLapse, domain.ActionDomainUnverify, domain.ActionDomainVerify}; !slices.Equal(acts, want) {
			t.Errorf("audit entries by system: %v, want %v", acts, want)
		}
	})
}
