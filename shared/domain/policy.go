package domain

import (
	"slices"
	"time"
)

// Changing the external user policy (rules §9): the change written with its
// audit entry. What a proposed change does to each external user (the
// preview) is the capability's own rule: shared/extpolicy.

// Audit actions of the external user policy and of resets of sessions.
const (
	ActionPolicyUpdate     = "org.policy.update"
	ActionTestPolicyUpdate = "org.testpolicy.update"
	ActionTestPolicyClear  = "org.testpolicy.clear"
	ActionSessionsReset    = "org.sessions.reset"
	ActionUserSessionReset = "user.session.reset"
)

// WithTestPolicy returns the org with its test policy replaced (nil clears it).
func (o Org) WithTestPolicy(tp *TestPolicy) Org {
	if tp != nil {
		c := *tp
		c.Users = slices.Clone(tp.Users)
		tp = &c
	}
	o.TestPolicy = tp
	return o
}

// PolicyChange is one change of an org's external user policy, test policy
// or reset of sessions, written with its audit entry in one transaction:
// Org is the org as it will be (PolicyVersion already one more than
// FromVersion, the version read), Rescan asks for the re-verification
// job's rescan of the org's due entries.
type PolicyChange struct {
	Org         Org
	FromVersion int
	CallerID    string
	Rescan      bool
	Audit       AuditEntry
}

// ErrPolicyChanged is returned when an org's policy version moved after it
// was read (another change of the policy, the test policy, the verified
// domains or a reset of sessions came first).
var ErrPolicyChanged = &Error{Code: ECONFLICT, Message: "The external user policy changed meanwhile; read it again and retry."}

// UserSessionReset is the reset of one user's sessions: their profile's
// SessionsResetAt set to At, with the audit entry.
type UserSessionReset struct {
	OrgID, AccountID, CallerID string
	At                         time.Time
	Audit                      AuditEntry
}
