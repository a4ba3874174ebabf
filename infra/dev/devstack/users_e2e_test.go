package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
)

func userPath(org, acct string) string   { return "/orgs/" + org + "/users/" + acct }
func statusPath(org, acct string) string { return userPath(org, acct) + "/status" }
func revokePath(org, site, id string) string {
	return invitePath(org, site) + "/" + id + "/revoke"
}

// items scans the stack's table (tests only).
func (e *env) items(t *testing.T) []map[string]types.AttributeValue {
	return testenv.ScanAll(t, e.DB, e.Store.Table())
}

func attr(it map[string]types.AttributeValue, k string) string {
	switch v := it[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

// countersMatchItems holds every site's counters and every group's member
// count against the access and member items.
func (e *env) countersMatchItems(t *testing.T) {
	t.Helper()
	items := e.items(t)
	paid, guests, members := map[string]int{}, map[string]int{}, map[string]int{}
	for _, it := range items {
		switch attr(it, "type") {
		case "access":
			if attr(it, "product") == "confluence" {
				k := attr(it, "orgId") + "/" + attr(it, "siteId")
				switch attr(it, "effective") {
				case "guest":
					guests[k]++
				case "user", "admin":
					paid[k]++
				}
			}
		case "member":
			members[attr(it, "orgId")+"/"+attr(it, "group")]++
		}
	}
	for _, it := range items {
		switch attr(it, "type") {
		case "site":
			k := attr(it, "orgId") + "/" + attr(it, "siteId")
			if attr(it, "paidUsers") != fmt.Sprint(paid[k]) || attr(it, "guests") != fmt.Sprint(guests[k]) || attr(it, "guestSlots") != fmt.Sprint(5*paid[k]-guests[k]) {
				t.Errorf("site %s: paid=%s guests=%s slots=%s; items say paid=%d guests=%d", k, attr(it, "paidUsers"), attr(it, "guests"), attr(it, "guestSlots"), paid[k], guests[k])
			}
		case "group":
			k := attr(it, "orgId") + "/" + attr(it, "groupId")
			if attr(it, "memberCount") != fmt.Sprint(members[k]) {
				t.Errorf("group %s: memberCount=%s, %d member items", k, attr(it, "memberCount"), members[k])
			}
		}
	}
}

// inviteGuestTo invites addr as a Confluence guest (with groups) and returns
// its account id, invitation id and accept link.
func (e *env) inviteGuestTo(t *testing.T, addr string, groups ...string) (string, string, string) {
	t.Helper()
	body := map[string]any{"emails": []string{addr}, "products": map[string]any{"confluence": map[string]string{"role": "guest"}}}
	if len(groups) > 0 {
		body["groups"] = groups
	}
	b, _ := json.Marshal(body)
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), string(b))
	res := results(t, r)
	if r.status != 200 && r.status != 207 || len(res) != 1 || res[0]["status"] != "invited" {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	link, ok := mailbox.FindLink(e.mailTo(t, addr)[0].Text, e.URL+"/invitations/accept?token=")
	if !ok {
		t.Fatal("no accept link")
	}
	return res[0]["accountId"].(string), res[0]["invitationId"].(string), link
}

// rules §6: removing Confluence access (direct role none) takes a guest off the
// guest list and clears their space, unless a group still makes them a
// guest: then the answer names the group and the space stays.
func TestDirectRoleNoneRemovesAGuest(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, demo.AdminID)
		role := rolePath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID)
		guests0 := e.site(t).Guests
		// Gus is also in the guest group: role none keeps him a guest.
		if r := e.do(t, "PUT", memberPath(demo.OrgID, demo.GuestGroup, demo.GuestID), admin, ""); r.status != 200 {
			t.Fatalf("add member: %d %s", r.status, r.body)
		}
		r := e.do(t, "PUT", role, admin, `{"role":"none"}`)
		if r.status != 200 {
			t.Fatalf("role none: %d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["after"] != "guest" || fmt.Sprint(m["stillGuestVia"]) != "["+demo.GuestGroup+"]" || !strings.Contains(fmt.Sprint(m["warnings"]), demo.GuestGroup) {
			t.Errorf("answer: %s", r.body)
		}
		if a, err := e.Store.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence); err != nil || a.Effective != domain.RoleGuest || a.Space != demo.SpaceMKT {
			t.Errorf("still a guest via the group, in MKT: %+v %v", a, err)
		}
		if g := e.site(t).Guests; g != guests0 {
			t.Errorf("guests %d → %d", guests0, g)
		}
		// Direct guest again, out of the group, then role none: gone.
		if r := e.do(t, "PUT", role, admin, `{"role":"guest"}`); r.status != 200 {
			t.Fatalf("role guest: %d %s", r.status, r.body)
		}
		if r := e.do(t, "DELETE", memberPath(demo.OrgID, demo.GuestGroup, demo.GuestID), admin, ""); r.status != 200 {
			t.Fatalf("remove member: %d %s", r.status, r.body)
		}
		if a, _ := e.Store.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence); a.Space != demo.SpaceMKT {
			t.Errorf("space lost on the way: %+v", a)
		}
		r = e.do(t, "PUT", role, admin, `{"role":"none"}`)
		if r.status != 200 || r.json(t)["after"] != "none" || r.json(t)["stillGuestVia"] != nil {
			t.Fatalf("role none: %d %s", r.status, r.body)
		}
		if _, err := e.Store.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("the access item stays: %v", err)
		}
		for _, it := range e.items(t) {
			if attr(it, "type") == "access" && attr(it, "accountId") == demo.GuestID {
				t.Errorf("gus still listed: GSI1 %s GSI2 %s", attr(it, "GSI1PK"), attr(it, "GSI2PK"))
			}
		}
		if g := e.site(t).Guests; g != guests0-1 {
			t.Errorf("guests %d → %d", guests0, g)
		}
		e.countersMatchItems(t)
	})
}

