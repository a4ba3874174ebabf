package devstack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// The end-to-end suite of the external user policy (ExternalPolicyFunction)
// on both backends with the demo personas: what the policy, the test policy
// and the resets of sessions do to the access decision, and that the
// preview says beforehand what the decision then does.

const policyPath = "/orgs/" + demo.OrgID + "/external-policy"

// policyBody is a policy's JSON; days 0 is "once".
func policyBody(twoStep bool, days int, blocked bool, extra ...string) string {
	every := `"once"`
	if days > 0 {
		every = fmt.Sprintf(`{"days":%d}`, days)
	}
	b := fmt.Sprintf(`{"twoStepVerification":%q,"verifyEvery":%s,"apiTokens":%q`, map[bool]string{true: "on", false: "off"}[twoStep], every,
		map[bool]string{true: "blocked", false: "allowed"}[blocked])
	for _, x := range extra {
		b += "," + x
	}
	return b + "}"
}

// markVerified writes a completed verification on a profile directly (the
// passcode flow is another route's): verifiedAt at the handlers' now plus d.
func (e *env) markVerified(t *testing.T, acct string, d time.Duration) time.Time {
	t.Helper()
	at := time.Now().Add(time.Duration(e.clock.Load())*time.Second + d).UTC()
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(e.Store.Table()),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID + "#USER#" + acct},
			"SK": &types.AttributeValueMemberS{Value: "PROFILE"}},
		UpdateExpression:          aws.String("SET verifiedAt = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: at.Format(time.RFC3339Nano)}}})
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// affected maps a preview page's users to their effects by name.
func affected(t *testing.T, r response) map[string][]map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	out := map[string][]map[string]any{}
	for _, u := range r.json(t)["users"].([]any) {
		m := u.(map[string]any)
		for _, e := range m["effects"].([]any) {
			out[m["accountId"].(string)] = append(out[m["accountId"].(string)], e.(map[string]any))
		}
	}
	return out
}

func effectNames(es []map[string]any) string {
	var n []string
	for _, e := range es {
		n = append(n, e["effect"].(string))
	}
	return strings.Join(n, ",")
}

