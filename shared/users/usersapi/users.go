package usersapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/users"
)

// UsersService runs an account's life in its org (users.Service).
type UsersService interface {
	Remove(ctx context.Context, c domain.Caller, orgID, accountID string) (users.Removed, error)
	SetStatus(ctx context.Context, c domain.Caller, orgID, accountID, status string) (domain.User, error)
	Revoke(ctx context.Context, c domain.Caller, orgID, siteID, invitationID string) (users.Revoked, error)
}

// UsersHandler serves the routes of an account's life in its org
// (UsersFunction): removal, suspension, revoking an invitation.
type UsersHandler struct {
	Service UsersService
	Log     *slog.Logger
}

// The routes UsersHandler serves, as template.yaml names them.
const (
	RouteUser             = "/orgs/{orgId}/users/{accountId}"
	RouteUserStatus       = "/orgs/{orgId}/users/{accountId}/status"
	RouteRevokeInvitation = "/orgs/{orgId}/sites/{siteId}/invitations/{invitationId}/revoke"
)

// Handle implements the Lambda handler.
func (h UsersHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodDelete + " " + RouteUser:           httpapi.Serve(h.Log, h.remove),
		http.MethodPut + " " + RouteUserStatus:        httpapi.Serve(h.Log, h.status),
		http.MethodPost + " " + RouteRevokeInvitation: httpapi.Serve(h.Log, h.revoke),
	}.Handle(ctx, req)
}

// SeatsJSON is how a site's billing counters moved (negative: released).
type SeatsJSON struct {
	Site      string `json:"site"`
	Guests    int64  `json:"guests"`
	PaidUsers int64  `json:"paidUsers"`
}

func seatsOf(m map[string]domain.Seats) []SeatsJSON {
	out := []SeatsJSON{}
	for site, d := range m {
		out = append(out, SeatsJSON{Site: site, Guests: d.Guests, PaidUsers: d.Paid})
	}
	slices.SortFunc(out, func(a, b SeatsJSON) int {
		if a.Site < b.Site {
			return -1
		}
		return 1
	})
	return out
}

// RemovedJSON is the answer to a removal.
type RemovedJSON struct {
	AccountID   string            `json:"accountId"`
	Email       string            `json:"email"`
	Roles       map[string]string `json:"roles"`
	Groups      []string          `json:"groups"`
	Invitations []string          `json:"invitations"`
	Released    []SeatsJSON       `json:"released"`
	// Transactions is how many writes the removal took (more than one for an
	// account too large for one transaction).
	Transactions int `json:"transactions"`
}

func (h UsersHandler) remove(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.Remove(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	out := RemovedJSON{AccountID: r.AccountID, Email: r.Email, Roles: map[string]string{}, Groups: httpapi.NonNil(r.Groups), Invitations: httpapi.NonNil(r.Invitations),
		Released: seatsOf(r.Released), Transactions: r.Stages}
	for k, role := range r.Roles {
		out.Roles[k] = string(role)
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, nil
}

// statusRequest is the body of PUT .../users/{accountId}/status.
type statusRequest struct {
	Status *string `json:"status"`
}

// UserStatusJSON is an account's status.
type UserStatusJSON struct {
	AccountID string `json:"accountId"`
	Email     string `json:"email"`
	Status    string `json:"status"`
}

func (h UsersHandler) status(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in statusRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Status == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"status": "is required: active or suspended"}}
	}
	u, err := h.Service.SetStatus(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"), *in.Status)
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: UserStatusJSON{AccountID: u.AccountID, Email: u.Email, Status: string(u.Status)}}, nil
}

// RevokedJSON is the answer to a revocation.
type RevokedJSON struct {
	InvitationID string      `json:"invitationId"`
	Site         string      `json:"site"`
	AccountID    string      `json:"accountId"`
	Email        string      `json:"email"`
	Status       string      `json:"status"`
	Groups       []string    `json:"groups"`
	Released     []SeatsJSON `json:"released"`
}

func (h UsersHandler) revoke(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.Revoke(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("invitationId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	inv := r.Invitation
	return httpapi.Reply{Status: http.StatusOK, Body: RevokedJSON{InvitationID: inv.ID, Site: inv.SiteID, AccountID: inv.AccountID, Email: inv.Email,
		Status: string(inv.Status), Groups: httpapi.NonNil(r.Groups), Released: seatsOf(r.Released)}}, nil
}
