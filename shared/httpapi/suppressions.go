package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// SuppressionsService lists and clears an org's suppressed addresses
// (suppressions.Admin).
type SuppressionsService interface {
	List(ctx context.Context, c domain.Caller, orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error)
	Clear(ctx context.Context, c domain.Caller, orgID, email string) error
}

// The suppression routes (served by InvitationsFunction).
const (
	RouteSuppressions = "/orgs/{orgId}/suppressions"
	RouteSuppression  = "/orgs/{orgId}/suppressions/{email}"
)

// SuppressionJSON is one address the org no longer emails.
type SuppressionJSON struct {
	Email        string    `json:"email"`
	Reason       string    `json:"reason"`
	Detail       string    `json:"detail"`
	InvitationID string    `json:"invitationId,omitempty"`
	At           time.Time `json:"at"`
}

// SuppressionListJSON is a page of suppressed addresses.
type SuppressionListJSON struct {
	Suppressions []SuppressionJSON `json:"suppressions"`
	Next         string            `json:"next,omitempty"`
}

// SuppressionClearedJSON answers a clear.
type SuppressionClearedJSON struct {
	Email   string `json:"email"`
	Message string `json:"message"`
}

// SuppressionsHandler serves the suppression routes' actions (the
// invitations function serves their routes: see invitationsapi).
type SuppressionsHandler struct {
	Service SuppressionsService
}

// List answers GET RouteSuppressions: a page of the org's suppressed
// addresses.
func (h SuppressionsHandler) List(ctx context.Context, c Call) (Reply, error) {
	limit, cursor, err := pageParams(c.Req)
	if err != nil {
		return Reply{}, err
	}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), limit, cursor)
	out := SuppressionListJSON{Suppressions: make([]SuppressionJSON, 0, len(page.Items)), Next: page.Next}
	for _, s := range page.Items {
		out.Suppressions = append(out.Suppressions, SuppressionJSON{Email: s.Email, Reason: string(s.Reason), Detail: s.Detail, InvitationID: s.InvitationID, At: s.At})
	}
	return Reply{Status: http.StatusOK, Body: out}, err
}

// Clear answers DELETE RouteSuppression: the address may be emailed again.
func (h SuppressionsHandler) Clear(ctx context.Context, c Call) (Reply, error) {
	addr := c.Param("email")
	if !strings.Contains(addr, "@") {
		// A gateway that hands the segment on still escaped (%40).
		if u, err := url.PathUnescape(addr); err == nil {
			addr = u
		}
	}
	if err := h.Service.Clear(ctx, c.Caller, c.Param("orgId"), addr); err != nil {
		return Reply{}, err
	}
	norm, _ := domain.NormalizeEmail(addr)
	return Reply{Status: http.StatusOK, Body: SuppressionClearedJSON{Email: norm,
		Message: "The address may be emailed again; resend its invitation to email it."}}, nil
}
