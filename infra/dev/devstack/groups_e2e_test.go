package devstack_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// The end-to-end suite of groups, memberships and roles (GroupsFunction,
// RolesFunction), on both backends, every answer checked against
// openapi.yaml by e.do.

func groupsPath(org string) string      { return "/orgs/" + org + "/groups" }
func groupPath(org, id string) string   { return groupsPath(org) + "/" + id }
func membersPath(org, id string) string { return groupPath(org, id) + "/members" }
func memberPath(org, id, acct string) string {
	return membersPath(org, id) + "/" + url.PathEscape(acct)
}
func userGroupsPath(org, acct string) string {
	return "/orgs/" + org + "/users/" + url.PathEscape(acct) + "/groups"
}
func userRolesPath(org, acct string) string {
	return "/orgs/" + org + "/users/" + url.PathEscape(acct) + "/roles"
}
func rolePath(org, site, product, acct string) string {
	return "/orgs/" + org + "/sites/" + site + "/products/" + product + "/users/" + url.PathEscape(acct) + "/role"
}

// groupBody is a create request: a name and roles on the demo site's products.
func groupBody(name string, roles map[string]string) string {
	rs := []map[string]string{}
	for _, p := range []string{"confluence", "jira", "jira-service-management"} {
		if r, ok := roles[p]; ok {
			rs = append(rs, map[string]string{"site": demo.SiteID, "product": p, "role": r})
		}
	}
	return mustJSON(map[string]any{"name": name, "roles": rs})
}

// problem checks that r is a problem document of the status, with a request
// id, and returns it.
func problem(t *testing.T, r response, status int, what string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return map[string]any{}
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: content type %q", what, ct)
	}
	p := r.json(t)
	if p["requestId"] == nil || p["requestId"] == "" || p["status"] != float64(status) || p["detail"] == nil || p["detail"] == "" {
		t.Errorf("%s: problem = %v", what, p)
	}
	return p
}

// mustStatus fails the test unless r has the status, and returns its JSON.
func mustStatus(t *testing.T, r response, status int, what string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r.json(t)
}

// inviteTo invites a new address with the given invite body fields and
// returns its account id and address (the account exists from now on).
func (e *env) inviteTo(t *testing.T, admin string, fields map[string]any) (string, string) {
	t.Helper()
	addr := unique("member")
	fields["emails"] = []string{addr}
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, mustJSON(fields))
	res := results(t, r)
	if r.status != 200 || len(res) != 1 || res[0]["status"] != "invited" {
		t.Fatalf("invite %v: %d %s", fields, r.status, r.body)
	}
	return res[0]["accountId"].(string), addr
}

