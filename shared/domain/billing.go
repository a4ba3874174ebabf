package domain

import (
	"strings"
	"time"
)

// GuestStatus is where a guest of a site's Confluence stands (rules §7's guest
// list): the account's own state first, then whether they have a space.
type GuestStatus string

// Guest statuses.
const (
	GuestInvited    GuestStatus = "invited"    // the invitation is not accepted yet
	GuestActive     GuestStatus = "active"     // an active account assigned to a space
	GuestUnassigned GuestStatus = "unassigned" // an active account with no space: no access to any page yet
	GuestSuspended  GuestStatus = "suspended"  // the account is suspended
)

// Guest is one row of a site's guest list: the account and its Confluence
// access (effective role guest).
type Guest struct {
	AccountID   string
	Email       string
	DisplayName string
	UserStatus  UserStatus
	External    bool
	Access      Access
}

// Status is the guest's status: a profile that is invited or suspended
// says so; otherwise the guest is active with a space and unassigned
// without one.
func (g Guest) Status() GuestStatus {
	switch g.UserStatus {
	case UserInvited:
		return GuestInvited
	case UserSuspended:
		return GuestSuspended
	}
	if g.Access.Space != "" {
		return GuestActive
	}
	return GuestUnassigned
}

// Summary is a site's billing summary (rules §7): the counters as stored, the
// limit they imply and whether the site is over it (paid users removed:
// no guest is deleted, new ones wait), and the user limit (paid users
// plus guests) with its free slots.
type Summary struct {
	PaidUsers, Guests, GuestLimit, FreeGuestSlots, Reserved int64
	OverLimit                                               bool
	UserLimit, FreeUserSlots, ReservedUsers                 int64
}

// Summary returns the site's billing summary.
func (s Site) Summary() Summary {
	b := s.Billing()
	return Summary{PaidUsers: s.PaidUsers, Guests: s.Guests, GuestLimit: b.GuestLimit, FreeGuestSlots: b.FreeGuestSlots,
		Reserved: s.Reserved, OverLimit: s.Guests > b.GuestLimit, UserLimit: b.UserLimit, FreeUserSlots: b.FreeUserSlots, ReservedUsers: s.ReservedUsers}
}

// ExpectedSlots is the free guest slots the counters must hold for the
// given paid users, guests and reservation: 5 × paid − guests − reserved.
func ExpectedSlots(paid, guests, reserved int64) int64 {
	return GuestsPerPaidUser*paid - guests - reserved
}

// Counters are a site's billing counters (UserLimit 0: not stored, a site
// written before the user limit).
type Counters struct {
	PaidUsers, Guests, GuestSlots int64
	UserLimit, UserSlots          int64
}

// CountersOf returns the site's stored counters.
func CountersOf(s Site) Counters {
	return Counters{PaidUsers: s.PaidUsers, Guests: s.Guests, GuestSlots: s.GuestSlots, UserLimit: s.UserLimit, UserSlots: s.UserSlots}
}

// Drift names the counters whose stored value differs from the counted
// one, in a fixed order.
func (stored Counters) Drift(counted Counters) []string {
	var out []string
	if stored.PaidUsers != counted.PaidUsers {
		out = append(out, "paidUsers")
	}
	if stored.Guests != counted.Guests {
		out = append(out, "guests")
	}
	if stored.GuestSlots != counted.GuestSlots {
		out = append(out, "guestSlots")
	}
	if stored.UserLimit != counted.UserLimit {
		out = append(out, "userLimit")
	}
	if stored.UserSlots != counted.UserSlots {
		out = append(out, "userSlots")
	}
	return out
}

// Audit actions of billing.
const ActionBillingRecount = "billing.recount"

// auditKinds are the kinds of audit targets (see UserTarget and the rest).
var auditKinds = []string{"user/", "group/", "space/", "invitation/", "site/", "org/"}

// ValidAuditTarget reports a target the audit log can be filtered by:
// "<kind>/<id>" with a known kind and a printable id without '#'.
func ValidAuditTarget(s string) bool {
	if len(s) > 300 {
		return false
	}
	for _, k := range auditKinds {
		if rest, ok := strings.CutPrefix(s, k); ok && rest != "" {
			for _, r := range rest {
				if r <= ' ' || r == '#' || r >= 0x7f { // ids are printable ASCII
					return false
				}
			}
			return true
		}
	}
	return false
}

// AuditQuery selects entries of an org's audit log: by actor, by target (or
// both), within [From, To]; a page of at most Limit entries after Cursor.
type AuditQuery struct {
	Actor, Target string
	From, To      time.Time
	Limit         int
	Cursor        string
}