func TestRemoveUserFromOrg(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, demo.AdminID)
		addr := unique("leaver")
		acct, _, link := e.inviteGuestTo(t, addr, demo.GuestGroup)
		e.countersMatchItems(t)
		before := len(e.items(t))
		for _, c := range []struct {
			name, caller, org, account string
			status                     int
		}{
			{"site admin", demo.SiteAdminID, demo.OrgID, acct, 403},
			{"space admin", demo.SpaceAdminID, demo.OrgID, acct, 403},
			{"guest", demo.GuestID, demo.OrgID, acct, 403},
			{"yourself", demo.AdminID, demo.OrgID, demo.AdminID, 409},
			{"unknown", demo.AdminID, demo.OrgID, "nobody", 404},
			{"another org", demo.OtherAdminID, demo.OrgID, acct, 404},
			{"user of another org", demo.AdminID, demo.OtherOrgID, acct, 404},
		} {
			if r := e.do(t, "DELETE", userPath(c.org, c.account), e.token(t, c.caller), ""); r.status != c.status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %d %s", c.name, r.status, r.body)
			}
		}
		tok, _ := e.ProductToken("confluence")
		if r := e.do(t, "DELETE", userPath(demo.OrgID, acct), tok, ""); r.status != 403 {
			t.Errorf("a product's token: %d", r.status)
		}
		if after := len(e.items(t)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		guests := e.site(t).Guests
		r := e.do(t, "DELETE", userPath(demo.OrgID, acct), admin, "")
		if r.status != 200 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["email"] != addr || fmt.Sprint(m["groups"]) != "["+demo.GuestGroup+"]" || m["transactions"] != float64(1) {
			t.Errorf("answer: %s", r.body)
		}
		if g := e.site(t).Guests; g != guests-1 {
			t.Errorf("guests %d → %d", guests, g)
		}
		e.countersMatchItems(t)
		if _, err := e.Store.User(ctx, demo.OrgID, acct); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("profile stays: %v", err)
		}
		// The pending link no longer works.
		tokParam := strings.TrimPrefix(link, e.URL+"/invitations/accept?token=")
		if p := e.do(t, "GET", "/invitations/accept?token="+tokParam, "", ""); p.status != 404 {
			t.Errorf("accept page of a removed invitee: %d", p.status)
		}
		if p := e.do(t, "POST", "/invitations/accept", "", "token="+tokParam, "Content-Type", "application/x-www-form-urlencoded"); p.status != 404 {
			t.Errorf("accept of a removed invitee: %d", p.status)
		}
		// The address can be invited again; removing twice is a 404.
		e.inviteGuestTo(t, addr)
		if r := e.do(t, "DELETE", userPath(demo.OrgID, acct), admin, ""); r.status != 404 {
			t.Errorf("second removal: %d", r.status)
		}
		// A paid user: the limit goes down, no guest is deleted.
		s0 := e.site(t)
		if r := e.do(t, "DELETE", userPath(demo.OrgID, demo.SpaceAdminID), admin, ""); r.status != 200 {
			t.Fatalf("remove paid user: %d %s", r.status, r.body)
		}
		if s := e.site(t); s.PaidUsers != s0.PaidUsers-1 || s.Guests != s0.Guests || s.GuestSlots != s0.GuestSlots-5 {
			t.Errorf("site %+v → %+v", s0, s)
		}
		e.countersMatchItems(t)
	})
}