// listAll follows a list's pages of the given size to the end, and returns
// the ids (or account ids) of its items in order, failing on a page over
// the size or an item seen twice.
func (e *env) listAll(t *testing.T, path, token, field, key string, size int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatalf("%s: more than 50 pages", path)
		}
		q := fmt.Sprintf("?limit=%d", size)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		m := mustStatus(t, e.do(t, "GET", path+q, token, ""), 200, "list "+path)
		items, _ := m[field].([]any)
		if len(items) > size {
			t.Errorf("%s: page of %d items, limit %d", path, len(items), size)
		}
		for _, it := range items {
			id := it.(map[string]any)[key].(string)
			if slices.Contains(out, id) {
				t.Errorf("%s: %s listed twice", path, id)
			}
			out = append(out, id)
		}
		next, _ := m["next"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func TestGroupsCreateListRename(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		path := groupsPath(demo.OrgID)

		r := e.do(t, "POST", path, admin, groupBody("Launch Writers", map[string]string{"confluence": "user", "jira": "user"}))
		g := mustStatus(t, r, 201, "create")
		if g["id"] != "launch-writers" || g["name"] != "Launch Writers" || g["memberCount"] != float64(0) || g["createdAt"] == "" {
			t.Errorf("created = %v", g)
		}
		if loc := r.header.Get("Location"); loc != "/orgs/14west/groups/launch-writers" {
			t.Errorf("Location = %q", loc)
		}
		if roles := g["roles"].([]any); len(roles) != 2 || roles[0].(map[string]any)["product"] != "confluence" || roles[0].(map[string]any)["role"] != "user" {
			t.Errorf("roles = %v", roles)
		}
		// The same name in another case is taken: 409 naming the field.
		p := problem(t, e.do(t, "POST", path, admin, groupBody("LAUNCH writers", nil)), 409, "duplicate name")
		if errs, _ := p["errors"].(map[string]any); errs["name"] == nil {
			t.Errorf("duplicate name: errors = %v", p["errors"])
		}
		// An explicit id; a taken id is a 409 on the id.
		if g := mustStatus(t, e.do(t, "POST", path, admin, `{"name":"Agency people","id":"agency"}`), 201, "explicit id"); g["id"] != "agency" || len(g["roles"].([]any)) != 0 {
			t.Errorf("explicit id = %v", g)
		}
		if p := problem(t, e.do(t, "POST", path, admin, `{"name":"Other agency","id":"agency"}`), 409, "taken id"); p["errors"].(map[string]any)["id"] == nil {
			t.Errorf("taken id: %v", p)
		}
		mustStatus(t, e.do(t, "POST", path, admin, `{"name":"Third"}`), 201, "third")

		// Pagination: 2 demo groups and 3 new ones, 2 at a time.
		all := e.listAll(t, path, admin, "groups", "id", 2)
		want := []string{"agency", "launch-writers", demo.GuestGroup, demo.PaidGroup, "third"}
		if !slices.Equal(all, want) {
			t.Errorf("paged groups = %v, want %v", all, want)
		}
		if one := e.listAll(t, path, admin, "groups", "id", 100); !slices.Equal(one, want) {
			t.Errorf("one page = %v", one)
		}
		if m := mustStatus(t, e.do(t, "GET", path, admin, ""), 200, "default page"); len(m["groups"].([]any)) != 5 || m["next"] != nil {
			t.Errorf("default page = %v", m)
		}

		// Rename: the id stays, the old name is free again, the new one taken.
		ren := mustStatus(t, e.do(t, "PATCH", groupPath(demo.OrgID, "launch-writers"), admin, `{"name":"  Launch Editors "}`), 200, "rename")
		if ren["id"] != "launch-writers" || ren["name"] != "Launch Editors" {
			t.Errorf("renamed = %v", ren)
		}
		if got := mustStatus(t, e.do(t, "GET", groupPath(demo.OrgID, "launch-writers"), admin, ""), 200, "get"); got["name"] != "Launch Editors" || len(got["roles"].([]any)) != 2 {
			t.Errorf("get after rename = %v", got)
		}
		problem(t, e.do(t, "PATCH", groupPath(demo.OrgID, "third"), admin, `{"name":"launch EDITORS"}`), 409, "rename to a taken name")
		if g := mustStatus(t, e.do(t, "POST", path, admin, `{"name":"Launch Writers"}`), 201, "reuse the old name"); g["id"] == "launch-writers" {
			t.Errorf("a new group took the renamed group's id: %v", g)
		}
	})
}

func TestGroupsBadInputChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		path := groupsPath(demo.OrgID)
		acct, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		mustStatus(t, e.do(t, "POST", path, admin, `{"name":"Page filler"}`), 201, "filler")
		before := e.site(t)
		// A cursor of one list is no cursor of another.
		cursorOf := func(path string) string {
			m := mustStatus(t, e.do(t, "GET", path+"?limit=1", admin, ""), 200, "first page of "+path)
			c, _ := m["next"].(string)
			if c == "" {
				t.Fatalf("no next page of %s: %v", path, m)
			}
			return c
		}
		groupsCursor, membersCursor := cursorOf(path), cursorOf(membersPath(demo.OrgID, demo.GuestGroup))
		long := strings.Repeat("n", domain.MaxGroupName+1)
		cases := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"129-character name", "POST", path, `{"name":"` + long + `"}`, 400, "name"},
			{"empty name", "POST", path, `{"name":"   "}`, 400, "name"},
			{"control character in name", "POST", path, `{"name":"a\u0007b"}`, 400, "name"},
			{"bad id", "POST", path, `{"name":"Bad id","id":"Not A Slug"}`, 400, "id"},
			{"empty id", "POST", path, `{"name":"Empty id","id":""}`, 400, "id"},
			{"guest on jira", "POST", path, groupBody("Jira guests", map[string]string{"jira": "guest"}), 400, ""},
			{"unknown product", "POST", path, `{"name":"x","roles":[{"site":"wiki","product":"trello","role":"user"}]}`, 400, "roles[0].product"},
			{"unknown role", "POST", path, `{"name":"x","roles":[{"site":"wiki","product":"jira","role":"owner"}]}`, 400, "roles[0].role"},
			{"unknown site", "POST", path, `{"name":"x","roles":[{"site":"nosite","product":"jira","role":"user"}]}`, 404, "roles"},
			{"unknown field", "POST", path, `{"name":"x","admin":true}`, 400, "admin"},
			{"not JSON", "POST", path, `{"name":`, 400, ""},
			{"129-character rename", "PATCH", groupPath(demo.OrgID, demo.GuestGroup), `{"name":"` + long + `"}`, 400, "name"},
			{"rename without a name", "PATCH", groupPath(demo.OrgID, demo.GuestGroup), `{}`, 400, "name"},
			{"limit 0", "GET", path + "?limit=0", "", 400, "limit"},
			{"limit 101", "GET", path + "?limit=101", "", 400, "limit"},
			{"limit not a number", "GET", path + "?limit=ten", "", 400, "limit"},
			{"garbage cursor", "GET", path + "?cursor=not-a-cursor", "", 400, "cursor"},
			{"empty cursor", "GET", path + "?cursor=", "", 400, "cursor"},
			{"groups cursor on a members list", "GET", membersPath(demo.OrgID, demo.GuestGroup) + "?cursor=" + url.QueryEscape(groupsCursor), "", 400, "cursor"},
			{"members cursor on the groups list", "GET", path + "?cursor=" + url.QueryEscape(membersCursor), "", 400, "cursor"},
			{"members cursor of another group", "GET", membersPath(demo.OrgID, demo.PaidGroup) + "?cursor=" + url.QueryEscape(membersCursor), "", 400, "cursor"},
			{"members limit 101", "GET", membersPath(demo.OrgID, demo.GuestGroup) + "?limit=101", "", 400, "limit"},
			{"unknown group", "GET", groupPath(demo.OrgID, "no-such-group"), "", 404, ""},
			{"unknown group's members", "GET", membersPath(demo.OrgID, "no-such-group"), "", 404, ""},
			{"rename an unknown group", "PATCH", groupPath(demo.OrgID, "no-such-group"), `{"name":"x"}`, 404, ""},
			{"add to an unknown group", "PUT", memberPath(demo.OrgID, "no-such-group", acct), "", 404, ""},
			{"add an unknown user", "PUT", memberPath(demo.OrgID, demo.PaidGroup, "nobody-"+domain.NewID()[:6]), "", 404, ""},
			{"remove an unknown user", "DELETE", memberPath(demo.OrgID, demo.GuestGroup, "nobody-"+domain.NewID()[:6]), "", 404, ""},
			{"remove a non-member", "DELETE", memberPath(demo.OrgID, demo.PaidGroup, acct), "", 404, ""},
			{"add an existing member", "PUT", memberPath(demo.OrgID, demo.GuestGroup, acct), "", 409, ""},
			{"add with a body", "PUT", memberPath(demo.OrgID, demo.PaidGroup, acct), `{"role":"admin"}`, 400, "role"},
			{"unknown user's groups", "GET", userGroupsPath(demo.OrgID, "nobody-"+domain.NewID()[:6]), "", 404, ""},
		}
		for _, c := range cases {
			p := problem(t, e.do(t, c.method, c.path, admin, c.body), c.status, c.name)
			if c.field != "" {
				if errs, _ := p["errors"].(map[string]any); errs[c.field] == nil {
					t.Errorf("%s: errors %v do not name %s", c.name, p["errors"], c.field)
				}
			}
		}
		if after := e.site(t); after != before {
			t.Errorf("bad input changed the site: %+v -> %+v", before, after)
		}
		if ids := e.listAll(t, path, admin, "groups", "id", 100); !slices.Equal(ids, []string{"page-filler", demo.GuestGroup, demo.PaidGroup}) {
			t.Errorf("groups after bad input = %v", ids)
		}
		if m := mustStatus(t, e.do(t, "GET", userGroupsPath(demo.OrgID, acct), admin, ""), 200, "user groups"); len(m["groups"].([]any)) != 1 {
			t.Errorf("the member's groups changed: %v", m)
		}
	})
}