func TestExternalPolicyEndToEnd(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, demo.AdminID)
		product, err := e.ProductToken("confluence")
		if err != nil {
			t.Fatal(err)
		}
		// On the api client the product passes the user's API token: each
		// account makes one, once, through the API.
		apiTokens := map[string]string{}
		decide := func(t *testing.T, acct, client string) string {
			t.Helper()
			var hdr []string
			if client == "api" {
				if apiTokens[acct] == "" {
					r := mustStatus(t, e.do(t, "POST", "/orgs/"+demo.OrgID+"/users/"+acct+"/api-tokens", e.token(t, acct), `{"label":"policy test"}`), 201, "api token")
					apiTokens[acct] = r["secret"].(string)
				}
				hdr = []string{"X-Api-Token", apiTokens[acct]}
			}
			r := e.do(t, "GET", decisionPath(demo.OrgID, demo.SiteID, "confluence", acct, client, demo.SpaceMKT), product, "", hdr...)
			if r.status != 200 {
				t.Fatalf("decision: %d %s", r.status, r.body)
			}
			return r.json(t)["reason"].(string)
		}
		want := func(t *testing.T, acct, client, reason string) {
			t.Helper()
			if got := decide(t, acct, client); got != reason {
				t.Errorf("%s on %s: %s, want %s", acct, client, got, reason)
			}
		}
		version := func(t *testing.T) float64 {
			t.Helper()
			return mustStatus(t, e.do(t, "GET", policyPath, admin, ""), 200, "get")["version"].(float64)
		}
		// A second external guest of MKT, never verified.
		other := "pat-14west"
		if err := e.Store.CreateUser(ctx, domain.User{OrgID: demo.OrgID, AccountID: other, Email: "pat@partner.example", Status: domain.UserActive, External: true, CreatedAt: time.Now()},
			demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest, Space: demo.SpaceMKT}}); err != nil {
			t.Fatal(err)
		}

		got := mustStatus(t, e.do(t, "GET", policyPath, admin, ""), 200, "get")
		if got["version"].(float64) != 0 || got["testPolicy"] != nil || got["sessionsResetAt"] != nil || got["policy"].(map[string]any)["twoStepVerification"] != "off" {
			t.Fatalf("initial policy: %v", got)
		}
		want(t, demo.GuestID, "web", "allowed")

		// Preview, then apply: two-step on every 7 days, API tokens blocked.
		on := policyBody(true, 7, true)
		fx := affected(t, e.do(t, "POST", policyPath+"/preview", admin, on))
		if effectNames(fx[demo.GuestID]) != "must_verify,api_tokens_blocked" || effectNames(fx[other]) != "must_verify,api_tokens_blocked" {
			t.Errorf("preview: %v", fx)
		}
		if _, ok := fx[demo.PlainUserID]; ok {
			t.Error("an internal user is in the preview")
		}
		r := mustStatus(t, e.do(t, "PUT", policyPath, admin, on), 200, "put")
		if r["changed"] != true || r["version"].(float64) != 1 {
			t.Fatalf("put: %v", r)
		}
		if r := mustStatus(t, e.do(t, "PUT", policyPath, admin, on), 200, "put again"); r["changed"] != false || r["version"].(float64) != 1 {
			t.Errorf("the same policy again wrote: %v", r)
		}
		want(t, demo.GuestID, "web", "verification_required")
		want(t, demo.GuestID, "api", "api_token_blocked")
		want(t, demo.PlainUserID, "web", "allowed")
		want(t, demo.PlainUserID, "api", "allowed")

		// Verified two days ago: in force for 7 days. A proposed 1 day makes
		// it lapse now: the preview says so, and the decision agrees once applied.
		verified := e.markVerified(t, demo.GuestID, -48*time.Hour)
		want(t, demo.GuestID, "web", "allowed")
		fx = affected(t, e.do(t, "POST", policyPath+"/preview", admin, policyBody(true, 1, true)))
		if effectNames(fx[demo.GuestID]) != "must_verify" || effectNames(fx[other]) != "" {
			t.Errorf("preview of 1 day: %v", fx)
		} else if by, _ := time.Parse(time.RFC3339Nano, fx[demo.GuestID][0]["by"].(string)); by.Before(verified.Add(48 * time.Hour)) {
			t.Errorf("must verify by %v, before now", by)
		}
		mustStatus(t, e.do(t, "PUT", policyPath, admin, policyBody(true, 1, true)), 200, "1 day")
		want(t, demo.GuestID, "web", "verification_required")
		// Back to 30 days: the preview says the verification lasts until verifiedAt+30d.
		fx = affected(t, e.do(t, "POST", policyPath+"/preview", admin, policyBody(true, 30, true)))
		if effectNames(fx[demo.GuestID]) != "verification_lasts_longer" || fx[demo.GuestID][0]["due"] != verified.Add(30*24*time.Hour).Format(time.RFC3339Nano) {
			t.Errorf("preview of 30 days: %v", fx)
		}
		mustStatus(t, e.do(t, "PUT", policyPath, admin, policyBody(true, 30, true)), 200, "30 days")
		want(t, demo.GuestID, "web", "allowed")

		// A reset of the guest's sessions: verify again.
		e.clock.Add(1)
		rr := mustStatus(t, e.do(t, "POST", "/orgs/"+demo.OrgID+"/users/"+demo.GuestID+"/reset-session", admin, ""), 200, "reset one")
		if rr["external"] != true {
			t.Errorf("reset one: %v", rr)
		}
		want(t, demo.GuestID, "web", "verification_required")
		e.clock.Add(1)
		e.markVerified(t, demo.GuestID, 0)
		want(t, demo.GuestID, "web", "allowed")
		// Every external user's: one write of the org.
		e.clock.Add(1)
		e.calls.Reset()
		rs := mustStatus(t, e.do(t, "POST", "/orgs/"+demo.OrgID+"/external-users/reset-sessions", admin, ""), 200, "reset all")
		if c := e.calls.Counts(); c["TransactWriteItems"] != 1 {
			t.Errorf("reset of every session: calls %v", c)
		}
		if rs["sessionsResetAt"] == nil {
			t.Errorf("reset all: %v", rs)
		}
		want(t, demo.GuestID, "web", "verification_required")
		want(t, demo.PlainUserID, "web", "allowed")

		// The test policy, previewed then applied: off for Gus only.
		e.clock.Add(1)
		e.markVerified(t, demo.GuestID, 0)
		test := policyBody(false, 0, false, `"users":["`+demo.GuestID+`"]`)
		fx = affected(t, e.do(t, "POST", policyPath+"/preview", admin, policyBody(false, 0, false, `"test":true`, `"users":["`+demo.GuestID+`"]`)))
		if effectNames(fx[demo.GuestID]) != "verification_no_longer_required,api_tokens_allowed" || len(fx) != 1 {
			t.Errorf("test preview: %v", fx)
		}
		tp := mustStatus(t, e.do(t, "PUT", policyPath+"/test", admin, test), 200, "test policy")
		users := tp["testPolicy"].(map[string]any)["users"].([]any)
		if len(users) != 1 || users[0].(map[string]any)["email"] != demo.GuestEmail {
			t.Errorf("test policy: %v", tp)
		}
		want(t, demo.GuestID, "api", "allowed")
		want(t, other, "web", "verification_required")
		want(t, other, "api", "api_token_blocked")
		// The org policy's preview skips Gus now (and counts him).
		pv := e.do(t, "POST", policyPath+"/preview?limit=100", admin, policyBody(false, 0, false))
		fx = affected(t, pv)
		if _, ok := fx[demo.GuestID]; ok || effectNames(fx[other]) != "verification_no_longer_required,api_tokens_allowed" ||
			pv.json(t)["totals"].(map[string]any)["underTestPolicy"].(float64) != 1 || pv.json(t)["more"] != false {
			t.Errorf("org preview under a test policy: %s", pv.body)
		}
		// Cleared: Gus is under the org policy again.
		mustStatus(t, e.do(t, "DELETE", policyPath+"/test", admin, ""), 200, "clear")
		want(t, demo.GuestID, "api", "api_token_blocked")

		// Bad changes are refused with the field named and change nothing.
		v := version(t)
		six := `"users":["a1","a2","a3","a4","a5","a6"]`
		for _, c := range []struct {
			method, path, body string
			status             int
			field              string
		}{
			{"PUT", policyPath + "/test", policyBody(true, 1, false, six), 400, "users"},
			{"PUT", policyPath + "/test", policyBody(true, 1, false, `"users":["nobody-14west"]`), 404, ""},
			{"PUT", policyPath + "/test", policyBody(true, 1, false, `"users":["`+demo.PlainUserID+`"]`), 400, "users[0]"},
			{"PUT", policyPath + "/test", policyBody(true, 1, false, `"users":[]`), 400, "users"},
			{"PUT", policyPath, policyBody(true, 31, false), 400, "verifyEvery"},
			{"PUT", policyPath, `{"twoStepVerification":"maybe","verifyEvery":"once","apiTokens":"allowed"}`, 400, "twoStepVerification"},
			{"PUT", policyPath, `{"twoStepVerification":"on","verifyEvery":"once"}`, 400, "apiTokens"},
			{"PUT", policyPath, policyBody(false, 0, false, fmt.Sprintf(`"version":%d`, int(v)-1)), 409, ""},
			{"POST", policyPath + "/preview?limit=0", policyBody(false, 0, false), 400, "limit"},
			{"PUT", policyPath, policyBody(false, 0, false), 403, ""},
		} {
			tok := admin
			if c.status == 403 {
				tok = e.token(t, demo.SiteAdminID)
			}
			r := e.do(t, c.method, c.path, tok, c.body)
			if r.status != c.status {
				t.Errorf("%s %s: %d, want %d\n%s", c.path, c.body, r.status, c.status, r.body)
			} else if c.field != "" {
				if f, _ := r.json(t)["errors"].(map[string]any); f[c.field] == nil {
					t.Errorf("%s %s: fields %v, want %s named", c.path, c.body, f, c.field)
				}
			}
		}
		if version(t) != v {
			t.Errorf("a refused change wrote: version %v, was %v", version(t), v)
		}
		// A change naming the current version applies.
		if r := mustStatus(t, e.do(t, "PUT", policyPath, admin, policyBody(false, 0, false, fmt.Sprintf(`"version":%d`, int(v)))), 200, "versioned"); r["version"].(float64) != v+1 {
			t.Errorf("versioned change: %v", r)
		}
		want(t, demo.GuestID, "web", "allowed")
		want(t, other, "api", "allowed")
	})
}
