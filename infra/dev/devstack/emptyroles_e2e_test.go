package devstack_test

import (
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
)

// TestGroupWhoseOnlyRoleIsNone is the fuzzer's sequence of issue 16 (item 2),
// on both backends: a group whose only role is set to none keeps answering.
// Its group, the org's group list, its members, a member's groups and its
// delete all work (on the embedded backend they answered 500 once the
// group's roles map was written empty).
func TestGroupWhoseOnlyRoleIsNone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Solo", map[string]string{"confluence": "guest"})), 201, "create")
		id, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "solo", id), admin, ""), 200, "add member")
		r := e.do(t, "PUT", groupRolePath(demo.OrgID, "solo", demo.SiteID, "confluence"), admin, `{"role":"none"}`)
		if r.status != 200 && r.status != 202 {
			t.Fatalf("role none: %d %s", r.status, r.body)
		}
		if loc := r.header.Get("Location"); r.status == 202 && loc != "" {
			if j := e.waitJob(t, admin, loc); j["state"] != "done" {
				t.Fatalf("job = %v", j)
			}
		}
		g := mustStatus(t, e.do(t, "GET", groupPath(demo.OrgID, "solo"), admin, ""), 200, "group")
		if rs, _ := g["roles"].([]any); len(rs) != 0 {
			t.Errorf("roles after none = %v", g["roles"])
		}
		mustStatus(t, e.do(t, "GET", groupsPath(demo.OrgID), admin, ""), 200, "groups")
		mustStatus(t, e.do(t, "GET", membersPath(demo.OrgID, "solo"), admin, ""), 200, "members")
		mustStatus(t, e.do(t, "GET", userGroupsPath(demo.OrgID, id), admin, ""), 200, "member's groups")
		r = e.do(t, "DELETE", groupPath(demo.OrgID, "solo"), admin, "")
		if r.status != 200 && r.status != 202 && r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if loc := r.header.Get("Location"); r.status == 202 && loc != "" {
			if j := e.waitJob(t, admin, loc); j["state"] != "done" {
				t.Fatalf("delete job = %v", j)
			}
		}
		problem(t, e.do(t, "GET", groupPath(demo.OrgID, "solo"), admin, ""), 404, "deleted group")
	})
}
