package emails

import (
	"context"
	"net/url"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
)

// PasscodeStore is what sending a passcode's email needs from the table:
// the address's passcode state is its own outbox entry.
type PasscodeStore interface {
	// ClaimPasscodeEmail gives the state of o's address written by the send
	// request at o.SentAt the code and link key minted in o (Salt, Hash,
	// LinkHash) and marks it mailed at now, in one conditional write that
	// passes only when the state is still that request's, is an account's
	// (AccountID set: an address that must verify), is not mailed (or its
	// earlier claim was released) and is live. It returns the state
	// claimed; ECONFLICT when any condition fails (nothing is sent then).
	ClaimPasscodeEmail(ctx context.Context, o domain.OTP, now time.Time) (domain.OTP, error)
	// ReleasePasscodeEmail undoes a claim whose email was not sent (o is
	// the state claimed), so that a retry of the message may claim it.
	ReleasePasscodeEmail(ctx context.Context, o domain.OTP) error
}

// passcode delivers a passcode job: claim (minting the code, so no plain
// code is ever stored and a duplicate message or one for an address
// nobody is emailed sends nothing), render, pace, send. A transient
// failure releases the claim and queues the job again with a delay while
// the code would still be live on arrival; once it would not, the person
// asks for a new code (the page allows one OTPResendGap after the last).
func (s *Sender) passcode(ctx context.Context, j Job) (Outcome, error) {
	if s.Passcodes == nil {
		s.log().ErrorContext(ctx, "passcode job dropped: this sender has no passcode store", "org", j.OrgID)
		return Dropped, nil
	}
	now := s.now()
	o := domain.OTP{OrgID: j.OrgID, Email: j.Email, SentAt: time.UnixMilli(j.SentMs).UTC()}
	code, link := domain.MintOTP(&o)
	claimed, err := s.Passcodes.ClaimPasscodeEmail(ctx, o, now)
	if domain.ErrorCode(err) == domain.ECONFLICT {
		// Already mailed, replaced by a newer send, dead, or an address
		// nobody is emailed: nothing to send.
		return Dropped, nil
	}
	if err != nil {
		return "", err
	}
	msg, err := RenderPasscode(Passcode{To: claimed.Email, OrgName: j.OrgName, Code: code, ExpiresAt: claimed.ExpiresAt, PageURL: j.PageURL,
		LinkURL: j.PageURL + "?" + url.Values{"email": {claimed.Email}, "key": {link}}.Encode()})
	if err != nil {
		s.log().WarnContext(ctx, "passcode email refused for good", "org", j.OrgID, "account", claimed.AccountID, "err", err)
		s.Metrics.Count(map[string]int{metrics.EmailsFailed: 1})
		return Refused, nil
	}
	if _, err := s.Pacer.Wait(ctx); err != nil {
		s.release(ctx, claimed)
		return "", err
	}
	_, err = s.Mailer.Send(ctx, msg)
	switch {
	case err == nil:
		s.Metrics.Count(map[string]int{metrics.EmailsSent: 1})
		return Sent, nil
	case Permanent(err):
		s.log().WarnContext(ctx, "passcode email refused for good", "org", j.OrgID, "account", claimed.AccountID, "err", err)
		s.Metrics.Count(map[string]int{metrics.EmailsFailed: 1})
		return Refused, nil
	}
	s.Metrics.Count(map[string]int{metrics.EmailsFailed: 1})
	s.release(ctx, claimed)
	next := j
	next.Attempt++
	if next.Attempt >= s.maxAttempts() {
		s.log().ErrorContext(ctx, "passcode email kept failing: its message goes to the dead-letter queue", "org", j.OrgID, "attempts", next.Attempt, "err", err)
		if err := s.DeadLetters.Send(ctx, next.Message(0)); err != nil {
			return "", err
		}
		return DeadLettered, nil
	}
	delay := s.RetryDelay(next.Attempt)
	if !now.Add(delay).Before(claimed.ExpiresAt) {
		s.log().WarnContext(ctx, "passcode email not sent before its code lapses; the person asks again", "org", j.OrgID, "err", err)
		return Dropped, nil
	}
	s.log().WarnContext(ctx, "passcode email not sent; queued again", "org", j.OrgID, "attempt", next.Attempt, "in", delay, "err", err)
	if err := s.Retries.Send(ctx, next.Message(delay)); err != nil {
		s.log().WarnContext(ctx, "passcode retry not queued; the person asks again", "org", j.OrgID, "err", err)
	}
	return Retrying, nil
}

// release undoes a claim; a failed release is logged (the code is then
// never mailed: the person asks again).
func (s *Sender) release(ctx context.Context, o domain.OTP) {
	if err := s.Passcodes.ReleasePasscodeEmail(ctx, o); err != nil {
		s.log().ErrorContext(ctx, "passcode claim not released", "org", o.OrgID, "err", err)
	}
}
