package invitationsapi

import (
	"context"
	"log/slog"
	"mime"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations"
)

// AcceptHandler serves the page behind an invitation link: GET shows it and
// changes nothing; the page's form POSTs to accept.
type AcceptHandler struct {
	Service AcceptService
	Log     *slog.Logger
}

// AcceptService shows and accepts invitations (invitations.Acceptor).
type AcceptService interface {
	Show(ctx context.Context, token string) (invitations.View, error)
	Accept(ctx context.Context, token, requestID string) (invitations.View, error)
}

// Handle implements the Lambda handler.
func (h AcceptHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.HTTPMethod {
	case http.MethodGet, http.MethodHead:
		token := req.QueryStringParameters["token"]
		v, err := h.Service.Show(ctx, token)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		return page(http.StatusOK, pageData{Kind: "confirm", View: v, Token: token}), nil
	case http.MethodPost:
		token, err := formToken(req)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		v, err := h.Service.Accept(ctx, token, req.RequestContext.RequestID)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		return page(http.StatusOK, pageData{Kind: "accepted", View: v}), nil
	}
	return httpapi.NotAllowed(page(http.StatusMethodNotAllowed, pageData{Kind: "error", Title: "Method not allowed", Message: "Open the link from your invitation email."})), nil
}

func formToken(req events.APIGatewayProxyRequest) (string, error) {
	mt, _, _ := mime.ParseMediaType(httpapi.Header(req, "Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return "", domain.Errorf(domain.EUNSUPPORTED, "Accept the invitation with the button on the invitation page.")
	}
	b, err := httpapi.Body(req, 4096)
	if err != nil {
		return "", err
	}
	form, err := httpapi.ParseForm(b)
	if err != nil {
		return "", err
	}
	return form.Get("token"), nil
}

func (h AcceptHandler) errorPage(ctx context.Context, err error, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	p := httpapi.ProblemFor(ctx, h.Log, err, req.RequestContext.RequestID)
	titles := map[string]string{
		domain.ENOTFOUND: "Invitation not found",
		domain.ECONFLICT: "Invitation already used",
		domain.EGONE:     "Invitation no longer valid",
	}
	title, ok := titles[domain.ErrorCode(err)]
	if !ok {
		title = p.Title
	}
	return page(p.Status, pageData{Kind: "error", Title: title, Message: p.Detail, RequestID: p.RequestID})
}
