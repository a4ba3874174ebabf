package invitations

import (
	"context"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
)

// AcceptStore is what the page behind an email link needs from persistence.
type AcceptStore interface {
	// InvitationByToken finds the invitation behind a token hash (ENOTFOUND if none).
	InvitationByToken(ctx context.Context, tokenHash string) (domain.Invitation, error)
	// AcceptInvitation consumes the token, marks the invitation accepted and
	// activates the account, in one transaction. ECONFLICT if it was already
	// used, revoked or changed meanwhile.
	AcceptInvitation(ctx context.Context, inv domain.Invitation, at time.Time, audit domain.AuditEntry) error
}

// Acceptor serves the page behind an invitation link.
type Acceptor struct {
	Store AcceptStore
	Now   func() time.Time
	Log   *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// View is what the accept page shows about an invitation.
type View struct {
	Email     string
	OrgName   string
	SiteName  string
	SiteHost  string
	Inviter   string
	Kind      domain.Kind
	Roles     map[domain.Product]domain.Role
	ExpiresAt time.Time
}

func viewOf(inv domain.Invitation) View {
	return View{Email: inv.Email, OrgName: inv.OrgName, SiteName: inv.SiteName, SiteHost: inv.SiteHost, Inviter: inv.InviterName,
		Kind: inv.Kind, Roles: inv.Effective(), ExpiresAt: inv.ExpiresAt}
}

// usable finds the invitation behind a token and checks that it can still be
// accepted: ENOTFOUND for unknown tokens, ECONFLICT for a used one, EGONE for
// expired or revoked ones.
func (s *Acceptor) usable(ctx context.Context, token string) (domain.Invitation, error) {
	if !domain.ValidTokenShape(token) {
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "This invitation link is not valid.")
	}
	inv, err := s.Store.InvitationByToken(ctx, domain.HashToken(token))
	if err != nil {
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "This invitation link is not valid.")
		}
		return domain.Invitation{}, err
	}
	switch {
	case inv.Status == domain.InvitationAccepted:
		return inv, domain.Errorf(domain.ECONFLICT, "This invitation has already been accepted.")
	case inv.Status == domain.InvitationRevoked:
		return inv, domain.Errorf(domain.EGONE, "This invitation was withdrawn by an administrator.")
	case inv.Status == domain.InvitationExpired || inv.Expired(clock(s.Now)):
		return inv, domain.Errorf(domain.EGONE, "This invitation has expired. Ask your administrator to send a new one.")
	}
	return inv, nil
}

// Show returns what the page behind an email link shows. It changes nothing:
// mail scanners open links.
func (s *Acceptor) Show(ctx context.Context, token string) (View, error) {
	inv, err := s.usable(ctx, token)
	if err != nil {
		return View{}, err
	}
	return viewOf(inv), nil
}

// Accept consumes the token and activates the account, all or nothing.
func (s *Acceptor) Accept(ctx context.Context, token, requestID string) (View, error) {
	inv, err := s.usable(ctx, token)
	if err != nil {
		return View{}, err
	}
	now := clock(s.Now)
	audit := domain.NewAudit(inv.OrgID, inv.AccountID, domain.ActionInvitationAccept, domain.UserTarget(inv.AccountID), requestID, now,
		map[string]any{"status": string(domain.UserInvited)}, map[string]any{"status": string(domain.UserActive), "invitationId": inv.ID})
	if err := s.Store.AcceptInvitation(ctx, inv, now, audit); err != nil {
		return View{}, err
	}
	s.Metrics.Count(map[string]int{metrics.InvitationsAccepted: 1})
	return viewOf(inv), nil
}
