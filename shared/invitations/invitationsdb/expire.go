package invitationsdb

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// DueExpiries returns delivered pending invitations whose expiry is at or
// before now, at most limit: a Query per shard of the due-work index's
// DUE#EXPIRE entries (GSI3SK <= now), so the cost follows the number of
// invitations due, not the number pending. Undelivered ones are found by
// DueInvitations (their DUE#EMAIL entry is never due past their expiry).
func (s *Store) DueExpiries(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error) {
	return s.due(ctx, "DUE#EXPIRE#%d", "due expiries", now, limit)
}

// LoadInvitee reads an invited account's whole partition (one Query,
// followed): profile, access items, memberships, invitations. Nil when the
// account has no profile. Its groups are not read: a group with a job in
// flight refuses the release's transaction (ECONFLICT naming the group).
func (s *Store) LoadInvitee(ctx context.Context, orgID, accountID string) (*domain.UserRecord, error) {
	rec, found, err := s.dir.AccountPartition(ctx, orgID, accountID)
	if err != nil || !found {
		return nil, err
	}
	return rec, nil
}

// ExpireInvitation releases a pending invitation that lapsed (rules §7: expiring
// an invitation releases its seat): the revoke transaction
// (releaseInvitation) with the final status expired, conditioned on the
// invitation still pending at the version read with expiresEpoch <= now,
// so an accept before the expiry, a resend that renewed it and a revoke
// all win against it, and it against an accept after. ECONFLICT naming the
// groups while one of the invitee's groups has a job in flight; ECONFLICT
// (invitation) or domain.ErrAccessChanged when anything changed meanwhile.
func (s *Store) ExpireInvitation(ctx context.Context, rv domain.Revocation, now time.Time) error {
	return s.dir.ReleaseInvitation(ctx, "expire invitation", rv, domain.InvitationExpired,
		"version = :v AND #s = :pending AND expiresEpoch <= :now", table.Item{":now": table.N(now.Unix())})
}