// conversionIn returns the one conversion of a membership or role answer.
func conversionIn(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	if c, ok := m["conversion"].(map[string]any); ok {
		return c
	}
	cs, _ := m["conversions"].([]any)
	if len(cs) != 1 {
		t.Fatalf("conversions = %v, want one", m["conversions"])
	}
	return cs[0].(map[string]any)
}

func TestMembershipConvertsGuestsAndBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		acct, addr := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Editors", map[string]string{"confluence": "user"})), 201, "create Editors")
		start := e.site(t)

		add := mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "editors", acct), admin, ""), 200, "add")
		if add["member"] != true || add["groupId"] != "editors" || add["accountId"] != acct {
			t.Errorf("add = %v", add)
		}
		c := conversionIn(t, add)
		if c["from"] != "guest" || c["to"] != "paid" || c["email"] != addr || c["site"] != demo.SiteID || !slices.Contains(c["why"].([]any), any("group Editors: user")) {
			t.Errorf("conversion = %v", c)
		}
		warn := fmt.Sprint(add["warnings"])
		if !strings.Contains(warn, addr) || !strings.Contains(warn, "paid user") || !strings.Contains(warn, "Editors") {
			t.Errorf("warnings = %v", add["warnings"])
		}
		if ch := add["changes"].([]any); len(ch) != 1 || ch[0].(map[string]any)["before"] != "guest" || ch[0].(map[string]any)["after"] != "user" {
			t.Errorf("changes = %v", ch)
		}
		s := e.site(t)
		if s.Guests != start.Guests-1 || s.PaidUsers != start.PaidUsers+1 || s.GuestSlots != start.GuestSlots+6 {
			t.Errorf("site after the conversion: %+v -> %+v", start, s)
		}
		if g := mustStatus(t, e.do(t, "GET", groupPath(demo.OrgID, "editors"), admin, ""), 200, "get"); g["memberCount"] != float64(1) {
			t.Errorf("memberCount = %v", g["memberCount"])
		}
		if ids := e.listAll(t, membersPath(demo.OrgID, "editors"), admin, "members", "accountId", 1); !slices.Equal(ids, []string{acct}) {
			t.Errorf("members = %v", ids)
		}
		if ids := e.listAll(t, userGroupsPath(demo.OrgID, acct), admin, "groups", "id", 100); !slices.Equal(ids, []string{"editors", demo.GuestGroup}) {
			t.Errorf("user's groups = %v", ids)
		}
		// Why: the direct role (none) and both groups.
		roles := mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), admin, ""), 200, "roles")
		if rs := roles["roles"].([]any); len(rs) != 1 || rs[0].(map[string]any)["role"] != "user" || rs[0].(map[string]any)["kind"] != "paid" ||
			len(rs[0].(map[string]any)["groups"].([]any)) != 2 {
			t.Errorf("roles = %v", roles)
		}
		// Adding again is a 409 and changes nothing.
		problem(t, e.do(t, "PUT", memberPath(demo.OrgID, "editors", acct), admin, ""), 409, "add again")
		if again := e.site(t); again != s {
			t.Errorf("second add changed the site: %+v -> %+v", s, again)
		}

		// Removing: back to a guest through partners; the counters return exactly.
		rm := mustStatus(t, e.do(t, "DELETE", memberPath(demo.OrgID, "editors", acct), admin, ""), 200, "remove")
		c = conversionIn(t, rm)
		if rm["member"] != false || c["from"] != "paid" || c["to"] != "guest" || !slices.Contains(c["why"].([]any), any("group partners: guest")) {
			t.Errorf("remove = %v", rm)
		}
		if w := fmt.Sprint(rm["warnings"]); !strings.Contains(w, addr) || !strings.Contains(w, "guest") {
			t.Errorf("remove warnings = %v", rm["warnings"])
		}
		if end := e.site(t); end != start {
			t.Errorf("site after add and remove: %+v, want %+v", end, start)
		}
		problem(t, e.do(t, "DELETE", memberPath(demo.OrgID, "editors", acct), admin, ""), 404, "remove again")
		if g := mustStatus(t, e.do(t, "GET", groupPath(demo.OrgID, "editors"), admin, ""), 200, "get"); g["memberCount"] != float64(0) {
			t.Errorf("memberCount after remove = %v", g["memberCount"])
		}

		// A group that changes nothing on Confluence converts nobody.
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Jira folk", map[string]string{"jira": "user"})), 201, "create Jira folk")
		j := mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "jira-folk", acct), admin, "{}"), 200, "add to jira")
		if len(j["conversions"].([]any)) != 0 || len(j["warnings"].([]any)) != 0 || j["changes"].([]any)[0].(map[string]any)["after"] != "user" {
			t.Errorf("jira add = %v", j)
		}
		if end := e.site(t); end != start {
			t.Errorf("a jira role moved the Confluence counters: %+v", end)
		}
	})
}

func TestMembershipPastTheGuestLimitIsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		// 3 paid users (the demo's): 15 guest slots, all taken.
		for _, n := range []int{10, 5} {
			addrs := make([]string, n)
			for i := range addrs {
				addrs[i] = unique(fmt.Sprintf("fill%d", i))
			}
			if r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addrs...)); r.status != 200 || r.json(t)["summary"].(map[string]any)["invited"] != float64(n) {
				t.Fatalf("fill: %d %s", r.status, r.body)
			}
		}
		// A user with Jira only: no Confluence seat yet.
		acct, _ := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"jira": map[string]string{"role": "user"}}})
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Visitors", map[string]string{"confluence": "guest"})), 201, "create Visitors")
		full := e.site(t)
		if full.Guests != 15 || full.PaidUsers != 3 || full.GuestSlots != 0 {
			t.Fatalf("site not full: %+v", full)
		}

		p := problem(t, e.do(t, "PUT", memberPath(demo.OrgID, "visitors", acct), admin, ""), 409, "add past the limit")
		if p["type"] != "https://guestaccess.dev/problems/guest-limit" || p["guestLimit"] != float64(15) || p["guests"] != float64(15) ||
			p["paidUsers"] != float64(3) || p["freeGuestSlots"] != float64(0) || p["requested"] != float64(1) {
			t.Errorf("guest-limit problem = %v", p)
		}
		// The direct role is refused the same way.
		p = problem(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", acct), admin, `{"role":"guest"}`), 409, "direct guest past the limit")
		if p["guestLimit"] != float64(15) || p["requested"] != float64(1) {
			t.Errorf("direct guest-limit problem = %v", p)
		}
		if s := e.site(t); s != full {
			t.Errorf("refusals changed the site: %+v -> %+v", full, s)
		}
		if ids := e.listAll(t, membersPath(demo.OrgID, "visitors"), admin, "members", "accountId", 10); len(ids) != 0 {
			t.Errorf("refused add left members %v", ids)
		}
		if m := mustStatus(t, e.do(t, "GET", userGroupsPath(demo.OrgID, acct), admin, ""), 200, "groups"); len(m["groups"].([]any)) != 0 {
			t.Errorf("refused add left groups %v", m)
		}
		if m := mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), admin, ""), 200, "roles"); len(m["roles"].([]any)) != 1 || m["roles"].([]any)[0].(map[string]any)["product"] != "jira" {
			t.Errorf("refused changes left roles %v", m)
		}
		// One more paid user (through a user group) makes room for five: the same add now fits.
		mustStatus(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", acct), admin, `{"role":"user"}`), 200, "make paid")
		if s := e.site(t); s.PaidUsers != 4 || s.GuestSlots != 5 {
			t.Errorf("after a new paid user: %+v", s)
		}
		add := mustStatus(t, e.do(t, "PUT", memberPath(demo.OrgID, "visitors", acct), admin, ""), 200, "add a paid user to a guest group")
		if len(add["conversions"].([]any)) != 0 {
			t.Errorf("a paid user in a guest group converted: %v", add)
		}
		// Dropping the direct role would leave a guest through Visitors: 16
		// guests for 3 paid users. Refused, with the numbers, and nothing changed.
		paid := e.site(t)
		p = problem(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", acct), admin, `{"role":"none"}`), 409, "paid to guest past the limit")
		if p["type"] != "https://guestaccess.dev/problems/guest-limit" || p["paidUsersReleased"] != float64(1) || !strings.Contains(p["detail"].(string), "lowering the limit to 15") {
			t.Errorf("paid to guest problem = %v", p)
		}
		if s := e.site(t); s != paid {
			t.Errorf("refused drop changed the site: %+v -> %+v", paid, s)
		}
		// Out of Visitors first, the same drop leaves nothing: no guest, one paid user less.
		mustStatus(t, e.do(t, "DELETE", memberPath(demo.OrgID, "visitors", acct), admin, ""), 200, "leave Visitors")
		drop := mustStatus(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", acct), admin, `{"role":"none"}`), 200, "drop")
		if c := conversionIn(t, drop); c["from"] != "paid" || c["to"] != "none" || drop["stillGuestVia"] != nil {
			t.Errorf("drop = %v", drop)
		}
		if s := e.site(t); s != full {
			t.Errorf("after the paid user left: %+v, want %+v", s, full)
		}
	})
}

func TestDirectRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		acct, addr := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		start := e.site(t)
		conf := rolePath(demo.OrgID, demo.SiteID, "confluence", acct)

		up := mustStatus(t, e.do(t, "PUT", conf, admin, `{"role":"user"}`), 200, "direct user")
		if up["before"] != "guest" || up["after"] != "user" || up["direct"] != "user" || up["product"] != "confluence" || up["site"] != demo.SiteID {
			t.Errorf("direct user = %v", up)
		}
		if c := conversionIn(t, up); c["from"] != "guest" || c["to"] != "paid" || c["email"] != addr {
			t.Errorf("conversion = %v", c)
		}
		if w := fmt.Sprint(up["warnings"]); !strings.Contains(w, addr) || !strings.Contains(w, "paid user") || !strings.Contains(w, "direct: user") {
			t.Errorf("warnings = %v", up["warnings"])
		}
		if s := e.site(t); s.Guests != start.Guests-1 || s.PaidUsers != start.PaidUsers+1 {
			t.Errorf("site after guest -> paid: %+v -> %+v", start, s)
		}
		// Why: direct and the guest group.
		roles := mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), admin, ""), 200, "roles")
		r0 := roles["roles"].([]any)[0].(map[string]any)
		gs := r0["groups"].([]any)
		if r0["role"] != "user" || r0["direct"] != "user" || r0["kind"] != "paid" || len(gs) != 1 ||
			gs[0].(map[string]any)["id"] != demo.GuestGroup || gs[0].(map[string]any)["role"] != "guest" {
			t.Errorf("roles = %v", roles)
		}

		// None: the effective role stays guest through partners, and the answer says so.
		down := mustStatus(t, e.do(t, "PUT", conf, admin, `{"role":"none"}`), 200, "direct none")
		if down["after"] != "guest" || down["direct"] != "none" || fmt.Sprint(down["stillGuestVia"]) != "[partners]" {
			t.Errorf("direct none = %v", down)
		}
		if c := conversionIn(t, down); c["from"] != "paid" || c["to"] != "guest" {
			t.Errorf("conversion = %v", c)
		}
		if w := fmt.Sprint(down["warnings"]); !strings.Contains(w, "partners") {
			t.Errorf("warnings do not name the guest group: %v", down["warnings"])
		}
		if s := e.site(t); s != start {
			t.Errorf("site after user and back: %+v, want %+v", s, start)
		}
		// The same role again changes nothing and converts nobody.
		same := mustStatus(t, e.do(t, "PUT", conf, admin, `{"role":"none"}`), 200, "none again")
		if same["conversion"] != nil || same["before"] != "guest" || same["after"] != "guest" {
			t.Errorf("none again = %v", same)
		}

		// Jira: no guests there (400, nothing changed); user is fine and bills nothing on Confluence.
		jira := rolePath(demo.OrgID, demo.SiteID, "jira", acct)
		p := problem(t, e.do(t, "PUT", jira, admin, `{"role":"guest"}`), 400, "guest on jira")
		if !strings.Contains(p["detail"].(string), "Confluence") {
			t.Errorf("guest on jira detail = %v", p["detail"])
		}
		j := mustStatus(t, e.do(t, "PUT", jira, admin, `{"role":"user"}`), 200, "jira user")
		if j["conversion"] != nil || j["after"] != "user" || len(j["warnings"].([]any)) != 0 {
			t.Errorf("jira user = %v", j)
		}
		if s := e.site(t); s != start {
			t.Errorf("jira roles moved the Confluence counters: %+v", s)
		}
		roles = mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), admin, ""), 200, "roles")
		if rs := roles["roles"].([]any); len(rs) != 2 || rs[1].(map[string]any)["product"] != "jira" || rs[1].(map[string]any)["kind"] != nil ||
			rs[1].(map[string]any)["direct"] != "user" || len(rs[1].(map[string]any)["groups"].([]any)) != 0 {
			t.Errorf("roles with jira = %v", roles)
		}

		before := e.site(t)
		for _, c := range []struct {
			name, path, body string
			status           int
		}{
			{"unknown role", conf, `{"role":"owner"}`, 400},
			{"no role", conf, `{}`, 400},
			{"unknown field", conf, `{"role":"user","space":"x"}`, 400},
			{"role of the wrong type", conf, `{"role":1}`, 400},
			{"unknown product", rolePath(demo.OrgID, demo.SiteID, "trello", acct), `{"role":"user"}`, 404},
			{"unknown site", rolePath(demo.OrgID, "nosite", "confluence", acct), `{"role":"user"}`, 404},
			{"unknown user", rolePath(demo.OrgID, demo.SiteID, "confluence", "nobody-"+domain.NewID()[:6]), `{"role":"user"}`, 404},
			{"unknown user's roles", userRolesPath(demo.OrgID, "nobody-"+domain.NewID()[:6]), "", 404},
		} {
			method := "PUT"
			if c.body == "" {
				method = "GET"
			}
			problem(t, e.do(t, method, c.path, admin, c.body), c.status, c.name)
		}
		if s := e.site(t); s != before {
			t.Errorf("bad input changed the site: %+v -> %+v", before, s)
		}
	})
}

