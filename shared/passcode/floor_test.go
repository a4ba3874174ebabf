package passcode

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// fakeTime is a monotonic clock that store calls, SES and the floor's
// pause advance: the time a Send takes, counted rather than measured.
type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeTime) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeTime) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSendTakesTheSameTimeForEveryAddress: every address's send hands its
// state to the email queue (12 ms here; no request waits for SES, which
// the email sender calls); with the answer floor every send, emailed or
// not, refused by a limit or not, answers exactly AnswerFloor after it
// started, so the time tells nothing. A send slower than the floor is not
// paused.
func TestSendTakesTheSameTimeForEveryAddress(t *testing.T) {
	const floor = 400 * time.Millisecond
	spent := otp("", now.Add(-2*time.Minute), 0)
	spent.WindowStart, spent.Sends = now.Add(-10*time.Minute), domain.OTPSendsPerHour
	cases := []struct {
		name  string
		scope domain.VerifyScope
		ses   time.Duration // how long the hand-off takes
	}{
		{"external user, emailed", domain.VerifyScope{Org: org(), User: user("g1", guest, domain.UserActive)}, 12 * time.Millisecond},
		{"unknown address", domain.VerifyScope{Org: org()}, 12 * time.Millisecond},
		{"internal user", domain.VerifyScope{Org: org(), User: user("i1", guest, domain.UserActive)}, 12 * time.Millisecond},
		{"sent a moment ago (429)", domain.VerifyScope{Org: org(), OTP: otp("", now.Add(-time.Second), 0)}, 0},
		{"hourly budget spent, code kept", domain.VerifyScope{Org: org(), OTP: spent}, 0},
		{"queue slower than the floor", domain.VerifyScope{Org: org(), User: user("g1", guest, domain.UserActive)}, 2 * floor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeTime{t: time.Unix(1000, 0)}
			if tc.name == "internal user" {
				tc.scope.User.Email = "guest@acme.example"
			}
			addr := guest
			if tc.scope.User != nil {
				addr = tc.scope.User.Email
			}
			st := &fakeStore{
				ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
					clock.add(7 * time.Millisecond)
					return tc.scope, nil
				}),
				SendSaver: saveSend(func(domain.OTPSend, int) error { clock.add(9 * time.Millisecond); return nil }),
			}
			mail := fakeSender{t: t, SendFn: func(queue.Message) error { clock.add(tc.ses); return nil }}
			var paused []time.Duration
			s := service(st, mail)
			s.AnswerFloor, s.Clock = floor, clock.Now
			s.Pause = func(_ context.Context, d time.Duration) { paused = append(paused, d); clock.add(d) }
			start := clock.Now()
			_, err := s.Send(context.Background(), orgID, addr)
			if err != nil && domain.ErrorCode(err) != domain.ETOOMANY {
				t.Fatal(err)
			}
			took := clock.Now().Sub(start)
			if tc.ses > floor {
				if len(paused) != 0 || took <= floor {
					t.Fatalf("over the floor: took %v, paused %v", took, paused)
				}
				return
			}
			if took != floor || len(paused) != 1 {
				t.Fatalf("answered after %v (paused %v), want exactly the floor %v", took, paused, floor)
			}
		})
	}
}