func TestSuspendAndRestoreUser(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, demo.AdminID)
		s0 := e.site(t)
		r := e.do(t, "PUT", statusPath(demo.OrgID, demo.GuestID), admin, `{"status":"suspended"}`)
		if r.status != 200 || r.json(t)["status"] != "suspended" {
			t.Fatalf("suspend: %d %s", r.status, r.body)
		}
		if u, _ := e.Store.User(ctx, demo.OrgID, demo.GuestID); u.Status != domain.UserSuspended {
			t.Errorf("status %s", u.Status)
		}
		if a, err := e.Store.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence); err != nil || a.Space != demo.SpaceMKT {
			t.Errorf("a suspended guest keeps access and space: %+v %v", a, err)
		}
		if s := e.site(t); s.Guests != s0.Guests || s.PaidUsers != s0.PaidUsers {
			t.Errorf("suspension moved the counters: %+v → %+v", s0, s)
		}
		addr := unique("pending")
		pending, _, _ := e.inviteGuestTo(t, addr)
		before := len(e.items(t))
		for _, c := range []struct {
			name, caller, account, body string
			status                      int
		}{
			{"site admin", demo.SiteAdminID, demo.GuestID, `{"status":"active"}`, 403},
			{"product admin", demo.ProductAdminID, demo.GuestID, `{"status":"active"}`, 403},
			{"yourself", demo.AdminID, demo.AdminID, `{"status":"suspended"}`, 409},
			{"pending invitee", demo.AdminID, pending, `{"status":"active"}`, 409},
			{"bad status", demo.AdminID, demo.GuestID, `{"status":"invited"}`, 400},
			{"no status", demo.AdminID, demo.GuestID, `{}`, 400},
			{"unknown", demo.AdminID, "nobody", `{"status":"active"}`, 404},
			{"another org", demo.OtherAdminID, demo.GuestID, `{"status":"active"}`, 404},
		} {
			if r := e.do(t, "PUT", statusPath(demo.OrgID, c.account), e.token(t, c.caller), c.body); r.status != c.status {
				t.Errorf("%s: %d %s", c.name, r.status, r.body)
			}
		}
		if after := len(e.items(t)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		if r := e.do(t, "PUT", statusPath(demo.OrgID, demo.GuestID), admin, `{"status":"active"}`); r.status != 200 || r.json(t)["status"] != "active" {
			t.Errorf("restore: %d %s", r.status, r.body)
		}
		e.countersMatchItems(t)
	})
}

