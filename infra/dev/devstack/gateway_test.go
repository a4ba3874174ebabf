package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

func repoTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	path, err := FindTemplate()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// Every gateway response of template.yaml is a problem document that
// carries the request id and its own status, and is valid JSON once API
// Gateway has substituted its $context variables.
func TestTemplateGatewayResponsesAreProblemsWithRequestID(t *testing.T) {
	tpl := repoTemplate(t)
	responses, err := gatewayResponses(tpl, tpl.Routes())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"} {
		if _, ok := responses[typ]; !ok {
			t.Errorf("template.yaml has no %s gateway response", typ)
		}
	}
	// A message with quotes and a backslash: a template that puts
	// $context.error.messageString (already quoted) inside quotes, or uses
	// the raw $context.error.message, breaks the JSON.
	const message = `He said "no" \ twice`
	for typ, gr := range responses {
		if gr.StatusCode == 0 {
			t.Errorf("%s declares no StatusCode: its document's status could not match", typ)
		}
		if ct := gr.Headers["Content-Type"]; ct != "application/problem+json" {
			t.Errorf("%s: Content-Type %q", typ, ct)
		}
		tpl, ok := gr.Templates["application/json"]
		if !ok || len(gr.Templates) != 1 {
			t.Errorf("%s: templates %v, want one application/json", typ, gr.Templates)
			continue
		}
		vars := contextVars("req-123", typ, message, "local")
		for _, v := range contextVar.FindAllString(tpl, -1) {
			if _, known := vars[strings.TrimPrefix(v, "$context.")]; !known {
				t.Errorf("%s uses %s, which the local gateway does not fill", typ, v)
			}
		}
		if !strings.Contains(tpl, `"requestId":"$context.requestId"`) {
			t.Errorf("%s has no requestId: %s", typ, tpl)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(renderGatewayTemplate(tpl, vars)), &doc); err != nil {
			t.Errorf("%s is not JSON once substituted: %v\n%s", typ, err, renderGatewayTemplate(tpl, vars))
			continue
		}
		if doc["requestId"] != "req-123" || doc["status"] != float64(gr.StatusCode) {
			t.Errorf("%s: requestId %v, status %v (StatusCode %d)", typ, doc["requestId"], doc["status"], gr.StatusCode)
		}
		if s, _ := doc["type"].(string); !strings.HasPrefix(s, "https://guestaccess.dev/problems/") || doc["title"] == "" || doc["detail"] == "" {
			t.Errorf("%s: not a problem document: %v", typ, doc)
		}
	}
}

// testGateway serves the template's routes: the authorizer allows the
// token "good", denies "deny" and refuses anything else; every function
// fails unless ok is set, in which case it answers 200 with its request id.
func testGateway(t *testing.T, responses map[string]samtemplate.GatewayResponse, opts ...func(*Gateway)) *httptest.Server {
	t.Helper()
	tpl := repoTemplate(t)
	handlers := map[string]httpapi.Handler{}
	for _, r := range tpl.Routes() {
		handlers[r.FunctionID] = func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			if req.QueryStringParameters["ok"] != "" {
				return events.APIGatewayProxyResponse{StatusCode: 200, Body: req.RequestContext.RequestID}, nil
			}
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		}
	}
	authorize := func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		effect := map[string]string{"Bearer good": "Allow", "Bearer deny": "Deny"}[req.Headers["Authorization"]]
		if effect == "" {
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
		}
		return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "p", PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{"*"}}}}}, nil
	}
	gw := &Gateway{Routes: tpl.Routes(), Handlers: handlers, Authorizer: authorize, Responses: responses, Stage: "local",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(gw)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}

func TestGatewayAnswersCarryRequestID(t *testing.T) {
	tpl := repoTemplate(t)
	responses, err := gatewayResponses(tpl, tpl.Routes())
	if err != nil {
		t.Fatal(err)
	}
	srv := testGateway(t, responses)
	invite := "/orgs/14west/sites/wiki/invitations"
	cases := []struct {
		name, method, path, token string
		body                      string
		status                    int
	}{
		{"no token", "POST", invite, "", "{}", 401},
		{"refused token", "POST", invite, "forged", "{}", 401},
		{"denied token", "POST", invite, "deny", "{}", 403},
		{"unknown route", "GET", "/no/such/route", "", "", 403},
		{"over 10 MB", "POST", "/invitations/accept", "", strings.Repeat("x", maxPayload+1), 413},
		{"function failed", "GET", "/invitations/accept?token=t", "", "", 502},
		{"guarded function failed", "POST", invite, "good", "{}", 502},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get(RequestIDHeader)
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: body is not JSON: %v\n%s", c.name, err, b)
			continue
		}
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d application/problem+json", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
		}
		if id == "" || doc["requestId"] != id || doc["status"] != float64(c.status) {
			t.Errorf("%s: header id %q, document %v", c.name, id, doc)
		}
	}

	// A function's own answer carries the id the function saw.
	resp, err := http.Get(srv.URL + "/invitations/accept?token=t&ok=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if id := resp.Header.Get(RequestIDHeader); resp.StatusCode != 200 || id == "" || string(b) != id {
		t.Errorf("function answer: %d, header id %q, function saw %q", resp.StatusCode, id, b)
	}
}

// Without gateway responses in the template, the gateway answers as API
// Gateway does by default, still with the request id header.
func TestGatewayBuiltInAnswers(t *testing.T) {
	srv := testGateway(t, nil)
	resp, err := http.Get(srv.URL + "/no/such/route")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/json" ||
		string(b) != `{"message":"Missing Authentication Token"}` || resp.Header.Get(RequestIDHeader) == "" {
		t.Errorf("%d %s %s", resp.StatusCode, resp.Header, b)
	}
}

// TestGatewayPassesQueryAsAPIGatewayDoes: like API Gateway's REST API
// (payload 1.0), the event carries every value of a query parameter in
// MultiValueQueryStringParameters and the last one in
// QueryStringParameters, so that httpapi sees a repeated parameter and
// refuses it (issue 16, item 7).
func TestGatewayPassesQueryAsAPIGatewayDoes(t *testing.T) {
	tpl := repoTemplate(t)
	var got events.APIGatewayProxyRequest
	handlers := map[string]httpapi.Handler{}
	for _, r := range tpl.Routes() {
		handlers[r.FunctionID] = func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			got = req
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}
	}
	srv := httptest.NewServer(&Gateway{Routes: tpl.Routes(), Handlers: handlers, Stage: "local", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/invitations/accept?token=a&space=ENG&space=MKT&e=")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if q := got.QueryStringParameters; q["token"] != "a" || q["space"] != "MKT" || len(q) != 3 {
		t.Errorf("single values %v", q)
	}
	if m := got.MultiValueQueryStringParameters; strings.Join(m["space"], ",") != "ENG,MKT" || len(m["token"]) != 1 || len(m["e"]) != 1 {
		t.Errorf("multiple values %v", m)
	}
}
