package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestPagesAnswerOtherMethods405 (the verification page here; the accept
// page's in invitationsapi): a method the guest pages do not take
// (template.yaml's ANY route of their paths sends it to the page's
// function) is a 405 that says, in Allow, which methods they take (RFC
// 9110), as the contract fuzzing asks of every path.
func TestPagesAnswerOtherMethods405(t *testing.T) {
	handlers := map[string]func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		"verify": VerifyHandler{Log: quiet}.Handle,
	}
	for name, h := range handlers {
		for _, m := range []string{"TRACE", http.MethodPut, http.MethodPatch, http.MethodDelete, "ANY"} {
			r, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: m, PathParameters: map[string]string{"orgId": "14west"}})
			if err != nil || r.StatusCode != http.StatusMethodNotAllowed || r.Headers["Allow"] != "GET, HEAD, POST" {
				t.Errorf("%s %s: %d Allow %q, %v", name, m, r.StatusCode, r.Headers["Allow"], err)
			}
		}
		// A POST that is not a form is refused before the service too, but
		// as a 415, without Allow.
		r, _ := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Headers: map[string]string{"Content-Type": "text/plain"}, PathParameters: map[string]string{"orgId": "14west"}})
		if r.StatusCode != http.StatusUnsupportedMediaType || r.Headers["Allow"] != "" {
			t.Errorf("%s POST text/plain: %d Allow %q", name, r.StatusCode, r.Headers["Allow"])
		}
	}
}
