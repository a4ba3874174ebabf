package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

func TestWithCORS(t *testing.T) {
	p := cors.MustParse("https://console.example.com")
	ok := func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil // no headers map: WithCORS makes one
	}
	problem := func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return Error(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), domain.Errorf(domain.EINVALID, "bad"), req), nil
	}
	req := func(origin string) events.APIGatewayProxyRequest {
		return events.APIGatewayProxyRequest{Headers: map[string]string{"origin": origin}, RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r1"}}
	}
	for name, h := range map[string]Handler{"result": ok, "problem": problem} {
		resp, err := WithCORS(p, h)(context.Background(), req("https://console.example.com"))
		if err != nil || resp.Headers[cors.AllowOrigin] != "https://console.example.com" || resp.Headers[cors.ExposeHeaders] != cors.Exposed || resp.Headers["Vary"] != "Origin" {
			t.Errorf("%s, allowed origin: %v %v", name, resp.Headers, err)
		}
		resp, _ = WithCORS(p, h)(context.Background(), req("https://evil.example"))
		if resp.Headers[cors.AllowOrigin] != "" || resp.Headers[cors.ExposeHeaders] != "" {
			t.Errorf("%s, other origin: %v", name, resp.Headers)
		}
	}
	failing := func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, errors.New("boom")
	}
	if _, err := WithCORS(p, failing)(context.Background(), req("https://console.example.com")); err == nil {
		t.Error("a handler's error is passed on (the gateway answers 502, with its own CORS headers)")
	}
	resp, _ := WithCORS(cors.Policy{}, ok)(context.Background(), req("https://console.example.com"))
	if len(resp.Headers) != 0 {
		t.Errorf("no origins allowed: %v", resp.Headers)
	}
}

func TestPreflightHandler(t *testing.T) {
	h := Preflight(cors.MustParse("https://console.example.com"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := events.APIGatewayProxyRequest{HTTPMethod: "OPTIONS", Path: "/orgs/o/groups", Headers: map[string]string{"Origin": "https://console.example.com",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r1"}}
	resp, err := h(context.Background(), req)
	if err != nil || resp.StatusCode != 204 || resp.Headers[cors.AllowOrigin] != "https://console.example.com" || resp.Headers[cors.AllowHeaders] != cors.Headers ||
		resp.Headers[cors.AllowMethods] != cors.Methods || resp.Headers[cors.MaxAge] != cors.Age || resp.Body != "" {
		t.Errorf("allowed preflight: %d %v %q %v", resp.StatusCode, resp.Headers, resp.Body, err)
	}
	req.Headers["Origin"] = "https://evil.example"
	resp, _ = h(context.Background(), req)
	var p Problem
	if resp.StatusCode != 403 || resp.Headers[cors.AllowOrigin] != "" || resp.Headers["Content-Type"] != "application/problem+json" ||
		json.Unmarshal([]byte(resp.Body), &p) != nil || p.RequestID != "r1" {
		t.Errorf("refused preflight: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
}
