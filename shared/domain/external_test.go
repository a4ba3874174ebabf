package domain

import (
	"testing"
	"time"
)

func TestPolicyForAndDecisionPolicy(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o := Org{VerifiedDomains: []string{"14west.example"}, Policy: PolicySettings{TwoStep: true, VerifyEveryDays: 7},
		TestPolicy:      &TestPolicy{Settings: PolicySettings{TwoStep: true, VerifyEveryDays: 1, BlockAPITokens: true}, Users: []string{"tess"}},
		SessionsResetAt: now.Add(-48 * time.Hour)}
	if !o.IsExternal("gus@partner.example") || o.IsExternal("ann@14west.example") {
		t.Fatal("IsExternal")
	}
	if p := o.PolicyFor("gus"); p != o.Policy {
		t.Errorf("org policy: %+v", p)
	}
	if p := o.PolicyFor("tess"); p != o.TestPolicy.Settings {
		t.Errorf("test policy: %+v", p)
	}
	// The later reset wins: the user's own, then the org's.
	u := User{AccountID: "gus", SessionsResetAt: now.Add(-time.Hour)}
	if p := o.DecisionPolicy(u); !p.SessionsResetAt.Equal(u.SessionsResetAt) || p.VerifyEvery != 7*24*time.Hour || !p.TwoStep {
		t.Errorf("user reset: %+v", p)
	}
	u.SessionsResetAt = now.Add(-72 * time.Hour)
	if p := o.DecisionPolicy(u); !p.SessionsResetAt.Equal(o.SessionsResetAt) {
		t.Errorf("org reset: %+v", p)
	}
}

func TestVerificationOf(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o := Org{Policy: PolicySettings{TwoStep: true, VerifyEveryDays: 7}}
	for _, c := range []struct {
		name     string
		org      Org
		verified time.Time
		state    string
		due      time.Time
	}{
		{"off", Org{}, time.Time{}, VerificationNotRequired, time.Time{}},
		{"never", o, time.Time{}, VerificationRequired, time.Time{}},
		{"in force", o, now.Add(-24 * time.Hour), VerificationVerified, now.Add(6 * 24 * time.Hour)},
		{"lapsed at the due time", o, now.Add(-7 * 24 * time.Hour), VerificationRequired, time.Time{}},
		{"once", Org{Policy: PolicySettings{TwoStep: true}}, now.Add(-400 * 24 * time.Hour), VerificationVerified, time.Time{}},
		{"reset after", Org{Policy: PolicySettings{TwoStep: true}, SessionsResetAt: now.Add(-time.Minute)}, now.Add(-time.Hour), VerificationRequired, time.Time{}},
	} {
		v := c.org.VerificationOf(User{VerifiedAt: c.verified}, now)
		if v.State != c.state || !v.DueAt.Equal(c.due) {
			t.Errorf("%s: %+v, want %s due %v", c.name, v, c.state, c.due)
		}
	}
}

func TestPolicySettingsValidate(t *testing.T) {
	for d, ok := range map[int]bool{-1: false, 0: true, 1: true, 30: true, 31: false} {
		if got := (PolicySettings{TwoStep: true, VerifyEveryDays: d}).Validate() == nil; got != ok {
			t.Errorf("%d days: valid %v", d, got)
		}
	}
	if !(PolicySettings{TwoStep: true}).VerifyDue(time.Now()).IsZero() || !(PolicySettings{VerifyEveryDays: 3}).VerifyDue(time.Now()).IsZero() {
		t.Error("once or off has no due time")
	}
}
