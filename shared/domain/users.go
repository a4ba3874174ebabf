package domain

import (
	"slices"
	"strings"
)

// Audit actions of a user's lifecycle in the org.
const (
	ActionUserRemove       = "user.remove"
	ActionUserRemoveStage  = "user.remove.stage"
	ActionUserStatus       = "user.status"
	ActionInvitationRevoke = "invitation.revoke"
	// ActionInvitationExpire is the system's release of a pending
	// invitation that lapsed (rules §7): what revoke releases, by ActorSystem.
	ActionInvitationExpire = "invitation.expire"
)

// UserRecord is everything an account holds in its org: the profile, its
// access items (by SiteProductKey), its memberships (group ids), its
// invitations, and the groups it is in as they are now (missing ones absent).
type UserRecord struct {
	User        User
	Access      map[string]Access
	Groups      []string
	Invitations []Invitation
	// APITokens are the user's API tokens (their listing items: id and hash).
	APITokens []APIToken
	// GroupInfo is each of the user's groups as read with the record.
	GroupInfo map[string]GroupState
}

// GroupState is what a removal needs of a group: its name and the job in
// flight ("" when none).
type GroupState struct {
	ID, Name, ActiveJob string
}

// Busy returns the user's groups that have a job in flight, sorted by id.
func (r UserRecord) Busy() []GroupState {
	var out []GroupState
	for _, g := range r.Groups {
		if st, ok := r.GroupInfo[g]; ok && st.ActiveJob != "" {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b GroupState) int {
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Seats is how the billing counters of each site move when every access of
// the record goes (a guest frees a slot; a paid user lowers the limit).
func (r UserRecord) Seats() map[string]Seats {
	out := map[string]Seats{}
	for k, a := range r.Access {
		if a.Product != Confluence {
			continue
		}
		site, _, _ := strings.Cut(k, "/")
		if d := SeatsChange(a.Effective, RoleNone); !d.Zero() {
			out[site] = out[site].Plus(d)
		}
	}
	return out
}

// Removal is an account's removal from its org: the record as read, the
// caller (who must still be an active org admin when it is written) and the
// audit entry of the final step.
type Removal struct {
	Record   UserRecord
	CallerID string
	Audit    AuditEntry
}

// StatusChange moves an account between active and suspended, guarded by the
// status it was read in.
type StatusChange struct {
	User     User
	From, To UserStatus
	CallerID string
	Audit    AuditEntry
}

// Revocation revokes a pending invitation and releases what its invitee held:
// the record of the invited account (its invitations stay, the revoked one
// as the record) and the audit entry.
type Revocation struct {
	Invitation Invitation
	Record     UserRecord
	Audit      AuditEntry
}
