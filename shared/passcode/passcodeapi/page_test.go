package passcodeapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/passcode"
)

// TestVerifyPageEscapesAndLabels: every value is escaped, every input has
// its label, a limit's page carries Retry-After, and the page has the
// accept page's security headers (no framing, posts only to itself).
func TestVerifyPageEscapesAndLabels(t *testing.T) {
	v := passcode.View{OrgID: "o", OrgName: `<script>alert(1)</script>`, Email: `a"><img src=x>@b.example`}
	for _, kind := range []string{"start", "code", "verified", "not-required", "new-code", "error"} {
		r := verifyPage(429, verifyData{Kind: kind, View: v, Title: "<b>t</b>", Message: "<i>m</i>"}, 61*time.Second)
		if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img") || strings.Contains(r.Body, "<b>t") || strings.Contains(r.Body, "<i>m") {
			t.Fatalf("%s: unescaped:\n%s", kind, r.Body)
		}
		if r.Headers["Retry-After"] != "61" || !strings.Contains(r.Headers["Content-Security-Policy"], "form-action 'self'") || r.Headers["X-Frame-Options"] != "DENY" {
			t.Fatalf("%s: headers %v", kind, r.Headers)
		}
	}
	start := verifyPage(200, verifyData{Kind: "start", View: v}, 0).Body
	code := verifyPage(200, verifyData{Kind: "code", View: v}, 0).Body
	if !strings.Contains(start, `<label for="email">`) || !strings.Contains(start, `id="email"`) || !strings.Contains(code, `<label for="code">`) ||
		!strings.Contains(code, `autocomplete="one-time-code"`) || !strings.Contains(code, `type="hidden" name="email" value="a&#34;&gt;&lt;img src=x&gt;@b.example"`) {
		t.Fatalf("forms:\n%s\n%s", start, code)
	}
	if r := verifyPage(200, verifyData{Kind: "start", View: v}, 0); r.Headers["Retry-After"] != "" {
		t.Fatal("Retry-After only on limits")
	}
}

// TestPagesAnswerOtherMethods405 (the verification page's half; the accept
// page's is beside it): a method the page does not take (template.yaml's
// ANY route of its path sends it to VerifyFunction) is a 405 that says, in
// Allow, which methods it takes (RFC 9110), as the contract fuzzing asks of
// every path; a POST that is not a form is a 415, without Allow. Neither
// reaches the service (none is set).
func TestPagesAnswerOtherMethods405(t *testing.T) {
	h := Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}.Handle
	for _, m := range []string{"TRACE", http.MethodPut, http.MethodPatch, http.MethodDelete, "ANY"} {
		r, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: m, PathParameters: map[string]string{"orgId": "14west"}})
		if err != nil || r.StatusCode != http.StatusMethodNotAllowed || r.Headers["Allow"] != "GET, HEAD, POST" {
			t.Errorf("verify %s: %d Allow %q, %v", m, r.StatusCode, r.Headers["Allow"], err)
		}
	}
	r, _ := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Headers: map[string]string{"Content-Type": "text/plain"}, PathParameters: map[string]string{"orgId": "14west"}})
	if r.StatusCode != http.StatusUnsupportedMediaType || r.Headers["Allow"] != "" {
		t.Errorf("verify POST text/plain: %d Allow %q", r.StatusCode, r.Headers["Allow"])
	}
}
