package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/idempotency"
)

// withQuery sets a request's query string as API Gateway (REST, payload
// 1.0) does: every value in the multi-value map, the last in the other.
func withQuery(req events.APIGatewayProxyRequest, raw string) events.APIGatewayProxyRequest {
	q, _ := url.ParseQuery(raw)
	req.QueryStringParameters, req.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
	for k, vs := range q {
		req.QueryStringParameters[k] = vs[len(vs)-1]
		req.MultiValueQueryStringParameters[k] = vs
	}
	return req
}

func problemOf(t *testing.T, resp events.APIGatewayProxyResponse) map[string]any {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Fatalf("content type %q: %s", ct, resp.Body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRepeatedQueryParameterIsRefused: whatever the route, a query parameter
// given twice is a 400 problem naming it, and the handler never runs (so
// it reads nothing and writes nothing); the same parameters given once each
// reach the handler.
func TestRepeatedQueryParameterIsRefused(t *testing.T) {
	var ran atomic.Int32
	e := Endpoint{Handler: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		ran.Add(1)
		return JSON(200, map[string]bool{"allow": true}), nil
	}, Log: quiet}
	base := events.APIGatewayProxyRequest{HTTPMethod: "GET", Resource: "/orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}", Path: "/orgs/o/sites/s/products/confluence/access/a"}
	base.RequestContext.RequestID = "req-q"
	for _, q := range []string{"client=web&space=ENG&space=MKT", "client=web&space=MKT&space=ENG", "space=ENG&client=web&client=api", "space=&space=MKT"} {
		resp, err := e.Handle(context.Background(), withQuery(base, q))
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: %d %v %s", q, resp.StatusCode, err, resp.Body)
			continue
		}
		p := problemOf(t, resp)
		errs, _ := p["errors"].(map[string]any)
		if p["requestId"] != "req-q" || len(errs) != 1 || !strings.Contains(p["detail"].(string), "repeated") {
			t.Errorf("?%s: problem %v", q, p)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("the handler ran %d times for repeated parameters", n)
	}
	if resp, _ := e.Handle(context.Background(), withQuery(base, "client=web&space=ENG")); resp.StatusCode != 200 || ran.Load() != 1 {
		t.Errorf("single parameters: %d, handler ran %d", resp.StatusCode, ran.Load())
	}
}

// TestIdempotencyCoversTheQuery: a key reused with another query string is
// a different request (422, the first answer is not replayed), while the
// same parameters in another order are the same request.
func TestIdempotencyCoversTheQuery(t *testing.T) {
	var kept *idempotency.Record
	keys := fakeKeys{
		ClaimFn: func(_, _, _ string) (*idempotency.Record, error) { return kept, nil },
		KeepFn:  func(_, _ string, rec idempotency.Record) error { kept = &rec; return nil },
		ReleaseFn: func(_, _ string) error {
			return nil
		},
	}
	w := &writer{}
	e := Endpoint{Handler: w.handle, Keys: keys, Log: quiet}
	first := withQuery(keyed("k1", ""), "domain=a.example&format=csv")
	if resp, _ := e.Handle(context.Background(), first); resp.StatusCode != 200 || kept == nil {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	same := withQuery(keyed("k1", ""), "format=csv&domain=a.example")
	if resp, _ := e.Handle(context.Background(), same); resp.StatusCode != 200 || resp.Headers["Idempotent-Replayed"] != "true" {
		t.Errorf("same parameters, other order: %d %v", resp.StatusCode, resp.Headers)
	}
	for _, q := range []string{"domain=b.example&format=csv", "domain=a.example", ""} {
		resp, _ := e.Handle(context.Background(), withQuery(keyed("k1", ""), q))
		if resp.StatusCode != http.StatusUnprocessableEntity || resp.Headers["Idempotent-Replayed"] != "" {
			t.Errorf("?%s under the same key: %d %v %s", q, resp.StatusCode, resp.Headers, resp.Body)
		}
	}
	if n := w.wrote.Load(); n != 1 {
		t.Errorf("handler wrote %d times, want 1", n)
	}
	// A request without a query string hashes as before queries counted, so
	// keys kept across the change still replay.
	plain := keyed("k2", `{"a":1}`)
	want := idempotency.Hash(plain.HTTPMethod, plain.Resource, "orgId=o", plain.Body)
	if got := requestHash(plain); got != want {
		t.Errorf("hash without a query changed: %s, want %s", got, want)
	}
}

// TestCanonicalQuery: sorted by name, escaped, "" when there is none.
func TestCanonicalQuery(t *testing.T) {
	req := withQuery(events.APIGatewayProxyRequest{}, "b=2&a=x%26y&c=")
	if got := CanonicalQuery(req); got != "a=x%26y&b=2&c=" {
		t.Errorf("canonical = %q", got)
	}
	single := events.APIGatewayProxyRequest{QueryStringParameters: map[string]string{"z": "1", "a": "2"}}
	if got := CanonicalQuery(single); got != "a=2&z=1" {
		t.Errorf("from the single-value map: %q", got)
	}
	if got := CanonicalQuery(events.APIGatewayProxyRequest{}); got != "" {
		t.Errorf("no query: %q", got)
	}
}

// TestDuplicateJSONKeysAreRefused: a member named twice in any object, at
// any depth, even spelt with another case or escaped, is a 400 naming where;
// distinct members, and the same name in different objects, pass.
func TestDuplicateJSONKeysAreRefused(t *testing.T) {
	bad := map[string]string{
		`{"role":"user","role":"guest"}`:                                         "role",
		`{"products":{"confluence":{"role":"user","role":"guest"}}}`:             "products.confluence.role",
		`{"roles":[{"site":"a"},{"site":"b","product":"x","site":"c"}]}`:         "roles[1].site",
		`{"role":"user","Role":"guest"}`:                                         "Role",
		`{"role":"user","r\u006fle":"guest"}`:                                    "role",
		`{"a":[[1],[2,{"k":1,"K":2}]]}`:                                          "a[1][1].K",
		`{"products":{"confluence":{"role":"guest"},"confluence":{"role":"x"}}}`: "products.confluence",
		`{"emails":["a@b.example"],"emails":[]}`:                                 "emails",
		// U+212A KELVIN SIGN folds to k, as encoding/json matches it.
		"{\"k\":1,\"\u212a\":2}": "\u212a",
	}
	for body, field := range bad {
		err := checkJSONKeys([]byte(body))
		var de *domain.Error
		if !asDomain(err, &de) || de.Code != domain.EINVALID || de.Fields[field] == "" {
			t.Errorf("%s: %v (fields %v), want a field error on %q", body, err, fieldsOf(de), field)
		}
	}
	for _, body := range []string{
		`{"role":"user"}`, `{"a":{"role":1},"b":{"role":2}}`, `[{"k":1},{"k":2}]`, `{"a":[],"b":{},"c":null}`,
		`"text"`, `{"s":"role","role":"s"}`, `{"a":{"b":{"c":{}}},"d":1}`, `{"bad json"`,
	} {
		if err := checkJSONKeys([]byte(body)); err != nil {
			t.Errorf("%s refused: %v", body, err)
		}
	}
}

// TestDecodeJSONRefusesDuplicateKeys: the one decoder of request bodies
// answers a duplicate with EINVALID, whichever value would have won.
func TestDecodeJSONRefusesDuplicateKeys(t *testing.T) {
	req := events.APIGatewayProxyRequest{Headers: map[string]string{"Content-Type": "application/json"}}
	var v struct {
		Role string `json:"role"`
	}
	for _, body := range []string{`{"role":"user","role":"guest"}`, `{"role":"guest","role":"user"}`} {
		req.Body = body
		if err := DecodeJSON(req, MaxJSONBody, &v); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("%s: %v", body, err)
		}
	}
	req.Body = `{"role":"guest"}`
	if err := DecodeJSON(req, MaxJSONBody, &v); err != nil || v.Role != "guest" {
		t.Errorf("single: %v %+v", err, v)
	}
}

// TestRepeatedFormFieldIsRefused: the guest pages' forms too.
func TestRepeatedFormFieldIsRefused(t *testing.T) {
	if _, err := parseForm([]byte("token=a&token=b")); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("repeated token: %v", err)
	}
	if f, err := parseForm([]byte("action=send&email=x%40y.example")); err != nil || f.Get("email") != "x@y.example" {
		t.Errorf("plain form: %v %v", f, err)
	}
}

func asDomain(err error, de **domain.Error) bool {
	e, ok := err.(*domain.Error)
	*de = e
	return ok
}

func fieldsOf(e *domain.Error) map[string]string {
	if e == nil {
		return nil
	}
	return e.Fields
}
