package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
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
	first, code, err := NextSend(nil, "o", "a@x.example", "a", now)
	if err != nil || !first.Matches(code) || first.Sends != 1 || !first.ExpiresAt.Equal(now.Add(OTPLifetime)) {
		t.Fatalf("%+v %v", first, err)
	}
	if _, _, err := NextSend(&first, "o", "a@x.example", "a", now.Add(59*time.Second)); ErrorCode(err) != ETOOMANY || err.(*Error).RetryAfter != time.Second {
		t.Fatalf("gap: %v", err)
	}
	prev := first
	for i := 2; i <= OTPSendsPerHour; i++ {
		next, _, err := NextSend(&prev, "o", "a@x.example", "a", prev.SentAt.Add(OTPResendGap))
		if err != nil || next.Sends != i || !next.WindowStart.Equal(now) {
			t.Fatalf("send %d: %+v %v", i, next, err)
		}
		prev = next
	}
	if _, _, err := NextSend(&prev, "o", "a@x.example", "a", prev.SentAt.Add(OTPResendGap)); ErrorCode(err) != ETOOMANY {
		t.Fatalf("sixth in the hour: %v", err)
	}
	if next, _, err := NextSend(&prev, "o", "a@x.example", "a", now.Add(OTPSendWindow)); err != nil || next.Sends != 1 {
		t.Fatalf("new window: %+v %v", next, err)
	}
	dead := OTP{ExpiresAt: now.Add(time.Minute), Attempts: OTPMaxAttempts}
	if !dead.Dead(now) || !(OTP{ExpiresAt: now}).Dead(now) || (OTP{ExpiresAt: now.Add(time.Second)}).Dead(now) {
		t.Fatal("Dead")
	}
}
