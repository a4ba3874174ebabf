package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/samtemplate"
)

// maxPayload is API Gateway's request payload limit.
const maxPayload = 10 << 20

// Authorizer is the REQUEST authorizer's handler.
type Authorizer func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Gateway serves template.yaml's routes the way API Gateway's REST API does
// (payload 1.0): the authorizer runs first on every guarded route, its context
// reaches the handler, and its refusals become the template's gateway
// responses.
type Gateway struct {
	Routes     []samtemplate.Route
	Handlers   map[string]httpapi.Handler
	Authorizer Authorizer
	Stage      string
	Log        *slog.Logger
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, ok := samtemplate.Match(g.Routes, r.Method, r.URL.Path)
	if !ok && r.Method == http.MethodHead {
		route, params, ok = samtemplate.Match(g.Routes, http.MethodGet, r.URL.Path)
	}
	if !ok {
		// API Gateway answers unknown routes as "Missing Authentication Token" (403).
		gatewayProblem(w, http.StatusForbidden, "forbidden", "Forbidden", "No route "+r.Method+" "+r.URL.Path+".")
		return
	}
	h, ok := g.Handlers[route.FunctionID]
	if !ok {
		gatewayProblem(w, http.StatusInternalServerError, "internal", "Internal Server Error", "No handler for "+route.FunctionID+".")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		gatewayProblem(w, http.StatusRequestEntityTooLarge, "too-large", "Request Entity Too Large", "The request body is over API Gateway's 10 MB.")
		return
	}
	req := g.event(r, route, params, body)
	if !route.Public {
		ctxMap, status := g.authorize(r.Context(), r, route, params, req)
		switch status {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", "Bearer")
			gatewayProblem(w, status, "unauthorized", "Unauthorized", "A valid bearer token is required.")
			return
		case http.StatusForbidden:
			gatewayProblem(w, status, "forbidden", "Forbidden", "This token may not call this route.")
			return
		}
		req.RequestContext.Authorizer = ctxMap
	}
	resp, err := h(r.Context(), req)
	if err != nil {
		g.Log.Error("handler returned an error", "function", route.FunctionID, "err", err)
		gatewayProblem(w, http.StatusBadGateway, "internal", "Internal error", "The function failed.")
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if out, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			gatewayProblem(w, http.StatusBadGateway, "internal", "Internal error", "The function returned bad base64.")
			return
		}
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
}

func (g *Gateway) event(r *http.Request, route samtemplate.Route, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		Resource:          route.Path,
		Path:              r.URL.Path,
		HTTPMethod:        r.Method,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		PathParameters:    params,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    domain.NewID(),
			Stage:        g.Stage,
			ResourcePath: route.Path,
			HTTPMethod:   r.Method,
			Path:         "/" + g.Stage + r.URL.Path,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: strings.Split(r.RemoteAddr, ":")[0], UserAgent: r.UserAgent()},
		},
	}
	for k, vs := range r.Header {
		req.Headers[k] = vs[len(vs)-1]
		req.MultiValueHeaders[k] = vs
	}
	if q := r.URL.Query(); len(q) > 0 {
		req.QueryStringParameters = map[string]string{}
		req.MultiValueQueryStringParameters = map[string][]string{}
		for k, vs := range q {
			req.QueryStringParameters[k] = vs[len(vs)-1]
			req.MultiValueQueryStringParameters[k] = vs
		}
	}
	if utf8.Valid(body) {
		req.Body = string(body)
	} else {
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return req
}

// authorize runs the authorizer as API Gateway does for a REQUEST authorizer
// whose identity source is the Authorization header: no header, no call (401).
func (g *Gateway) authorize(ctx context.Context, r *http.Request, route samtemplate.Route, params map[string]string, req events.APIGatewayProxyRequest) (map[string]any, int) {
	if r.Header.Get("Authorization") == "" {
		return nil, http.StatusUnauthorized
	}
	areq := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       "arn:aws:execute-api:us-east-1:000000000000:local/" + g.Stage + "/" + r.Method + route.Path,
		Resource:                        route.Path,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         req.Headers,
		MultiValueHeaders:               req.MultiValueHeaders,
		QueryStringParameters:           req.QueryStringParameters,
		MultiValueQueryStringParameters: req.MultiValueQueryStringParameters,
		PathParameters:                  params,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			RequestID: req.RequestContext.RequestID, Stage: g.Stage, ResourcePath: route.Path, HTTPMethod: r.Method,
		},
	}
	resp, err := g.Authorizer(ctx, areq)
	if err != nil {
		return nil, http.StatusUnauthorized
	}
	allowed := false
	for _, st := range resp.PolicyDocument.Statement {
		if strings.EqualFold(st.Effect, "Deny") {
			return nil, http.StatusForbidden
		}
		if strings.EqualFold(st.Effect, "Allow") {
			allowed = true
		}
	}
	if !allowed {
		return nil, http.StatusForbidden
	}
	m := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		m[k] = v
	}
	return m, 0
}

// gatewayProblem writes a problem+json document like the template's gateway responses.
func gatewayProblem(w http.ResponseWriter, status int, typ, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://guestaccess.dev/problems/" + typ, "title": title, "status": status, "detail": detail})
}
