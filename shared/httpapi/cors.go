package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// WithCORS wraps an API function's handler: every answer it gives (a
// result, a problem, an idempotent replay) carries the policy's CORS
// headers for the request's Origin (see [cors.Policy.Headers]).
func WithCORS(p cors.Policy, h Handler) Handler {
	if !p.Enabled() {
		return h
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		resp, err := h(ctx, req)
		if err != nil {
			return resp, err
		}
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		p.Headers(resp.Headers, Header(req, cors.Origin))
		return resp, nil
	}
}

// Preflight is the handler of the OPTIONS routes (CorsPreflightFunction;
// no authorizer, as browsers send no credentials on a preflight): 204 with
// the policy's preflight headers to an allowed origin; a 403 problem,
// without CORS headers, to any other (the browser then refuses the request
// it was about to make).
func Preflight(p cors.Policy, log *slog.Logger) Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		h, ok := p.Preflight(Header(req, cors.Origin))
		if !ok {
			resp := Error(ctx, log, domain.Errorf(domain.EFORBIDDEN, "This origin may not call the API from a browser."), req)
			for k, v := range h { // Vary: Origin
				resp.Headers[k] = v
			}
			return resp, nil
		}
		h["Cache-Control"] = "max-age=" + cors.Age
		return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: h}, nil
	}
}
