package apitokensapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// Service runs users' API tokens (apitokens.Service).
type Service interface {
	Create(ctx context.Context, c domain.Caller, orgID, accountID, label string, days *int) (apitokens.Created, error)
	List(ctx context.Context, c domain.Caller, orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error)
	Revoke(ctx context.Context, c domain.Caller, orgID, accountID, tokenID string) (domain.APIToken, error)
}

// Handler serves a user's API tokens (ApiTokensFunction).
type Handler struct {
	Service Service
	Log     *slog.Logger
	// Now is the clock that tells an expired token in lists (nil: time.Now).
	Now func() time.Time
}

// The routes Handler serves, as template.yaml names them.
const (
	RouteAPITokens = "/orgs/{orgId}/users/{accountId}/api-tokens"
	RouteAPIToken  = "/orgs/{orgId}/users/{accountId}/api-tokens/{tokenId}"
)

// Handle implements the Lambda handler.
func (h Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodPost + " " + RouteAPITokens:  httpapi.Serve(h.Log, h.create),
		http.MethodGet + " " + RouteAPITokens:   httpapi.Serve(h.Log, h.list),
		http.MethodDelete + " " + RouteAPIToken: httpapi.Serve(h.Log, h.revoke),
	}.Handle(ctx, req)
}

// APITokenJSON is a token as lists show it: never its secret.
type APITokenJSON struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
	// Expired: it no longer works (it still counts until revoked).
	Expired bool `json:"expired"`
}

// CreatedAPITokenJSON is the answer to a create: the token and its secret,
// shown this once.
type CreatedAPITokenJSON struct {
	APITokenJSON
	Secret string `json:"secret"`
}

// APITokenListJSON is a page of a user's tokens.
type APITokenListJSON struct {
	Tokens []APITokenJSON `json:"tokens"`
	Next   string         `json:"next,omitempty"`
}

func (h Handler) tokenJSON(t domain.APIToken) APITokenJSON {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	return APITokenJSON{ID: t.ID, Label: t.Label, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339), Expired: t.Expired(now)}
}

// createAPITokenRequest is the body of POST .../api-tokens.
type createAPITokenRequest struct {
	Label         *string `json:"label"`
	ExpiresInDays *int    `json:"expiresInDays"`
}

func (h Handler) create(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in createAPITokenRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Label == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"label": "is required"}}
	}
	r, err := h.Service.Create(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"), *in.Label, in.ExpiresInDays)
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusCreated, Body: CreatedAPITokenJSON{APITokenJSON: h.tokenJSON(r.Token), Secret: r.Secret},
		Headers: map[string]string{"Cache-Control": "no-store"}}, nil
}

func (h Handler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"), limit, cursor)
	if err != nil {
		return httpapi.Reply{}, err
	}
	out := APITokenListJSON{Tokens: []APITokenJSON{}, Next: page.Next}
	for _, t := range page.Items {
		out.Tokens = append(out.Tokens, h.tokenJSON(t))
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, nil
}

func (h Handler) revoke(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	t, err := h.Service.Revoke(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"), c.Param("tokenId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: h.tokenJSON(t)}, nil
}
