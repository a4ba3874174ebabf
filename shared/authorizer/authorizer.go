// Package authorizer is the API Gateway Lambda REQUEST authorizer: it checks
// the bearer JWT of a request and answers with an IAM policy.
//
// On success the policy allows execute-api:Invoke on every method and route of
// the API stage, so API Gateway's authorizer cache (keyed on the Authorization
// header) can reuse the answer across routes. On any failure it returns the
// error "Unauthorized", which API Gateway turns into a 401. Neither the token
// nor the reason it was refused ever reaches the client, and the token is
// never logged.
package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
)

// ErrUnauthorized is the error returned for every refused request. Its text
// is exactly "Unauthorized", the one API Gateway maps to a 401 response.
var ErrUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // API Gateway needs this exact text

// TokenVerifier verifies a bearer token and returns its claims. Its errors
// are logged, so they must not contain the token.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (jwtverify.Claims, error)
}

var _ TokenVerifier = (*jwtverify.Verifier)(nil)

// Handler handles authorizer events.
type Handler struct {
	// Verifier checks tokens. Required.
	Verifier TokenVerifier
	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger
}

// Environment variables read by NewFromEnv.
const (
	EnvIssuer   = "JWT_ISSUER"
	EnvAudience = "JWT_AUDIENCE"
	EnvJWKSURL  = "JWKS_URL"
)

// NewFromEnv returns a Handler whose Verifier is configured from JWT_ISSUER,
// JWT_AUDIENCE and JWKS_URL and whose Logger writes JSON to stdout.
func NewFromEnv() (Handler, error) {
	v, err := jwtverify.New(jwtverify.Config{
		Issuer:   os.Getenv(EnvIssuer),
		Audience: os.Getenv(EnvAudience),
		JWKSURL:  os.Getenv(EnvJWKSURL),
	})
	if err != nil {
		return Handler{}, fmt.Errorf("authorizer: %w (set %s, %s and %s)", err, EnvIssuer, EnvAudience, EnvJWKSURL)
	}
	return Handler{Verifier: v, Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil))}, nil
}

// Handle authorizes one request. It returns an Allow policy for the whole API
// stage with the token's sub as principal and sub, email, name, scope,
// product, orgs and sites (when non-empty) as context, or ErrUnauthorized.
//
// The answer depends on the token alone, never on the request's path: API
// Gateway caches it by the Authorization header (ReauthorizeEvery) and
// reuses it for every route that token calls. What a token may do with a
// route, such as the orgs a product's token may ask about, is checked by
// the function from this context, on every request.
func (h Handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{
		slog.String("apiRequestId", req.RequestContext.RequestID),
		slog.String("httpMethod", req.HTTPMethod),
		slog.String("resource", req.Resource),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("requestId", lc.AwsRequestID))
	}
	log = log.With(attrs...)

	token, reason := bearerToken(req)
	if reason != "" {
		log.InfoContext(ctx, "authorization denied", slog.String("reason", reason))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	claims, err := h.Verifier.Verify(ctx, token)
	if err != nil {
		level := slog.LevelInfo
		if errors.Is(err, jwtverify.ErrKeySetUnavailable) {
			level = slog.LevelError
		}
		log.Log(ctx, level, "authorization denied", slog.String("reason", err.Error()))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	if claims.Subject == "" { // jwtverify guarantees it; other verifiers might not
		log.InfoContext(ctx, "authorization denied", slog.String("reason", "token has no subject"))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}

	resource := stageWildcard(req.MethodArn)
	authCtx := map[string]any{}
	for k, v := range map[string]string{
		"sub": claims.Subject, "email": claims.Email, "name": claims.Name, "scope": claims.Scope,
		// A product's grant (httpapi.ProductGrantOf reads it back): API
		// Gateway's context holds strings, so the lists are space-joined
		// (jwtverify lets no entry hold a space).
		"product": claims.Product, "orgs": strings.Join(claims.Orgs, " "), "sites": strings.Join(claims.Sites, " "),
	} {
		if v != "" {
			authCtx[k] = v
		}
	}
	log.InfoContext(ctx, "authorization allowed", slog.String("sub", claims.Subject), slog.String("policyResource", resource))
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: claims.Subject,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   "Allow",
				Resource: []string{resource},
			}},
		},
		Context: authCtx,
	}, nil
}

// bearerToken returns the token of the request's "Authorization: Bearer"
// header, or a reason (safe to log: it never contains the header) why there
// is none. The header name and the scheme are case-insensitive. Several
// different Authorization values are refused as ambiguous.
func bearerToken(req events.APIGatewayCustomAuthorizerRequestTypeRequest) (token, reason string) {
	var value string
	n := 0
	add := func(v string) {
		if n == 0 || v != value {
			value = v
			n++
		}
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Authorization") {
			add(v)
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, "Authorization") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	switch {
	case n == 0:
		return "", "missing Authorization header"
	case n > 1:
		return "", "several Authorization headers"
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", "Authorization scheme is not Bearer"
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", "malformed bearer token"
	}
	return token, ""
}

// stageWildcard turns a method ARN,
// arn:aws:execute-api:region:account:apiId/stage/VERB/path, into the ARN of
// every method of its stage, arn:aws:execute-api:region:account:apiId/stage/*.
// A malformed ARN is returned unchanged, which still allows the one method.
func stageWildcard(methodArn string) string {
	parts := strings.SplitN(methodArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "execute-api" ||
		parts[3] == "" || parts[4] == "" {
		return methodArn
	}
	segs := strings.SplitN(parts[5], "/", 3)
	if len(segs) < 2 || segs[0] == "" || segs[1] == "" || strings.ContainsAny(segs[0]+segs[1], "*?") {
		return methodArn
	}
	return strings.Join(parts[:5], ":") + ":" + segs[0] + "/" + segs[1] + "/*"
}
