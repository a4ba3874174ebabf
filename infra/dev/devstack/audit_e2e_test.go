package devstack_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
)

func auditPath(org string) string { return "/orgs/" + org + "/audit" }

// auditEntries reads one page (up to 100) of the org's audit log with the
// query given.
func (e *env) auditEntries(t *testing.T, token, query string) []map[string]any {
	t.Helper()
	sep := "?"
	if query != "" {
		sep = "&"
	}
	m := mustStatus(t, e.do(t, "GET", auditPath(demo.OrgID)+query+sep+"limit=100", token, ""), 200, "audit"+query)
	var out []map[string]any
	items, _ := m["entries"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any))
	}
	return out
}

// change is one administrative change made through the API and the audit
// entry it must leave: who, what, on what, in the request of r (its
// x-amzn-RequestId).
type change struct {
	r                     response
	actor, action, target string
}

// auditedChanges lists every administrative change of the API, each made
// from scratch by an org admin (token admin). Add a row for each new
// changing route.
var auditedChanges = []struct {
	name string
	make func(t *testing.T, e *env, admin string) change
}{
	{"invite", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("hi", unique("audit-invite")))
		id, _ := results(t, r)[0]["accountId"].(string)
		return change{r, demo.AdminID, domain.ActionInvitationCreate, domain.UserTarget(id)}
	}},
	{"accept", func(t *testing.T, e *env, admin string) change {
		id, addr := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"confluence": map[string]string{"role": "guest"}}})
		r := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(e.acceptLink(t, addr)), "Content-Type", "application/x-www-form-urlencoded")
		return change{r, id, domain.ActionInvitationAccept, domain.UserTarget(id)}
	}},
	{"verify", func(t *testing.T, e *env, admin string) change {
		// A test policy with two-step on naming the new guest (the policy
		// routes are another part of the API: written directly here).
		id, addr := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"confluence": map[string]string{"role": "guest"}}})
		acc := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(e.acceptLink(t, addr)), "Content-Type", "application/x-www-form-urlencoded")
		if acc.status != 200 {
			t.Fatalf("accept: %d", acc.status)
		}
		e.testPolicyTwoStep(t, demo.OrgID, id)
		e.form(t, verifyPath(demo.OrgID), url.Values{"action": {"send"}, "email": {addr}})
		r := e.form(t, verifyPath(demo.OrgID), url.Values{"action": {"verify"}, "email": {addr}, "code": {e.passcode(t, addr, 2)}})
		return change{r, id, domain.ActionUserVerify, domain.UserTarget(id)}
	}},
	{"group create", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Audit Create", nil))
		return change{r, demo.AdminID, "group.create", domain.GroupTarget("audit-create")}
	}},
	{"group rename", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Audit Rename", nil)), 201, "create")
		r := e.do(t, "PATCH", groupPath(demo.OrgID, "audit-rename"), admin, `{"name":"Audit Renamed"}`)
		return change{r, demo.AdminID, "group.rename", domain.GroupTarget("audit-rename")}
	}},
	{"member add", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", memberPath(demo.OrgID, demo.PaidGroup, demo.PlainUserID), admin, "")
		return change{r, demo.AdminID, "group.member.add", domain.UserTarget(demo.PlainUserID)}
	}},
	{"member remove", func(t *testing.T, e *env, admin string) change {
		id, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		r := e.do(t, "DELETE", memberPath(demo.OrgID, demo.GuestGroup, id), admin, "")
		return change{r, demo.AdminID, "group.member.remove", domain.UserTarget(id)}
	}},
	{"group role job", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Audit Role", nil)), 201, "create")
		r := e.do(t, "PUT", groupRolePath(demo.OrgID, "audit-role", demo.SiteID, "confluence"), admin, `{"role":"user"}`)
		if r.status == 202 {
			e.waitJob(t, admin, r.header.Get("Location"))
		}
		return change{r, demo.AdminID, "group.role", domain.GroupTarget("audit-role")}
	}},
	{"group delete", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody("Audit Delete", nil)), 201, "create")
		r := e.do(t, "DELETE", groupPath(demo.OrgID, "audit-delete"), admin, "")
		if r.status == 202 {
			e.waitJob(t, admin, r.header.Get("Location"))
		}
		return change{r, demo.AdminID, "group.delete", domain.GroupTarget("audit-delete")}
	}},
	{"direct role", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "jira", demo.PlainUserID), admin, `{"role":"user"}`)
		return change{r, demo.AdminID, "role.direct", domain.UserTarget(demo.PlainUserID)}
	}},
	{"space create", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", auditSite+"/spaces", admin, `{"key":"AUD","name":"Audited"}`)
		return change{r, demo.AdminID, domain.ActionSpaceCreate, domain.SpaceTarget(demo.SiteID, "AUD")}
	}},
	{"space update", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PATCH", auditSite+"/spaces/"+demo.SpaceMKT, admin, `{"name":"Marketing team"}`)
		return change{r, demo.AdminID, domain.ActionSpaceUpdate, domain.SpaceTarget(demo.SiteID, demo.SpaceMKT)}
	}},
	{"space admin add", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", auditSite+"/spaces/"+demo.SpaceENG+"/admins/"+demo.PlainUserID, admin, "")
		return change{r, demo.AdminID, domain.ActionSpaceAdminAdd, domain.SpaceTarget(demo.SiteID, demo.SpaceENG)}
	}},
	{"space admin remove", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "DELETE", auditSite+"/spaces/"+demo.SpaceENG+"/admins/"+demo.OtherSpaceAdminID, admin, "")
		return change{r, demo.AdminID, domain.ActionSpaceAdminRemove, domain.SpaceTarget(demo.SiteID, demo.SpaceENG)}
	}},
	{"guest space assign", func(t *testing.T, e *env, admin string) change {
		id, _ := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"confluence": map[string]string{"role": "guest"}}})
		r := e.do(t, "PUT", auditSite+"/guests/"+id+"/space", admin, `{"space":"ENG"}`)
		return change{r, demo.AdminID, domain.ActionGuestSpaceAssign, domain.UserTarget(id)}
	}},
	{"guest space move", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", auditSite+"/guests/"+demo.GuestID+"/space", admin, `{"space":"ENG","move":true}`)
		return change{r, demo.AdminID, domain.ActionGuestSpaceMove, domain.UserTarget(demo.GuestID)}
	}},
	{"guest space unassign", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "DELETE", auditSite+"/guests/"+demo.GuestID+"/space", admin, "")
		return change{r, demo.AdminID, domain.ActionGuestSpaceRemove, domain.UserTarget(demo.GuestID)}
	}},
	{"user suspend", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", "/orgs/"+demo.OrgID+"/users/"+demo.PlainUserID+"/status", admin, `{"status":"suspended"}`)
		return change{r, demo.AdminID, domain.ActionUserStatus, domain.UserTarget(demo.PlainUserID)}
	}},
	{"user remove", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "DELETE", "/orgs/"+demo.OrgID+"/users/"+demo.SpaceAdminID, admin, "")
		return change{r, demo.AdminID, domain.ActionUserRemove, domain.UserTarget(demo.SpaceAdminID)}
	}},
	{"invitation revoke", func(t *testing.T, e *env, admin string) change {
		inv := e.invitationID(t, admin)
		r := e.do(t, "POST", auditSite+"/invitations/"+inv+"/revoke", admin, "")
		return change{r, demo.AdminID, domain.ActionInvitationRevoke, domain.InvitationTarget(inv)}
	}},
	{"invitation resend", func(t *testing.T, e *env, admin string) change {
		inv := e.invitationID(t, admin)
		e.clock.Add(61) // past the resend rate limit
		r := e.do(t, "POST", auditSite+"/invitations/"+inv+"/resend", admin, "")
		return change{r, demo.AdminID, invitations.ActionInvitationResend, domain.InvitationTarget(inv)}
	}},
	{"external policy", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", "/orgs/"+demo.OrgID+"/external-policy", admin, `{"twoStepVerification":"on","verifyEvery":{"days":7},"apiTokens":"allowed"}`)
		return change{r, demo.AdminID, domain.ActionPolicyUpdate, domain.OrgTarget(demo.OrgID)}
	}},
	{"test policy", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", "/orgs/"+demo.OrgID+"/external-policy/test", admin, `{"twoStepVerification":"on","verifyEvery":"once","apiTokens":"blocked","users":["`+demo.GuestID+`"]}`)
		return change{r, demo.AdminID, domain.ActionTestPolicyUpdate, domain.OrgTarget(demo.OrgID)}
	}},
	{"test policy clear", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "PUT", "/orgs/"+demo.OrgID+"/external-policy/test", admin, `{"twoStepVerification":"on","verifyEvery":{"days":1},"apiTokens":"blocked","users":["`+demo.GuestID+`"]}`), 200, "set")
		r := e.do(t, "DELETE", "/orgs/"+demo.OrgID+"/external-policy/test", admin, "")
		return change{r, demo.AdminID, domain.ActionTestPolicyClear, domain.OrgTarget(demo.OrgID)}
	}},
	{"reset sessions", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", "/orgs/"+demo.OrgID+"/external-users/reset-sessions", admin, "")
		return change{r, demo.AdminID, domain.ActionSessionsReset, domain.OrgTarget(demo.OrgID)}
	}},
	{"reset user session", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", "/orgs/"+demo.OrgID+"/users/"+demo.GuestID+"/reset-session", admin, "")
		return change{r, demo.AdminID, domain.ActionUserSessionReset, domain.UserTarget(demo.GuestID)}
	}},
	{"domain add", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "PUT", "/orgs/"+demo.OrgID+"/domains/audit.example", admin, "")
		return change{r, demo.AdminID, domain.ActionDomainAdd, domain.OrgTarget(demo.OrgID)}
	}},
	{"domain verify", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "PUT", "/orgs/"+demo.OrgID+"/domains/audit-verify.example", admin, ""), 200, "claim domain")
		if _, _, err := e.PublishChallenge(context.Background(), demo.OrgID, "audit-verify.example"); err != nil {
			t.Fatal(err)
		}
		r := e.do(t, "POST", "/orgs/"+demo.OrgID+"/domains/audit-verify.example/check", admin, "")
		return change{r, demo.AdminID, domain.ActionDomainVerify, domain.OrgTarget(demo.OrgID)}
	}},
	{"domain remove", func(t *testing.T, e *env, admin string) change {
		mustStatus(t, e.do(t, "PUT", "/orgs/"+demo.OrgID+"/domains/audit-remove.example", admin, ""), 200, "add domain")
		r := e.do(t, "DELETE", "/orgs/"+demo.OrgID+"/domains/audit-remove.example", admin, "")
		return change{r, demo.AdminID, domain.ActionDomainRemove, domain.OrgTarget(demo.OrgID)}
	}},
	{"external users export job", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", "/orgs/"+demo.OrgID+"/external-users/exports", admin, "")
		return change{r, demo.AdminID, domain.ActionExternalUsersExport, domain.OrgTarget(demo.OrgID)}
	}},
	{"external users export (inline, a read)", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "GET", "/orgs/"+demo.OrgID+"/external-users/export", admin, "")
		return change{r, demo.AdminID, domain.ActionExternalUsersExport, domain.OrgTarget(demo.OrgID)}
	}},
	{"api token create", func(t *testing.T, e *env, admin string) change {
		r := e.do(t, "POST", apiTokensPath(demo.OrgID, demo.AdminID), admin, `{"label":"audit"}`)
		return change{r, demo.AdminID, domain.ActionAPITokenCreate, domain.UserTarget(demo.AdminID)}
	}},
	{"api token revoke", func(t *testing.T, e *env, admin string) change {
		made := e.do(t, "POST", apiTokensPath(demo.OrgID, demo.GuestID), e.token(t, demo.GuestID), `{"label":"audit"}`)
		if made.status != 201 {
			t.Fatalf("create: %d %s", made.status, made.body)
		}
		r := e.do(t, "DELETE", apiTokensPath(demo.OrgID, demo.GuestID)+"/"+made.json(t)["id"].(string), admin, "")
		return change{r, demo.AdminID, domain.ActionAPITokenRevoke, domain.UserTarget(demo.GuestID)}
	}},
}

