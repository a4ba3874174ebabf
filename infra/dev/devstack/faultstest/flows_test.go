package faultstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extusers"
)

// inviteOne invites addr as a Confluence guest (with groups), unfaulted,
// and returns its account and invitation ids.
func (e *faultEnv) inviteOne(t *testing.T, addr string, groups ...string) (string, string) {
	t.Helper()
	body := map[string]any{"emails": []string{addr}, "products": map[string]any{"confluence": map[string]string{"role": "guest"}}}
	if len(groups) > 0 {
		body["groups"] = groups
	}
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), mustJSON(body))
	res := results(t, r)
	if r.status != 200 || len(res) != 1 || res[0]["status"] != "invited" {
		t.Fatalf("setup invite: %d %s", r.status, r.body)
	}
	return res[0]["accountId"].(string), res[0]["invitationId"].(string)
}

// invitedGuest is a setup: one guest invited (and emailed).
func invitedGuest(groups ...string) func(t *testing.T, e *faultEnv) *flowState {
	return func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.addr = unique("fault")
		s.acct, s.inv = e.inviteOne(t, s.addr, groups...)
		return s
	}
}

// waitDone polls a job or an export at loc until it ends (done, failed,
// refused) or 30 s pass, and returns its state ("" when it never ended). It
// reads through a client of its own, so the polls are not counted among
// the flow's calls (nor failed).
func (e *faultEnv) waitDone(t *testing.T, loc, field string) string {
	t.Helper()
	id := loc[strings.LastIndex(loc, "/")+1:]
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := ""
		if field == "status" {
			j, err := e.reader.ExportJob(context.Background(), demo.OrgID, id, time.Now())
			if err == nil {
				st = string(j.Status)
			}
		} else if j, err := e.reader.Job(context.Background(), demo.OrgID, id); err == nil {
			st = string(j.State)
		}
		switch st {
		case "done", "failed", "refused":
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

func (e *faultEnv) access(t *testing.T, acct string) domain.Access {
	t.Helper()
	a, err := e.Store.Access(context.Background(), demo.OrgID, acct, demo.SiteID, domain.Confluence)
	if err != nil {
		t.Fatalf("access of %s: %v", acct, err)
	}
	return a
}

func (e *faultEnv) user(t *testing.T, org, acct string) (domain.User, error) {
	return e.Store.User(context.Background(), org, acct)
}

func oneMail(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 1}} }

var acceptFlow = faultFlow{
	name: "accept",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := invitedGuest()(t, e)
		s.token = e.lastToken(t, s.addr)
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "POST", "/invitations/accept", "", acceptForm(s.token), "Content-Type", "application/x-www-form-urlencoded")
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if inv := e.invitation(t, s.acct, s.inv); inv.Status != domain.InvitationAccepted {
			t.Errorf("invitation %s", inv.Status)
		}
		if u, err := e.user(t, demo.OrgID, s.acct); err != nil || u.Status != domain.UserActive {
			t.Errorf("account %+v %v", u, err)
		}
	},
	mails: oneMail,
}

var resendFlow = faultFlow{
	name: "resend",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := invitedGuest()(t, e)
		e.later(2 * time.Minute) // past the resend's minute
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, s.inv), e.token(t, demo.AdminID), "", idem(s)...)
	},
	settle: func(t *testing.T, e *faultEnv, s *flowState) { e.later(16 * time.Minute); e.retryRun(t) },
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		inv := e.invitation(t, s.acct, s.inv)
		if inv.Status != domain.InvitationPending || inv.Delivery != domain.DeliverySent || inv.ResentAt.IsZero() {
			t.Errorf("invitation: status %s delivery %s resent %v", inv.Status, inv.Delivery, inv.ResentAt)
		}
		if r := e.do(t, "POST", "/invitations/accept", "", acceptForm(e.lastToken(t, s.addr)), "Content-Type", "application/x-www-form-urlencoded"); r.status != 200 {
			t.Errorf("accept the latest link: %d %s", r.status, r.body)
		}
	},
	// The invite's email, the resend's, and at most one more: SES
	// accepted it and the delivery record failed, so the retry run sends
	// it again (at least once).
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {2, 3}} },
}

