package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestOTPMatchesInConstantTime: the code is compared through
// crypto/subtle.ConstantTimeCompare on the hashes, and nothing else in the
// file compares a hash (no bytes.Equal, no string ==).
func TestOTPMatchesInConstantTime(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "otp.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				uses = append(uses, x.Name+"."+sel.Sel.Name)
			}
		}
		return true
	})
	got := strings.Join(uses, " ")
	if !strings.Contains(got, "subtle.ConstantTimeCompare") || strings.Contains(got, "bytes.Equal") {
		t.Fatalf("Matches must use subtle.ConstantTimeCompare: %s", got)
	}
	o := OTP{Salt: []byte("salt")}
	o.Hash = HashOTP(o.Salt, "123456")
	if !o.Matches("123456") || o.Matches("123457") || o.Matches("") || (OTP{}).Matches("123456") {
		t.Fatal("Matches")
	}
}

func TestOTPRules(t *testing.T) {
	for _, c := range []string{"000000", "999999"} {
		if !ValidOTPCode(c) {
			t.Fatal(c)
		}
	}
	for _, c := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦"} {
		if ValidOTPCode(c) {
			t.Fatal(c)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		c := NewOTPCode()
		if !ValidOTPCode(c) {
			t.Fatal(c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("codes repeat: %d distinct of 200", len(seen))
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, err := NextSend(nil, "o", "a@x.example", "a", now)
	if err != nil || first.Keep || !first.Next.Matches(first.Code) || first.Next.Sends != 1 || !first.Next.ExpiresAt.Equal(now.Add(OTPLifetime)) {
		t.Fatalf("%+v %v", first, err)
	}
	if _, err := NextSend(&first.Next, "o", "a@x.example", "a", now.Add(59*time.Second)); ErrorCode(err) != ETOOMANY || err.(*Error).RetryAfter != time.Second {
		t.Fatalf("gap: %v", err)
	}
	prev := first.Next
	for i := 2; i <= OTPSendsPerHour; i++ {
		p, err := NextSend(&prev, "o", "a@x.example", "a", prev.SentAt.Add(OTPResendGap))
		if err != nil || p.Keep || p.Next.Sends != i || !p.Next.WindowStart.Equal(now) {
			t.Fatalf("send %d: %+v %v", i, p, err)
		}
		prev = p.Next
	}
	if p, err := NextSend(&prev, "o", "a@x.example", "a", now.Add(OTPSendWindow)); err != nil || p.Keep || p.Next.Sends != 1 {
		t.Fatalf("new window: %+v %v", p, err)
	}
}

// TestOTPBeyondTheHourlyBudget: once an address's hourly budget is spent
// (by anyone), a send never refuses for the rest of the hour: while the last
// code is live it is kept (nothing new, nothing refused), and once it is
// dead a new code follows at most OTPLifetime after the last send. So a
// stranger who spends a victim's budget cannot leave the victim without a
// working code for more than OTPLifetime, and the codes an address is sent
// stay bounded. (Before issue 16 the sixth send of the hour was refused for
// the rest of the hour.)
func TestOTPBeyondTheHourlyBudget(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	spent := OTP{OrgID: "o", Email: "a@x.example", AccountID: "a", Salt: []byte("s"), Hash: []byte("h"),
		SentAt: now.Add(-2 * time.Minute), ExpiresAt: now.Add(8 * time.Minute), WindowStart: now.Add(-20 * time.Minute), Sends: OTPSendsPerHour}
	p, err := NextSend(&spent, "o", "a@x.example", "a", now)
	if err != nil || !p.Keep || p.Code != "" || !reflect.DeepEqual(p.Next, spent) {
		t.Fatalf("live code, budget spent: %+v %v; want the live code kept", p, err)
	}
	killed := spent
	killed.Attempts = OTPMaxAttempts
	p, err = NextSend(&killed, "o", "a@x.example", "a", now)
	if ErrorCode(err) != ETOOMANY || err.(*Error).RetryAfter != 8*time.Minute {
		t.Fatalf("dead code sent 2 minutes ago, budget spent: %+v %v; want 429 for the 8 minutes left of its lifetime", p, err)
	}
	p, err = NextSend(&killed, "o", "a@x.example", "a", now.Add(8*time.Minute))
	if err != nil || p.Keep || p.Next.Sends != OTPSendsPerHour+1 || !p.Next.Matches(p.Code) || !p.Next.WindowStart.Equal(spent.WindowStart) {
		t.Fatalf("dead code sent %v ago: %+v %v; want a new code in the same window", OTPLifetime, p, err)
	}
	expired := spent
	expired.SentAt, expired.ExpiresAt = now.Add(-OTPLifetime), now
	if p, err := NextSend(&expired, "o", "a@x.example", "a", now); err != nil || p.Keep || p.Next.Sends != OTPSendsPerHour+1 {
		t.Fatalf("expired code: %+v %v; want a new code", p, err)
	}
	// An hour of sends, one every OTPResendGap: at most OTPSendsPerHour + 6
	// codes, and a live code at every moment after the first send.
	var st *OTP
	codes := 0
	for m := range 60 {
		at := now.Add(time.Duration(m) * OTPResendGap)
		p, err := NextSend(st, "o", "a@x.example", "a", at)
		if err == nil && !p.Keep {
			codes++
			n := p.Next
			st = &n
		}
		if st == nil || !st.Live(at) && err == nil {
			t.Fatalf("minute %d: no live code (%v)", m, err)
		}
		if err != nil && err.(*Error).RetryAfter > OTPLifetime {
			t.Fatalf("minute %d: refused for %v", m, err.(*Error).RetryAfter)
		}
	}
	if codes > OTPSendsPerHour+6 {
		t.Fatalf("%d codes in an hour", codes)
	}
	dead := OTP{ExpiresAt: now.Add(time.Minute), Attempts: OTPMaxAttempts}
	if !dead.Dead(now) || !(OTP{ExpiresAt: now}).Dead(now) || (OTP{ExpiresAt: now.Add(time.Second)}).Dead(now) {
		t.Fatal("Dead")
	}
}
