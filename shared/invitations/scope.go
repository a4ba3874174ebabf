package invitations

import "github.com/guestaccess/guestaccess/shared/domain"

// What inviting reads and what writing a batch of invitations did (moved
// from package domain: only the invitations use them).

// InviteScope is everything an invite request names, read at once: the
// scope, the named groups (missing ones absent) and the addresses that
// already have an account in the org (by normalised email).
type InviteScope struct {
	domain.Scope
	Groups   map[string]domain.Group
	Accounts map[string]domain.ExistingAccount
	// Suppressed are the addresses the org no longer emails (read with
	// the rest, so the check before each send needs no read of its own).
	Suppressed map[string]domain.SuppressionReason
}

// InviteRefused is one invitee of a batch that a condition refused: Index is
// its place in the batch, Outcome says why (domain.OutcomeAlreadyMember,
// domain.OutcomeAlreadyInvited, domain.OutcomeGuestLimit or domain.OutcomeUserLimit), Existing is the account found
// for an address taken meanwhile.
type InviteRefused struct {
	Index    int
	Outcome  domain.Outcome
	Existing *domain.ExistingAccount
}

// Error implements error.
func (e *InviteRefused) Error() string { return "invitation refused: " + string(e.Outcome) }

// CreateResult is what writing a batch of invitations did: the refused
// invitees (the others were written) and, when the guest or user limit refused some,
// the site's counters as the refusing write saw them.
type CreateResult struct {
	Refused []InviteRefused
	Site    *domain.Site
}
