package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invites"
)

// InviteHandler serves POST /orgs/{orgId}/sites/{siteId}/invitations.
type InviteHandler struct {
	Service *invites.Service
	Log     *slog.Logger
}

// Handle implements the Lambda handler.
func (h InviteHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	caller := CallerID(req)
	if caller == "" {
		return Error(ctx, h.Log, domain.Errorf(domain.EUNAUTHORIZED, "A valid bearer token is required."), req), nil
	}
	key := strings.TrimSpace(Header(req, "Idempotency-Key"))
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r > '~' }) {
		return Error(ctx, h.Log, &domain.Error{Code: domain.EINVALID, Message: "The Idempotency-Key header is not valid.",
			Fields: map[string]string{"Idempotency-Key": "1 to 255 printable ASCII characters"}}, req), nil
	}
	var in domain.InviteInput
	if err := DecodeJSON(req, MaxJSONBody, &in); err != nil {
		return Error(ctx, h.Log, err, req), nil
	}
	res, err := h.Service.Invite(ctx, invites.Caller{AccountID: caller, RequestID: req.RequestContext.RequestID, IdempotencyKey: key},
		req.PathParameters["orgId"], req.PathParameters["siteId"], in)
	if err != nil {
		return Error(ctx, h.Log, err, req), nil
	}
	resp := JSON(http.StatusOK, res)
	if res.Replayed {
		resp.Headers["Idempotent-Replayed"] = "true"
	}
	return resp, nil
}
