package passcode

import (
	"reflect"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

func TestOTPRules(t *testing.T) {
	for _, c := range []string{"000000", "999999"} {
		if !ValidCode(c) {
			t.Fatal(c)
		}
	}
	for _, c := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦"} {
		if ValidCode(c) {
			t.Fatal(c)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		c := domain.NewOTPCode()
		if !ValidCode(c) {
			t.Fatal(c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("codes repeat: %d distinct of 200", len(seen))
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, err := NextSend(nil, "o", "a@x.example", "a", now)
	if err != nil || first.Keep || !first.Next.Matches(first.Code) || first.Next.Sends != 1 || !first.Next.ExpiresAt.Equal(now.Add(domain.OTPLifetime)) {
		t.Fatalf("%+v %v", first, err)
	}
	if _, err := NextSend(&first.Next, "o", "a@x.example", "a", now.Add(59*time.Second)); domain.ErrorCode(err) != domain.ETOOMANY || err.(*domain.Error).RetryAfter != time.Second {
		t.Fatalf("gap: %v", err)
	}
	prev := first.Next
	for i := 2; i <= domain.OTPSendsPerHour; i++ {
		p, err := NextSend(&prev, "o", "a@x.example", "a", prev.SentAt.Add(domain.OTPResendGap))
		if err != nil || p.Keep || p.Next.Sends != i || !p.Next.WindowStart.Equal(now) {
			t.Fatalf("send %d: %+v %v", i, p, err)
		}
		prev = p.Next
	}
	if p, err := NextSend(&prev, "o", "a@x.example", "a", now.Add(domain.OTPSendWindow)); err != nil || p.Keep || p.Next.Sends != 1 {
		t.Fatalf("new window: %+v %v", p, err)
	}
}

// TestOTPBeyondTheHourlyBudget: once an address's hourly budget is spent
// (by anyone), a send never refuses for the rest of the hour: while the last
// code is live it is kept (nothing new, nothing refused), and once it is
// dead a new code follows at most domain.OTPLifetime after the last send. So a
// stranger who spends a victim's budget cannot leave the victim without a
// working code for more than domain.OTPLifetime, and the codes an address is sent
// stay bounded. (Before issue 16 the sixth send of the hour was refused for
// the rest of the hour.)
func TestOTPBeyondTheHourlyBudget(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	spent := domain.OTP{OrgID: "o", Email: "a@x.example", AccountID: "a", Salt: []byte("s"), Hash: []byte("h"),
		SentAt: now.Add(-2 * time.Minute), ExpiresAt: now.Add(8 * time.Minute), WindowStart: now.Add(-20 * time.Minute), Sends: domain.OTPSendsPerHour}
	p, err := NextSend(&spent, "o", "a@x.example", "a", now)
	if err != nil || !p.Keep || p.Code != "" || !reflect.DeepEqual(p.Next, spent) {
		t.Fatalf("live code, budget spent: %+v %v; want the live code kept", p, err)
	}
	killed := spent
	killed.Attempts = domain.OTPMaxAttempts
	p, err = NextSend(&killed, "o", "a@x.example", "a", now)
	if domain.ErrorCode(err) != domain.ETOOMANY || err.(*domain.Error).RetryAfter != 8*time.Minute {
		t.Fatalf("dead code sent 2 minutes ago, budget spent: %+v %v; want 429 for the 8 minutes left of its lifetime", p, err)
	}
	p, err = NextSend(&killed, "o", "a@x.example", "a", now.Add(8*time.Minute))
	if err != nil || p.Keep || p.Next.Sends != domain.OTPSendsPerHour+1 || !p.Next.Matches(p.Code) || !p.Next.WindowStart.Equal(spent.WindowStart) {
		t.Fatalf("dead code sent %v ago: %+v %v; want a new code in the same window", domain.OTPLifetime, p, err)
	}
	expired := spent
	expired.SentAt, expired.ExpiresAt = now.Add(-domain.OTPLifetime), now
	if p, err := NextSend(&expired, "o", "a@x.example", "a", now); err != nil || p.Keep || p.Next.Sends != domain.OTPSendsPerHour+1 {
		t.Fatalf("expired code: %+v %v; want a new code", p, err)
	}
	// An hour of sends, one every domain.OTPResendGap: at most domain.OTPSendsPerHour + 6
	// codes, and a live code at every moment after the first send.
	var st *domain.OTP
	codes := 0
	for m := range 60 {
		at := now.Add(time.Duration(m) * domain.OTPResendGap)
		p, err := NextSend(st, "o", "a@x.example", "a", at)
		if err == nil && !p.Keep {
			codes++
			n := p.Next
			st = &n
		}
		if st == nil || !st.Live(at) && err == nil {
			t.Fatalf("minute %d: no live code (%v)", m, err)
		}
		if err != nil && err.(*domain.Error).RetryAfter > domain.OTPLifetime {
			t.Fatalf("minute %d: refused for %v", m, err.(*domain.Error).RetryAfter)
		}
	}
	if codes > domain.OTPSendsPerHour+6 {
		t.Fatalf("%d codes in an hour", codes)
	}
	dead := domain.OTP{ExpiresAt: now.Add(time.Minute), Attempts: domain.OTPMaxAttempts}
	if !dead.Dead(now) || !(domain.OTP{ExpiresAt: now}).Dead(now) || (domain.OTP{ExpiresAt: now.Add(time.Second)}).Dead(now) {
		t.Fatal("Dead")
	}
}