// auditSite is the demo site's path.
const auditSite = "/orgs/" + demo.OrgID + "/sites/" + demo.SiteID

// invitationID invites a fresh guest and returns the invitation's id.
func (e *env) invitationID(t *testing.T, admin string) string {
	t.Helper()
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", unique("audit")))
	if r.status != 200 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	return results(t, r)[0]["invitationId"].(string)
}

// TestEveryChangeIsAudited makes each administrative change through the API
// and reads its entry back through the audit route: by target, by actor and
// in the whole log, with the change's actor, action, target and request id.
func TestEveryChangeIsAudited(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		for _, c := range auditedChanges {
			t.Run(c.name, func(t *testing.T) {
				ch := c.make(t, e, admin)
				if ch.r.status >= 300 {
					t.Fatalf("the change failed: %d %s", ch.r.status, ch.r.body)
				}
				reqID := ch.r.header.Get(devstack.RequestIDHeader)
				if reqID == "" {
					t.Fatal("no request id on the answer")
				}
				for _, q := range []string{"?target=" + url.QueryEscape(ch.target), "?actor=" + url.QueryEscape(ch.actor), ""} {
					found := 0
					for _, a := range e.auditEntries(t, admin, q) {
						if a["requestId"] == reqID && a["action"] == ch.action {
							found++
							if a["actor"] != ch.actor || a["target"] != ch.target || a["id"] == "" || a["at"] == "" {
								t.Errorf("%s: entry %v, want actor %s target %s", q, a, ch.actor, ch.target)
							}
						}
					}
					if found != 1 {
						t.Errorf("%s: %d entries of %s in request %s, want 1", q, found, ch.action, reqID)
					}
				}
			})
		}
	})
}

