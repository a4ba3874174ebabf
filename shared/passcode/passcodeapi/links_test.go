package passcodeapi

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/config"
)

// TestLinksUnknownRefusesBeforeAnything: an API function that emails links
// (VerifyPage; invitation emails are rendered by the email sender, which
// the API does not integrate),
// without PublicBaseUrl and asked by something that is not API Gateway (no
// API id, stage or region), answers 500 before its handler runs: no store
// call (the store here is nil and would panic), no email with a broken link.
func TestLinksUnknownRefusesBeforeAnything(t *testing.T) {
	env := config.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/orgs/o/verify", Resource: "/orgs/{orgId}/verify",
		PathParameters: map[string]string{"orgId": "o"}, Body: "email=a%40b.example",
		Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r1",
			DomainName: "attacker.example", Authorizer: map[string]any{"principalId": "admin", "sub": "admin"}}}
	for name, h := range map[string]func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		"VerifyPage": VerifyPage(env, nil, nil),
	} {
		resp, err := h(context.Background(), req)
		if err != nil || resp.StatusCode != 500 || !strings.Contains(resp.Body, `"requestId":"r1"`) {
			t.Errorf("%s: %d %v %s, want a 500 problem", name, resp.StatusCode, err, resp.Body)
		}
	}
}
