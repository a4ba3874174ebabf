package extpolicy

import (
	"slices"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// What a proposed change of the external user policy does to each external
// user (the preview, rules §9), and whether a change moves anyone's verification
// (the re-verification job's rescan): rules only this capability uses.

// EffectKind names how a policy change affects one external user.
type EffectKind string

// Effects of a policy change on an external user.
const (
	// EffectMustVerify: the user's next access is denied (verification
	// required) from By on, earlier than under the current policy.
	EffectMustVerify EffectKind = "must_verify"
	// EffectVerificationNoLongerRequired: two-step verification stops
	// applying to a user whose access it would deny now or later.
	EffectVerificationNoLongerRequired EffectKind = "verification_no_longer_required"
	// EffectVerificationLastsLonger: the user's verification is in force
	// longer than under the current policy: until Due (zero: for ever).
	EffectVerificationLastsLonger EffectKind = "verification_lasts_longer"
	// EffectAPITokensBlocked: the user's API tokens stop working.
	EffectAPITokensBlocked EffectKind = "api_tokens_blocked"
	// EffectAPITokensAllowed: the user's API tokens work again.
	EffectAPITokensAllowed EffectKind = "api_tokens_allowed"
)

// PolicyEffect is one effect of a policy change on one external user.
type PolicyEffect struct {
	Kind EffectKind
	// By, for EffectMustVerify, is the time from which the user's next
	// access is denied until they verify (now when it already would be).
	By time.Time
	// Due, for EffectVerificationLastsLonger, is when the verification in
	// force lapses under the new policy (zero: never).
	Due time.Time
}

// lapse is the time from which a user's access is denied for want of a
// verification under settings p: never (ok false) when the settings do not
// require one or the verification lasts for ever; at most now.
func lapse(p domain.PolicySettings, verifiedAt, resetAt, now time.Time) (at time.Time, ok bool) {
	switch {
	case !p.TwoStep:
		return time.Time{}, false
	case verifiedAt.IsZero() || (!resetAt.IsZero() && verifiedAt.Before(resetAt)):
		return now, true
	case p.VerifyEveryDays == 0:
		return time.Time{}, false
	}
	due := verifiedAt.Add(p.VerifyEvery())
	if due.Before(now) {
		return now, true
	}
	return due, true
}

// PolicyEffects answers how replacing the settings old by next affects an
// external user u (the preview of a change, rules §9), with orgResetAt the org's
// last reset of sessions: the same rule as the access decision (Decide),
// compared before and after. A user is affected when the time from which
// their next access is denied for want of a verification moves, or when
// their API tokens stop or start working; nil when nothing changes for
// them. A user whose verification lasts for ever under both ("once") is
// not affected by two-step verification going on or off.
func PolicyEffects(old, next domain.PolicySettings, u domain.User, orgResetAt, now time.Time) []PolicyEffect {
	reset := orgResetAt
	if u.SessionsResetAt.After(reset) {
		reset = u.SessionsResetAt
	}
	var out []PolicyEffect
	l0, ok0 := lapse(old, u.VerifiedAt, reset, now)
	l1, ok1 := lapse(next, u.VerifiedAt, reset, now)
	switch {
	case ok1 && (!ok0 || l1.Before(l0)):
		out = append(out, PolicyEffect{Kind: EffectMustVerify, By: l1})
	case ok0 && !ok1 && !next.TwoStep:
		out = append(out, PolicyEffect{Kind: EffectVerificationNoLongerRequired})
	case ok0 && (!ok1 || l0.Before(l1)):
		e := PolicyEffect{Kind: EffectVerificationLastsLonger}
		if ok1 {
			e.Due = l1
		}
		out = append(out, e)
	}
	switch {
	case !old.BlockAPITokens && next.BlockAPITokens:
		out = append(out, PolicyEffect{Kind: EffectAPITokensBlocked})
	case old.BlockAPITokens && !next.BlockAPITokens:
		out = append(out, PolicyEffect{Kind: EffectAPITokensAllowed})
	}
	return out
}

// SameVerification reports whether two settings verify alike (two-step and
// frequency): a change between them needs no rescan of due entries.
func SameVerification(a, b domain.PolicySettings) bool {
	if !a.TwoStep && !b.TwoStep {
		return true
	}
	return a.TwoStep == b.TwoStep && a.VerifyEveryDays == b.VerifyEveryDays
}

// SameTestPolicy reports whether two test policies are the same: the same
// settings for the same set of users (nil and one naming nobody alike).
func SameTestPolicy(a, b *domain.TestPolicy) bool {
	if a == nil || len(a.Users) == 0 {
		return b == nil || len(b.Users) == 0
	}
	if b == nil || len(b.Users) == 0 || a.Settings != b.Settings {
		return false
	}
	x, y := slices.Clone(a.Users), slices.Clone(b.Users)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// VerificationChanged reports whether replacing the org before by after
// changes the verification settings applying to any external user: the
// org's policy, or the settings of a user named by either test policy.
// Such a change writes the org's rescan request (the due entries were
// computed under the old settings).
func VerificationChanged(before, after domain.Org) bool {
	if !SameVerification(before.Policy, after.Policy) {
		return true
	}
	var ids []string
	for _, tp := range []*domain.TestPolicy{before.TestPolicy, after.TestPolicy} {
		if tp != nil {
			ids = append(ids, tp.Users...)
		}
	}
	for _, id := range ids {
		if !SameVerification(before.PolicyFor(id), after.PolicyFor(id)) {
			return true
		}
	}
	return false
}
