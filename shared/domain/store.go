package domain

import "time"

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

// Seats is the change this invitation makes to the site's counters.
func (n NewInvitation) Seats() Seats { return SeatsOf(n.Invitation.Kind) }

// Delivery is the outcome of sending one invitation's email: the invitation
// as it is now (delivery status, attempts, message id) and, when it was not
// delivered, when its email is due again.
type Delivery struct {
	Invitation Invitation
	RetryAt    time.Time
}

// MembershipScope is what a membership change reads first: the org, the
// caller, the group, the user and whether the user is already a member.
type MembershipScope struct {
	Scope
	Group  *Group
	User   *User
	Member bool
}

// RoleScope is what a direct role change reads first: the org, the caller,
// the site, the user, the user's access on the site's product and the
// caller's (a product admin may manage the product).
type RoleScope struct {
	Scope
	User         *User
	Access       Access
	CallerAccess Access
}

// AccessChange is one user's change of roles, written at once: their access
// items (by SiteProductKey) as they were read and as they become, a
// membership added or removed, and the audit entry.
type AccessChange struct {
	User          User
	Before, After map[string]Access
	// AddMember / RemoveMember name a group whose membership changes.
	AddMember, RemoveMember string
	// Touch writes every item of After even when it does not change (a
	// version bump; an empty placeholder where there was none), so that a
	// group job's page planned before this change is refused and
	// recomputed rather than applied over it. Membership removals set it.
	Touch bool
	Audit AuditEntry
}

// ErrAccessChanged is returned when an access item changed after it was
// read: read again and recompute.
var ErrAccessChanged = &Error{Code: ECONFLICT, Message: "The user's access changed meanwhile; retry."}

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] struct {
	Items []T
	Next  string
}

// Member is one membership, as lists show it.
type Member struct {
	AccountID string
	Email     string
	GroupID   string
}
