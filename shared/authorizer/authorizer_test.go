package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
)

const (
	methodArn = "arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5/prod/GET/sites/site-1/guests"
	stageArn  = "arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5/prod/*"
)

// fakeVerifier accepts the tokens in ok and counts calls.
type fakeVerifier struct {
	ok    map[string]jwtverify.Claims
	calls int
}

func (f *fakeVerifier) Verify(_ context.Context, token string) (jwtverify.Claims, error) {
	f.calls++
	if c, ok := f.ok[token]; ok {
		return c, nil
	}
	return jwtverify.Claims{}, fmt.Errorf("%w: bad signature", jwtverify.ErrInvalidToken)
}

func request(headers map[string]string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: methodArn, Resource: "/sites/{siteId}/guests",
		HTTPMethod: "GET", Headers: headers,
	}
}

// handler returns a Handler over v that logs JSON into the returned buffer.
func handler(v TokenVerifier) (Handler, *bytes.Buffer) {
	var buf bytes.Buffer
	return Handler{Verifier: v, Logger: slog.New(slog.NewJSONHandler(&buf, nil))}, &buf
}

func wantUnauthorized(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, err error) {
	t.Helper()
	if err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("err = %v, want exactly \"Unauthorized\"", err)
	}
	if !reflect.DeepEqual(resp, events.APIGatewayCustomAuthorizerResponse{}) {
		t.Fatalf("resp = %+v, want zero", resp)
	}
}

func TestHandleRefusesMissingOrMalformedHeader(t *testing.T) {
	tests := map[string]map[string]string{
		"no headers":          nil,
		"other headers only":  {"Accept": "application/json"},
		"empty":               {"Authorization": ""},
		"basic scheme":        {"Authorization": "Basic dXNlcjpwYXNz"},
		"token scheme":        {"Authorization": "Token good"},
		"bearer without":      {"Authorization": "Bearer"},
		"bearer blank":        {"Authorization": "Bearer    "},
		"no space":            {"Authorization": "Bearergood"},
		"two tokens":          {"Authorization": "Bearer good good"},
		"bare token":          {"Authorization": "good"},
		"tab separator":       {"Authorization": "Bearer\tgood"},
		"ambiguous duplicate": {"Authorization": "Bearer good", "authorization": "Bearer other"},
	}
	for name, headers := range tests {
		t.Run(name, func(t *testing.T) {
			fv := &fakeVerifier{ok: map[string]jwtverify.Claims{"good": {Subject: "u"}}}
			h, _ := handler(fv)
			resp, err := h.Handle(context.Background(), request(headers))
			wantUnauthorized(t, resp, err)
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("err is not ErrUnauthorized")
			}
			if fv.calls != 0 {
				t.Errorf("verifier called %d times", fv.calls)
			}
		})
	}
}

func TestHandleFindsHeaderCaseInsensitively(t *testing.T) {
	tests := map[string]events.APIGatewayCustomAuthorizerRequestTypeRequest{
		"canonical":            request(map[string]string{"Authorization": "Bearer good"}),
		"lower-case":           request(map[string]string{"authorization": "bearer good"}),
		"upper-case":           request(map[string]string{"AUTHORIZATION": "BEARER good"}),
		"surrounding spaces":   request(map[string]string{"Authorization": "  Bearer   good  "}),
		"same value twice":     request(map[string]string{"Authorization": "Bearer good", "authorization": "Bearer good"}),
		"multi-value only":     {MethodArn: methodArn, MultiValueHeaders: map[string][]string{"authorization": {"Bearer good"}}},
		"single and multi":     {MethodArn: methodArn, Headers: map[string]string{"Authorization": "Bearer good"}, MultiValueHeaders: map[string][]string{"Authorization": {"Bearer good"}}},
		"multi-value repeated": {MethodArn: methodArn, MultiValueHeaders: map[string][]string{"Authorization": {"Bearer good", "Bearer good"}}},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			fv := &fakeVerifier{ok: map[string]jwtverify.Claims{"good": {Subject: "u"}}}
			h, _ := handler(fv)
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if resp.PrincipalID != "u" {
				t.Errorf("PrincipalID = %q", resp.PrincipalID)
			}
		})
	}

	fv := &fakeVerifier{ok: map[string]jwtverify.Claims{"good": {Subject: "u"}}}
	h, _ := handler(fv)
	resp, err := h.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequestTypeRequest{
		MethodArn: methodArn, MultiValueHeaders: map[string][]string{"Authorization": {"Bearer good", "Bearer evil"}},
	})
	wantUnauthorized(t, resp, err)
}