// TestAuditLogReads: the log is newest first and pages cover it once; who
// may read it (org admins only); bad filters, dates and cursors are
// problems.
func TestAuditLogReads(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		for i := range 3 {
			mustStatus(t, e.do(t, "POST", groupsPath(demo.OrgID), admin, groupBody(fmt.Sprintf("Log %d", i), nil)), 201, "create")
		}
		all := e.auditEntries(t, admin, "")
		for i := 1; i < len(all); i++ {
			if all[i-1]["at"].(string) < all[i]["at"].(string) && len(all[i-1]["at"].(string)) == len(all[i]["at"].(string)) {
				t.Errorf("not newest first: %v before %v", all[i-1]["at"], all[i]["at"])
			}
		}
		if len(all) < 3 || all[0]["target"] != domain.GroupTarget("log-2") {
			t.Fatalf("newest entry %v", all[0])
		}
		if ids := e.listAll(t, auditPath(demo.OrgID), admin, "entries", "id", 2); len(ids) != len(all) {
			t.Errorf("pages of 2 give %d entries, one page %d", len(ids), len(all))
		}
		mine := e.auditEntries(t, admin, "?actor="+demo.AdminID+"&target="+url.QueryEscape(domain.GroupTarget("log-1")))
		if len(mine) != 1 || mine[0]["action"] != "group.create" {
			t.Errorf("actor and target: %v", mine)
		}
		if got := e.auditEntries(t, admin, "?to="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))); len(got) != 0 {
			t.Errorf("up to an hour ago (everything is newer): %v", got)
		}
		// A window that ends before it starts selects nothing (the OpenAPI
		// document cannot say from <= to, so it is not a 400).
		if got := e.auditEntries(t, admin, "?from="+url.QueryEscape(time.Now().Format(time.RFC3339))+"&to="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))); len(got) != 0 {
			t.Errorf("an inverted window: %v", got)
		}
		for who, want := range map[string]int{demo.SiteAdminID: 403, demo.ProductAdminID: 403, demo.PlainUserID: 403, demo.GuestID: 403, demo.OtherAdminID: 404} {
			problem(t, e.do(t, "GET", auditPath(demo.OrgID), e.token(t, who), ""), want, "audit as "+who)
		}
		tok, _ := e.ProductToken("confluence")
		problem(t, e.do(t, "GET", auditPath(demo.OrgID), tok, ""), 403, "a product's token")
		problem(t, e.do(t, "GET", auditPath(demo.OrgID), "", ""), 401, "anonymous")
		problem(t, e.do(t, "GET", auditPath("nosuchorg"), admin, ""), 404, "unknown org")
		before := len(e.auditEntries(t, admin, ""))
		for _, q := range []string{
			"?actor=a%23b", "?actor=", "?target=user", "?target=robot/x", "?target=user/a%23b", "?target=user/%C3%A9", "?target=user/%C2%85", "?from=yesterday", "?to=2026-13-01T00:00:00Z",
			"?cursor=bm90LWpzb24", "?cursor=eyJwIjoiT1JHI2FjbWUjQVVESVQjMjAyNi0wMS0wMSJ9", "?limit=0",
		} {
			problem(t, e.do(t, "GET", auditPath(demo.OrgID)+q, admin, ""), 400, "audit"+q)
		}
		if after := len(e.auditEntries(t, admin, "")); after != before {
			t.Errorf("reads changed the log: %d -> %d entries", before, after)
		}
	})
}
