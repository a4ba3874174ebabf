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

// UserTarget names a user account as an audit target.
func UserTarget(accountID string) string { return "user/" + accountID }

// NewAudit is the one constructor of audit entries: who (actor) did what
// (action) to which target, with the state before and after, when and in
// which request.
func NewAudit(orgID, actor, action, target, requestID string, at time.Time, before, after map[string]any) AuditEntry {
	return AuditEntry{OrgID: orgID, ID: NewID(), At: at.UTC(), Actor: actor, Action: action, Target: target,
		Before: before, After: after, RequestID: requestID}
}