func TestRevokeInvitationReleasesTheInvitee(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		addr := unique("revoked")
		acct, invID, link := e.inviteGuestTo(t, addr, demo.GuestGroup)
		g0, _ := e.Store.Group(ctx, demo.OrgID, demo.GuestGroup)
		s0 := e.site(t)
		before := len(e.items(t))
		for _, c := range []struct {
			name, caller, site, id string
			status                 int
		}{
			{"paid user", demo.PlainUserID, demo.SiteID, invID, 403},
			{"space admin", demo.SpaceAdminID, demo.SiteID, invID, 403},
			{"product admin", demo.ProductAdminID, demo.SiteID, invID, 403},
			{"another org", demo.OtherAdminID, demo.SiteID, invID, 404},
			{"unknown", demo.AdminID, demo.SiteID, "nope", 404},
			{"another site", demo.AdminID, "elsewhere", invID, 404},
		} {
			if r := e.do(t, "POST", revokePath(demo.OrgID, c.site, c.id), e.token(t, c.caller), ""); r.status != c.status {
				t.Errorf("%s: %d %s", c.name, r.status, r.body)
			}
		}
		if after := len(e.items(t)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		r := e.do(t, "POST", revokePath(demo.OrgID, demo.SiteID, invID), e.token(t, demo.SiteAdminID), "")
		if r.status != 200 || r.json(t)["status"] != "revoked" {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if s := e.site(t); s.Guests != s0.Guests-1 || s.GuestSlots != s0.GuestSlots+1 {
			t.Errorf("site %+v → %+v", s0, s)
		}
		if g, _ := e.Store.Group(ctx, demo.OrgID, demo.GuestGroup); g.MemberCount != g0.MemberCount-1 {
			t.Errorf("memberCount %d → %d", g0.MemberCount, g.MemberCount)
		}
		if _, err := e.Store.User(ctx, demo.OrgID, acct); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("the invited account stays: %v", err)
		}
		if inv, err := e.Store.InvitationByID(ctx, demo.OrgID, demo.SiteID, invID); err != nil || inv.Status != domain.InvitationRevoked {
			t.Errorf("the invitation record: %+v %v", inv, err)
		}
		e.countersMatchItems(t)
		// The link answers the revoked page at once, GET and POST.
		tok := strings.TrimPrefix(link, e.URL+"/invitations/accept?token=")
		if p := e.do(t, "GET", "/invitations/accept?token="+tok, "", ""); p.status != 410 || !strings.Contains(string(p.body), "withdrawn") {
			t.Errorf("accept page: %d %s", p.status, p.body)
		}
		tokValue, _ := url.QueryUnescape(tok)
		if p := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(tokValue), "Content-Type", "application/x-www-form-urlencoded"); p.status != 410 {
			t.Errorf("accept: %d", p.status)
		}
		// Revoked, accepted: 409 and nothing changes.
		before = len(e.items(t))
		if r := e.do(t, "POST", revokePath(demo.OrgID, demo.SiteID, invID), e.token(t, demo.AdminID), ""); r.status != 409 {
			t.Errorf("revoking twice: %d %s", r.status, r.body)
		}
		if after := len(e.items(t)); after != before {
			t.Errorf("revoking twice wrote: %d items, were %d", after, before)
		}
		addr2 := unique("accepted")
		_, inv2, link2 := e.inviteGuestTo(t, addr2)
		tok2, _ := url.QueryUnescape(strings.TrimPrefix(link2, e.URL+"/invitations/accept?token="))
		if p := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(tok2), "Content-Type", "application/x-www-form-urlencoded"); p.status != 200 {
			t.Fatalf("accept: %d %s", p.status, p.body)
		}
		before = len(e.items(t))
		if r := e.do(t, "POST", revokePath(demo.OrgID, demo.SiteID, inv2), e.token(t, demo.AdminID), ""); r.status != 409 {
			t.Errorf("revoking an accepted invitation: %d %s", r.status, r.body)
		}
		if after := len(e.items(t)); after != before {
			t.Errorf("the refused revoke wrote: %d items, were %d", after, before)
		}
		// The address can be invited again.
		e.inviteGuestTo(t, addr)
		e.countersMatchItems(t)
	})
}
