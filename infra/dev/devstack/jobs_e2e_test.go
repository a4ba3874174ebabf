package devstack_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
)

func groupRolePath(org, group, site, product string) string {
	return groupPath(org, group) + "/roles/" + site + "/" + product
}

// waitJob follows a job at its Location until it finishes.
func (e *env) waitJob(t *testing.T, token, location string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		j := mustStatus(t, e.do(t, "GET", location, token, ""), 200, "GET job")
		switch j["state"] {
		case "done", "refused", "failed":
			return j
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", location)
	return nil
}

// TestGroupRoleJobsOverHTTP changes a group's role through the API, queued
// through the in-process jobs queue to the real worker, on both backends:
// the answer is 202 with Location, the job's progress ends done with every
// conversion named, members and counters follow, a second job while one runs
// is refused, and a group delete takes every member out.
func TestGroupRoleJobsOverHTTP(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.JobsInlineMembers = -1; o.PaidUsers = 2 })
			admin := e.token(t, demo.AdminID)
			mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Agency", nil)), 201, "create")
			var accts []string
			for range 4 {
				id, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
				mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "agency", id), admin, ""), 200, "add")
				accts = append(accts, id)
			}
			before := e.site(t)
			r := e.do(t, "PUT", groupRolePath(demo.OrgID, "agency", demo.SiteID, "confluence"), admin, `{"role":"user"}`)
			j := mustStatus(t, r, 202, "set role")
			loc := r.header.Get("Location")
			if loc == "" || j["id"] == nil {
				t.Fatalf("no Location / id: %v %v", r.header, j)
			}
			// One job at a time per group.
			if busy := e.do(t, "PUT", groupRolePath(demo.OrgID, "agency", demo.SiteID, "confluence"), admin, `{"role":"guest"}`); busy.status != 409 && busy.status != 202 {
				t.Errorf("second job: %d %s", busy.status, busy.body)
			} else if busy.status == 202 {
				e.waitJob(t, admin, busy.header.Get("Location")) // the first had finished already
			}
			j = e.waitJob(t, admin, loc)
			convs, _ := j["conversions"].([]any)
			if j["state"] != "done" || j["changed"] != float64(4) || j["done"] != float64(4) || len(convs) != 4 {
				t.Fatalf("job = %v", j)
			}
			after := e.site(t)
			if after.Guests != before.Guests-4 || after.PaidUsers != before.PaidUsers+4 {
				t.Errorf("counters %+v -> %+v", before, after)
			}
			roles := mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, accts[0]), admin, ""), 200, "roles")
			if rs, _ := roles["roles"].([]any); len(rs) == 0 || rs[0].(map[string]any)["role"] != "user" {
				t.Errorf("roles after the job = %v", roles)
			}
			// Guest on Jira is refused before any job.
			problem(t, e.do(t, "PUT", groupRolePath(demo.OrgID, "agency", demo.SiteID, "jira"), admin, `{"role":"guest"}`), 400, "guest on jira")
			// A plain user may not.
			problem(t, e.do(t, "PUT", groupRolePath(demo.OrgID, "agency", demo.SiteID, "confluence"), e.token(t, demo.PlainUserID), `{"role":"none"}`), 403, "plain user")
			// Delete the group: the members go back to what partners gives.
			r = e.do(t, "DELETE", groupPath(demo.OrgID, "agency"), admin, "")
			mustStatus(t, r, 202, "delete")
			j = e.waitJob(t, admin, r.header.Get("Location"))
			if j["state"] != "done" || j["members"] != float64(4) {
				t.Fatalf("delete job = %v", j)
			}
			problem(t, e.do(t, "GET", groupPath(demo.OrgID, "agency"), admin, ""), 404, "deleted group")
			if s := e.site(t); s != before {
				t.Errorf("counters after delete %+v, want %+v", s, before)
			}
			if err := e.Jobs.WaitIdle(context.Background()); err != nil {
				t.Errorf("queue not idle: %v", err)
			}
			_ = url.QueryEscape
		})
	}
}

// TestSmallGroupJobAnswersDone: a group at or under the inline size is
// changed before the answer, which says so (200, state done).
func TestSmallGroupJobAnswersDone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Small", nil)), 201, "create")
		id, _ := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"confluence": map[string]string{"role": "guest"}}})
		mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "small", id), admin, ""), 200, "add")
		r := e.do(t, "PUT", groupRolePath(demo.OrgID, "small", demo.SiteID, "confluence"), admin, `{"role":"admin"}`)
		j := mustStatus(t, r, 200, "set role")
		if j["state"] != "done" || j["changed"] != float64(1) || r.header.Get("Location") == "" {
			t.Errorf("job = %v", j)
		}
	})
}
