package devstack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// persona is one column of the authorisation matrix: who calls.
type persona struct {
	name string
	sub  string // account id (people) or client id (the product); "" anonymous
	// product marks a product's token (scope access:decide), bound by the
	// claims below (none: a token bound to nothing, as they were before).
	product bool
	// claim is the token's product claim; orgs and sites its orgs and
	// sites (org/site) claims.
	claim       string
	orgs, sites []string
}

// personas are the matrix's columns, as issue 8 lists them, with the
// product tokens bound otherwise of issue 16.
var personas = []persona{
	{name: "org admin", sub: demo.AdminID},
	{name: "site admin", sub: demo.SiteAdminID},
	{name: "Confluence admin", sub: demo.ProductAdminID},
	{name: "space admin (this space)", sub: demo.SpaceAdminID},
	{name: "space admin (other space)", sub: demo.OtherSpaceAdminID},
	{name: "paid user", sub: demo.PlainUserID},
	{name: "guest", sub: demo.GuestID},
	{name: "admin of another org", sub: demo.OtherAdminID},
	{name: "product", sub: "confluence-client", product: true, claim: "confluence", orgs: []string{demo.OrgID}},
	// Product tokens bound otherwise: the decision route answers them only
	// within their grant, and as an unknown org (404) outside it.
	{name: "product (Jira)", sub: "jira-client", product: true, claim: "jira", orgs: []string{demo.OrgID}},
	{name: "product of another org", sub: "confluence-client", product: true, claim: "confluence", orgs: []string{demo.OtherOrgID}},
	{name: "product of another site", sub: "confluence-client", product: true, claim: "confluence", sites: []string{demo.OrgID + "/blog"}},
	{name: "invented client", sub: "madeup-client", product: true, claim: "madeup", orgs: []string{demo.OrgID}},
	{name: "product bound to nothing", sub: "confluence-client", product: true},
	{name: "anonymous"},
}

// Sets of personas allowed, by power.
var (
	orgAdmins     = []string{"org admin"}
	siteAdmins    = []string{"org admin", "site admin"}
	productAdmins = []string{"org admin", "site admin", "Confluence admin"}
	products      = []string{"product"}
	// spaceAdmins: the product admins and the admins of the space concerned (MKT).
	spaceAdmins = []string{"org admin", "site admin", "Confluence admin", "space admin (this space)"}
	// paidUsers: every paid Confluence user of the site.
	paidUsers = []string{"org admin", "site admin", "Confluence admin", "space admin (this space)", "space admin (other space)", "paid user"}
	// orgMembers: every person of the org (each acting on their own account).
	orgMembers = []string{"org admin", "site admin", "Confluence admin", "space admin (this space)", "space admin (other space)", "paid user", "guest"}
)

// cell is one request of the matrix: its path and body, made fresh for the
// persona (targets that a change consumes are created per cell).
type cell struct {
	path, body string
	hdr        []string
}

// row is one route of the API and who may call it.
type row struct {
	allow []string
	// public routes are authorised by something other than the bearer token
	// (the email link's token): every persona must get what anonymous gets.
	public bool
	// want is the status an allowed call answers (default 200).
	want int
	// make builds the cell's request; n is unique per cell.
	make func(t *testing.T, e *env, n int) cell
	// makeFor, when set instead of make, builds the cell for the persona
	// calling (a route about the caller's own account).
	makeFor func(t *testing.T, e *env, n int, p persona) cell
}

// fixed returns a make function of a fixed request.
func fixed(path, body string) func(*testing.T, *env, int) cell {
	return func(*testing.T, *env, int) cell { return cell{path: path, body: body} }
}

const (
	org  = "/orgs/" + demo.OrgID
	site = org + "/sites/" + demo.SiteID
)