var revokeFlow = faultFlow{
	name:  "revoke",
	setup: invitedGuest(demo.GuestGroup),
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "POST", revokePath(demo.OrgID, demo.SiteID, s.inv), e.token(t, demo.AdminID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if inv := e.invitation(t, s.acct, s.inv); inv.Status != domain.InvitationRevoked {
			t.Errorf("invitation %s", inv.Status)
		}
		if _, err := e.user(t, demo.OrgID, s.acct); err == nil {
			t.Errorf("the revoked invitee's account is still there")
		}
	},
	mails: oneMail,
}

// membershipFlow: a guest joins the paid group and becomes a paid user.
var membershipFlow = faultFlow{
	name:  "membership",
	setup: invitedGuest(),
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "PUT", memberPath(demo.OrgID, demo.PaidGroup, s.acct), e.token(t, demo.AdminID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a := e.access(t, s.acct); a.Effective != domain.RoleUser || a.Groups[demo.PaidGroup] != domain.RoleUser {
			t.Errorf("access %+v", a)
		}
	},
	mails: oneMail,
}

// leaveFlow: a guest through the guest group leaves it and holds nothing.
var leaveFlow = faultFlow{
	name: "membership-remove",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.addr = unique("fault")
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), mustJSON(map[string]any{"emails": []string{s.addr}, "groups": []string{demo.GuestGroup}}))
		if r.status != 200 {
			t.Fatalf("setup invite: %d %s", r.status, r.body)
		}
		s.acct = results(t, r)[0]["accountId"].(string)
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "DELETE", memberPath(demo.OrgID, demo.GuestGroup, s.acct), e.token(t, demo.AdminID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a, err := e.Store.Access(context.Background(), demo.OrgID, s.acct, demo.SiteID, domain.Confluence); err == nil && a.Effective != domain.RoleNone {
			t.Errorf("access left: %+v", a)
		}
	},
	mails: oneMail,
}

var directRoleFlow = faultFlow{
	name:  "direct-role",
	setup: invitedGuest(),
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "PUT", rolePath(demo.OrgID, demo.SiteID, "confluence", s.acct), e.token(t, demo.AdminID), `{"role":"user"}`, idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a := e.access(t, s.acct); a.Effective != domain.RoleUser || a.Direct != domain.RoleUser {
			t.Errorf("access %+v", a)
		}
	},
	mails: oneMail,
}

// groupRoleSetup makes a new guest group (Confluence guest) with one
// invited member, so every case changes a group of one.
func groupRoleSetup(t *testing.T, e *faultEnv) *flowState {
	name := "Faults " + strings.ToLower(domain.NewID()[:8])
	r := e.do(t, "POST", groupsPath(demo.OrgID), e.token(t, demo.AdminID), groupBody(name, map[string]string{"confluence": "guest"}))
	m := mustStatus(t, r, 201, "create group")
	s := newState()
	s.vals["group"] = fmt.Sprint(m["id"])
	s.addr = unique("fault")
	s.acct, s.inv = e.inviteOne(t, s.addr, s.vals["group"])
	s.vals["role"] = "user"
	return s
}

// groupRoleAct changes the case's group's Confluence role and follows the
// job (in the request for a small group, else queued).
func groupRoleAct(t *testing.T, e *faultEnv, s *flowState) {
	put := func() response {
		return e.do(t, "PUT", groupRolePath(demo.OrgID, s.vals["group"], demo.SiteID, "confluence"), e.token(t, demo.AdminID), `{"role":"`+s.vals["role"]+`"}`, idem(s)...)
	}
	r := put()
	if r.status == 409 && strings.Contains(string(r.body), "jobId") {
		// The earlier attempt's job is in flight (its answer was lost): a
		// client waits for it, then asks again.
		if id, _ := r.json(t)["jobId"].(string); id != "" {
			e.waitDone(t, "/orgs/"+demo.OrgID+"/jobs/"+id, "state")
			r = put()
		}
	}
	if r.status == 202 {
		s.loc = r.header.Get("Location")
		s.vals["state"] = e.waitDone(t, s.loc, "state")
	}
}

