package invitationsapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/httpapi"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestInviteHandlerRefusesBeforeTheService(t *testing.T) {
	h := InviteHandler{Log: quiet} // no service: these never reach it
	raw, err := os.ReadFile("testdata/invite-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	_ = json.Unmarshal(raw, &ev)

	noCaller := ev
	noCaller.RequestContext.Authorizer = nil
	if r, _ := h.Handle(context.Background(), noCaller); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no caller: %d", r.StatusCode)
	}
	badKey := ev
	badKey.Headers = map[string]string{"Content-Type": "application/json", "Idempotency-Key": "a\x01b"}
	if r, _ := (httpapi.Endpoint{Handler: h.Handle, Log: quiet}).Handle(context.Background(), badKey); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad idempotency key: %d", r.StatusCode)
	}
	badBody := ev
	badBody.Body = `{"emails":[],"nope":1}`
	if r, _ := h.Handle(context.Background(), badBody); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad body: %d", r.StatusCode)
	}
}
