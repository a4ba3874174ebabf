package invitations

import (
	"context"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// ManageStore is what managing a site's invitations needs from persistence.
type ManageStore interface {
	// LoadInvitation reads the org, site and caller at once and, when
	// invitationID is not "", the invitation of that site (nil if none).
	LoadInvitation(ctx context.Context, orgID, siteID, callerID, invitationID string) (domain.Scope, *domain.Invitation, error)
	// SiteInvitations lists a site's invitations newest first, those the
	// filter keeps, a page at a time.
	SiteInvitations(ctx context.Context, orgID, siteID string, f ListFilter, now time.Time, limit int, cursor string) (domain.Page[domain.Invitation], error)
	// ResendInvitation writes the invitation's new token and expiry with its
	// audit entry in one transaction; ECONFLICT if it changed meanwhile.
	ResendInvitation(ctx context.Context, before, next domain.Invitation, audit domain.AuditEntry) (domain.Invitation, error)
}

// Manager lists a site's invitations and re-sends them.
type Manager struct {
	Store ManageStore
	// Emails is the email queue a resent invitation is handed to.
	Emails queue.Sender
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// ActionInvitationResend is the audit action of a resend.
const ActionInvitationResend = "invitation.resend"

// ResendInterval is the least time between two emails of one invitation an
// admin asks for (the invite counts as the first): a double click sends one
// email, the second click is answered 429 with Retry-After.
const ResendInterval = time.Minute

// Shown returns an invitation as lists show it: a pending invitation past
// its expiry is expired.
func Shown(inv domain.Invitation, now time.Time) domain.Invitation {
	if inv.Status == domain.InvitationPending && inv.Expired(now) {
		inv.Status = domain.InvitationExpired
	}
	return inv
}

// siteAdmin checks the org, the site and the caller's power over its
// invitations: org admins and admins of that site, the people who may
// invite (Confluence product admins may not: they neither invite nor manage
// invitations).
func siteAdmin(sc domain.Scope) error {
	switch {
	case sc.Org == nil || sc.Caller == nil:
		// Someone outside the org learns nothing about it.
		return domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	case sc.Site == nil:
		return domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	case !sc.Caller.CanInvite(sc.Site.ID):
		return domain.Errorf(domain.EFORBIDDEN, "Only organisation admins and admins of this site may manage its invitations.")
	}
	return nil
}

// ParseStatusFilter reads a list's ?status= ("" for all).
func ParseStatusFilter(s string) (domain.InvitationStatus, error) {
	switch st := domain.InvitationStatus(s); st {
	case "", domain.InvitationPending, domain.InvitationAccepted, domain.InvitationRevoked, domain.InvitationExpired:
		return st, nil
	}
	return "", &domain.Error{Code: domain.EINVALID, Message: "The status filter is not valid.",
		Fields: map[string]string{"status": "pending, accepted, revoked or expired"}}
}

// ListFilter narrows a site's invitations list: Status keeps one state
// ("" every state), InvitedBy the invitations one account sent ("" anyone's);
// both hold when both are given.
type ListFilter struct {
	Status    domain.InvitationStatus
	InvitedBy string
}

// Narrows reports whether the filter keeps less than every invitation.
func (f ListFilter) Narrows() bool { return f.Status != "" || f.InvitedBy != "" }

// check refuses a filter no invitation could match for being malformed
// (EINVALID, naming the query parameter).
func (f ListFilter) check() error {
	if _, err := ParseStatusFilter(string(f.Status)); err != nil {
		return err
	}
	if f.InvitedBy != "" && !domain.ValidAccountID(f.InvitedBy) {
		return &domain.Error{Code: domain.EINVALID, Message: "The invitedBy filter is not an account id.",
			Fields: map[string]string{"invitedBy": "the account id of the person who sent the invitations"}}
	}
	return nil
}

// List answers a site's invitations newest first, a page at a time, those
// the filter keeps. Two round trips: the caller's scope, then the list (see
// invitationsdb.Store.SiteInvitations for the cost of a filter).
func (m *Manager) List(ctx context.Context, c Caller, orgID, siteID string, f ListFilter, limit int, cursor string) (domain.Page[domain.Invitation], error) {
	var out domain.Page[domain.Invitation]
	if err := f.check(); err != nil {
		return out, err
	}
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return out, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	sc, _, err := m.Store.LoadInvitation(ctx, orgID, siteID, c.AccountID, "")
	if err != nil {
		return out, err
	}
	if err := siteAdmin(sc); err != nil {
		return out, err
	}
	now := clock(m.Now)
	out, err = m.Store.SiteInvitations(ctx, orgID, siteID, f, now, limit, cursor)
	for i := range out.Items {
		out.Items[i] = Shown(out.Items[i], now)
	}
	return out, err
}

// Resent is the answer to a resend: the invitation as it is now (new
// expiry, delivery pending).
type Resent struct {
	Invitation domain.Invitation
	// Queued: the email was handed to the email queue (false: the hand-off
	// failed after the commit, and the invitation job queues it within
	// minutes).
	Queued bool
}

// Resend emails a pending invitation again with a new link: a new token
// (only its hash is stored) and a renewed expiry, written with the audit
// entry in one transaction, after which the old link no longer resolves.
// A pending invitation past its expiry that the release job has not
// released yet is renewed the same way (the invite refuses its address and
// says "resend"). Accepted, revoked and expired (released) invitations are
// ECONFLICT, unchanged: a released one has no account left, so it is
// invited again instead; a second resend within
// ResendInterval of the last email an admin asked for is ETOOMANY with
// the time to wait.
//
// The email is queued (emails): the answer shows its delivery pending, and
// the sender records the outcome on the invitation (a new token is minted
// when it is sent). DynamoDB round trips, one after the other: two reads
// (the scope with the invitation's reference, then the invitation) and the
// transaction; then one SendMessage.
func (m *Manager) Resend(ctx context.Context, c Caller, orgID, siteID, invitationID string) (Resent, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return Resent{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if !domain.ValidAccountID(invitationID) {
		return Resent{}, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
	}
	for attempt := 1; ; attempt++ {
		sc, inv, err := m.Store.LoadInvitation(ctx, orgID, siteID, c.AccountID, invitationID)
		if err != nil {
			return Resent{}, err
		}
		if err := siteAdmin(sc); err != nil {
			return Resent{}, err
		}
		if inv == nil {
			return Resent{}, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
		}
		now := clock(m.Now)
		switch inv.Status {
		case domain.InvitationAccepted:
			return Resent{}, domain.Errorf(domain.ECONFLICT, "This invitation has already been accepted; there is nothing to resend.")
		case domain.InvitationRevoked:
			return Resent{}, domain.Errorf(domain.ECONFLICT, "This invitation was revoked; invite the person again instead.")
		case domain.InvitationExpired:
			return Resent{}, domain.Errorf(domain.ECONFLICT, "This invitation expired and was released (its seat and account are gone); invite the person again instead.")
		}
		last := inv.CreatedAt
		if inv.ResentAt.After(last) {
			last = inv.ResentAt
		}
		if wait := last.Add(ResendInterval).Sub(now); wait > 0 {
			e := domain.Errorf(domain.ETOOMANY, "This invitation was emailed less than a minute ago; wait before sending it again.")
			e.RetryAfter = wait
			return Resent{}, e
		}
		_, hash := domain.NewToken()
		lifetime := m.Config.Lifetime
		if lifetime <= 0 {
			lifetime = 7 * 24 * time.Hour
		}
		next := *inv
		next.TokenHash, next.Status, next.Delivery, next.DeliveryNote, next.MessageID, next.Attempts = hash, domain.InvitationPending, domain.DeliveryPending, "", "", 0
		next.ExpiresAt, next.ResentAt = now.Add(lifetime), now
		shown := Shown(*inv, now)
		audit := domain.NewAudit(orgID, c.AccountID, ActionInvitationResend, domain.InvitationTarget(inv.ID), c.RequestID, now,
			map[string]any{"status": string(shown.Status), "expiresAt": inv.ExpiresAt.Format(time.RFC3339), "delivery": string(inv.Delivery)},
			map[string]any{"status": string(domain.InvitationPending), "expiresAt": next.ExpiresAt.Format(time.RFC3339), "email": inv.Email,
				"site": siteID, "accountId": inv.AccountID})
		written, err := m.Store.ResendInvitation(ctx, *inv, next, audit)
		if domain.ErrorCode(err) == domain.ECONFLICT && attempt < 5 {
			// Changed meanwhile (a concurrent resend, an accept, the email
			// sender's claim or record): read it again, and answer from
			// what it is now.
			continue
		}
		if err != nil {
			return Resent{}, err
		}
		queued := handOff(ctx, m.Emails, logger(m.Log), []domain.Invitation{written}) == 1
		return Resent{Invitation: written, Queued: queued}, nil
	}
}
