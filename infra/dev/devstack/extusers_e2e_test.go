package devstack_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

const extOrg = "/orgs/" + demo.OrgID

// newExport creates an export job as the org admin and returns its path.
func (e *env) newExport(t *testing.T) string {
	t.Helper()
	r := e.do(t, "POST", extOrg+"/external-users/exports", e.token(t, demo.AdminID), "")
	j := mustStatus(t, r, 202, "create export")
	if loc := r.header.Get("Location"); loc != j["statusUrl"] || loc == "" {
		t.Fatalf("Location %q, job %v", loc, j)
	}
	return j["statusUrl"].(string)
}

// waitExport polls an export job until it is done (fails on failed).
func (e *env) waitExport(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		j := mustStatus(t, e.do(t, "GET", path, e.token(t, demo.AdminID), ""), 200, "export status")
		switch j["status"] {
		case "done":
			return path
		case "failed":
			t.Fatalf("export failed: %v", j)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("export %s did not finish", path)
	return ""
}

// externalEmails pages through the external users' list.
func (e *env) externalEmails(t *testing.T, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		q := "?limit=100" + query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := mustStatus(t, e.do(t, "GET", extOrg+"/external-users"+q, e.token(t, demo.AdminID), ""), 200, "list external users")
		for _, u := range page["users"].([]any) {
			out = append(out, u.(map[string]any))
		}
		next, _ := page["next"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("the list does not end")
	return nil
}

func emailsOf(us []map[string]any) []string {
	var out []string
	for _, u := range us {
		out = append(out, u["email"].(string))
	}
	return out
}

// TestVerifiedDomainsDecideWhoIsExternal: domains are claimed (Unicode or
// ASCII, stored as IDNA ASCII, idempotently, with one challenge) and
// removed; bad input changes nothing; a claimed domain is verified only
// once its DNS challenge is seen (the access decision asks its users to
// verify until then); who is external, in the list, its filters, the guest
// list and the decision, follows the verified domains at once.
func TestVerifiedDomainsDecideWhoIsExternal(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		domains := func() []any {
			return mustStatus(t, e.do(t, "GET", extOrg+"/domains", admin, ""), 200, "domains")["domains"].([]any)
		}
		if ds := domains(); len(ds) != 1 || ds[0] != demo.VerifiedDomain {
			t.Fatalf("domains: %v", ds)
		}
		added := mustStatus(t, e.do(t, "PUT", extOrg+"/domains/"+url.PathEscape("Bücher.example"), admin, ""), 200, "add Unicode")
		rec, _ := added["record"].(map[string]any)
		if added["domain"] != "xn--bcher-kva.example" || added["status"] != "pending" || rec["name"] != "_guestaccess-challenge.xn--bcher-kva.example" {
			t.Fatalf("added: %v", added)
		}
		again := mustStatus(t, e.do(t, "PUT", extOrg+"/domains/xn--bcher-kva.example", admin, ""), 200, "add again")
		if again["record"].(map[string]any)["value"] != rec["value"] {
			t.Errorf("the challenge changed: %v then %v", added, again)
		}
		if ds := domains(); slices.Contains(ds, any("xn--bcher-kva.example")) {
			t.Errorf("a pending domain is verified: %v", ds)
		}
		adds := 0
		for _, a := range e.auditEntries(t, admin, "?target="+url.QueryEscape(domain.OrgTarget(demo.OrgID))) {
			if a["action"] == domain.ActionDomainAdd {
				adds++
			}
		}
		if adds != 1 {
			t.Errorf("%d add entries, want 1 (adding an existing domain writes nothing)", adds)
		}
		before := domains()
		for _, bad := range []string{"not_a_domain", "nodot", "a..b.example"} {
			if r := e.do(t, "PUT", extOrg+"/domains/"+bad, admin, ""); r.status != 400 {
				t.Errorf("PUT %s: %d %s", bad, r.status, r.body)
			}
		}
		if r := e.do(t, "DELETE", extOrg+"/domains/nothere.example", admin, ""); r.status != 404 {
			t.Errorf("DELETE an unverified domain: %d", r.status)
		}
		if after := domains(); !slices.Equal(after, before) {
			t.Errorf("bad input changed the domains: %v -> %v", before, after)
		}

		// The guest is external, with their role, space and no paid seat.
		var gus map[string]any
		for _, u := range e.externalEmails(t, "") {
			if u["accountId"] == demo.GuestID {
				gus = u
			}
		}
		if gus == nil || gus["billable"] != false || gus["verification"].(map[string]any)["state"] != "not_required" ||
			fmt.Sprint(gus["roles"]) != "[map[product:confluence role:guest site:wiki]]" || fmt.Sprint(gus["spaces"]) != "[map[site:wiki space:MKT]]" {
			t.Fatalf("gus: %v", gus)
		}
		if got := emailsOf(e.externalEmails(t, "&domain=partner.example")); !slices.Contains(got, demo.GuestEmail) {
			t.Errorf("domain filter: %v", got)
		}
		if got := e.externalEmails(t, "&domain="+demo.VerifiedDomain); len(got) != 0 {
			t.Errorf("a verified domain's external users: %v", got)
		}
		if got := e.externalEmails(t, "&status=suspended"); len(got) != 0 {
			t.Errorf("suspended: %v", got)
		}
		for _, q := range []string{"?status=gone", "?verification=maybe", "?domain=x_y", "?domain="} {
			if r := e.do(t, "GET", extOrg+"/external-users"+q, admin, ""); r.status != 400 {
				t.Errorf("%s: %d", q, r.status)
			}
		}
		guestExternal := func() any {
			for _, g := range mustStatus(t, e.do(t, "GET", extOrg+"/sites/"+demo.SiteID+"/guests", admin, ""), 200, "guests")["guests"].([]any) {
				if g.(map[string]any)["accountId"] == demo.GuestID {
					return g.(map[string]any)["external"]
				}
			}
			return nil
		}
		if guestExternal() != true {
			t.Fatalf("guest list: gus external = %v", guestExternal())
		}
		// Claiming the guest's domain proves nothing: gus stays external
		// (and under two-step verification) until the challenge is seen.
		mustStatus(t, e.do(t, "PUT", policyPath, admin, `{"twoStepVerification":"on","verifyEvery":{"days":7},"apiTokens":"allowed"}`), 200, "two-step on")
		product, err := e.ProductToken("confluence")
		if err != nil {
			t.Fatal(err)
		}
		decide := func() any {
			return mustStatus(t, e.do(t, "GET", decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "web", demo.SpaceMKT), product, ""), 200, "decision")["reason"]
		}
		mustStatus(t, e.do(t, "PUT", extOrg+"/domains/partner.example", admin, ""), 200, "claim partner.example")
		if got := emailsOf(e.externalEmails(t, "")); !slices.Contains(got, demo.GuestEmail) || guestExternal() != true {
			t.Fatalf("a pending domain made gus internal: %v", got)
		}
		if r := decide(); r != "verification_required" {
			t.Fatalf("gus's decision while partner.example is pending: %v", r)
		}
		if c := mustStatus(t, e.do(t, "POST", extOrg+"/domains/partner.example/check", admin, ""), 200, "check"); c["status"] != "pending" {
			t.Fatalf("checked with no record: %v", c)
		}
		// Verifying the guest's domain makes them internal at once, everywhere.
		e.verifyDomain(t, admin, demo.OrgID, "partner.example")
		if r := decide(); r == "verification_required" {
			t.Errorf("gus's decision once partner.example is verified: %v", r)
		}
		if got := emailsOf(e.externalEmails(t, "")); slices.Contains(got, demo.GuestEmail) {
			t.Errorf("still external: %v", got)
		}
		if guestExternal() != false {
			t.Errorf("guest list after verifying: external = %v", guestExternal())
		}
		mustStatus(t, e.do(t, "DELETE", extOrg+"/domains/partner.example", admin, ""), 200, "remove partner.example")
		if got := emailsOf(e.externalEmails(t, "")); !slices.Contains(got, demo.GuestEmail) {
			t.Errorf("not external again: %v", got)
		}
	})
}