func groupRoleDone(t *testing.T, e *faultEnv, s *flowState) {
	want := domain.Role(s.vals["role"])
	if a := e.access(t, s.acct); a.Effective != want {
		t.Errorf("member's access %+v, want %s", a, want)
	}
	g, err := e.Store.Group(context.Background(), demo.OrgID, s.vals["group"])
	if err != nil || g.RoleOn(demo.SiteID, domain.Confluence) != want {
		t.Errorf("group %+v %v", g, err)
	}
	for _, it := range e.items(t) {
		if attr(it, "type") == "group" && attr(it, "groupId") == s.vals["group"] && attr(it, "activeJob") != "-" && attr(it, "activeJob") != "" {
			t.Errorf("the group still holds job %s", attr(it, "activeJob"))
		}
	}
	if s.loc != "" && s.vals["state"] != "done" {
		t.Errorf("job %s ended %q", s.loc, s.vals["state"])
	}
}

var groupRoleFlow = faultFlow{name: "group-role", setup: groupRoleSetup, act: groupRoleAct, done: groupRoleDone, mails: oneMail}

var groupRoleJobFlow = faultFlow{
	name: "group-role-job", setup: groupRoleSetup, act: groupRoleAct, done: groupRoleDone, mails: oneMail,
	opts: func(o *devstack.Options) { o.JobsInlineMembers = -1 },
}

func withPersonas(o *devstack.Options) { o.Personas = true }

var assignFlow = faultFlow{
	name: "assign", opts: withPersonas, setup: invitedGuest(),
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "PUT", guestSpacePath(s.acct), e.token(t, demo.AdminID), `{"space":"ENG"}`, idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a := e.access(t, s.acct); a.Space != demo.SpaceENG {
			t.Errorf("access %+v", a)
		}
	},
	mails: oneMail,
}

// assignedGuest is a setup: a new guest assigned to MKT.
func assignedGuest(t *testing.T, e *faultEnv) *flowState {
	s := invitedGuest()(t, e)
	if r := e.do(t, "PUT", guestSpacePath(s.acct), e.token(t, demo.AdminID), `{"space":"MKT"}`); r.status != 200 {
		t.Fatalf("setup assign: %d %s", r.status, r.body)
	}
	return s
}

var moveFlow = faultFlow{
	name: "move", opts: withPersonas, setup: assignedGuest,
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "PUT", guestSpacePath(s.acct), e.token(t, demo.AdminID), `{"space":"ENG","move":true}`, idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a := e.access(t, s.acct); a.Space != demo.SpaceENG {
			t.Errorf("access %+v", a)
		}
	},
	mails: oneMail,
}

var unassignFlow = faultFlow{
	name: "unassign", opts: withPersonas, setup: assignedGuest,
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "DELETE", guestSpacePath(s.acct), e.token(t, demo.AdminID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if a := e.access(t, s.acct); a.Space != "" || a.Effective != domain.RoleGuest {
			t.Errorf("access %+v", a)
		}
	},
	mails: oneMail,
}