// freshUser writes a paid Confluence user of the demo site for one cell.
func freshUser(t *testing.T, e *env, n int) string {
	t.Helper()
	id := fmt.Sprintf("matrix-%d-%s", n, domain.NewID()[:6])
	u := domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@" + demo.VerifiedDomain, DisplayName: id, Status: domain.UserActive, CreatedAt: time.Now()}
	if err := e.Store.CreateUser(context.Background(), u, demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// freshGuest writes a Confluence guest of the demo site for one cell, with
// a space or none.
func freshGuest(t *testing.T, e *env, n int, space string) string {
	t.Helper()
	id := fmt.Sprintf("guest-%d-%s", n, domain.NewID()[:6])
	u := domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@partner.example", DisplayName: id, Status: domain.UserActive, External: true, CreatedAt: time.Now()}
	if err := e.Store.CreateUser(context.Background(), u, demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest, Space: space}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// freshSuppression suppresses a fresh address for the demo org for one
// cell, as a permanent bounce recorded from SES would.
func freshSuppression(t *testing.T, e *env, n int) string {
	t.Helper()
	addr := fmt.Sprintf("bounced-%d-%s@agency.example", n, domain.NewID()[:6])
	now := time.Now().UTC()
	rec := domain.SESEventRecord{Key: "matrix-" + addr, KeyExpires: now.Add(time.Hour),
		Audit:       domain.NewAudit(demo.OrgID, domain.ActorSystem, domain.ActionEmailBounced, domain.OrgTarget(demo.OrgID), "", now, nil, nil),
		Suppression: &domain.Suppression{OrgID: demo.OrgID, Email: addr, Reason: domain.SuppressedBounce, Detail: "Permanent/General", MessageID: "m-" + addr, At: now}}
	if ok, err := e.Store.RecordSESEvent(context.Background(), rec); err != nil || !ok {
		t.Fatalf("suppress %s: %v %v", addr, ok, err)
	}
	return addr
}

// freshSpace registers a space of the demo site for one cell.
func freshSpace(t *testing.T, e *env, n int) string {
	t.Helper()
	k := fmt.Sprintf("M%d%s", n, strings.ToUpper(domain.NewID()[:4]))
	sp := domain.Space{OrgID: demo.OrgID, SiteID: demo.SiteID, Key: k, Name: k, CreatedAt: time.Now()}
	if err := e.Store.CreateSpace(context.Background(), sp, domain.NewAudit(demo.OrgID, domain.ActorSystem, "space.create", domain.SpaceTarget(demo.SiteID, k), "", time.Now(), nil, nil)); err != nil {
		t.Fatal(err)
	}
	return k
}

// freshInvitation invites a fresh guest as the org admin and returns the
// invitation's id. The handlers' clock then moves on a minute, past the
// resend rate limit.
func freshInvitation(t *testing.T, e *env, n int) string {
	t.Helper()
	addr := fmt.Sprintf("inv-%d-%s@agency.example", n, domain.NewID()[:6])
	r := e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), guestBody("", addr))
	if r.status != 200 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	e.clock.Add(61)
	return results(t, r)[0]["invitationId"].(string)
}

// freshGroup writes an empty group for one cell.
func freshGroup(t *testing.T, e *env, n int) string {
	t.Helper()
	id := fmt.Sprintf("matrix-%d-%s", n, domain.NewID()[:6])
	if err := e.Store.CreateGroup(context.Background(), domain.Group{OrgID: demo.OrgID, ID: id, Name: id, CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// freshLink invites a fresh guest as the org admin and returns their link's token.
func freshLink(t *testing.T, e *env, n int) string {
	t.Helper()
	addr := fmt.Sprintf("matrix-%d-%s@agency.example", n, domain.NewID()[:6])
	if r := e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), guestBody("", addr)); r.status != 200 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	return e.acceptLink(t, addr)
}

// matrix is every route of the API, by "METHOD path" as template.yaml names it.
func matrix() map[string]row {
	return map[string]row{
		"POST /orgs/{orgId}/sites/{siteId}/invitations": {allow: siteAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/invitations", body: guestBody("", fmt.Sprintf("m%d-%s@agency.example", n, domain.NewID()[:6]))}
		}},
		"GET /invitations/accept": {public: true, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: "/invitations/accept?token=" + url.QueryEscape(freshLink(t, e, n))}
		}},
		"POST /invitations/accept": {public: true, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: "/invitations/accept", body: "token=" + url.QueryEscape(freshLink(t, e, n)), hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}}
		}},

		// The verification page is public (the address and code are its
		// authority); the demo org asks for no two-step verification, so
		// every persona gets the same "not needed" page.
		"GET /orgs/{orgId}/verify": {public: true, make: fixed(org+"/verify", "")},
		"POST /orgs/{orgId}/verify": {public: true, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/verify", body: fmt.Sprintf("action=send&email=v%d%%40agency.example", n), hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}}
		}},
		// The other methods of the two public pages (called with DELETE):
		// the page's function answers 405 with Allow, whoever asks.
		"ANY /invitations/accept":  {public: true, want: 405, make: fixed("/invitations/accept", "")},
		"ANY /orgs/{orgId}/verify": {public: true, want: 405, make: fixed(org+"/verify", "")},

		"POST /orgs/{orgId}/groups": {allow: orgAdmins, want: 201, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/groups", body: fmt.Sprintf(`{"name":"matrix %d %s"}`, n, domain.NewID()[:6])}
		}},
		"GET /orgs/{orgId}/groups":           {allow: orgAdmins, make: fixed(org+"/groups", "")},
		"GET /orgs/{orgId}/groups/{groupId}": {allow: orgAdmins, make: fixed(org+"/groups/"+demo.GuestGroup, "")},
		"PATCH /orgs/{orgId}/groups/{groupId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/groups/" + freshGroup(t, e, n), body: fmt.Sprintf(`{"name":"renamed %d %s"}`, n, domain.NewID()[:6])}
		}},
		"DELETE /orgs/{orgId}/groups/{groupId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/groups/" + freshGroup(t, e, n)}
		}},
		"GET /orgs/{orgId}/groups/{groupId}/members": {allow: orgAdmins, make: fixed(org+"/groups/"+demo.GuestGroup+"/members", "")},
		"PUT /orgs/{orgId}/groups/{groupId}/members/{accountId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/groups/" + freshGroup(t, e, n) + "/members/" + demo.PlainUserID}
		}},
		"DELETE /orgs/{orgId}/groups/{groupId}/members/{accountId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			g, u := freshGroup(t, e, n), freshUser(t, e, n)
			if r := e.do(t, http.MethodPut, org+"/groups/"+g+"/members/"+u, e.token(t, demo.AdminID), ""); r.status != 200 {
				t.Fatalf("add member: %d %s", r.status, r.body)
			}
			return cell{path: org + "/groups/" + g + "/members/" + u}
		}},
		"GET /orgs/{orgId}/users/{accountId}/groups": {allow: orgAdmins, make: fixed(org+"/users/"+demo.PlainUserID+"/groups", "")},
		"PUT /orgs/{orgId}/groups/{groupId}/roles/{siteId}/{product}": {allow: productAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/groups/" + freshGroup(t, e, n) + "/roles/" + demo.SiteID + "/confluence", body: `{"role":"user"}`}
		}},
		"GET /orgs/{orgId}/jobs/{jobId}": {allow: siteAdmins, make: func(t *testing.T, e *env, n int) cell {
			r := e.do(t, http.MethodPut, org+"/groups/"+freshGroup(t, e, n)+"/roles/"+demo.SiteID+"/confluence", e.token(t, demo.AdminID), `{"role":"user"}`)
			if r.status != 200 && r.status != 202 {
				t.Fatalf("group role: %d %s", r.status, r.body)
			}
			return cell{path: org + "/jobs/" + r.json(t)["id"].(string)}
		}},

		"PUT /orgs/{orgId}/sites/{siteId}/products/{product}/users/{accountId}/role": {allow: productAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/products/confluence/users/" + freshUser(t, e, n) + "/role", body: `{"role":"admin"}`}
		}},
		"GET /orgs/{orgId}/users/{accountId}/roles": {allow: siteAdmins, make: fixed(org+"/users/"+demo.PlainUserID+"/roles", "")},

		"POST /orgs/{orgId}/sites/{siteId}/spaces": {allow: productAdmins, want: 201, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/spaces", body: fmt.Sprintf(`{"key":"N%d%s","name":"Matrix"}`, n, strings.ToUpper(domain.NewID()[:4]))}
		}},
		"GET /orgs/{orgId}/sites/{siteId}/spaces":            {allow: paidUsers, make: fixed(site+"/spaces", "")},
		"GET /orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}": {allow: paidUsers, make: fixed(site+"/spaces/"+demo.SpaceMKT, "")},
		"PATCH /orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}": {allow: productAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/spaces/" + freshSpace(t, e, n), body: `{"name":"Renamed"}`}
		}},
		"PUT /orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}/admins/{accountId}": {allow: productAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/spaces/" + freshSpace(t, e, n) + "/admins/" + freshUser(t, e, n)}
		}},
		"DELETE /orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}/admins/{accountId}": {allow: productAdmins, make: func(t *testing.T, e *env, n int) cell {
			k, u := freshSpace(t, e, n), freshUser(t, e, n)
			if err := e.Store.AddSpaceAdmin(context.Background(), demo.OrgID, demo.SiteID, k, u, domain.NewAudit(demo.OrgID, domain.ActorSystem, "space.admin.add", domain.SpaceTarget(demo.SiteID, k), "", time.Now(), nil, nil)); err != nil {
				t.Fatal(err)
			}
			return cell{path: site + "/spaces/" + k + "/admins/" + u}
		}},
		"GET /orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}/guests": {allow: spaceAdmins, make: fixed(site+"/spaces/"+demo.SpaceMKT+"/guests", "")},
		"PUT /orgs/{orgId}/sites/{siteId}/guests/{accountId}/space": {allow: spaceAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/guests/" + freshGuest(t, e, n, "") + "/space", body: `{"space":"` + demo.SpaceMKT + `"}`}
		}},
		"DELETE /orgs/{orgId}/sites/{siteId}/guests/{accountId}/space": {allow: spaceAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/guests/" + freshGuest(t, e, n, demo.SpaceMKT) + "/space"}
		}},

		"GET /orgs/{orgId}/sites/{siteId}/invitations": {allow: siteAdmins, make: fixed(site+"/invitations", "")},
		"POST /orgs/{orgId}/sites/{siteId}/invitations/{invitationId}/resend": {allow: siteAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/invitations/" + freshInvitation(t, e, n) + "/resend"}
		}},

		"DELETE /orgs/{orgId}/users/{accountId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/users/" + freshUser(t, e, n)}
		}},
		"PUT /orgs/{orgId}/users/{accountId}/status": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/users/" + freshUser(t, e, n) + "/status", body: `{"status":"suspended"}`}
		}},
		"POST /orgs/{orgId}/sites/{siteId}/invitations/{invitationId}/revoke": {allow: siteAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: site + "/invitations/" + freshInvitation(t, e, n) + "/revoke"}
		}},

		"GET /orgs/{orgId}/sites/{siteId}/guests":           {allow: spaceAdmins, make: fixed(site+"/guests?space="+demo.SpaceMKT, "")},
		"GET /orgs/{orgId}/sites/{siteId}/billing":          {allow: productAdmins, make: fixed(site+"/billing", "")},
		"POST /orgs/{orgId}/sites/{siteId}/billing/recount": {allow: siteAdmins, make: fixed(site+"/billing/recount", `{}`)},
		"GET /orgs/{orgId}/audit":                           {allow: orgAdmins, make: fixed(org+"/audit", "")},
		"GET /orgs/{orgId}/suppressions":                    {allow: orgAdmins, make: fixed(org+"/suppressions", "")},
		"DELETE /orgs/{orgId}/suppressions/{email}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/suppressions/" + freshSuppression(t, e, n)}
		}},

		"GET /orgs/{orgId}/external-policy": {allow: orgAdmins, make: fixed(org+"/external-policy", "")},
		"PUT /orgs/{orgId}/external-policy": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			// A different policy per cell: each allowed call writes.
			return cell{path: org + "/external-policy", body: fmt.Sprintf(`{"twoStepVerification":"off","verifyEvery":{"days":%d},"apiTokens":"allowed"}`, 1+n%30)}
		}},
		"PUT /orgs/{orgId}/external-policy/test": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/external-policy/test", body: `{"twoStepVerification":"off","verifyEvery":"once","apiTokens":"blocked","users":["` + freshGuest(t, e, n, demo.SpaceMKT) + `"]}`}
		}},
		"DELETE /orgs/{orgId}/external-policy/test": {allow: orgAdmins, make: fixed(org+"/external-policy/test", "")},
		"POST /orgs/{orgId}/external-policy/preview": {allow: orgAdmins,
			make: fixed(org+"/external-policy/preview?limit=10", `{"twoStepVerification":"on","verifyEvery":{"days":7},"apiTokens":"blocked"}`)},
		"POST /orgs/{orgId}/external-users/reset-sessions": {allow: orgAdmins, make: fixed(org+"/external-users/reset-sessions", "")},
		"POST /orgs/{orgId}/users/{accountId}/reset-session": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/users/" + freshGuest(t, e, n, demo.SpaceMKT) + "/reset-session"}
		}},
		"GET /orgs/{orgId}/domains": {allow: orgAdmins, make: fixed(org+"/domains", "")},
		"PUT /orgs/{orgId}/domains/{domain}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: org + "/domains/" + fmt.Sprintf("m%d-%s.example", n, domain.NewID()[:6])}
		}},
		"DELETE /orgs/{orgId}/domains/{domain}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			d := fmt.Sprintf("m%d-%s.example", n, domain.NewID()[:6])
			if r := e.do(t, http.MethodPut, org+"/domains/"+d, e.token(t, demo.AdminID), ""); r.status != 200 {
				t.Fatalf("add domain: %d %s", r.status, r.body)
			}
			return cell{path: org + "/domains/" + d}
		}},
		"POST /orgs/{orgId}/domains/{domain}/check": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			d := fmt.Sprintf("c%d-%s.example", n, domain.NewID()[:6])
			if r := e.do(t, http.MethodPut, org+"/domains/"+d, e.token(t, demo.AdminID), ""); r.status != 200 {
				t.Fatalf("claim domain: %d %s", r.status, r.body)
			}
			if _, _, err := e.PublishChallenge(context.Background(), demo.OrgID, d); err != nil {
				t.Fatal(err)
			}
			return cell{path: org + "/domains/" + d + "/check"}
		}},
		"GET /orgs/{orgId}/external-users":          {allow: orgAdmins, make: fixed(org+"/external-users", "")},
		"GET /orgs/{orgId}/external-users/export":   {allow: orgAdmins, make: fixed(org+"/external-users/export", "")},
		"POST /orgs/{orgId}/external-users/exports": {allow: orgAdmins, want: 202, make: fixed(org+"/external-users/exports", "")},
		"GET /orgs/{orgId}/external-users/exports/{exportId}": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: e.newExport(t)}
		}},
		"GET /orgs/{orgId}/external-users/exports/{exportId}/csv": {allow: orgAdmins, make: func(t *testing.T, e *env, n int) cell {
			return cell{path: e.waitExport(t, e.newExport(t)) + "/csv"}
		}},
		// API tokens: each persona makes one for its own account (only the
		// user themselves may); alice's are listed and revoked by alice and
		// the org's admins.
		"POST /orgs/{orgId}/users/{accountId}/api-tokens": {allow: orgMembers, want: 201, makeFor: func(t *testing.T, e *env, n int, p persona) cell {
			acct := p.sub
			if acct == "" {
				acct = demo.PlainUserID // anonymous: someone's account, refused before it matters
			}
			return cell{path: org + "/users/" + url.PathEscape(acct) + "/api-tokens", body: fmt.Sprintf(`{"label":"matrix %d"}`, n)}
		}},
		"GET /orgs/{orgId}/users/{accountId}/api-tokens": {allow: []string{"org admin", "paid user"}, make: fixed(org+"/users/"+demo.PlainUserID+"/api-tokens", "")},
		"DELETE /orgs/{orgId}/users/{accountId}/api-tokens/{tokenId}": {allow: []string{"org admin", "paid user"}, make: func(t *testing.T, e *env, n int) cell {
			r := e.do(t, http.MethodPost, org+"/users/"+demo.PlainUserID+"/api-tokens", e.token(t, demo.PlainUserID), fmt.Sprintf(`{"label":"matrix %d"}`, n))
			if r.status != 201 {
				t.Fatalf("create api token: %d %s", r.status, r.body)
			}
			return cell{path: org + "/users/" + demo.PlainUserID + "/api-tokens/" + r.json(t)["id"].(string)}
		}},

		decisionRoute: {allow: products,
			make: fixed(site+"/products/confluence/access/"+demo.GuestID+"?client=web&space="+demo.SpaceMKT, "")},
	}
}

