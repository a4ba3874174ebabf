package accessapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/access"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// DecisionService answers access decisions (access.Service).
type DecisionService interface {
	Decide(ctx context.Context, q access.Question) (domain.Decision, error)
}

// DecisionHandler serves the access decision route (AccessDecisionFunction):
// products only (httpapi.ServeProduct).
type DecisionHandler struct {
	Service DecisionService
	Log     *slog.Logger
}

// RouteDecision is the access decision's route, as template.yaml names it;
// ?client=web|mobile|api is required, ?space=KEY optional.
const RouteDecision = "/orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}"

// HeaderAPIToken is the request header in which a product passes the API
// token it was presented (client api). Never the query string: URLs reach
// access logs. Answers vary by it (Vary), so a cache keeps one per token.
const HeaderAPIToken = "X-Api-Token"

// DecisionMaxAge is how long, in seconds, a product may keep a decision
// (Cache-Control: private, max-age): a suspension or a role change reaches
// a product within this time. Problems are never cached (no-store).
const DecisionMaxAge = 60

// Handle implements the Lambda handler.
func (h DecisionHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodGet + " " + RouteDecision:  httpapi.ServeProduct(h.Log, h.decide),
		http.MethodHead + " " + RouteDecision: httpapi.ServeProduct(h.Log, h.decide),
	}.Handle(ctx, req)
}

// DecisionJSON is the answer to an access decision.
type DecisionJSON struct {
	Allow bool `json:"allow"`
	// Reason is stable and machine-readable: allowed, or why not.
	Reason string `json:"reason"`
	// Role is the account's effective role on the product (none without one).
	Role string `json:"role"`
	// Space is a Confluence guest's one space (absent for everyone else and
	// for a guest assigned to none).
	Space string `json:"space,omitempty"`
}

func (h DecisionHandler) decide(ctx context.Context, p httpapi.Product, req events.APIGatewayProxyRequest) (httpapi.Reply, error) {
	q := req.QueryStringParameters
	d, err := h.Service.Decide(ctx, access.Question{Grant: p.Grant,
		OrgID: req.PathParameters["orgId"], SiteID: req.PathParameters["siteId"], Product: req.PathParameters["product"],
		AccountID: req.PathParameters["accountId"], Client: q["client"], Space: q["space"], APIToken: httpapi.Header(req, HeaderAPIToken),
	})
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: DecisionJSON{Allow: d.Allow, Reason: string(d.Reason), Role: string(d.Role), Space: d.Space},
		Headers: map[string]string{"Cache-Control": "private, max-age=" + strconv.Itoa(DecisionMaxAge), "Vary": HeaderAPIToken}}, nil
}