var removalFlow = faultFlow{
	name: "removal",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := invitedGuest(demo.GuestGroup)(t, e)
		if r := e.do(t, "POST", "/invitations/accept", "", acceptForm(e.lastToken(t, s.addr)), "Content-Type", "application/x-www-form-urlencoded"); r.status != 200 {
			t.Fatalf("setup accept: %d", r.status)
		}
		if r := e.do(t, "POST", apiTokensPath(demo.OrgID, s.acct), e.token(t, s.acct), `{"label":"f","expiresInDays":7}`); r.status != 201 {
			t.Fatalf("setup token: %d %s", r.status, r.body)
		}
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "DELETE", userPath(demo.OrgID, s.acct), e.token(t, demo.AdminID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if _, err := e.user(t, demo.OrgID, s.acct); err == nil {
			t.Errorf("the removed account is still there")
		}
		for _, it := range e.items(t) {
			if strings.HasPrefix(attr(it, "PK"), "ORG#"+demo.OrgID+"#USER#"+s.acct) || attr(it, "accountId") == s.acct && attr(it, "type") != "audit" {
				t.Errorf("left after removal: %s %s (%s)", attr(it, "PK"), attr(it, "SK"), attr(it, "type"))
			}
		}
	},
	mails: oneMail,
}

func (e *faultEnv) tokenCount(t *testing.T) int {
	t.Helper()
	p, err := e.Store.APITokens(context.Background(), demo.OrgID, demo.PlainUserID, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

// apiTokenCreateFlow: a user makes an API token (the cases share the user:
// each adds one, under the cap of 20 with the revoke flow's).
var apiTokenCreateFlow = faultFlow{
	name: "api-token-create",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.vals["before"] = fmt.Sprint(e.tokenCount(t))
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "POST", apiTokensPath(demo.OrgID, demo.PlainUserID), e.token(t, demo.PlainUserID), `{"label":"f","expiresInDays":7}`, idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		// One more; two when the create's answer was lost (after effect):
		// the route takes no Idempotency-Key (a replay would have to keep
		// the secret, and only its hash is stored), so the retry makes a
		// second token. The first one's secret reached no one (it is
		// listed, counted and revocable). The window, bounded here.
		before, _ := strconv.Atoi(s.vals["before"])
		if n := e.tokenCount(t); n < before+1 || n > before+2 {
			t.Errorf("%d tokens, %d before: want one more (two after a lost answer)", n, before)
		} else if n == before+2 {
			t.Logf("a lost answer made a second token")
		}
		// Keep under the cap for the next case.
		p, _ := e.Store.APITokens(context.Background(), demo.OrgID, demo.PlainUserID, 50, "")
		for _, tok := range p.Items {
			e.do(t, "DELETE", apiTokensPath(demo.OrgID, demo.PlainUserID)+"/"+tok.ID, e.token(t, demo.PlainUserID), "")
		}
	},
}

var apiTokenRevokeFlow = faultFlow{
	name: "api-token-revoke",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		r := e.do(t, "POST", apiTokensPath(demo.OrgID, demo.PlainUserID), e.token(t, demo.PlainUserID), `{"label":"f","expiresInDays":7}`)
		if r.status != 201 {
			t.Fatalf("setup token: %d %s", r.status, r.body)
		}
		s.vals["id"] = fmt.Sprint(r.json(t)["id"])
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "DELETE", apiTokensPath(demo.OrgID, demo.PlainUserID)+"/"+s.vals["id"], e.token(t, demo.PlainUserID), "", idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if n := e.tokenCount(t); n != 0 {
			t.Errorf("%d tokens left, want none", n)
		}
	},
}

// policyFlow toggles the org's API token setting under the version read
// (the cases share the org).
var policyFlow = faultFlow{
	name: "policy",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		m := mustStatus(t, e.do(t, "GET", "/orgs/"+demo.OrgID+"/external-policy", e.token(t, demo.AdminID), ""), 200, "policy")
		s.vals["version"] = fmt.Sprint(m["version"])
		s.vals["tokens"] = "blocked"
		if strings.Contains(mustJSON(m), `"apiTokens":"blocked"`) {
			s.vals["tokens"] = "allowed"
		}
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.do(t, "PUT", "/orgs/"+demo.OrgID+"/external-policy", e.token(t, demo.AdminID),
			policyBody(true, 7, s.vals["tokens"] == "blocked", `"version":`+s.vals["version"]), idem(s)...)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		m := mustStatus(t, e.do(t, "GET", "/orgs/"+demo.OrgID+"/external-policy", e.token(t, demo.AdminID), ""), 200, "policy")
		if !strings.Contains(mustJSON(m), `"apiTokens":"`+s.vals["tokens"]+`"`) {
			t.Errorf("policy %v, want apiTokens %s", m, s.vals["tokens"])
		}
	},
}