func TestGroupsAndRolesAuthorisation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		acct, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		before := e.site(t)
		siteAdmin, plain, foreign := e.token(t, demo.SiteAdminID), e.token(t, demo.PlainUserID), e.token(t, demo.OtherAdminID)
		jira := rolePath(demo.OrgID, demo.SiteID, "jira", acct)

		// A site admin manages roles on their site, reads roles, but not groups.
		if r := mustStatus(t, e.do(t, "PUT", jira, siteAdmin, `{"role":"user"}`), 200, "site admin sets a role"); r["after"] != "user" {
			t.Errorf("site admin role = %v", r)
		}
		mustStatus(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), siteAdmin, ""), 200, "site admin reads roles")
		for _, c := range []struct{ method, path, body string }{
			{"POST", groupsPath(demo.OrgID), `{"name":"By a site admin"}`},
			{"GET", groupsPath(demo.OrgID), ""},
			{"GET", groupPath(demo.OrgID, demo.GuestGroup), ""},
			{"PATCH", groupPath(demo.OrgID, demo.GuestGroup), `{"name":"Renamed"}`},
			{"GET", membersPath(demo.OrgID, demo.GuestGroup), ""},
			{"PUT", memberPath(demo.OrgID, demo.PaidGroup, acct), ""},
			{"DELETE", memberPath(demo.OrgID, demo.GuestGroup, acct), ""},
			{"GET", userGroupsPath(demo.OrgID, acct), ""},
		} {
			problem(t, e.do(t, c.method, c.path, siteAdmin, c.body), 403, "site admin "+c.method+" "+c.path)
			problem(t, e.do(t, c.method, c.path, plain, c.body), 403, "plain user "+c.method+" "+c.path)
			// Another org's admin learns nothing: the same 404 as a missing org.
			f := problem(t, e.do(t, c.method, c.path, foreign, c.body), 404, "other org's admin "+c.method+" "+c.path)
			missing := problem(t, e.do(t, c.method, strings.Replace(c.path, "/orgs/"+demo.OrgID+"/", "/orgs/no-such-org/", 1), foreign, c.body), 404, "missing org")
			if f["detail"] != missing["detail"] {
				t.Errorf("%s %s: other org %q, missing org %q", c.method, c.path, f["detail"], missing["detail"])
			}
			problem(t, e.do(t, c.method, c.path, "", c.body), 401, "no token "+c.method+" "+c.path)
		}
		problem(t, e.do(t, "PUT", jira, plain, `{"role":"admin"}`), 403, "plain user sets a role")
		problem(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), plain, ""), 403, "plain user reads roles")
		problem(t, e.do(t, "PUT", jira, foreign, `{"role":"admin"}`), 404, "other org's admin sets a role")
		problem(t, e.do(t, "GET", userRolesPath(demo.OrgID, acct), foreign, ""), 404, "other org's admin reads roles")
		// A site admin has no power on another org's site either.
		problem(t, e.do(t, "PUT", rolePath(demo.OtherOrgID, "docs", "jira", demo.OtherAdminID), siteAdmin, `{"role":"none"}`), 404, "site admin on another org")

		// A product admin manages that product's roles on the site, and no other.
		mustStatus(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "jira", demo.PlainUserID), admin, `{"role":"admin"}`), 200, "make alice a Jira admin")
		if r := mustStatus(t, e.do(t, "PUT", jira, plain, `{"role":"none"}`), 200, "Jira admin sets a Jira role"); r["after"] != "none" {
			t.Errorf("Jira admin's change = %v", r)
		}
		problem(t, e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", acct), plain, `{"role":"user"}`), 403, "Jira admin sets a Confluence role")

		if s := e.site(t); s != before {
			t.Errorf("refused requests changed the site: %+v -> %+v", before, s)
		}
		if ids := e.listAll(t, groupsPath(demo.OrgID), admin, "groups", "id", 100); !slices.Equal(ids, []string{demo.GuestGroup, demo.PaidGroup}) {
			t.Errorf("groups after refusals = %v", ids)
		}
		if g := mustStatus(t, e.do(t, "GET", groupPath(demo.OrgID, demo.GuestGroup), admin, ""), 200, "partners"); g["name"] != demo.GuestGroup || g["memberCount"] != float64(1) {
			t.Errorf("partners after refusals = %v", g)
		}
	})
}

