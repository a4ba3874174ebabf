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

// InviteService invites people to a site (invitations.Inviter).
type InviteService interface {
	Invite(ctx context.Context, c invitations.Caller, orgID, siteID string, in domain.InviteInput) (invitations.Result, error)
}

// InviteHandler serves POST /orgs/{orgId}/sites/{siteId}/invitations.
type InviteHandler struct {
	Service InviteService
	Log     *slog.Logger
}

// inviteRequest is the JSON body of an invite request.
type inviteRequest struct {
	Emails   []string               `json:"emails"`
	Products map[string]productRole `json:"products"`
	Groups   []string               `json:"groups"`
	Message  string                 `json:"message"`
	// AllOrNothing: invite every address or none.
	AllOrNothing bool `json:"allOrNothing"`
}

type productRole struct {
	Role string `json:"role"`
}

func (r inviteRequest) input() domain.InviteInput {
	in := domain.InviteInput{Emails: r.Emails, Groups: r.Groups, Message: r.Message, AllOrNothing: r.AllOrNothing}
	if r.Products != nil {
		in.Products = map[string]domain.ProductInput{}
		for p, v := range r.Products {
			in.Products[p] = domain.ProductInput{Role: v.Role}
		}
	}
	return in
}

// Handle implements the Lambda handler.
func (h InviteHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	caller, err := httpapi.CallerOf(req)
	if err != nil {
		return httpapi.Error(ctx, h.Log, err, req), nil
	}
	var in inviteRequest
	if err := httpapi.DecodeJSON(req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Error(ctx, h.Log, err, req), nil
	}
	res, err := h.Service.Invite(ctx, caller,
		req.PathParameters["orgId"], req.PathParameters["siteId"], in.input())
	if err != nil {
		return httpapi.Error(ctx, h.Log, withJSONResults(err), req), nil
	}
	return httpapi.JSON(http.StatusOK, inviteResponseOf(res)), nil
}

// InviteResponse is the JSON answer to an invite request.
type InviteResponse struct {
	Results  []AddressResult `json:"results"`
	Summary  Summary         `json:"summary"`
	Kind     domain.Kind     `json:"kind"`
	Warnings []string        `json:"warnings"`
	Billing  Billing         `json:"billing"`
}

// AddressResult is what happened to one address.
type AddressResult struct {
	Email         string `json:"email"`
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`
	AccountID     string `json:"accountId,omitempty"`
	InvitationID  string `json:"invitationId,omitempty"`
	ExpiresAt     string `json:"expiresAt,omitempty"`
	Kind          string `json:"kind,omitempty"`
	EmailDelivery string `json:"emailDelivery,omitempty"`
}

// Summary counts the outcomes of a request.
type Summary struct {
	Invited        int `json:"invited"`
	AlreadyMember  int `json:"alreadyMember"`
	AlreadyInvited int `json:"alreadyInvited"`
	Invalid        int `json:"invalid"`
	GuestLimit     int `json:"refusedByGuestLimit"`
	UserLimit      int `json:"refusedByUserLimit"`
	EmailsSent     int `json:"emailsSent"`
	EmailsFailed   int `json:"emailsFailed"`
	// EmailsQueued counts the emails handed to the email queue (its sender
	// sends them; emailsSent and emailsFailed stay 0 since emails are
	// queued).
	EmailsQueued int `json:"emailsQueued"`
}

// Billing is a site's guest-limit and user-limit numbers.
type Billing struct {
	PaidUsers      int64 `json:"paidUsers"`
	Guests         int64 `json:"guests"`
	GuestLimit     int64 `json:"guestLimit"`
	FreeGuestSlots int64 `json:"freeGuestSlots"`
	UserLimit      int64 `json:"userLimit"`
	FreeUserSlots  int64 `json:"freeUserSlots"`
}

// BillingOf converts the domain's billing numbers.
func BillingOf(b domain.Billing) Billing {
	return Billing{PaidUsers: b.PaidUsers, Guests: b.Guests, GuestLimit: b.GuestLimit, FreeGuestSlots: b.FreeGuestSlots, UserLimit: b.UserLimit, FreeUserSlots: b.FreeUserSlots}
}

func inviteResponseOf(r invitations.Result) InviteResponse {
	out := InviteResponse{Results: addressResults(r.Results), Kind: r.Kind, Warnings: r.Warnings, Billing: BillingOf(r.Billing),
		Summary: Summary{Invited: r.Summary.Invited, AlreadyMember: r.Summary.AlreadyMember, AlreadyInvited: r.Summary.AlreadyInvited,
			Invalid: r.Summary.Invalid, GuestLimit: r.Summary.GuestLimit, UserLimit: r.Summary.UserLimit, EmailsSent: r.Summary.EmailsSent, EmailsFailed: r.Summary.EmailsFailed, EmailsQueued: r.Summary.EmailsQueued}}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return out
}

func addressResults(rs []invitations.AddressResult) []AddressResult {
	out := make([]AddressResult, 0, len(rs))
	for _, r := range rs {
		a := AddressResult{Email: r.Email, Status: string(r.Status), Reason: r.Reason, AccountID: r.AccountID, InvitationID: r.InvitationID,
			Kind: string(r.Kind), EmailDelivery: string(r.EmailDelivery)}
		if !r.ExpiresAt.IsZero() {
			a.ExpiresAt = r.ExpiresAt.UTC().Format(time.RFC3339)
		}
		out = append(out, a)
	}
	return out
}

// withJSONResults gives a refusal's per-address results their JSON shape.
func withJSONResults(err error) error {
	e, ok := err.(*domain.Error)
	if !ok {
		return err
	}
	rs, ok := e.Extra["results"].([]invitations.AddressResult)
	if !ok {
		return err
	}
	c := *e
	c.Extra = map[string]any{}
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra["results"] = addressResults(rs)
	return &c
}
