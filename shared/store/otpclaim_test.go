package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
)

// The email sender's claim of a passcode (issue 17: one email path): a
// message delivered again sends nothing more, a stranger's request for an
// address nobody is emailed sends nothing, no plain code is stored.

// TestPasscodeClaimOnce: the send's message delivered 5 more times, 4 of
// them at once, sends one email; its code and link verify. Guard: the
// claim's "not mailed" condition (attribute_not_exists(mailedMs) OR
// mailedMs = 0).
func TestPasscodeClaimOnce(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		addr := "g0@partner.example"
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		m := f.q.handedOff()[0]
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := f.q.deliver(ctx, m); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if out, err := f.q.deliver(ctx, m); err != nil || out != emails.Dropped {
			t.Fatalf("delivered again: %v %v", out, err)
		}
		if n := len(f.mail.sent(addr)); n != 1 {
			t.Fatalf("%d emails for one send delivered 6 times, want 1", n)
		}
		if _, err := f.svc.VerifyLink(ctx, otpOrg, addr, f.mail.link(addr), "r"); err != nil {
			t.Fatalf("the emailed link: %v", err)
		}
	})
}

// TestPasscodeClaimNobody: the state of an unknown, internal or suspended
// address is never claimed, whatever its message: no email, no send slot;
// and a message of an earlier send, or of a lapsed code, claims nothing.
// Guard: the claim's "an account's" condition (attribute_exists(accountId)
// AND accountId <> "").
func TestPasscodeClaimNobody(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		for _, a := range []string{"nobody@partner.example", "staff@otp.example"} {
			if _, err := f.svc.Send(ctx, otpOrg, a); err != nil {
				t.Fatal(err)
			}
			o := *f.otp(t, a)
			domain.MintOTP(&o)
			if _, err := f.st.ClaimPasscodeEmail(ctx, o, f.clock.Now()); code(err) != domain.ECONFLICT {
				t.Fatalf("%s: claim %v, want ECONFLICT", a, err)
			}
		}
		if f.mail.total() != 0 {
			t.Fatalf("%d emails to addresses nobody is emailed", f.mail.total())
		}
		// An earlier send's message, after a newer send: nothing.
		addr := "g0@partner.example"
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		first := f.q.handedOff()[2]
		f.clock.add(domain.OTPResendGap)
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		cur := *f.otp(t, addr)
		if err := f.st.ReleasePasscodeEmail(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if out, _ := f.q.deliver(ctx, first); out != emails.Dropped || len(f.mail.sent(addr)) != 2 {
			t.Fatalf("an earlier send's message: %v, %d emails", out, len(f.mail.sent(addr)))
		}
		// A released claim is claimed again (the retry); a lapsed code is not.
		latest := f.q.handedOff()[3]
		if out, err := f.q.deliver(ctx, latest); out != emails.Sent || err != nil || len(f.mail.sent(addr)) != 3 {
			t.Fatalf("the released send's message: %v %v", out, err)
		}
		if err := f.st.ReleasePasscodeEmail(ctx, *f.otp(t, addr)); err != nil {
			t.Fatal(err)
		}
		f.clock.add(domain.OTPLifetime)
		if out, _ := f.q.deliver(ctx, latest); out != emails.Dropped || len(f.mail.sent(addr)) != 3 {
			t.Fatalf("a lapsed code's message: %v", out)
		}
	})
}

// TestPasscodeNoPlainCodeStored: the state holds only the hashes minted by
// the claim (the request's code, which nobody had, is replaced): the
// emailed code and link match them, with no wrong answers counted.
func TestPasscodeNoPlainCodeStored(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		addr := "g0@partner.example"
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		o := *f.otp(t, addr)
		c := f.mail.sent(addr)[0]
		if !o.Matches(c) || !o.MatchesLink(f.mail.link(addr)) || o.Attempts != 0 || o.AccountID != "g0" {
			t.Fatalf("stored %+v does not hold the emailed code's hashes", o)
		}
		if !o.ExpiresAt.Equal(o.SentAt.Add(domain.OTPLifetime)) || !o.SentAt.Equal(f.clock.Now()) {
			t.Fatalf("times %+v", o)
		}
	})
}
