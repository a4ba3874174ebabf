package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestEveryCodeHasOneStatus(t *testing.T) {
	codes := []string{domain.EINVALID, domain.EUNAUTHORIZED, domain.EFORBIDDEN, domain.ENOTFOUND, domain.ECONFLICT, domain.ELIMIT,
		domain.EREFUSED, domain.EGONE, domain.ETOOLARGE, domain.EUNSUPPORTED, domain.EINTERNAL}
	for _, c := range codes {
		if _, ok := statusOf[c]; !ok {
			t.Errorf("code %q has no status", c)
		}
	}
	if StatusOf("made-up") != 500 || StatusOf(domain.ENOTFOUND) != 404 || StatusOf(domain.EREFUSED) != 422 {
		t.Error("StatusOf wrong")
	}
}

func TestInternalErrorsAreNotEchoed(t *testing.T) {
	req := events.APIGatewayProxyRequest{Path: "/x", RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r-1"}}
	resp := Error(context.Background(), quiet, errors.New("dynamodb: secret table arn:aws:... exploded"), req)
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "exploded") || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Errorf("resp = %+v", resp)
	}
	var p map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if p["requestId"] != "r-1" || p["type"] != ProblemBase+"internal" || p["instance"] != "/x" {
		t.Errorf("problem = %v", p)
	}
}

func TestProblemExtensions(t *testing.T) {
	err := &domain.Error{Code: domain.ELIMIT, Message: "full", Extra: map[string]any{"guestLimit": 10, "status": "ignored"}, Fields: map[string]string{"emails": "bad"}}
	resp := Error(context.Background(), quiet, err, events.APIGatewayProxyRequest{})
	var p map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if resp.StatusCode != 409 || p["guestLimit"] != float64(10) || p["status"] != float64(409) || p["detail"] != "full" || p["errors"].(map[string]any)["emails"] != "bad" {
		t.Errorf("problem = %v", p)
	}
}

func jsonReq(ct, body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{Headers: map[string]string{"content-type": ct}, Body: body}
}

func TestDecodeJSON(t *testing.T) {
	type in struct {
		A string `json:"a"`
	}
	cases := []struct {
		req  events.APIGatewayProxyRequest
		code string
	}{
		{jsonReq("application/json", `{"a":"x"}`), ""},
		{jsonReq("application/json; charset=utf-8", `{"a":"x"}`), ""},
		{events.APIGatewayProxyRequest{MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}}, Body: `{"a":"x"}`}, ""},
		{jsonReq("text/plain", `{"a":"x"}`), domain.EUNSUPPORTED},
		{jsonReq("", `{"a":"x"}`), domain.EUNSUPPORTED},
		{jsonReq("application/json", ``), domain.EINVALID},
		{jsonReq("application/json", `{"a":`), domain.EINVALID},
		{jsonReq("application/json", `{"a":"x","b":1}`), domain.EINVALID},
		{jsonReq("application/json", `{"a":1}`), domain.EINVALID},
		{jsonReq("application/json", `{"a":"x"} {"a":"y"}`), domain.EINVALID},
		{jsonReq("application/json", `{"a":"x"} garbage`), domain.EINVALID},
		{jsonReq("application/json", `{"a":"`+strings.Repeat("x", MaxJSONBody)+`"}`), domain.ETOOLARGE},
		{events.APIGatewayProxyRequest{Headers: map[string]string{"Content-Type": "application/json"}, Body: "eyJhIjoieCJ9", IsBase64Encoded: true}, ""},
		{events.APIGatewayProxyRequest{Headers: map[string]string{"Content-Type": "application/json"}, Body: "!!", IsBase64Encoded: true}, domain.EINVALID},
	}
	for i, c := range cases {
		var v in
		err := DecodeJSON(c.req, MaxJSONBody, &v)
		if got := domain.ErrorCode(err); got != c.code {
			t.Errorf("case %d: code %q (%v), want %q", i, got, err, c.code)
		}
		if c.code == "" && v.A != "x" {
			t.Errorf("case %d: decoded %+v", i, v)
		}
	}
	err := DecodeJSON(jsonReq("application/json", `{"a":"x","admin":true}`), MaxJSONBody, &struct {
		A string `json:"a"`
	}{})
	if e, ok := err.(*domain.Error); !ok || e.Fields["admin"] != "unknown field" {
		t.Errorf("unknown field error = %#v", err)
	}
}

func TestCallerID(t *testing.T) {
	req := events.APIGatewayProxyRequest{}
	if CallerID(req) != "" {
		t.Error("caller without authorizer context")
	}
	req.RequestContext.Authorizer = map[string]any{"principalId": "p", "sub": "s"}
	if CallerID(req) != "s" {
		t.Error("sub not preferred")
	}
}

// The fixtures under testdata are real API Gateway REST (payload 1.0) events;
// they round-trip through the event types unchanged.
func TestFixturesRoundTrip(t *testing.T) {
	for _, name := range []string{"testdata/invite-request.json", "testdata/accept-get-request.json"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// Every field of the fixture is a field of the event type...
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var ev events.APIGatewayProxyRequest
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// ...and the event survives encoding and decoding unchanged.
		out, _ := json.Marshal(ev)
		var again events.APIGatewayProxyRequest
		if err := json.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(ev, again) {
			t.Errorf("%s: round trip changed the event: %v", name, err)
		}
		if ev.HTTPMethod == "" || ev.RequestContext.RequestID == "" {
			t.Errorf("%s: decoded %+v", name, ev)
		}
	}
}

// TestProductTokensOnlyAskDecisions: a token with the decision scope is a
// product's, refused by every person's route; a person's token is refused
// by the decision route.
func TestProductTokensOnlyAskDecisions(t *testing.T) {
	ran := ""
	person := Serve(quiet, func(context.Context, Call) (Reply, error) { ran += "person "; return Reply{Status: 200}, nil })
	product := ServeProduct(quiet, func(context.Context, Product, events.APIGatewayProxyRequest) (Reply, error) {
		ran += "product "
		return Reply{Status: 200}, nil
	})
	req := func(auth map[string]any) events.APIGatewayProxyRequest {
		return events.APIGatewayProxyRequest{RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r", Authorizer: auth}}
	}
	people := map[string]any{"sub": "ada", "scope": "openid profile"}
	products := map[string]any{"sub": "confluence", "scope": "openid " + DecisionScope}
	for _, c := range []struct {
		name string
		h    Handler
		auth map[string]any
		want int
	}{
		{"person on a person's route", person, people, 200},
		{"product on a person's route", person, products, 403},
		{"nobody on a person's route", person, nil, 401},
		{"product on the decision route", product, products, 200},
		{"person on the decision route", product, people, 403},
		{"nobody on the decision route", product, nil, 401},
		{"a scope that only contains the name", product, map[string]any{"sub": "x", "scope": DecisionScope + "s"}, 403},
	} {
		ran = ""
		resp, _ := c.h(context.Background(), req(c.auth))
		if resp.StatusCode != c.want || (c.want != 200) != (ran == "") {
			t.Errorf("%s: %d (ran %q), want %d", c.name, resp.StatusCode, ran, c.want)
		}
	}
}
