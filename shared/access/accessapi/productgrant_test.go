package accessapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/access"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// askedService records the question the decision handler asked.
type askedService struct{ q *access.Question }

func (s askedService) Decide(_ context.Context, q access.Question) (domain.Decision, error) {
	*s.q = q
	return domain.Decision{Allow: true, Reason: domain.ReasonAllowed}, nil
}

// TestDecisionAsksWithTheTokensGrant: the product, orgs and sites the
// authorizer read from the product's token reach the decision service with
// the question, and a token without them asks with the grant that covers
// nothing (never with no check at all).
func TestDecisionAsksWithTheTokensGrant(t *testing.T) {
	for _, c := range []struct {
		name string
		auth map[string]any
		want domain.ProductGrant
	}{
		{"bound", map[string]any{"sub": "c", "scope": httpapi.DecisionScope, "product": "confluence", "orgs": "14west acme", "sites": "globex/wiki"},
			domain.ProductGrant{Product: domain.Confluence, Orgs: []string{"14west", "acme"}, Sites: []string{"globex/wiki"}}},
		{"unbound", map[string]any{"sub": "c", "scope": httpapi.DecisionScope}, domain.ProductGrant{}},
		{"unknown product", map[string]any{"sub": "c", "scope": httpapi.DecisionScope, "product": "madeup", "orgs": "14west"},
			domain.ProductGrant{Orgs: []string{"14west"}}},
	} {
		var q access.Question
		resp, err := DecisionHandler{Service: askedService{&q}, Log: quiet}.Handle(context.Background(), events.APIGatewayProxyRequest{
			HTTPMethod: http.MethodGet, Resource: RouteDecision,
			PathParameters:        map[string]string{"orgId": "14west", "siteId": "wiki", "product": "confluence", "accountId": "gus"},
			QueryStringParameters: map[string]string{"client": "web"},
			RequestContext:        events.APIGatewayProxyRequestContext{RequestID: "r", Authorizer: c.auth},
		})
		if err != nil || resp.StatusCode != 200 || !reflect.DeepEqual(q.Grant, c.want) || q.OrgID != "14west" {
			t.Errorf("%s: %d %v; asked %+v, want grant %+v", c.name, resp.StatusCode, err, q, c.want)
		}
		if c.want.Covers(domain.Confluence, "14west", "wiki") != (c.name == "bound") {
			t.Errorf("%s: grant %+v covers the question: %v", c.name, c.want, !(c.name == "bound"))
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