// domainFlow: an admin claims a domain (PUT: a pending claim with its
// challenge), publishes the challenge as the domain's TXT record on the
// stack's DNS server, and asks for a check (POST …/check): verified, the
// org's verifiedDomains with it. The invariants (checkInvariants) hold the
// claims and the org's verifiedDomains to each other and each domain's
// org.domain.add and org.domain.verify audit entries to at most one; done
// wants exactly one of each.
var domainFlow = faultFlow{
	name: "domain",
	setup: func(*testing.T, *faultEnv) *flowState {
		s := newState()
		s.vals["domain"] = "d" + strings.ToLower(domain.NewID()[:8]) + ".example"
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		d := s.vals["domain"]
		path := "/orgs/" + demo.OrgID + "/domains/" + d
		e.do(t, "PUT", path, e.token(t, demo.AdminID), "", idem(s)...)
		// The domain's owner publishes the claim's challenge (read
		// through the uncounted client): there is none when the PUT
		// wrote nothing.
		cl, err := e.reader.DomainClaim(context.Background(), demo.OrgID, d)
		if err != nil || cl == nil {
			return
		}
		e.DNS.Publish(domain.ChallengeName(d), cl.ChallengeValue())
		e.do(t, "POST", path+"/check", e.token(t, demo.AdminID), "", "Idempotency-Key", s.key+"-check")
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		d := s.vals["domain"]
		cl, err := e.reader.DomainClaim(context.Background(), demo.OrgID, d)
		if err != nil || cl == nil || cl.Status != domain.DomainVerified {
			t.Fatalf("claim of %s: %+v %v, want verified", d, cl, err)
		}
		orgs, err := e.reader.Orgs(context.Background(), []string{demo.OrgID})
		if err != nil || !slices.Contains(orgs[demo.OrgID].VerifiedDomains, d) {
			t.Errorf("the org's verified domains %v (%v) lack %s", orgs[demo.OrgID].VerifiedDomains, err, d)
		}
		r := e.do(t, "GET", "/orgs/"+demo.OrgID+"/domains", e.token(t, demo.AdminID), "")
		if r.status != 200 || !strings.Contains(string(r.body), d) {
			t.Errorf("domains: %d %s", r.status, r.body)
		}
		audits := domainAudits(e.items(t))
		for _, a := range []string{domain.ActionDomainAdd, domain.ActionDomainVerify} {
			if n := audits[a+" "+d]; n != 1 {
				t.Errorf("%d %s audit entries for %s, want 1", n, a, d)
			}
		}
	},
}

// domainAudits counts the audit entries of domain claims by action and
// domain ("org.domain.add d.example").
func domainAudits(items []map[string]types.AttributeValue) map[string]int {
	n := map[string]int{}
	for _, it := range items {
		if attr(it, "type") != "audit" || !strings.HasPrefix(attr(it, "action"), "org.domain.") {
			continue
		}
		var after struct{ Domain string }
		_ = json.Unmarshal([]byte(attr(it, "after")), &after)
		n[attr(it, "action")+" "+after.Domain]++
	}
	return n
}

