package domain_test

import (
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestDomainClaimChecked: the states of a domain claim under checks that
// see or miss its challenge, with the grace period of a verified domain.
func TestDomainClaimChecked(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := domain.DomainChecks{Grace: 72 * time.Hour}
	c := domain.NewDomainClaim("o", "a.example", "admin", t0, p)
	if c.Status != domain.DomainPending || c.Counts() || !c.NextCheck.Equal(t0.Add(time.Hour)) || len(c.Token) != 32 {
		t.Fatalf("new claim %+v", c)
	}
	if other := domain.NewDomainClaim("o", "a.example", "admin", t0, p); other.Token == c.Token {
		t.Fatal("two claims share a challenge")
	}
	step := func(c domain.DomainClaim, seen bool, at time.Time, want domain.DomainStatus, action string) domain.DomainClaim {
		t.Helper()
		n, a := c.Checked(seen, at, p)
		if n.Status != want || a != action || !n.CheckedAt.Equal(at) || !n.NextCheck.After(at) {
			t.Fatalf("%s seen=%v at %v: %+v %q, want %s %q", c.Status, seen, at, n, a, want, action)
		}
		return n
	}
	c = step(c, false, t0.Add(time.Hour), domain.DomainPending, "")
	if late, _ := c.Checked(false, t0.Add(8*24*time.Hour), p); !late.NextCheck.Equal(t0.Add(9 * 24 * time.Hour)) {
		t.Errorf("a claim pending for a week is looked at daily: next %v", late.NextCheck)
	}
	c = step(c, true, t0.Add(2*time.Hour), domain.DomainVerified, domain.ActionDomainVerify)
	c = step(c, true, t0.Add(26*time.Hour), domain.DomainVerified, "")
	lapse := t0.Add(50 * time.Hour)
	c = step(c, false, lapse, domain.DomainLapsing, domain.ActionDomainLapse)
	if !c.Counts() || !c.LapsingSince.Equal(lapse) {
		t.Fatalf("lapsing %+v", c)
	}
	c = step(c, true, lapse.Add(time.Hour), domain.DomainVerified, domain.ActionDomainRestore)
	c = step(c, false, lapse.Add(2*time.Hour), domain.DomainLapsing, domain.ActionDomainLapse)
	c = step(c, false, lapse.Add(2*time.Hour+71*time.Hour), domain.DomainLapsing, "")
	if !c.NextCheck.Equal(lapse.Add(2*time.Hour + 72*time.Hour)) {
		t.Fatalf("the check after the last within the grace period is at its end: %v", c.NextCheck)
	}
	c = step(c, false, lapse.Add(2*time.Hour+72*time.Hour), domain.DomainUnverified, domain.ActionDomainUnverify)
	if c.Counts() || !c.VerifiedAt.IsZero() {
		t.Fatalf("unverified %+v", c)
	}
	step(c, true, lapse.Add(80*time.Hour), domain.DomainVerified, domain.ActionDomainVerify)

	if !c.HasChallenge([]string{"v=spf1 -all", " " + c.ChallengeValue() + " "}) || c.HasChallenge([]string{c.Token, "guestaccess-verification=x"}) {
		t.Error("HasChallenge")
	}
}