// realVerifier returns a jwtverify.Verifier trusting a fresh test issuer.
func realVerifier(t *testing.T) (*jwttest.Issuer, *jwtverify.Verifier) {
	t.Helper()
	iss, err := jwttest.NewIssuer("https://idp.example.com/", "guestaccess-api")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(iss)
	t.Cleanup(srv.Close)
	v, err := jwtverify.New(jwtverify.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, JWKSURL: srv.URL, HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return iss, v
}

func TestHandleAllowsValidToken(t *testing.T) {
	iss, v := realVerifier(t)
	tok, err := iss.Token("user-42", time.Hour, map[string]any{"email": "ada@example.com", "scope": "guests:write"})
	if err != nil {
		t.Fatal(err)
	}
	h, logs := handler(v)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	resp, err := h.Handle(ctx, request(map[string]string{"Authorization": "Bearer " + tok}))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "user-42",
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageArn},
			}},
		},
		// name is empty in the token, so it is left out.
		Context: map[string]any{"sub": "user-42", "email": "ada@example.com", "scope": "guests:write"},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("resp = %+v\nwant   %+v", resp, want)
	}

	// The response marshals to what API Gateway expects.
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"principalId":"user-42","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["` + stageArn + `"]}]},"context":{"email":"ada@example.com","scope":"guests:write","sub":"user-42"}}`
	if string(b) != wantJSON {
		t.Errorf("JSON = %s\nwant   %s", b, wantJSON)
	}

	rec := lastLog(t, logs)
	if rec["msg"] != "authorization allowed" || rec["requestId"] != "lambda-req-1" || rec["sub"] != "user-42" {
		t.Errorf("log = %v", rec)
	}
	assertNoSecrets(t, logs.String(), tok)
}

