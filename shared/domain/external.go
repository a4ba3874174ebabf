package domain

import (
	"slices"
	"time"
)

// External user security (rules §9): who is external, the org's policy and a
// user's verification. A user is external when their email's domain is not
// one of the org's verified domains: it is decided when read, from the org
// item and the address (Org.IsExternal), so adding or removing a domain
// changes who is external at once and rewrites no user.

// MaxTestPolicyUsers is how many external users a test policy may name.
const MaxTestPolicyUsers = 5

// MaxVerifyEveryDays is the longest verification frequency in days.
const MaxVerifyEveryDays = 30

// PolicySettings is an external user policy as an admin sets it: the org's
// policy, or the test policy that applies to a few named users instead.
// The zero value is everything off: no two-step verification, API tokens
// allowed.
type PolicySettings struct {
	// TwoStep requires external users to verify by an emailed one-time passcode.
	TwoStep bool
	// VerifyEveryDays is how long, in days (1 to 30), a completed
	// verification lasts; 0 is "once" (it never lapses, but a reset of
	// sessions still makes the user verify again).
	VerifyEveryDays int
	// BlockAPITokens blocks external users' API tokens (checked at use time).
	BlockAPITokens bool
}

// Validate checks the settings; the map names each bad field.
func (p PolicySettings) Validate() map[string]string {
	if p.VerifyEveryDays < 0 || p.VerifyEveryDays > MaxVerifyEveryDays {
		return map[string]string{"verifyEveryDays": "from 1 to 30 days, or 0 for once"}
	}
	return nil
}

// VerifyEvery is how long a verification lasts under the settings (0: for ever).
func (p PolicySettings) VerifyEvery() time.Duration {
	return time.Duration(p.VerifyEveryDays) * 24 * time.Hour
}

// VerifyDue is when a verification completed at verifiedAt lapses under the
// settings; zero when it does not (two-step off, or "once").
func (p PolicySettings) VerifyDue(verifiedAt time.Time) time.Time {
	if !p.TwoStep || p.VerifyEveryDays == 0 || verifiedAt.IsZero() {
		return time.Time{}
	}
	return verifiedAt.Add(p.VerifyEvery())
}

// TestPolicy is a policy tried on at most MaxTestPolicyUsers named external
// users first: it applies to them instead of the org's policy.
type TestPolicy struct {
	Settings PolicySettings
	// Users are the account ids it applies to.
	Users []string
}

// IsExternal reports whether an address (normalised) is outside the org's
// verified domains.
func (o Org) IsExternal(email string) bool { return IsExternal(email, o.VerifiedDomains) }

// PolicyFor returns the settings that apply to an account: the test
// policy's when it names the account, else the org's.
func (o Org) PolicyFor(accountID string) PolicySettings {
	if o.TestPolicy != nil && slices.Contains(o.TestPolicy.Users, accountID) {
		return o.TestPolicy.Settings
	}
	return o.Policy
}

// DecisionPolicy is the policy an access decision applies to a user: the
// settings that apply to them and the later of the org's and the user's
// own reset of sessions.
func (o Org) DecisionPolicy(u User) ExternalPolicy {
	p := o.PolicyFor(u.AccountID)
	reset := o.SessionsResetAt
	if u.SessionsResetAt.After(reset) {
		reset = u.SessionsResetAt
	}
	return ExternalPolicy{TwoStep: p.TwoStep, VerifyEvery: p.VerifyEvery(), SessionsResetAt: reset, BlockAPITokens: p.BlockAPITokens}
}

// VerifyState is where an external user stands with re-verification (the
// scheduled job's marks, shown in the external users' list and export).
type VerifyState string

// Verification states. The access decision does not read them: it computes
// from the policy and VerifiedAt (Decide), so a mark cannot be stale there.
const (
	// VerifyNone: never verified.
	VerifyNone VerifyState = ""
	// VerifyVerified: the last thing that happened was a completed
	// verification (it may since have lapsed: the job marks it when it meets it).
	VerifyVerified VerifyState = "verified"
	// VerifyNotifying: a run of the re-verification job has claimed the user
	// and is emailing them (its lease is the due entry, moved forward).
	VerifyNotifying VerifyState = "notifying"
	// VerifyRequired: the job found the verification lapsed, marked it and
	// emailed the user; cleared by the next completed verification.
	VerifyRequired VerifyState = "required"
)

// Verification describes an external user's verification under a policy,
// as the lists, the export and the preview show it.
type Verification struct {
	// State is "not_required" (two-step off), "verified" (in force),
	// "required" (missing or lapsed: the next access is denied).
	State string
	// DueAt is when a verification in force lapses (zero: never).
	DueAt time.Time
}

// Verification states as shown.
const (
	VerificationNotRequired = "not_required"
	VerificationVerified    = "verified"
	VerificationRequired    = "required"
)

// VerificationOf reports a user's verification under the org's policy now:
// the same rule as the access decision.
func (o Org) VerificationOf(u User, now time.Time) Verification {
	p := o.DecisionPolicy(u)
	if !p.TwoStep {
		return Verification{State: VerificationNotRequired}
	}
	in := DecisionInput{Policy: p, VerifiedAt: u.VerifiedAt, Now: now}
	if verificationLapsed(in) {
		return Verification{State: VerificationRequired}
	}
	return Verification{State: VerificationVerified, DueAt: o.PolicyFor(u.AccountID).VerifyDue(u.VerifiedAt)}
}
