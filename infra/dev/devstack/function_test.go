package devstack

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// The gateway runs the authorizer as AuthorizerFunction and each handler as
// its route's function.
func TestGatewayPutsTheFunctionInTheContext(t *testing.T) {
	routes := []samtemplate.Route{{FunctionID: "PublicFn", Method: "GET", Path: "/p", Public: true}, {FunctionID: "GuardedFn", Method: "GET", Path: "/g"}}
	var seen []string
	var mu sync.Mutex
	record := func(ctx context.Context) { mu.Lock(); seen = append(seen, FunctionOf(ctx)); mu.Unlock() }
	handler := func(ctx context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		record(ctx)
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	g := &Gateway{Routes: routes, Handlers: map[string]httpapi.Handler{"PublicFn": handler, "GuardedFn": handler},
		Authorizer: func(ctx context.Context, _ events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			record(ctx)
			return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "p", PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Statement: []events.IAMPolicyStatement{{Effect: "Allow"}}}}, nil
		}, Stage: "local"}
	for _, p := range []string{"/p", "/g"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	if want := []string{"PublicFn", AuthorizerFunctionID, "GuardedFn"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("functions in context: %v, want %v", seen, want)
	}
}