// checkDomains holds every domain claim to its org's verifiedDomains (a
// verified or lapsing claim is listed, a pending or unverified one is not)
// and every domain's add and verify audit entries to at most one (each
// case claims a domain of its own, once).
func checkDomains(t *testing.T, items []map[string]types.AttributeValue) {
	t.Helper()
	verified := map[string][]string{}
	for _, it := range items {
		if attr(it, "type") == "org" {
			verified[attr(it, "orgId")] = strs(it, "verifiedDomains")
		}
	}
	for _, it := range items {
		if attr(it, "type") != "domain" {
			continue
		}
		st, d := attr(it, "status"), attr(it, "domain")
		counts := st == string(domain.DomainVerified) || st == string(domain.DomainLapsing)
		if listed := slices.Contains(verified[attr(it, "orgId")], d); listed != counts {
			t.Errorf("claim of %s is %s, but the org's verifiedDomains %v (listed %v)", d, st, verified[attr(it, "orgId")], listed)
		}
	}
	for k, n := range domainAudits(items) {
		if a := strings.Fields(k)[0]; n > 1 && (a == domain.ActionDomainAdd || a == domain.ActionDomainVerify) {
			t.Errorf("%d audit entries %s", n, k)
		}
	}
}

// strs reads a list or string set attribute.
func strs(it map[string]types.AttributeValue, k string) []string {
	switch v := it[k].(type) {
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberL:
		var out []string
		for _, x := range v.Value {
			if s, ok := x.(*types.AttributeValueMemberS); ok {
				out = append(out, s.Value)
			}
		}
		return out
	}
	return nil
}

// passcodeFlow: an external user sends themselves a code and enters it.
// A retry a minute later (the address's send rate) sends again.
var passcodeFlow = faultFlow{
	name: "passcode",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.org, s.acct, s.addr = e.verifyOrg(t)
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.later(61 * time.Second)
		if r := e.form(t, verifyPath(s.org), url.Values{"action": {"send"}, "email": {s.addr}}); r.status != 200 {
			return
		}
		if len(e.mailTo(t, s.addr)) == 0 {
			return
		}
		e.form(t, verifyPath(s.org), url.Values{"action": {"verify"}, "email": {s.addr}, "code": {e.passcode(t, s.addr)}})
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if u, err := e.user(t, s.org, s.acct); err != nil || u.VerifyState != domain.VerifyVerified {
			t.Errorf("account %+v %v", u, err)
		}
	},
	// Up to 3: an SES call that took effect but whose answer was lost is
	// retried by the email sender with a new code (at least once: the
	// later email's code is the one that works), then the retry sends.
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 3}} },
}

// passcodeLinkFlow: an external user verifies by the link in the
// passcode email (its key verifies like the code): the email is sent
// unfaulted in the setup, and the faulted request is the link's button.
// A retry posts the same key again (after a lost answer the key is spent:
// the page says so, and the user is verified).
var passcodeLinkFlow = faultFlow{
	name: "passcode-link",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.org, s.acct, s.addr = e.verifyOrg(t)
		if r := e.form(t, verifyPath(s.org), url.Values{"action": {"send"}, "email": {s.addr}}); r.status != 200 {
			t.Fatalf("setup send: %d %s", r.status, r.body)
		}
		mails := e.mailTo(t, s.addr)
		if len(mails) != 1 {
			t.Fatalf("%d emails to %s, want 1", len(mails), s.addr)
		}
		m := linkInText.FindStringSubmatch(mails[0].Text + "\n")
		if m == nil {
			t.Fatalf("no link in the email:\n%s", mails[0].Text)
		}
		link, err := url.Parse(m[1])
		if err != nil || link.Query().Get("key") == "" {
			t.Fatalf("link %q: %v", m[1], err)
		}
		s.token = link.Query().Get("key")
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.form(t, verifyPath(s.org), url.Values{"action": {"verify"}, "email": {s.addr}, "key": {s.token}})
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if u, err := e.user(t, s.org, s.acct); err != nil || u.VerifyState != domain.VerifyVerified {
			t.Errorf("account %+v %v", u, err)
		}
		n := 0
		for _, it := range e.items(t) {
			if attr(it, "type") == "audit" && attr(it, "orgId") == s.org && attr(it, "action") == "user.verify" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d user.verify audit entries, want 1", n)
		}
	},
	mails: oneMail,
}

