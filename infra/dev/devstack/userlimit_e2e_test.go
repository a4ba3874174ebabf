package devstack_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
)

// TestUserLimitOverHTTP: the demo site with a user limit of 6 (its 3 paid
// users leave 3 slots). Invites fill it (a mixed batch keeps what fits, an
// all-or-nothing one is refused with the numbers); then a membership, a
// direct role and a group role job past it are refused and change nothing;
// the billing summary shows the limit and the recount finds no drift.
func TestUserLimitOverHTTP(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.UserLimit = 6 })
			admin := e.token(t, demo.AdminID)
			path := invitePath(demo.OrgID, demo.SiteID)
			// Two accounts with Jira only (no Confluence seat) in a group with no role yet.
			mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Agency", nil)), 201, "create Agency")
			var jira []string
			for range 2 {
				id, _ := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"jira": map[string]string{"role": "user"}}})
				mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "agency", id), admin, ""), 200, "add to Agency")
				jira = append(jira, id)
			}
			if r := e.do(t, "POST", path, admin, guestBody("", unique("g1"), unique("g2"))); r.status != 200 || r.json(t)["summary"].(map[string]any)["invited"] != float64(2) {
				t.Fatalf("first two: %d %s", r.status, r.body)
			}
			// A batch of two with one slot left: the first is kept.
			r := e.do(t, "POST", path, admin, guestBody("", unique("g3"), unique("g4")))
			res := results(t, r)
			sum := r.json(t)["summary"].(map[string]any)
			if r.status != 200 || sum["invited"] != float64(1) || sum["refusedByUserLimit"] != float64(1) || res[0]["status"] != "invited" ||
				res[1]["status"] != "user_limit" || !strings.Contains(res[1]["reason"].(string), "allows 6 users") {
				t.Fatalf("mixed batch: %d %s", r.status, r.body)
			}
			if bl := r.json(t)["billing"].(map[string]any); bl["userLimit"] != float64(6) || bl["freeUserSlots"] != float64(0) {
				t.Errorf("billing in the answer = %v", bl)
			}
			full := e.site(t)
			if full.PaidUsers != 3 || full.Guests != 3 || full.UserSlots != 0 {
				t.Fatalf("site not full: %+v", full)
			}
			// All or nothing, a paid invitee: refused with the numbers.
			aon := `{"emails":["` + unique("p1") + `"],"products":{"confluence":{"role":"user"}},"allOrNothing":true}`
			p := problem(t, e.do(t, "POST", path, admin, aon), 409, "all-or-nothing past the user limit")
			if p["type"] != "https://guestaccess.dev/problems/user-limit" || p["userLimit"] != float64(6) || p["paidUsers"] != float64(3) ||
				p["guests"] != float64(3) || p["freeUserSlots"] != float64(0) {
				t.Errorf("user-limit problem = %v", p)
			}
			// A membership that gives a guest role, and a direct role.
			mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Visitors", map[string]string{"confluence": "guest"})), 201, "create Visitors")
			p = problem(t, e.do(t, "PUT", memberPath(demo.OrgID, "visitors", jira[0]), admin, ""), 409, "membership past the user limit")
			if p["type"] != "https://guestaccess.dev/problems/user-limit" || p["userLimit"] != float64(6) || p["requested"] != float64(1) {
				t.Errorf("membership problem = %v", p)
			}
			p = problem(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", jira[0]), admin, `{"role":"user"}`), 409, "direct role past the user limit")
			if p["type"] != "https://guestaccess.dev/problems/user-limit" || p["paidUsers"] != float64(3) {
				t.Errorf("direct role problem = %v", p)
			}
			// A group role job that would add both Agency members: refused whole.
			r = e.do(t, "PUT", groupRolePath(demo.OrgID, "agency", demo.SiteID, "confluence"), admin, `{"role":"guest"}`)
			j := r.json(t)
			if r.status == 202 {
				j = e.waitJob(t, admin, r.header.Get("Location"))
			} else if r.status != 200 {
				t.Fatalf("set group role: %d %s", r.status, r.body)
			}
			if j["state"] != "refused" || j["done"] != float64(0) || !strings.Contains(fmt.Sprint(j["message"]), "User limit reached") {
				t.Errorf("job past the user limit = %v", j)
			}
			if s := e.site(t); s != full {
				t.Errorf("refusals changed the site: %+v -> %+v", full, s)
			}
			for _, id := range jira {
				if m := mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, id), admin, ""), 200, "roles"); len(m["roles"].([]any)) != 1 {
					t.Errorf("refused changes left roles %v", m)
				}
			}
			bl := mustStatus(t, e.do(t, "GET", billingPath(demo.OrgID, demo.SiteID), admin, ""), 200, "billing")
			if bl["userLimit"] != float64(6) || bl["freeUserSlots"] != float64(0) || bl["reservedUsers"] != float64(0) {
				t.Errorf("billing = %v", bl)
			}
			rc := mustStatus(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, ""), 200, "recount")
			if fmt.Sprint(rc["drift"]) != "[]" || rc["counted"].(map[string]any)["userSlots"] != float64(0) {
				t.Errorf("recount = %v", rc)
			}
			storetest.AssertNoDrift(t, e.Store, demo.OrgID, demo.SiteID)
		})
	}
}
