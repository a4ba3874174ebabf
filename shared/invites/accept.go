package invites

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/metrics"
)

// View is what the accept page shows about an invitation.
type View struct {
	Email     string
	OrgName   string
	SiteName  string
	SiteHost  string
	Inviter   string
	Kind      domain.Kind
	ExpiresAt time.Time
}

func viewOf(inv domain.Invitation) View {
	return View{Email: inv.Email, OrgName: inv.OrgName, SiteName: inv.SiteName, SiteHost: inv.SiteHost, Inviter: inv.InviterName, Kind: inv.Kind, ExpiresAt: inv.ExpiresAt}
}

// usable finds the invitation behind a token and checks that it can still be
// accepted: ENOTFOUND for unknown tokens, ECONFLICT for a used one, EGONE for
// expired or revoked ones.
func (s *Service) usable(ctx context.Context, token string) (domain.Invitation, error) {
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
	case inv.Status == domain.InvitationExpired || inv.Expired(s.now()):
		return inv, domain.Errorf(domain.EGONE, "This invitation has expired. Ask your administrator to send a new one.")
	}
	return inv, nil
}

// Show returns what the page behind an email link shows. It changes nothing:
// mail scanners open links.
func (s *Service) Show(ctx context.Context, token string) (View, error) {
	inv, err := s.usable(ctx, token)
	if err != nil {
		return View{}, err
	}
	return viewOf(inv), nil
}

// Accept consumes the token and activates the account, all or nothing.
func (s *Service) Accept(ctx context.Context, token, requestID string) (View, error) {
	inv, err := s.usable(ctx, token)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	audit := domain.AuditEntry{OrgID: inv.OrgID, ID: domain.NewID(), At: now, Actor: inv.AccountID, Action: "invitation.accept",
		Target: "user/" + inv.AccountID, Before: map[string]any{"status": string(domain.UserInvited)},
		After: map[string]any{"status": string(domain.UserActive), "invitationId": inv.ID}, RequestID: requestID}
	if err := s.Store.AcceptInvitation(ctx, inv, now, audit); err != nil {
		return View{}, err
	}
	s.Metrics.Count(map[string]int{metrics.InvitationsAccepted: 1})
	return viewOf(inv), nil
}