// retryRunFlow: the scheduled run sends an invitation email that SES
// refused at the invite.
var retryRunFlow = faultFlow{
	name: "retry-run",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.addr = unique("fault")
		// The invite's hand-off to the email queue is lost: its email is
		// due for the sweep (the retry run) once its grace passed.
		e.faults.ArmOp("SQS.SendMessageBatch", testenv.FaultError)
		s.acct, s.inv = e.inviteOne(t, s.addr)
		e.faults.Disarm()
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.later(16 * time.Minute)
		e.retryRun(t)
	},
	// An email whose sweep or send failed in the faulted run is due again
	// (its claim's lease, or its retry): the run an hour later queues it.
	settle: func(t *testing.T, e *faultEnv, s *flowState) { e.later(time.Hour); e.retryRun(t) },
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if inv := e.invitation(t, s.acct, s.inv); inv.Status != domain.InvitationPending || inv.Delivery != domain.DeliverySent {
			t.Errorf("invitation: %s %s", inv.Status, inv.Delivery)
		}
		if r := e.do(t, "POST", "/invitations/accept", "", acceptForm(e.lastToken(t, s.addr)), "Content-Type", "application/x-www-form-urlencoded"); r.status != 200 {
			t.Errorf("accept the latest link: %d %s", r.status, r.body)
		}
	},
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 2}} },
}

// reverifyFlow: the re-verification run emails a lapsed external user and
// marks them; a run after the 15-minute lease completes a failed one.
var reverifyFlow = faultFlow{
	name: "reverify-run",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		ctx := context.Background()
		now := time.Now().UTC()
		s.org = "rv" + strings.ToLower(domain.NewID()[:8])
		if err := e.Store.CreateOrg(ctx, domain.Org{ID: s.org, Name: "Reverify Org", VerifiedDomains: []string{"14west.example"}, CreatedAt: now,
			Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}, PolicyVersion: 1}); err != nil {
			t.Fatal(err)
		}
		s.acct, s.addr = "lapsed", unique("lapsed")
		v := now.Add(-8 * 24 * time.Hour)
		if err := e.Store.BulkLoadProfiles(ctx, []domain.User{{OrgID: s.org, AccountID: s.acct, Email: s.addr, Status: domain.UserActive, External: true, CreatedAt: v,
			VerifiedAt: v, VerifyDueAt: v.Add(7 * 24 * time.Hour), VerifyState: domain.VerifyVerified}}); err != nil {
			t.Fatal(err)
		}
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		e.later(16 * time.Minute) // past a failed run's lease
		resp, err := http.Post(e.URL+"/dev/schedules/ReverifyFunction", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if u, err := e.user(t, s.org, s.acct); err != nil || u.VerifyState != domain.VerifyRequired {
			t.Errorf("account %+v %v", u, err)
		}
	},
	// At least once: a run dying between the email and the mark re-emails
	// after the lease (docs/api-notes.md, ReverifyFunction).
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 2}} },
}

