package devstack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// The end-to-end suite of API tokens (ApiTokensFunction) and their check
// at use time by the access decision, on both backends.

func apiTokensPath(org, acct string) string { return "/orgs/" + org + "/users/" + acct + "/api-tokens" }

// createAPIToken makes an API token for acct as acct and returns its secret.
func createAPIToken(t *testing.T, e *env, acct string) string {
	t.Helper()
	r := e.do(t, "POST", apiTokensPath(demo.OrgID, acct), e.token(t, acct), `{"label":"e2e","expiresInDays":7}`)
	if r.status != 201 {
		t.Fatalf("create api token for %s: %d %s", acct, r.status, r.body)
	}
	secret, _ := r.json(t)["secret"].(string)
	if !strings.HasPrefix(secret, domain.APITokenPrefix) {
		t.Fatalf("secret %q", secret)
	}
	return secret
}

// setBlockAPITokens writes the org's policy setting directly (the policy
// routes are another function's): test setup, not a function's call.
func setBlockAPITokens(t *testing.T, e *env, block bool) {
	t.Helper()
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(e.Store.Table()),
		Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID}, "SK": &types.AttributeValueMemberS{Value: "ORG"}},
		UpdateExpression: aws.String("SET blockApiTokens = :b"), ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberBOOL{Value: block}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAPITokensEndToEnd: a guest makes a token (the secret once, never in
// a list), who may list and revoke, bad input changing nothing; then the
// decision on the api client: allowed with it, api_token_blocked at once
// when the policy blocks external users' tokens (nothing deleted: an
// internal user's token still works), allowed again when it allows,
// api_token_invalid once revoked; each decision one BatchGetItem.
func TestAPITokensEndToEnd(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		product, err := e.ProductToken("confluence")
		if err != nil {
			t.Fatal(err)
		}
		gus, alice, admin := e.token(t, demo.GuestID), e.token(t, demo.PlainUserID), e.token(t, demo.AdminID)
		list := apiTokensPath(demo.OrgID, demo.GuestID)

		// Refused: another's token, bad input; nothing written.
		for _, c := range []struct {
			token, body string
			status      int
		}{
			{admin, `{"label":"for gus"}`, 403},
			{alice, `{"label":"for gus"}`, 403},
			{gus, `{}`, 400},
			{gus, `{"label":"  "}`, 400},
			{gus, `{"label":"x","expiresInDays":366}`, 400},
			{gus, `{"label":"x","expiresInDays":0}`, 400},
			{gus, `{"label":"x","secret":"mine"}`, 400},
		} {
			if r := e.do(t, "POST", list, c.token, c.body); r.status != c.status {
				t.Errorf("POST %s: %d %s, want %d", c.body, r.status, r.body, c.status)
			}
		}
		if r := e.do(t, "GET", list, gus, ""); r.status != 200 || string(r.body) != `{"tokens":[]}` {
			t.Fatalf("list after refusals: %d %s", r.status, r.body)
		}

		r := e.do(t, "POST", list, gus, `{"label":"CI deploys"}`)
		if r.status != 201 || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
		}
		made := r.json(t)
		secret, id := made["secret"].(string), made["id"].(string)
		aliceSecret := createAPIToken(t, e, demo.PlainUserID)

		for _, tok := range []string{gus, admin} {
			r := e.do(t, "GET", list, tok, "")
			var page struct {
				Tokens []map[string]any `json:"tokens"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &page) != nil || len(page.Tokens) != 1 || page.Tokens[0]["id"] != id || page.Tokens[0]["label"] != "CI deploys" ||
				page.Tokens[0]["expired"] != false || strings.Contains(string(r.body), secret) || page.Tokens[0]["secret"] != nil {
				t.Errorf("list: %d %s", r.status, r.body)
			}
		}
		if r := e.do(t, "GET", list, alice, ""); r.status != 403 {
			t.Errorf("alice lists gus's tokens: %d %s", r.status, r.body)
		}

		decide := func(t *testing.T, acct, secret string, allow bool, reason domain.Reason) {
			t.Helper()
			e.calls.Reset()
			r := e.do(t, "GET", decisionPath(demo.OrgID, demo.SiteID, "confluence", acct, "api", ""), product, "", "X-Api-Token", secret)
			if m := r.json(t); r.status != 200 || m["allow"] != allow || m["reason"] != string(reason) {
				t.Errorf("%s on api: %d %s; want allow=%v %s", acct, r.status, r.body, allow, reason)
			}
			if calls := e.calls.Counts(); calls["BatchGetItem"] != 1 || len(calls) > 2 || len(calls) == 2 && calls["UpdateItem"] != 1 {
				t.Errorf("%s: DynamoDB calls %v, want one BatchGetItem (and at most the day's UpdateItem)", acct, calls)
			}
		}
		decide(t, demo.GuestID, secret, true, domain.ReasonAllowed)
		decide(t, demo.GuestID, "", false, domain.ReasonAPITokenInvalid)
		decide(t, demo.GuestID, aliceSecret, false, domain.ReasonAPITokenInvalid)
		decide(t, demo.PlainUserID, aliceSecret, true, domain.ReasonAllowed)

		setBlockAPITokens(t, e, true)
		decide(t, demo.GuestID, secret, false, domain.ReasonAPITokenBlocked)
		decide(t, demo.PlainUserID, aliceSecret, true, domain.ReasonAllowed) // alice is internal (a verified domain)
		if r := e.do(t, "GET", list, gus, ""); !strings.Contains(string(r.body), id) {
			t.Errorf("blocking deleted the token: %s", r.body)
		}
		setBlockAPITokens(t, e, false)
		decide(t, demo.GuestID, secret, true, domain.ReasonAllowed)

		if r := e.do(t, "DELETE", list+"/"+id, alice, ""); r.status != 403 {
			t.Errorf("alice revokes gus's token: %d %s", r.status, r.body)
		}
		if r := e.do(t, "DELETE", list+"/"+id, gus, ""); r.status != 200 || r.json(t)["id"] != id {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		decide(t, demo.GuestID, secret, false, domain.ReasonAPITokenInvalid)
		if r := e.do(t, "DELETE", list+"/"+id, admin, ""); r.status != 404 {
			t.Errorf("revoked twice: %d %s", r.status, r.body)
		}
		if r := e.do(t, "GET", list, gus, ""); string(r.body) != `{"tokens":[]}` {
			t.Errorf("list after revoke: %s", r.body)
		}
	})
}