// decisionRoute is the access decision's row.
const decisionRoute = "GET /orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}"

// TestAuthorisationMatrix calls every route of the API (read from
// template.yaml) as every persona and checks allow or deny in each cell: an
// allowed call answers its success status; a denied one 401 (anonymous),
// 403 (no power here, or a product's token on a person's route, or a
// person's token on the decision route) or 404 (another org: its existence
// is not revealed; a product's token outside the product, orgs and sites it
// was issued for, on the decision route, gets the unknown org's 404 too,
// TestProductTokensAreBound compares the bytes). Public routes are authorised by the link they carry, so
// every persona gets what anonymous gets.
//
// It runs on the embedded backend only: who may call what is decided by the
// handlers, not by the backend, and every route's own end-to-end tests run
// on both; on moto the matrix's hundreds of fresh users, groups and invites
// (each a transaction that copies moto's whole table) took minutes.
func TestAuthorisationMatrix(t *testing.T) {
	for _, backend := range []string{"embedded"} {
		t.Run(backend, func(t *testing.T) {
			e := start(t, backend, func(o *devstack.Options) { o.Personas = true; o.PaidUsers = 40 })
			m := matrix()
			var keys []string
			for _, r := range e.Routes {
				if r.Method == "OPTIONS" {
					continue // CORS preflights: public on every path, TestCORSPreflightOnEveryPath
				}
				k := r.Method + " " + r.Path
				if _, ok := m[k]; !ok {
					t.Errorf("route %s has no row in the authorisation matrix", k)
					continue
				}
				keys = append(keys, k)
			}
			for k := range m {
				if !slices.Contains(keys, k) {
					t.Errorf("matrix row %s is not a route of template.yaml", k)
				}
			}
			sort.Strings(keys)
			var n atomic.Int64
			cells, denied := 0, 0
			var table strings.Builder
			for i, p := range personas {
				fmt.Fprintf(&table, "%s%d = %s", map[bool]string{true: "", false: "; "}[i == 0], i+1, p.name)
			}
			fmt.Fprintf(&table, "\n%-75s", "")
			for i := range personas {
				fmt.Fprintf(&table, " %d", (i+1)%10)
			}
			table.WriteString("\n")
			for _, k := range keys {
				rw := m[k]
				method, _, _ := strings.Cut(k, " ")
				if method == "ANY" {
					method = "DELETE" // a method no other route of these paths takes
				}
				fmt.Fprintf(&table, "%-75s", k)
				for _, p := range personas {
					var c cell
					if rw.makeFor != nil {
						c = rw.makeFor(t, e, int(n.Add(1)), p)
					} else {
						c = rw.make(t, e, int(n.Add(1)))
					}
					tok := ""
					if p.product {
						var err error
						if tok, err = e.BoundProductToken(p.sub, p.claim, p.orgs, p.sites); err != nil {
							t.Fatal(err)
						}
					} else if p.sub != "" {
						tok = e.token(t, p.sub)
					}
					r := e.do(t, method, c.path, tok, c.body, c.hdr...)
					cells++
					allowed := rw.public || slices.Contains(rw.allow, p.name)
					want := rw.want
					if want == 0 {
						want = 200
					}
					mark := "Y"
					switch {
					case rw.public:
						if r.status == 401 || r.status == 403 || rw.want != 0 && r.status != rw.want {
							t.Errorf("%s as %s: %d on a public route (want %d)", k, p.name, r.status, rw.want)
						}
					case allowed:
						if r.status != want {
							t.Errorf("%s as %s: %d, want %d (allowed)\n%s", k, p.name, r.status, want, r.body)
						}
					default:
						mark, denied = ".", denied+1
						ok := r.status == 403
						switch {
						case p.sub == "":
							ok = r.status == 401
						case p.name == "admin of another org":
							ok = r.status == 403 || r.status == 404
						case p.product && k == decisionRoute:
							// Outside its grant: the unknown org's answer.
							ok = r.status == 404
						}
						if !ok {
							t.Errorf("%s as %s: %d, want denied\n%s", k, p.name, r.status, r.body)
						}
					}
					table.WriteString(" " + mark)
				}
				table.WriteString("\n")
			}
			t.Logf("authorisation matrix: %d routes x %d personas = %d cells (%d denied)\n%s", len(keys), len(personas), cells, denied, table.String())
		})
	}
}
