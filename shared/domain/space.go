package domain

import "time"

// Space is a Confluence space on a site. Guests are assigned to at most one
// space; spaces open to anonymous access are visible to guests too.
type Space struct {
	OrgID  string
	SiteID string
	// Key is the space's key, e.g. "MKT": upper-case letters and digits.
	Key             string
	Name            string
	AnonymousAccess bool
	CreatedAt       time.Time
	CreatedBy       string
	// Version guards read-modify-write of the space (0: never changed).
	Version int
}

// MaxSpaceKey is the longest space key accepted.
const MaxSpaceKey = 64

// ValidSpaceKey reports whether s is a space key: 1 to MaxSpaceKey upper-case
// ASCII letters and digits, starting with a letter (Confluence's rule). Keys
// end up in table keys, so nothing else is let through.
func ValidSpaceKey(s string) bool {
	if len(s) == 0 || len(s) > MaxSpaceKey || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// MaxSpaceName is the longest space name accepted, in characters.
const MaxSpaceName = 200

// Audit actions of spaces and guests' spaces (rules §5).
const (
	ActionSpaceCreate      = "space.create"
	ActionSpaceUpdate      = "space.update"
	ActionSpaceAdminAdd    = "space.admin.add"
	ActionSpaceAdminRemove = "space.admin.remove"
	ActionGuestSpaceAssign = "guest.space.assign"
	ActionGuestSpaceMove   = "guest.space.move"
	ActionGuestSpaceRemove = "guest.space.unassign"
)

// CanManageSpaces reports whether the user may register and change a site's
// spaces, name their admins and assign any guest of the site to any space:
// org and site admins and the site's Confluence admins (effective role
// admin there, given as own) — the powers that manage Confluence roles.
func (u User) CanManageSpaces(siteID string, own Access) bool {
	return u.CanManageRoles(siteID, own)
}

// CanAdminSpace reports whether the user may act as an admin of one space,
// given whether an admin item names them there and their own Confluence
// access on the site: an active paid user (space admins are paid users; one
// who stops being paid loses the power with the access).
func (u User) CanAdminSpace(named bool, own Access) bool {
	return named && u.Status == UserActive && own.Effective.Paid()
}

// SpaceScope is what a space request reads first, at once: the org, the
// site, the caller, the caller's Confluence access on the site, the space
// named (nil when absent) and whether the caller is one of its admins.
type SpaceScope struct {
	Scope
	CallerAccess Access
	Space        *Space
	CallerAdmin  bool
}

// AssignScope is what a guest's space assignment reads first, in one read:
// the SpaceScope of the target space (no space for an unassignment), the
// user and their Confluence access on the site (nil when they have none).
type AssignScope struct {
	SpaceScope
	User   *User
	Access *Access
}

// SpaceAssignment is a guest's change of space, written at once: their
// Confluence access as read (its version guards the write) and as it
// becomes, the spaces whose admin item must still name Admin when the write
// happens (a space admin's power is checked in the write itself) and the
// audit entry.
type SpaceAssignment struct {
	User          User
	SiteID        string
	Before, After Access
	Admin         string
	AdminOf       []string
	Audit         AuditEntry
}

// SpaceGuest is a guest assigned to a space, as its list shows it.
type SpaceGuest struct {
	AccountID string
	Email     string
}
