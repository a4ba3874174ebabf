package domain

import "time"

// Audit actions: the stable names of administrative changes in the log.
const (
	ActionInvitationCreate = "invitation.create"
	ActionInvitationAccept = "invitation.accept"
	ActionUserCreate       = "user.create"
)

// ActorSystem is the actor of changes no person made (scheduled jobs).
const ActorSystem = "system"

// Audit targets are "<kind>/<id>": the audit log filters by them exactly.

// UserTarget names a user account as an audit target.
func UserTarget(accountID string) string { return "user/" + accountID }

// GroupTarget names a group as an audit target.
func GroupTarget(groupID string) string { return "group/" + groupID }

// SpaceTarget names a space of a site as an audit target.
func SpaceTarget(siteID, key string) string { return "space/" + siteID + "/" + key }

// InvitationTarget names an invitation as an audit target.
func InvitationTarget(id string) string { return "invitation/" + id }

// SiteTarget names a site as an audit target (its settings, its counters).
func SiteTarget(siteID string) string { return "site/" + siteID }

// NewAudit is the one constructor of audit entries: who (actor) did what
// (action) to which target, with the state before and after, when and in
// which request.
func NewAudit(orgID, actor, action, target, requestID string, at time.Time, before, after map[string]any) AuditEntry {
	return AuditEntry{OrgID: orgID, ID: NewID(), At: at.UTC(), Actor: actor, Action: action, Target: target,
		Before: before, After: after, RequestID: requestID}
}

// OrgTarget names the org itself as an audit target (its verified domains,
// its external user policy, a reset of sessions).
func OrgTarget(orgID string) string { return "org/" + orgID }
