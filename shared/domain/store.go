package domain

import (
	"context"
	"time"
)

// Scope is what an admin request needs to know first: the org, the site and
// the caller's own account in that org. A nil field means it does not exist.
type Scope struct {
	Org    *Org
	Site   *Site
	Caller *User
}

// NewInvitation is everything one invitee's invitation writes, all or nothing:
// the account (with its email guard), its access, its group memberships, the
// invitation with its token, the site's billing counters and the audit entry.
type NewInvitation struct {
	User       User
	Access     []Access
	Groups     []string
	Invitation Invitation
	Audit      AuditEntry
}

// InviteRefused is returned by InviteStore.CreateInvitations when a condition
// refuses the write: Index is the refused invitee in the batch, Outcome says
// why (OutcomeAlreadyMember or OutcomeGuestLimit).
type InviteRefused struct {
	Index   int
	Outcome Outcome
}

// Error implements error.
func (e *InviteRefused) Error() string { return "invitation refused: " + string(e.Outcome) }

// IdempotentResponse is a response kept under an Idempotency-Key.
type IdempotentResponse struct {
	RequestHash string
	Done        bool
	Status      int
	Body        []byte
}

// InviteStore is the persistence the invite and accept flows need.
type InviteStore interface {
	// LoadScope reads the org, the site and the caller in one round trip.
	LoadScope(ctx context.Context, orgID, siteID, callerID string) (Scope, error)
	// FindAccounts maps each normalised address that already has an account
	// in the org to its account id.
	FindAccounts(ctx context.Context, orgID string, emails []string) (map[string]string, error)
	// Groups reads the named groups; missing ones are absent from the map.
	Groups(ctx context.Context, orgID string, names []string) (map[string]Group, error)
	// Site reads one site with its billing counters.
	Site(ctx context.Context, orgID, siteID string) (Site, error)
	// CreateInvitations writes the batch in one transaction, the counters of
	// the site included. A refused condition returns *InviteRefused.
	CreateInvitations(ctx context.Context, siteID string, batch []NewInvitation) error
	// SaveDelivery records the outcome of sending an invitation's email.
	SaveDelivery(ctx context.Context, inv Invitation, retryAt time.Time) error
	// InvitationByToken finds the invitation behind a token hash (ENOTFOUND if none).
	InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error)
	// AcceptInvitation consumes the token, marks the invitation accepted and
	// activates the account, in one transaction. ECONFLICT if it was already
	// used, revoked or changed meanwhile.
	AcceptInvitation(ctx context.Context, inv Invitation, at time.Time, audit AuditEntry) error
	// BeginIdempotent claims an idempotency key for a request. It returns the
	// kept response when the key was used before (Done) or is in flight (not Done).
	BeginIdempotent(ctx context.Context, orgID, key, requestHash string, now time.Time) (*IdempotentResponse, error)
	// FinishIdempotent keeps the response of a claimed key.
	FinishIdempotent(ctx context.Context, orgID, key string, resp IdempotentResponse, now time.Time) error
	// DueInvitations lists undelivered invitations whose email is due at now.
	DueInvitations(ctx context.Context, now time.Time, limit int) ([]Invitation, error)
	// RotateToken gives an invitation a new token hash (the old link stops
	// working) and returns it with its new version.
	RotateToken(ctx context.Context, inv Invitation, newHash string) (Invitation, error)
	// ReleaseIdempotent frees a claimed key whose request failed for a
	// passing reason, so that a retry can run at once.
	ReleaseIdempotent(ctx context.Context, orgID, key string) error
}
