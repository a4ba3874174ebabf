package faultstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/apidoc"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// What the fault tests need of infra/dev/devstack's end-to-end helpers (a
// test package's helpers cannot be imported): a moto stack whose answers
// are validated against openapi.yaml and whose AWS calls are held to
// template.yaml's grants when it stops, requests, and the routes' paths.

// env is one running stack.
type env struct {
	*devstack.Stack
	clock *atomic.Int64 // offset of the handlers' clock, in seconds
	api   *apidoc.Validator
}

// start starts a stack on the moto server at ep.
func start(t *testing.T, ep string, mutate ...func(*devstack.Options)) *env {
	t.Helper()
	api, err := apidoc.NewValidator(context.Background())
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	e := &env{clock: &atomic.Int64{}, api: api}
	o := devstack.Options{
		Table:          "faults-" + domain.NewID()[:12],
		Sender:         "invitations@14west.example",
		Now:            func() time.Time { return time.Now().Add(time.Duration(e.clock.Load()) * time.Second) },
		DynamoEndpoint: ep, SESEndpoint: ep, VerifySender: true,
	}
	for _, m := range mutate {
		m(&o)
	}
	st, err := devstack.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start moto stack: %v", err)
	}
	t.Cleanup(st.Close)
	e.Stack = st
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d, body not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

// do makes a request; every answer must match the OpenAPI document.
func (e *env) do(t *testing.T, method, path, token string, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := e.api.Response(context.Background(), req, resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("response does not match openapi.yaml: %v", err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// form posts a form as a browser does.
func (e *env) form(t *testing.T, path string, v url.Values) response {
	t.Helper()
	return e.do(t, "POST", path, "", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

func (e *env) token(t *testing.T, sub string) string {
	t.Helper()
	tok, err := e.Token(sub)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// items scans the stack's table.
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

func results(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	raw, _ := r.json(t)["results"].([]any)
	for _, x := range raw {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// mustStatus fails the test unless r has the status, and returns its JSON.
func mustStatus(t *testing.T, r response, status int, what string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r.json(t)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func unique(name string) string { return name + "-" + domain.NewID()[:8] + "@agency.example" }

func guestBody(msg string, emails ...string) string {
	return mustJSON(map[string]any{"emails": emails, "products": map[string]any{"confluence": map[string]string{"role": "guest"}}, "message": msg})
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

const extOrg = "/orgs/" + demo.OrgID

func invitePath(org, site string) string     { return "/orgs/" + org + "/sites/" + site + "/invitations" }
func resendPath(org, site, id string) string { return invitePath(org, site) + "/" + id + "/resend" }
func revokePath(org, site, id string) string { return invitePath(org, site) + "/" + id + "/revoke" }
func userPath(org, acct string) string       { return "/orgs/" + org + "/users/" + acct }
func apiTokensPath(org, acct string) string  { return userPath(org, acct) + "/api-tokens" }
func groupsPath(org string) string           { return "/orgs/" + org + "/groups" }
func memberPath(org, id, acct string) string {
	return groupsPath(org) + "/" + id + "/members/" + url.PathEscape(acct)
}
func rolePath(org, site, product, acct string) string {
	return "/orgs/" + org + "/sites/" + site + "/products/" + product + "/users/" + url.PathEscape(acct) + "/role"
}
func groupRolePath(org, group, site, product string) string {
	return groupsPath(org) + "/" + group + "/roles/" + site + "/" + product
}
func guestSpacePath(acct string) string {
	return "/orgs/" + demo.OrgID + "/sites/" + demo.SiteID + "/guests/" + url.PathEscape(acct) + "/space"
}
func verifyPath(org string) string { return "/orgs/" + org + "/verify" }

var (
	codeInHTML = regexp.MustCompile(`id="code">([0-9]{6})<`)
	codeInText = regexp.MustCompile(`(?m)^\s*([0-9]{6})\s*$`)
	linkInText = regexp.MustCompile(`(https?://[^\s()<>"]+[?&]key=[A-Za-z0-9_-]{43})`)
)

// verifyOrg makes an org of its own with two-step verification on every
// 7 days, a site, and an external paid user; it returns the org id, the
// account id and address.
func (e *env) verifyOrg(t *testing.T) (string, string, string) {
	t.Helper()
	ctx := context.Background()
	id := "vrf" + strings.ToLower(domain.NewID()[:6])
	now := time.Now().UTC()
	if err := e.Store.CreateOrg(ctx, domain.Org{ID: id, Name: "Verify Org", VerifiedDomains: []string{"vrf.example"}, CreatedAt: now,
		Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateSite(ctx, domain.Site{OrgID: id, ID: "wiki", Name: "Wiki", Host: "wiki.vrf.example", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	addr := "pat-" + strings.ToLower(domain.NewID()[:6]) + "@agency.example"
	if err := e.Store.CreateUser(ctx, domain.User{OrgID: id, AccountID: "pat", Email: addr, Status: domain.UserActive, External: true, CreatedAt: now}, "wiki",
		[]domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
		t.Fatal(err)
	}
	return id, "pat", addr
}

// waitEmails waits (up to two minutes: a throttled email is queued again
// after 30 s, doubling) until the email queue's sender handled every email
// handed off so far.
func (e *env) waitEmails(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.WaitEmails(ctx); err != nil {
		t.Errorf("email queue: %v", err)
	}
}
