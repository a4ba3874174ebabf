package extpolicy

import (
	"reflect"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

func TestPolicyEffects(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	off := domain.PolicySettings{}
	on := func(days int) domain.PolicySettings {
		return domain.PolicySettings{TwoStep: true, VerifyEveryDays: days}
	}
	once := domain.PolicySettings{TwoStep: true}
	blocked := domain.PolicySettings{BlockAPITokens: true}
	never := domain.User{AccountID: "a"}
	fresh := domain.User{AccountID: "a", VerifiedAt: now.Add(-2 * day)}
	old := domain.User{AccountID: "a", VerifiedAt: now.Add(-20 * day)}
	reset := domain.User{AccountID: "a", VerifiedAt: now.Add(-2 * day), SessionsResetAt: now.Add(-day)}
	must := func(by time.Time) PolicyEffect { return PolicyEffect{Kind: EffectMustVerify, By: by} }
	longer := func(due time.Time) PolicyEffect { return PolicyEffect{Kind: EffectVerificationLastsLonger, Due: due} }
	noLonger := PolicyEffect{Kind: EffectVerificationNoLongerRequired}
	tests := []struct {
		name      string
		old, next domain.PolicySettings
		u         domain.User
		orgReset  time.Time
		want      []PolicyEffect
	}{
		{"same policy", on(10), on(10), fresh, time.Time{}, nil},
		{"on, never verified", off, on(10), never, time.Time{}, []PolicyEffect{must(now)}},
		{"on, verified within the frequency", off, on(10), fresh, time.Time{}, []PolicyEffect{must(fresh.VerifiedAt.Add(10 * day))}},
		{"on, verified before the frequency", off, on(10), old, time.Time{}, []PolicyEffect{must(now)}},
		{"on once, verified: lasts for ever", off, once, fresh, time.Time{}, nil},
		{"on once, never verified", off, once, never, time.Time{}, []PolicyEffect{must(now)}},
		{"on once, verified before the org's reset", off, once, fresh, now.Add(-day), []PolicyEffect{must(now)}},
		{"on, verified before the user's reset", off, on(30), reset, time.Time{}, []PolicyEffect{must(now)}},
		{"shorter frequency, still in force", on(30), on(10), fresh, time.Time{}, []PolicyEffect{must(fresh.VerifiedAt.Add(10 * day))}},
		{"shorter frequency, lapses at once", on(30), on(10), old, time.Time{}, []PolicyEffect{must(now)}},
		{"shorter frequency, already required", on(10), on(5), old, time.Time{}, nil},
		{"longer frequency", on(10), on(30), fresh, time.Time{}, []PolicyEffect{longer(fresh.VerifiedAt.Add(30 * day))}},
		{"longer frequency, in force again", on(10), on(30), old, time.Time{}, []PolicyEffect{longer(old.VerifiedAt.Add(30 * day))}},
		{"longer frequency, still lapsed", on(5), on(10), old, time.Time{}, nil},
		{"longer frequency, never verified", on(5), on(10), never, time.Time{}, nil},
		{"to once", on(10), once, fresh, time.Time{}, []PolicyEffect{longer(time.Time{})}},
		{"from once", once, on(10), old, time.Time{}, []PolicyEffect{must(now)}},
		{"off, was required", on(10), off, never, time.Time{}, []PolicyEffect{noLonger}},
		{"off, was in force", on(10), off, fresh, time.Time{}, []PolicyEffect{noLonger}},
		{"off from once, verified: nothing changes", once, off, fresh, time.Time{}, nil},
		{"off, frequency changed too", on(10), domain.PolicySettings{VerifyEveryDays: 3}, fresh, time.Time{}, []PolicyEffect{noLonger}},
		{"frequency changed while off", off, domain.PolicySettings{VerifyEveryDays: 3}, never, time.Time{}, nil},
		{"tokens blocked", off, blocked, never, time.Time{}, []PolicyEffect{{Kind: EffectAPITokensBlocked}}},
		{"tokens allowed", blocked, off, never, time.Time{}, []PolicyEffect{{Kind: EffectAPITokensAllowed}}},
		{"both", off, domain.PolicySettings{TwoStep: true, VerifyEveryDays: 1, BlockAPITokens: true}, never, time.Time{},
			[]PolicyEffect{must(now), {Kind: EffectAPITokensBlocked}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PolicyEffects(tc.old, tc.next, tc.u, tc.orgReset, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestPolicyEffectsAgreeWithDecide: a user the preview says must verify by
// now is denied by the decision under the new policy; one whose
// verification lasts longer is allowed.
func TestPolicyEffectsAgreeWithDecide(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	policies := []domain.PolicySettings{{}, {TwoStep: true}, {TwoStep: true, VerifyEveryDays: 1}, {TwoStep: true, VerifyEveryDays: 10}, {TwoStep: true, VerifyEveryDays: 30}}
	users := []domain.User{{}, {VerifiedAt: now.Add(-time.Hour)}, {VerifiedAt: now.Add(-5 * 24 * time.Hour)}, {VerifiedAt: now.Add(-15 * 24 * time.Hour)},
		{VerifiedAt: now.Add(-time.Hour), SessionsResetAt: now.Add(-time.Minute)}}
	decide := func(p domain.PolicySettings, u domain.User, at time.Time) bool {
		o := domain.Org{Policy: p}
		u.External, u.Status = true, domain.UserActive
		return domain.Decide(domain.DecisionInput{User: u, Access: domain.Access{Effective: domain.RoleUser}, Client: domain.ClientWeb, Policy: o.DecisionPolicy(u), VerifiedAt: u.VerifiedAt, Now: at}).Allow
	}
	for _, a := range policies {
		for _, b := range policies {
			for _, u := range users {
				for _, e := range PolicyEffects(a, b, u, time.Time{}, now) {
					switch e.Kind {
					case EffectMustVerify:
						if decide(b, u, e.By) || (e.By.After(now) && !decide(b, u, e.By.Add(-time.Second))) {
							t.Errorf("%+v -> %+v, %+v: must verify by %v disagrees with domain.Decide", a, b, u, e.By)
						}
						if !e.By.After(now) && !decide(a, u, now) {
							t.Errorf("%+v -> %+v, %+v: already denied before, yet listed", a, b, u)
						}
					case EffectVerificationLastsLonger:
						if !decide(b, u, now) || (!e.Due.IsZero() && decide(b, u, e.Due)) {
							t.Errorf("%+v -> %+v, %+v: lasts until %v disagrees with domain.Decide", a, b, u, e.Due)
						}
					case EffectVerificationNoLongerRequired:
						if !decide(b, u, now.Add(365*24*time.Hour)) {
							t.Errorf("%+v -> %+v, %+v: no longer required, yet denied", a, b, u)
						}
					}
				}
			}
		}
	}
}

func TestVerificationChanged(t *testing.T) {
	on := domain.PolicySettings{TwoStep: true, VerifyEveryDays: 10}
	base := domain.Org{Policy: on}
	tp := &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 10, BlockAPITokens: true}, Users: []string{"a"}}
	tp2 := &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 3}, Users: []string{"a"}}
	cases := []struct {
		name          string
		before, after domain.Org
		want          bool
	}{
		{"tokens only", base, domain.Org{Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 10, BlockAPITokens: true}}, false},
		{"frequency", base, domain.Org{Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 3}}, true},
		{"frequency while off", domain.Org{}, domain.Org{Policy: domain.PolicySettings{VerifyEveryDays: 3}}, false},
		{"test policy verifying alike", base, base.WithTestPolicy(tp), false},
		{"test policy verifying otherwise", base, base.WithTestPolicy(tp2), true},
		{"test policy cleared", base.WithTestPolicy(tp2), base, true},
	}
	for _, c := range cases {
		if got := VerificationChanged(c.before, c.after); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
	if !SameTestPolicy(&domain.TestPolicy{Users: []string{"a", "b"}}, &domain.TestPolicy{Users: []string{"b", "a"}}) || SameTestPolicy(nil, tp) || !SameTestPolicy(nil, &domain.TestPolicy{}) {
		t.Error("SameTestPolicy")
	}
}
