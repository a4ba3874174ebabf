package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// maxPayload is API Gateway's request payload limit.
const maxPayload = 10 << 20

// Authorizer is the REQUEST authorizer's handler.
type Authorizer func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Gateway serves template.yaml's routes the way API Gateway's REST API does
// (payload 1.0): the authorizer runs first on every guarded route, its context
// reaches the handler, and the gateway's own answers (no token, denied, no
// route, too large, the function failed) are the template's gateway
// responses. Every answer carries the request id in x-amzn-RequestId, as
// API Gateway's do. In front of it all, the template's origin filter (see
// Origins).
type Gateway struct {
	Routes     []samtemplate.Route
	Handlers   map[string]httpapi.Handler
	Authorizer Authorizer
	// Responses are the API's GatewayResponses by response type (see
	// [samtemplate.Template.GatewayResponses]); a type with no entry and no
	// DEFAULT_4XX/DEFAULT_5XX entry gets API Gateway's built-in
	// {"message": ...} answer.
	Responses map[string]samtemplate.GatewayResponse
	Stage     string
	// DomainName is the gateway's own host:port, from its configuration
	// (its listener), never from a request's Host header: it goes into
	// every event's requestContext.domainName, as API Gateway puts there the
	// host it served the request on, and the functions build the links they
	// email from it (shared/platform/publicurl).
	DomainName string
	Log        *slog.Logger
	// Origins are the browser origins allowed to call the API (the
	// template's AllowedOrigins). When any is, the gateway refuses a request
	// whose Origin is neither one of them nor SelfOrigin, as the template's
	// OriginFilter web ACL does in front of API Gateway (WAF_FILTERED).
	Origins    cors.Policy
	SelfOrigin string
	// Conditions are the template conditions' values, for the gateway
	// responses' conditional headers (HasAllowedOrigins).
	Conditions map[string]bool
	// Throttles are the API's MethodSettings throttles (the public routes'
	// PublicRouteRateLimit and PublicRouteBurstLimit defaults): a token
	// bucket per setting, all clients together, as API Gateway keeps; a
	// request over it is answered THROTTLED (429) and reaches no function.
	// The web ACL's per-IP rule is not applied here: every local client is
	// 127.0.0.1.
	Throttles []samtemplate.MethodThrottle
	// Now is the throttles' clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is a token bucket: Burst tokens at most, Rate added a second.
type bucket struct {
	tokens float64
	at     time.Time
}

// throttled takes a token from the bucket of the throttle that covers the
// route, and reports whether there was none to take. A setting of the
// route's own path (and method, or "*") wins over the stage-wide one ("/*"),
// as API Gateway's method settings override the stage's; a "*" setting
// gives each method its own bucket, and the stage-wide one each path's
// each method (the stage's default method throttling).
func (g *Gateway) throttled(route samtemplate.Route) bool {
	match := func(th samtemplate.MethodThrottle, path string) bool {
		return th.Path == path && (th.Method == "*" || th.Method == route.Method)
	}
	for i, th := range g.Throttles {
		if !match(th, route.Path) && (!match(th, "/*") || slices.ContainsFunc(g.Throttles, func(o samtemplate.MethodThrottle) bool { return match(o, route.Path) })) {
			continue
		}
		now := time.Now()
		if g.Now != nil {
			now = g.Now()
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.buckets == nil {
			g.buckets = map[string]*bucket{}
		}
		k := strconv.Itoa(i) + " " + route.Method + " " + route.Path
		b := g.buckets[k]
		if b == nil {
			b = &bucket{tokens: th.Burst, at: now}
			g.buckets[k] = b
		}
		b.tokens = min(th.Burst, b.tokens+now.Sub(b.at).Seconds()*th.Rate)
		b.at = now
		if b.tokens < 1 {
			return true
		}
		b.tokens--
		return false
	}
	return false
}

// RequestIDHeader is the header that carries API Gateway's request id.
const RequestIDHeader = "x-amzn-RequestId"

// responseTypes are the API Gateway response types this gateway produces,
// with API Gateway's default status and built-in message for each.
var responseTypes = map[string]struct {
	status  int
	message string
}{
	"UNAUTHORIZED":                 {http.StatusUnauthorized, "Unauthorized"},
	"ACCESS_DENIED":                {http.StatusForbidden, "User is not authorized to access this resource with an explicit deny"},
	"MISSING_AUTHENTICATION_TOKEN": {http.StatusForbidden, "Missing Authentication Token"},
	"REQUEST_TOO_LARGE":            {http.StatusRequestEntityTooLarge, "Request Too Long"},
	"API_CONFIGURATION_ERROR":      {http.StatusInternalServerError, "Internal server error"},
	"WAF_FILTERED":                 {http.StatusForbidden, "Forbidden"},
	"THROTTLED":                    {http.StatusTooManyRequests, "Too Many Requests"},
	// A Lambda proxy function that fails or answers malformed output: 502.
	"DEFAULT_5XX": {http.StatusBadGateway, "Internal server error"},
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := domain.NewID()
	w.Header().Set(RequestIDHeader, id)
	if o := r.Header.Get(cors.Origin); o != "" && g.Origins.Enabled() && !g.Origins.Allows(o) && o != g.SelfOrigin {
		g.fail(w, r, id, "WAF_FILTERED")
		return
	}
	route, params, ok := samtemplate.Match(g.Routes, r.Method, r.URL.Path)
	if !ok && r.Method == http.MethodHead {
		route, params, ok = samtemplate.Match(g.Routes, http.MethodGet, r.URL.Path)
	}
	if !ok {
		// API Gateway answers unknown routes as "Missing Authentication Token".
		g.fail(w, r, id, "MISSING_AUTHENTICATION_TOKEN")
		return
	}
	if g.throttled(route) {
		g.fail(w, r, id, "THROTTLED")
		return
	}
	h, ok := g.Handlers[route.FunctionID]
	if !ok {
		g.Log.Error("no handler for a routed function", "function", route.FunctionID, "requestId", id)
		g.fail(w, r, id, "API_CONFIGURATION_ERROR")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		g.fail(w, r, id, "REQUEST_TOO_LARGE")
		return
	}
	req := g.event(r, id, route, params, body)
	if !route.Public {
		ctxMap, status := g.authorize(WithFunction(r.Context(), AuthorizerFunctionID), r, route, params, req)
		switch status {
		case http.StatusUnauthorized:
			g.fail(w, r, id, "UNAUTHORIZED")
			return
		case http.StatusForbidden:
			g.fail(w, r, id, "ACCESS_DENIED")
			return
		}
		req.RequestContext.Authorizer = ctxMap
	}
	// The handler runs as its route's function (see WithFunction).
	resp, err := h(WithFunction(r.Context(), route.FunctionID), req)
	if err != nil {
		g.Log.Error("handler returned an error", "function", route.FunctionID, "requestId", id, "err", err)
		g.fail(w, r, id, "DEFAULT_5XX")
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
			g.Log.Error("handler returned bad base64", "function", route.FunctionID, "requestId", id, "err", err)
			g.fail(w, r, id, "DEFAULT_5XX")
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

func (g *Gateway) event(r *http.Request, id string, route samtemplate.Route, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		Resource:          route.Path,
		Path:              r.URL.Path,
		HTTPMethod:        r.Method,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		PathParameters:    params,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    id,
			Stage:        g.Stage,
			DomainName:   g.DomainName,
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

// fail answers as API Gateway does for response type typ: the template's
// entry for typ, else its DEFAULT_4XX or DEFAULT_5XX entry, else API
// Gateway's built-in answer; a declared StatusCode replaces the type's own.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, id, typ string) {
	rt, known := responseTypes[typ]
	if !known {
		rt.status, rt.message = http.StatusInternalServerError, "Internal server error"
	}
	status := rt.status
	gr, ok := g.Responses[typ]
	if !ok {
		fallback := "DEFAULT_5XX"
		if status < 500 {
			fallback = "DEFAULT_4XX"
		}
		gr, ok = g.Responses[fallback]
	}
	tpl, contentType := `{"message":$context.error.messageString}`, "application/json"
	if ok {
		if gr.StatusCode != 0 {
			status = gr.StatusCode
		}
		if t, found := gr.Templates["application/json"]; found {
			tpl = t
		} else if cts := slices.Sorted(maps.Keys(gr.Templates)); len(cts) > 0 {
			tpl, contentType = gr.Templates[cts[0]], cts[0]
		}
		for k, v := range gr.Render(g.Conditions, r.Header.Get) {
			w.Header().Set(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, renderGatewayTemplate(tpl, contextVars(id, typ, rt.message, g.Stage)))
}

// contextVars are the $context variables a gateway response template may use.
func contextVars(requestID, typ, message, stage string) map[string]string {
	quoted, _ := json.Marshal(message)
	return map[string]string{
		"requestId":           requestID,
		"extendedRequestId":   requestID,
		"stage":               stage,
		"error.message":       message,
		"error.messageString": string(quoted),
		"error.responseType":  typ,
	}
}

var contextVar = regexp.MustCompile(`\$context\.[A-Za-z0-9_.]*[A-Za-z0-9_]`)

// renderGatewayTemplate substitutes $context variables as API Gateway does in
// gateway response templates (plain substitution, no VTL); an unknown
// variable becomes empty.
func renderGatewayTemplate(tpl string, vars map[string]string) string {
	return contextVar.ReplaceAllStringFunc(tpl, func(v string) string { return vars[strings.TrimPrefix(v, "$context.")] })
}
