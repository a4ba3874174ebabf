package invitationsapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations"
)

// InvitationsService lists a site's invitations and re-sends them (invitations.Manager).
type InvitationsService interface {
	List(ctx context.Context, c domain.Caller, orgID, siteID string, f invitations.ListFilter, limit int, cursor string) (domain.Page[domain.Invitation], error)
	Resend(ctx context.Context, c domain.Caller, orgID, siteID, invitationID string) (invitations.Resent, error)
}

// InvitationsHandler serves the invitation management routes (InvitationsFunction).
type InvitationsHandler struct {
	Service InvitationsService
	// Suppressions serves the org's suppressed addresses (their routes are
	// this function's too).
	Suppressions httpapi.SuppressionsHandler
	Log          *slog.Logger
}

// The routes InvitationsHandler serves, as template.yaml names them.
const (
	RouteSiteInvitations  = "/orgs/{orgId}/sites/{siteId}/invitations"
	RouteResendInvitation = "/orgs/{orgId}/sites/{siteId}/invitations/{invitationId}/resend"
)

// Handle implements the Lambda handler.
func (h InvitationsHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodGet + " " + RouteSiteInvitations:        httpapi.Serve(h.Log, h.list),
		http.MethodHead + " " + RouteSiteInvitations:       httpapi.Serve(h.Log, h.list),
		http.MethodPost + " " + RouteResendInvitation:      httpapi.Serve(h.Log, h.resend),
		http.MethodGet + " " + httpapi.RouteSuppressions:   httpapi.Serve(h.Log, h.Suppressions.List),
		http.MethodHead + " " + httpapi.RouteSuppressions:  httpapi.Serve(h.Log, h.Suppressions.List),
		http.MethodDelete + " " + httpapi.RouteSuppression: httpapi.Serve(h.Log, h.Suppressions.Clear),
	}.Handle(ctx, req)
}

// InvitationJSON is one invitation as admins see it. The SES error of a
// failed delivery is for operators (logs) and never shown.
type InvitationJSON struct {
	ID            string            `json:"id"`
	Email         string            `json:"email"`
	AccountID     string            `json:"accountId"`
	Status        string            `json:"status"`
	EmailDelivery string            `json:"emailDelivery"`
	Kind          string            `json:"kind"`
	Roles         map[string]string `json:"roles"`
	Groups        []string          `json:"groups"`
	InvitedBy     string            `json:"invitedBy"`
	CreatedAt     time.Time         `json:"createdAt"`
	ExpiresAt     time.Time         `json:"expiresAt"`
	AcceptedAt    *time.Time        `json:"acceptedAt,omitempty"`
	ResentAt      *time.Time        `json:"resentAt,omitempty"`
}

// InvitationListJSON is a page of a site's invitations.
type InvitationListJSON struct {
	Invitations []InvitationJSON `json:"invitations"`
	Next        string           `json:"next,omitempty"`
}

// ResendJSON is the answer to a resend: the invitation, and what happened
// to its email.
type ResendJSON struct {
	Invitation InvitationJSON `json:"invitation"`
	// EmailDelivery is sent, failed (the invitation is kept with its new
	// link and the email is retried), or bounced or complained (the address
	// is suppressed: not emailed, not retried).
	EmailDelivery string `json:"emailDelivery"`
	Message       string `json:"message"`
}

// InvitationOf is the JSON of an invitation; roles are the effective ones
// the invitee gets, by product.
func InvitationOf(inv domain.Invitation) InvitationJSON {
	out := InvitationJSON{ID: inv.ID, Email: inv.Email, AccountID: inv.AccountID, Status: string(inv.Status), EmailDelivery: string(inv.Delivery),
		Kind: string(inv.Kind), Roles: roleNames(inv.Effective()), Groups: httpapi.NonNil(inv.Groups), InvitedBy: inv.InvitedBy,
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
	if out.Kind == "" {
		out.Kind = string(domain.KindNone)
	}
	if !inv.AcceptedAt.IsZero() {
		t := inv.AcceptedAt
		out.AcceptedAt = &t
	}
	if !inv.ResentAt.IsZero() {
		t := inv.ResentAt
		out.ResentAt = &t
	}
	return out
}

func (h InvitationsHandler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	status, given := c.Req.QueryStringParameters["status"]
	if given && status == "" { // the document's enum has no empty state: not "no filter"
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The status filter is empty.", Fields: map[string]string{"status": "pending, accepted, revoked or expired"}}
	}
	invitedBy, given := c.Req.QueryStringParameters["invitedBy"]
	if given && invitedBy == "" { // an empty id is not "anyone"
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The invitedBy filter is empty.", Fields: map[string]string{"invitedBy": "the account id of the person who sent the invitations"}}
	}
	f := invitations.ListFilter{Status: domain.InvitationStatus(status), InvitedBy: invitedBy}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), f, limit, cursor)
	out := InvitationListJSON{Invitations: make([]InvitationJSON, 0, len(page.Items)), Next: page.Next}
	for _, inv := range page.Items {
		out.Invitations = append(out.Invitations, InvitationOf(inv))
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

// resend answers 200 when the new email was handed to the email queue, 202
// when that hand-off failed: the invitation is kept with its new due email
// and the invitation job queues it. Either way the delivery is pending.
func (h InvitationsHandler) resend(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.Resend(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("invitationId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	out := ResendJSON{Invitation: InvitationOf(r.Invitation), EmailDelivery: string(r.Invitation.Delivery)}
	if r.Queued {
		out.Message = "A new invitation email is on its way; the previous link no longer works."
		return httpapi.Reply{Status: http.StatusOK, Body: out}, nil
	}
	out.Message = "The invitation was renewed (the previous link no longer works), but its email could not be queued yet; it will be within minutes."
	return httpapi.Reply{Status: http.StatusAccepted, Body: out}, nil
}