// TestHandlePassesAProductsGrant: a product's token's product, orgs and
// sites reach the function in the context (lists space-joined, as API
// Gateway's context holds strings), and the answer is the same whatever the
// request asks about, so API Gateway's cache of it (by token) lends one
// request's answer to no other token and decides nothing per org: the
// decision function checks the grant on every request.
func TestHandlePassesAProductsGrant(t *testing.T) {
	iss, v := realVerifier(t)
	tok, err := iss.Token("confluence-client", time.Hour, map[string]any{
		"scope": "access:decide", "product": "confluence", "orgs": []string{"14west", "acme"}, "sites": []string{"globex/wiki"}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := handler(v)
	var first events.APIGatewayCustomAuthorizerResponse
	for i, arn := range []string{
		"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/orgs/14west/sites/wiki/products/confluence/access/gus",
		"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/orgs/other/sites/wiki/products/jira/access/gus",
	} {
		req := request(map[string]string{"Authorization": "Bearer " + tok})
		req.MethodArn = arn
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"sub": "confluence-client", "scope": "access:decide", "product": "confluence", "orgs": "14west acme", "sites": "globex/wiki"}
		if !reflect.DeepEqual(resp.Context, want) || resp.PolicyDocument.Statement[0].Resource[0] != "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*" {
			t.Errorf("answer %+v, want context %v on the whole stage", resp, want)
		}
		if i == 0 {
			first = resp
		} else if !reflect.DeepEqual(resp, first) {
			t.Errorf("the answer depends on the request: %+v, then %+v", first, resp)
		}
	}
}

func TestHandleRefusesBadTokens(t *testing.T) {
	iss, v := realVerifier(t)
	claims := iss.Claims("admin", time.Hour, nil)
	expired, err := iss.Token("u", -time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := iss.Token("u", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"expired":       expired,
		"alg none":      iss.UnsignedToken(claims),
		"HS256 confuse": iss.HS256Token(iss.RSAPublicKeyPEM(), claims),
		"tampered":      good[:len(good)-6] + "AAAAAA",
		"garbage":       "not-a-jwt",
	} {
		t.Run(name, func(t *testing.T) {
			h, logs := handler(v)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-2"})
			resp, err := h.Handle(ctx, request(map[string]string{"Authorization": "Bearer " + tok}))
			wantUnauthorized(t, resp, err)
			rec := lastLog(t, logs)
			if rec["msg"] != "authorization denied" || rec["level"] != "INFO" || rec["requestId"] != "lambda-req-2" {
				t.Errorf("log = %v", rec)
			}
			if r, _ := rec["reason"].(string); !strings.HasPrefix(r, "invalid token: ") {
				t.Errorf("reason = %q", r)
			}
			assertNoSecrets(t, logs.String(), tok)
		})
	}
}

func TestHandleLogsKeySetOutageAsError(t *testing.T) {
	iss, err := jwttest.NewIssuer("https://idp.example.com/", "api")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http404{})
	defer srv.Close()
	v, err := jwtverify.New(jwtverify.Config{Issuer: iss.Issuer, Audience: iss.Audience, JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Token("u", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, logs := handler(v)
	resp, err := h.Handle(context.Background(), request(map[string]string{"Authorization": "Bearer " + tok}))
	wantUnauthorized(t, resp, err)
	if rec := lastLog(t, logs); rec["level"] != "ERROR" {
		t.Errorf("log = %v, want level ERROR", rec)
	}
}

type http404 struct{}

func (http404) ServeHTTP(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }

func TestHandleNilLoggerAndNoSubject(t *testing.T) {
	fv := &fakeVerifier{ok: map[string]jwtverify.Claims{"nosub": {Email: "x@example.com"}}}
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	resp, err := Handler{Verifier: fv}.Handle(context.Background(), request(map[string]string{"Authorization": "Bearer nosub"}))
	wantUnauthorized(t, resp, err)
	if !strings.Contains(buf.String(), "authorization denied") {
		t.Errorf("default logger not used: %q", buf.String())
	}
}

// lastLog returns the last JSON log record in buf.
func lastLog(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	return rec
}

func assertNoSecrets(t *testing.T, logs, token string) {
	t.Helper()
	for _, secret := range append([]string{token, "Bearer"}, strings.Split(token, ".")...) {
		if len(secret) >= 6 && strings.Contains(logs, secret) {
			t.Errorf("logs contain %q: %s", secret, logs)
		}
	}
}

func TestStageWildcard(t *testing.T) {
	for in, want := range map[string]string{
		methodArn: stageArn,
		"arn:aws:execute-api:us-east-1:123456789012:abc/test/GET/request":   "arn:aws:execute-api:us-east-1:123456789012:abc/test/*",
		"arn:aws:execute-api:us-east-1:123456789012:abc/test/GET/":          "arn:aws:execute-api:us-east-1:123456789012:abc/test/*",
		"arn:aws:execute-api:us-east-1:123456789012:abc/test/GET":           "arn:aws:execute-api:us-east-1:123456789012:abc/test/*",
		"arn:aws:execute-api:us-east-1:123456789012:abc/test":               "arn:aws:execute-api:us-east-1:123456789012:abc/test/*",
		"arn:aws-cn:execute-api:cn-north-1:123456789012:abc/$default/ANY/x": "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/$default/*",
		"arn:aws:execute-api:us-east-1:123456789012:abc/test/GET/a:b/c":     "arn:aws:execute-api:us-east-1:123456789012:abc/test/*",
		"arn:aws:execute-api:us-east-1:123456789012:abc":                    "arn:aws:execute-api:us-east-1:123456789012:abc",
		"arn:aws:execute-api:us-east-1:123456789012:abc//GET/x":             "arn:aws:execute-api:us-east-1:123456789012:abc//GET/x",
		"arn:aws:execute-api:us-east-1:123456789012:*/test/GET/x":           "arn:aws:execute-api:us-east-1:123456789012:*/test/GET/x",
		"arn:aws:lambda:us-east-1:123456789012:function/test/x":             "arn:aws:lambda:us-east-1:123456789012:function/test/x",
		"arn:aws:execute-api:us-east-1::abc/test/GET/x":                     "arn:aws:execute-api:us-east-1::abc/test/GET/x",
		"garbage": "garbage",
		"":        "",
	} {
		if got := stageWildcard(in); got != want {
			t.Errorf("stageWildcard(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRequestFixture checks the event fixture survives a JSON round trip
// (the aws-lambda-go events test pattern) and is authorized as expected.
func TestRequestFixture(t *testing.T) {
	in, err := os.ReadFile("testdata/request.json")
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(in, &req); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var a, b any
	if err := json.Unmarshal(in, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the event:\n in: %s\nout: %s", in, out)
	}

	switch {
	case req.Type != "REQUEST":
		t.Errorf("Type = %q", req.Type)
	case req.MethodArn != "arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5/prod/POST/sites/site-1/guests":
		t.Errorf("MethodArn = %q", req.MethodArn)
	case req.HTTPMethod != "POST" || req.Resource != "/sites/{siteId}/guests" || req.Path != "/sites/site-1/guests":
		t.Errorf("method/resource/path = %q %q %q", req.HTTPMethod, req.Resource, req.Path)
	case req.Headers["authorization"] != "Bearer test-token":
		t.Errorf("Headers = %v", req.Headers)
	case !reflect.DeepEqual(req.MultiValueHeaders["authorization"], []string{"Bearer test-token"}):
		t.Errorf("MultiValueHeaders = %v", req.MultiValueHeaders)
	case req.PathParameters["siteId"] != "site-1" || req.QueryStringParameters["dryRun"] != "true" || req.StageVariables["env"] != "prod":
		t.Errorf("parameters = %v %v %v", req.PathParameters, req.QueryStringParameters, req.StageVariables)
	case req.RequestContext.RequestID != "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" || req.RequestContext.APIID != "a1b2c3d4e5" ||
		req.RequestContext.Stage != "prod" || req.RequestContext.AccountID != "123456789012" ||
		req.RequestContext.Identity.SourceIP != "203.0.113.7":
		t.Errorf("RequestContext = %+v", req.RequestContext)
	}

	fv := &fakeVerifier{ok: map[string]jwtverify.Claims{"test-token": {Subject: "user-1", Name: "Ada"}}}
	h, logs := handler(fv)
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got := resp.PolicyDocument.Statement[0].Resource; !reflect.DeepEqual(got, []string{"arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5/prod/*"}) {
		t.Errorf("Resource = %v", got)
	}
	if !reflect.DeepEqual(resp.Context, map[string]any{"sub": "user-1", "name": "Ada"}) {
		t.Errorf("Context = %v", resp.Context)
	}
	if rec := lastLog(t, logs); rec["apiRequestId"] != "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" {
		t.Errorf("log = %v", rec)
	}
	assertNoSecrets(t, logs.String(), "test-token")
}

func TestNewFromEnv(t *testing.T) {
	t.Setenv(EnvIssuer, "https://idp.example.com/")
	t.Setenv(EnvAudience, "api")
	t.Setenv(EnvJWKSURL, "https://idp.example.com/.well-known/jwks.json")
	h, err := NewFromEnv()
	if err != nil {
		t.Fatalf("NewFromEnv: %v", err)
	}
	if h.Verifier == nil || h.Logger == nil {
		t.Fatalf("h = %+v", h)
	}
	// The keys that decide who is an admin never over plain http but to loopback.
	t.Setenv(EnvJWKSURL, "http://idp.example.com/.well-known/jwks.json")
	if _, err := NewFromEnv(); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http JWKS URL: err = %v, want a refusal naming https", err)
	}
	t.Setenv(EnvJWKSURL, "")
	if _, err := NewFromEnv(); err == nil || !strings.Contains(err.Error(), EnvJWKSURL) {
		t.Fatalf("err = %v, want mention of %s", err, EnvJWKSURL)
	}
}
