package devstack_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// The end-to-end suite of the access decision (AccessDecisionFunction), on
// both backends with the demo personas, every answer checked against
// openapi.yaml by e.do.

func decisionPath(org, site, product, acct, client, space string) string {
	q := url.Values{}
	if client != "" {
		q.Set("client", client)
	}
	if space != "" {
		q.Set("space", space)
	}
	p := "/orgs/" + org + "/sites/" + site + "/products/" + product + "/access/" + url.PathEscape(acct)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// TestAccessDecision asks the decision for every persona and reason through
// the API with a product's token, checks the cache headers of answers and
// problems, and counts the DynamoDB calls of each: one BatchGetItem, a
// chain of one, plus one UpdateItem (last active) on the first decision of
// the day that allows an account.
func TestAccessDecision(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			tr := &testenv.Trace{Latency: 20 * time.Millisecond}
			e := start(t, b, func(o *devstack.Options) {
				o.Personas = true
				o.DynamoAPIOptions = append(o.DynamoAPIOptions, tr.Add)
			})
			ctx := context.Background()
			product, err := e.ProductToken("confluence")
			if err != nil {
				t.Fatal(err)
			}
			// Each product asks about its own product (TestProductTokensAreBound).
			jira, err := e.ProductToken("jira")
			if err != nil {
				t.Fatal(err)
			}
			tokenOf := map[string]string{"confluence": product, "jira": jira}
			// A suspended paid user (the users routes suspend; written directly here).
			if err := e.Store.CreateUser(ctx, domain.User{OrgID: demo.OrgID, AccountID: "sus-14west", Email: "sus@" + demo.VerifiedDomain,
				Status: domain.UserSuspended, CreatedAt: time.Now()}, demo.SiteID,
				[]domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
				t.Fatal(err)
			}
			// A guest without a space: invited (pending), then accepted.
			admin := e.token(t, demo.AdminID)
			addr := unique("nospace")
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
			if r.status != 200 {
				t.Fatalf("invite: %d %s", r.status, r.body)
			}
			invitee := results(t, r)[0]["accountId"].(string)

			// The guest's own API token, for the api client.
			apiToken := createAPIToken(t, e, demo.GuestID)

			// count asks one decision and checks it cost one BatchGetItem
			// (and the day's last-active UpdateItem on an account's first
			// allowed decision).
			touched := map[string]bool{}
			count := func(t *testing.T, acct, path, token string, allowed bool, hdr ...string) response {
				t.Helper()
				e.calls.Reset()
				tr.Reset()
				r := e.do(t, "GET", path, token, "", hdr...)
				calls, chain := e.calls.Counts(), tr.Chain(func(c testenv.Call) bool { return c.Service == "DynamoDB" })
				if allowed && !touched[acct] {
					touched[acct] = true
					if len(calls) != 2 || calls["BatchGetItem"] != 1 || calls["UpdateItem"] != 1 || len(chain) != 2 {
						t.Errorf("%s: DynamoDB calls %v, longest chain %d; want one BatchGetItem, then the day's UpdateItem", path, calls, len(chain))
					}
				} else if len(calls) != 1 || calls["BatchGetItem"] != 1 || len(chain) != 1 {
					t.Errorf("%s: DynamoDB calls %v, longest chain %d; want one BatchGetItem", path, calls, len(chain))
				}
				return r
			}
			decide := func(t *testing.T, acct, prod, client, space string, allow bool, reason domain.Reason, wantSpace string) {
				t.Helper()
				var hdr []string
				if client == "api" {
					hdr = []string{"X-Api-Token", apiToken}
				}
				r := count(t, acct, decisionPath(demo.OrgID, demo.SiteID, prod, acct, client, space), tokenOf[prod], allow, hdr...)
				if r.status != 200 {
					t.Fatalf("%s %s %s %s: %d %s", acct, prod, client, space, r.status, r.body)
				}
				m := r.json(t)
				gotSpace, _ := m["space"].(string)
				if m["allow"] != allow || m["reason"] != string(reason) || gotSpace != wantSpace {
					t.Errorf("%s %s %s %s: %s; want allow=%v %s space %q", acct, prod, client, space, r.body, allow, reason, wantSpace)
				}
				if cc, v := r.header.Get("Cache-Control"), r.header.Get("Vary"); cc != "private, max-age=60" || v != "X-Api-Token, Origin" { // Origin: the stack allows the console's
					t.Errorf("Cache-Control = %q, Vary = %q", cc, v)
				}
			}

			decide(t, demo.GuestID, "confluence", "web", demo.SpaceMKT, true, domain.ReasonAllowed, demo.SpaceMKT)
			decide(t, demo.GuestID, "confluence", "web", demo.SpaceENG, false, domain.ReasonGuestOtherSpace, demo.SpaceMKT)
			decide(t, demo.GuestID, "confluence", "web", demo.SpacePUB, true, domain.ReasonAllowed, demo.SpaceMKT)
			decide(t, demo.GuestID, "confluence", "web", "", true, domain.ReasonAllowed, demo.SpaceMKT)
			decide(t, demo.GuestID, "confluence", "api", demo.SpaceMKT, true, domain.ReasonAllowed, demo.SpaceMKT)
			decide(t, demo.PlainUserID, "confluence", "api", "", false, domain.ReasonAPITokenInvalid, "") // the guest's token is not alice's
			decide(t, demo.GuestID, "confluence", "web", "NOSUCH", false, domain.ReasonUnknownSpace, demo.SpaceMKT)
			decide(t, demo.GuestID, "confluence", "mobile", demo.SpaceMKT, false, domain.ReasonGuestOnMobile, demo.SpaceMKT)
			decide(t, demo.GuestID, "jira", "web", "", false, domain.ReasonNoProductAccess, "")
			for _, sp := range []string{demo.SpaceMKT, demo.SpaceENG, demo.SpacePUB, "NOSUCH", ""} {
				decide(t, demo.PlainUserID, "confluence", "web", sp, true, domain.ReasonAllowed, "")
			}
			decide(t, demo.PlainUserID, "confluence", "mobile", demo.SpaceENG, true, domain.ReasonAllowed, "")
			decide(t, demo.PlainUserID, "jira", "web", "", false, domain.ReasonNoProductAccess, "")
			decide(t, "sus-14west", "confluence", "web", demo.SpaceMKT, false, domain.ReasonSuspended, "")
			decide(t, invitee, "confluence", "web", demo.SpacePUB, false, domain.ReasonInvited, "")
			acc := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(e.acceptLink(t, addr)), "Content-Type", "application/x-www-form-urlencoded")
			if acc.status != 200 {
				t.Fatalf("accept: %d %s", acc.status, acc.body)
			}
			decide(t, invitee, "confluence", "web", demo.SpacePUB, false, domain.ReasonGuestWithoutSpace, "")
			decide(t, invitee, "confluence", "web", "", false, domain.ReasonGuestWithoutSpace, "")

			// Problems: never cached, each one read at most (bad input none).
			problem := func(t *testing.T, path, token string, status int, field string) {
				t.Helper()
				e.calls.Reset()
				r := e.do(t, "GET", path, token, "")
				// The 401 is API Gateway's (the authorizer refuses before the
				// function): it sends no Cache-Control, and a 401 is not
				// cacheable without one; the function's problems say no-store.
				cc := r.header.Get("Cache-Control")
				if r.status != status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || cc != "no-store" && !(status == 401 && cc == "") {
					t.Fatalf("%s: %d %v %s", path, r.status, r.header, r.body)
				}
				m := r.json(t)
				if rid, _ := m["requestId"].(string); rid == "" && status != 401 {
					t.Errorf("%s: no requestId in %s", path, r.body)
				}
				if field != "" {
					if errs, _ := m["errors"].(map[string]any); errs[field] == nil {
						t.Errorf("%s: errors do not name %s: %s", path, field, r.body)
					}
				}
				if n := e.calls.Counts()["BatchGetItem"]; status != 404 && n != 0 || status == 404 && n > 1 {
					t.Errorf("%s: %v DynamoDB calls", path, e.calls.Counts())
				}
			}
			ok := decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "web", demo.SpaceMKT)
			problem(t, ok, "", 401, "")
			problem(t, ok, admin, 403, "")
			problem(t, ok, e.token(t, demo.GuestID), 403, "")
			problem(t, decisionPath(demo.OrgID, demo.SiteID, "confluence", "nobody-14west", "web", ""), product, 404, "")
			problem(t, decisionPath(demo.OrgID, "nosite", "confluence", demo.GuestID, "web", ""), product, 404, "")
			problem(t, decisionPath("noorg", demo.SiteID, "confluence", demo.GuestID, "web", ""), product, 404, "")
			problem(t, decisionPath(demo.OtherOrgID, demo.SiteID, "confluence", demo.GuestID, "web", ""), product, 404, "")
			problem(t, decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "desktop", ""), product, 400, "client")
			problem(t, decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "", ""), product, 400, "client")
			problem(t, decisionPath(demo.OrgID, demo.SiteID, "bitbucket", demo.GuestID, "web", ""), product, 400, "product")
			problem(t, decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "web", "mkt"), product, 400, "space")

			// A product's token asks decisions only.
			if r := e.do(t, "GET", userRolesPath(demo.OrgID, demo.PlainUserID), product, ""); r.status != 403 {
				t.Errorf("product token on a person's route: %d %s", r.status, r.body)
			}
		})
	}
}
