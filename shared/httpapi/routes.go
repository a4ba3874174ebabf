package httpapi

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Routes dispatches one function's requests by method and resource (the
// template's path, e.g. "GET /orgs/{orgId}/groups"), as API Gateway routes
// them to the function. A request no entry matches is a 404 problem (API
// Gateway never sends one; a misrouted test event would).
type Routes map[string]Handler

// Handle implements the Lambda handler.
func (rs Routes) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	h, ok := rs[req.HTTPMethod+" "+req.Resource]
	if !ok {
		return Error(ctx, nil, domain.Errorf(domain.ENOTFOUND, "No route %s %s in this function.", req.HTTPMethod, req.Resource), req), nil
	}
	return h(ctx, req)
}

// Call is one API request as an action sees it: its verified caller and the
// request itself.
type Call struct {
	Caller domain.Caller
	Req    events.APIGatewayProxyRequest
}

// Param returns a path parameter.
func (c Call) Param(name string) string { return c.Req.PathParameters[name] }

// Reply is an action's answer: a status, a body answered as JSON, and extra
// headers.
type Reply struct {
	Status  int
	Body    any
	Headers map[string]string
}

// Action does one route's work for a verified caller.
type Action func(ctx context.Context, c Call) (Reply, error)

// Serve adapts an action to a Handler: the caller is verified first (401
// without one), the action's error becomes its problem document (the one
// mapping of domain errors to HTTP), its reply is JSON.
func Serve(log *slog.Logger, a Action) Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		c, err := callerOf(req)
		if err != nil {
			return Error(ctx, log, err, req), nil
		}
		r, err := a(ctx, Call{Caller: c, Req: req})
		if err != nil {
			return Error(ctx, log, err, req), nil
		}
		resp := JSON(r.Status, r.Body)
		for k, v := range r.Headers {
			resp.Headers[k] = v
		}
		return resp, nil
	}
}

// body decodes a call's JSON body strictly into v.
func (c Call) body(v any) error { return DecodeJSON(c.Req, MaxJSONBody, v) }

// callerOf returns the verified person calling an API request: EUNAUTHORIZED
// without one, EFORBIDDEN for a product's token (a product may only ask
// access decisions, see ServeProduct).
func callerOf(req events.APIGatewayProxyRequest) (domain.Caller, error) {
	id := CallerID(req)
	if id == "" {
		return domain.Caller{}, domain.Errorf(domain.EUNAUTHORIZED, "A valid bearer token is required.")
	}
	if IsProductToken(req) {
		return domain.Caller{}, domain.Errorf(domain.EFORBIDDEN, "This is a product's token (scope %s): it may only ask access decisions.", DecisionScope)
	}
	return domain.Caller{AccountID: id, RequestID: req.RequestContext.RequestID}, nil
}

// DecisionScope is the scope that makes a token a product's (rules §8): the
// products (Confluence, Jira) ask access decisions with client-credential
// tokens from the same identity provider, whose scope claim carries it. Such a
// token is not a person's: it may call nothing else, and no person's token
// may ask a decision.
const DecisionScope = "access:decide"

// IsProductToken reports whether the authorizer verified a token whose scope
// claim (space-separated) contains DecisionScope.
func IsProductToken(req events.APIGatewayProxyRequest) bool {
	s, _ := req.RequestContext.Authorizer["scope"].(string)
	for len(s) > 0 {
		var w string
		w, s, _ = strings.Cut(s, " ")
		if w == DecisionScope {
			return true
		}
	}
	return false
}

// Product is a product asking an access decision: the client id its token
// names, what the token was issued for and the API Gateway request id.
type Product struct {
	ClientID  string
	Grant     domain.ProductGrant
	RequestID string
}

// ProductGrantOf reads the grant of the product's token the authorizer
// verified: its product, orgs and sites claims (the lists space-joined in
// the authorizer's context, which holds strings). A token without them has
// the grant that covers nothing.
func ProductGrantOf(req events.APIGatewayProxyRequest) domain.ProductGrant {
	a := req.RequestContext.Authorizer
	str := func(k string) string { s, _ := a[k].(string); return s }
	return domain.NewProductGrant(str("product"), strings.Fields(str("orgs")), strings.Fields(str("sites")))
}

// ProductAction does a decision route's work for a verified product.
type ProductAction func(ctx context.Context, p Product, req events.APIGatewayProxyRequest) (Reply, error)

// ServeProduct adapts a product's action to a Handler: only tokens with
// DecisionScope get through (401 without a token, 403 for a person's).
func ServeProduct(log *slog.Logger, a ProductAction) Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		id := CallerID(req)
		if id == "" {
			return Error(ctx, log, domain.Errorf(domain.EUNAUTHORIZED, "A valid bearer token is required."), req), nil
		}
		if !IsProductToken(req) {
			return Error(ctx, log, domain.Errorf(domain.EFORBIDDEN, "Only products may ask access decisions: their tokens carry the scope %s.", DecisionScope), req), nil
		}
		r, err := a(ctx, Product{ClientID: id, Grant: ProductGrantOf(req), RequestID: req.RequestContext.RequestID}, req)
		if err != nil {
			return Error(ctx, log, err, req), nil
		}
		resp := JSON(r.Status, r.Body)
		for k, v := range r.Headers {
			resp.Headers[k] = v
		}
		return resp, nil
	}
}

// Page sizes of the paginated lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
	// MaxCursor is the longest cursor accepted (the store's are far shorter).
	MaxCursor = 4096
)

// pageParams reads ?limit= (1..MaxPageSize, default DefaultPageSize) and
// ?cursor= (opaque; the store refuses one it did not give).
func pageParams(req events.APIGatewayProxyRequest) (limit int, cursor string, err error) {
	limit = DefaultPageSize
	if s, ok := req.QueryStringParameters["limit"]; ok {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > MaxPageSize {
			return 0, "", &domain.Error{Code: domain.EINVALID, Message: "The page size is not valid.",
				Fields: map[string]string{"limit": "an integer from 1 to " + strconv.Itoa(MaxPageSize)}}
		}
		limit = n
	}
	cursor = req.QueryStringParameters["cursor"]
	if _, ok := req.QueryStringParameters["cursor"]; ok && (cursor == "" || len(cursor) > MaxCursor) {
		return 0, "", &domain.Error{Code: domain.EINVALID, Message: "The page cursor is not valid.",
			Fields: map[string]string{"cursor": "not a cursor this list gave"}}
	}
	return limit, cursor, nil
}