var exportFlow = faultFlow{
	name: "export",
	opts: func(o *devstack.Options) {
		o.ExportLimits = extusers.Limits{Inline: 1, Page: 2, ChunkBytes: 600, PartBytes: 1500}
	},
	once: func(t *testing.T, e *faultEnv) {
		var users []domain.User
		for i := range 3 {
			users = append(users, domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("bulk-%d", i), Email: fmt.Sprintf("bulk%d@bulk.example", i), Status: domain.UserActive, CreatedAt: time.Now()})
		}
		if err := e.Store.BulkLoadUsers(context.Background(), users, demo.SiteID, nil); err != nil {
			t.Fatal(err)
		}
		e.vals["noGuard"] = "bulk-" // the bulk loader writes no email guards
	},
	setup: func(*testing.T, *faultEnv) *flowState { return newState() },
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		r := e.do(t, "POST", extOrg+"/external-users/exports", e.token(t, demo.AdminID), "", idem(s)...)
		if r.status == 202 {
			s.loc = r.header.Get("Location")
			s.vals["status"] = e.waitDone(t, s.loc, "status")
		}
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if s.loc == "" || s.vals["status"] != "done" {
			t.Fatalf("export %s ended %q", s.loc, s.vals["status"])
		}
		j := mustStatus(t, e.do(t, "GET", s.loc, e.token(t, demo.AdminID), ""), 200, "export")
		var csv strings.Builder
		for p := 1; p <= int(j["parts"].(float64)); p++ {
			r := e.do(t, "GET", fmt.Sprintf("%s/csv?part=%d", s.loc, p), e.token(t, demo.AdminID), "")
			csv.Write(r.body)
		}
		for i := range 3 {
			if n := strings.Count(csv.String(), fmt.Sprintf("bulk%d@bulk.example", i)); n != 1 {
				t.Errorf("bulk%d is %d times in the CSV (rows %v)", i, n, j["rows"])
			}
		}
	},
}

// The write flows, each failed at every AWS call in turn (one test each,
// so that one can be run alone). The longest come first: the flows run
// flowsAtOnce at a time in this order, so a long one started last would
// run alone at the end.

func TestFaultEveryCallGroupRoleJob(t *testing.T)   { runFaultFlow(t, groupRoleJobFlow) }
func TestFaultEveryCallGroupRole(t *testing.T)      { runFaultFlow(t, groupRoleFlow) }
func TestFaultEveryCallExport(t *testing.T)         { runFaultFlow(t, exportFlow) }
func TestFaultEveryCallDomain(t *testing.T)         { runFaultFlow(t, domainFlow) }
func TestFaultEveryCallResend(t *testing.T)         { runFaultFlow(t, resendFlow) }
func TestFaultEveryCallRetryRun(t *testing.T)       { runFaultFlow(t, retryRunFlow) }
func TestFaultEveryCallMove(t *testing.T)           { runFaultFlow(t, moveFlow) }
func TestFaultEveryCallUnassign(t *testing.T)       { runFaultFlow(t, unassignFlow) }
func TestFaultEveryCallMembership(t *testing.T)     { runFaultFlow(t, membershipFlow) }
func TestFaultEveryCallInvite(t *testing.T)         { runFaultFlow(t, inviteFlow) }
func TestFaultEveryCallLeave(t *testing.T)          { runFaultFlow(t, leaveFlow) }
func TestFaultEveryCallAssign(t *testing.T)         { runFaultFlow(t, assignFlow) }
func TestFaultEveryCallRevoke(t *testing.T)         { runFaultFlow(t, revokeFlow) }
func TestFaultEveryCallPolicy(t *testing.T)         { runFaultFlow(t, policyFlow) }
func TestFaultEveryCallDirectRole(t *testing.T)     { runFaultFlow(t, directRoleFlow) }
func TestFaultEveryCallReverifyRun(t *testing.T)    { runFaultFlow(t, reverifyFlow) }
func TestFaultEveryCallRemoval(t *testing.T)        { runFaultFlow(t, removalFlow) }
func TestFaultEveryCallPasscode(t *testing.T)       { runFaultFlow(t, passcodeFlow) }
func TestFaultEveryCallAPITokenCreate(t *testing.T) { runFaultFlow(t, apiTokenCreateFlow) }
func TestFaultEveryCallPasscodeLink(t *testing.T)   { runFaultFlow(t, passcodeLinkFlow) }
func TestFaultEveryCallAccept(t *testing.T)         { runFaultFlow(t, acceptFlow) }
func TestFaultEveryCallAPITokenRevoke(t *testing.T) { runFaultFlow(t, apiTokenRevokeFlow) }