// TestGroupsIdempotencyKeys: a retried create and a retried membership add
// with the same Idempotency-Key replay the first answer and change nothing.
func TestGroupsIdempotencyKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		key := "group-" + domain.NewID()
		body := groupBody("Retried", map[string]string{"confluence": "user"})
		first := e.do(t, "POST", groupsPath(demo.OrgID), admin, body, "Idempotency-Key", key)
		second := e.do(t, "POST", groupsPath(demo.OrgID), admin, body, "Idempotency-Key", key)
		if first.status != 201 || second.status != 201 || second.header.Get("Idempotent-Replayed") != "true" ||
			string(first.body) != string(second.body) || second.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("create retried: %d %v %s / %d %v %s", first.status, first.header, first.body, second.status, second.header, second.body)
		}
		acct, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		start := e.site(t)
		addKey := "add-" + domain.NewID()
		a1 := e.do(t, "PUT", memberPath(demo.OrgID, "retried", acct), admin, "", "Idempotency-Key", addKey)
		a2 := e.do(t, "PUT", memberPath(demo.OrgID, "retried", acct), admin, "", "Idempotency-Key", addKey)
		if a1.status != 200 || a2.status != 200 || a2.header.Get("Idempotent-Replayed") != "true" || string(a1.body) != string(a2.body) {
			t.Fatalf("add retried: %d %s / %d %s", a1.status, a1.body, a2.status, a2.body)
		}
		if s := e.site(t); s.PaidUsers != start.PaidUsers+1 || s.Guests != start.Guests-1 {
			t.Errorf("retried add converted %+v -> %+v", start, s)
		}
		// The same key on another member is another request: refused, nothing done.
		other, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		problem(t, e.do(t, "PUT", memberPath(demo.OrgID, "retried", other), admin, "", "Idempotency-Key", addKey), 422, "key reused")
		if ids := e.listAll(t, membersPath(demo.OrgID, "retried"), admin, "members", "accountId", 10); !slices.Equal(ids, []string{acct}) {
			t.Errorf("members = %v", ids)
		}
	})
}