// TestExternalUsersExportJob exports a directory too large for one
// response (limits made small: 10 inline, 7 users a page, small chunks
// and parts) through the exports queue and the worker, downloads every
// part, and finds each external user exactly once; a redelivered page
// writes nothing; an inline export is CSV with formulas neutralised.
func TestExternalUsersExportJob(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) {
				o.Personas = true
				o.ExportLimits = extusers.Limits{Inline: 10, Page: 7, ChunkBytes: 600, PartBytes: 1500}
			})
			ctx := context.Background()
			admin := e.token(t, demo.AdminID)
			var users []domain.User
			access := map[string][]domain.Access{}
			for i := range 45 {
				local := fmt.Sprintf("bulk%02d", i)
				if i == 3 {
					local = "=cmd"
				}
				u := domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("bulk-%02d", i), Email: local + "@bulk.example", Status: domain.UserActive, CreatedAt: time.Now()}
				users = append(users, u)
				if i%2 == 0 {
					access[u.AccountID] = []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest, Space: demo.SpaceENG}}
				}
			}
			if err := e.Store.BulkLoadUsers(ctx, users, demo.SiteID, access); err != nil {
				t.Fatal(err)
			}
			want := emailsOf(e.externalEmails(t, ""))
			if len(want) < 46 {
				t.Fatalf("external users: %d", len(want))
			}

			// One page of the list: 1 BatchGetItem (org, caller), the index
			// Queries (one per range between verified domains), one Query per user.
			e.calls.Reset()
			page := mustStatus(t, e.do(t, "GET", extOrg+"/external-users?limit=20", admin, ""), 200, "page")
			n := len(page["users"].([]any))
			c := e.calls.Counts()
			if n != 20 || c["BatchGetItem"] != 1 || c["Query"] < n || c["Query"] > n+2 || e.calls.Total() != 1+c["Query"] {
				t.Errorf("a page of %d users cost %v", n, c)
			}
			t.Logf("a list page of %d users: %v", n, c)

			r := e.do(t, "GET", extOrg+"/external-users/export", admin, "")
			mustStatus(t, r, 202, "export past the inline bound")
			path := e.waitExport(t, r.header.Get("Location"))
			j := mustStatus(t, e.do(t, "GET", path, admin, ""), 200, "status")
			parts := int(j["parts"].(float64))
			if int(j["rows"].(float64)) != len(want) || int(j["pages"].(float64)) < len(want)/7 || parts < 2 || j["csvUrl"] != path+"/csv" {
				t.Fatalf("job: %v (want %d rows)", j, len(want))
			}
			download := func() string {
				var all strings.Builder
				for p := 1; p <= parts; p++ {
					r := e.do(t, "GET", fmt.Sprintf("%s/csv?part=%d", path, p), admin, "")
					if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || r.header.Get("X-Export-Parts") != fmt.Sprint(parts) {
						t.Fatalf("part %d: %d %v %s", p, r.status, r.header, r.body)
					}
					all.Write(r.body)
				}
				return all.String()
			}
			text := download()
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rows[0], ",") != strings.Join(extusers.CSVHeader, ",") {
				t.Fatalf("header: %v", rows[0])
			}
			seen := map[string]int{}
			for _, row := range rows[1:] {
				seen[strings.TrimPrefix(row[0], "'")]++
				if row[0] == "=cmd@bulk.example" {
					t.Errorf("formula not neutralised: %v", row)
				}
			}
			for _, w := range want {
				if seen[w] != 1 {
					t.Errorf("%s is in the export %d times", w, seen[w])
				}
			}
			if len(rows)-1 != len(want) {
				t.Errorf("%d rows, want %d", len(rows)-1, len(want))
			}
			if r := e.do(t, "GET", fmt.Sprintf("%s/csv?part=%d", path, parts+1), admin, ""); r.status != 404 {
				t.Errorf("a part past the end: %d", r.status)
			}

			// A redelivered first page writes nothing and queues nothing new.
			id := j["id"].(string)
			if err := e.Exports.Send(devstack.WithFunction(ctx, devstack.ExportWorkerFunctionID), queue.Message{Body: `{"orgId":"` + demo.OrgID + `","exportId":"` + id + `","page":1}`}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			again := mustStatus(t, e.do(t, "GET", path, admin, ""), 200, "status again")
			if again["rows"] != j["rows"] || again["pages"] != j["pages"] || download() != text {
				t.Errorf("a redelivered page changed the export: %v -> %v", j, again)
			}

			// Within the bound, the export is answered at once.
			r = e.do(t, "GET", extOrg+"/external-users/export?domain=partner.example", admin, "")
			if r.status != 200 || !strings.Contains(string(r.body), demo.GuestEmail+","+demo.GuestID+",active,") || !strings.HasPrefix(string(r.body), "email,account id,") {
				t.Errorf("inline export: %d %s", r.status, r.body)
			}
			if r := e.do(t, "GET", path+"/csv", e.token(t, demo.SiteAdminID), ""); r.status != 403 {
				t.Errorf("a site admin downloads: %d", r.status)
			}
		})
	}
}

// verifyDomain claims a domain for an org, publishes its challenge in the
// stack's DNS server as the domain's owner would, and checks it: verified.
func (e *env) verifyDomain(t *testing.T, admin, orgID, d string) {
	t.Helper()
	mustStatus(t, e.do(t, "PUT", "/orgs/"+orgID+"/domains/"+d, admin, ""), 200, "claim "+d)
	if _, _, err := e.PublishChallenge(context.Background(), orgID, d); err != nil {
		t.Fatal(err)
	}
	if c := mustStatus(t, e.do(t, "POST", "/orgs/"+orgID+"/domains/"+d+"/check", admin, ""), 200, "check "+d); c["status"] != "verified" {
		t.Fatalf("%s after publishing its challenge: %v", d, c)
	}
}
