// Package passcode is two-step verification by an emailed one-time passcode
// (rules §9): the service behind the guest-facing verification page. It sends a
// code (under the per-address and per-org limits), checks a typed code
// (constant time, counted attempts, expiry) and completes the verification
// with its audit entry.
//
// Nothing it answers tells whether an address has an account: an address
// that need not verify (unknown, internal, suspended, or under a policy with
// two-step off) keeps the same passcode state under the same limits and gets
// the same pages, store calls, hand-off to the email queue and answer time
// (AnswerFloor); the email sender (emailq) mints and mails a code only for
// an address that must verify, so no code the others are given can be
// right, and the request never waits for SES. What a
// stranger can spend never locks a real user out: see NextSend (the
// budgets) and VerifyLink (the email's link, which wrong codes cannot kill).
package passcode

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// The service's ports, one per use: every action reads the address's scope
// (ScopeLoader); Send writes the new passcode state (SendSaver); Verify
// counts a wrong code (AttemptCounter); a right code or link completes the
// verification (Completer). A test's fake implements only those its path
// calls.

// ScopeLoader reads what the page acts on for an address: the org, the
// account the address belongs to and its passcode state.
type ScopeLoader interface {
	LoadVerification(ctx context.Context, orgID, email string) (domain.VerifyScope, error)
}

// SendSaver writes a send's passcode state, conditioned on the state it
// replaces, with the org's minute counter held to orgLimit.
type SendSaver interface {
	SaveOTPSend(ctx context.Context, send domain.OTPSend, orgLimit int) error
}

// AttemptCounter counts a wrong answer to the code o, conditioned on the
// state read (false: the state changed meanwhile).
type AttemptCounter interface {
	CountOTPAttempt(ctx context.Context, o domain.OTP) (bool, error)
}

// Completer writes a completed verification in one transaction.
type Completer interface {
	CompleteVerification(ctx context.Context, v domain.Verified) error
}

// Store is every port together, as the table implements them (store.Store).
type Store interface {
	ScopeLoader
	SendSaver
	AttemptCounter
	Completer
}

// Service runs the verification page's actions.
type Service struct {
	Store Store
	// Emails is the email queue: every send request hands its passcode
	// state to it (emails.PasscodeJob), whatever the address.
	Emails queue.Sender
	// PageURL is the verification page of an org (absolute), as emails link
	// it, for the request in ctx (under the API's public URL as that request
	// reached it: shared/platform/publicurl).
	PageURL func(ctx context.Context, orgID string) string
	// OrgLimit is the org's sends per minute (0: OrgSendsPerMinute).
	OrgLimit int
	// AnswerFloor is the least time a Send takes, from its start to its
	// answer (0: none). Every address makes the same calls (no request waits
	// for SES: the email sender does), and every answer is also held to this
	// floor (DefaultAnswerFloor), so the time tells nothing of who has an
	// account. A send that takes longer is logged.
	AnswerFloor time.Duration
	// Clock and Pause measure and wait out the floor (tests replace them);
	// nil: time.Now and a timer that ctx ends early. Not Now, which tests
	// set to a fixed instant.
	Clock func() time.Time
	Pause func(ctx context.Context, d time.Duration)
	Now   func() time.Time
	Log   *slog.Logger
}

// DefaultAnswerFloor is the floor a deployment holds every Send answer to:
// SES's SendEmail usually answers in well under 100 ms in its region.
const DefaultAnswerFloor = 400 * time.Millisecond

// floor holds the answer of a call that started at start until
// AnswerFloor after it.
func (s *Service) floor(ctx context.Context, start time.Time) {
	clock := s.Clock
	if clock == nil {
		clock = time.Now
	}
	took := clock().Sub(start)
	if took >= s.AnswerFloor {
		s.log().WarnContext(ctx, "passcode answer over its floor: its time may tell whether the address was emailed", "took", took, "floor", s.AnswerFloor)
		return
	}
	if s.Pause != nil {
		s.Pause(ctx, s.AnswerFloor-took)
		return
	}
	t := time.NewTimer(s.AnswerFloor - took)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// View is what a page shows.
type View struct {
	OrgID, OrgName string
	// Email is the address typed (normalised when valid).
	Email string
	// NotRequired: no policy of the org asks for two-step verification.
	NotRequired bool
	// ExpiresAt: when the code sent lapses (a send's page).
	ExpiresAt time.Time
	// VerifiedAt and DueAt: a completed verification (DueAt zero: it does
	// not lapse by time).
	VerifiedAt, DueAt time.Time
	// TriesLeft after a wrong code.
	TriesLeft int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Show is the first page: the org exists, and whether it asks for two-step
// verification at all. It changes nothing.
func (s *Service) Show(ctx context.Context, orgID, rawEmail string) (View, error) {
	sc, err := s.Store.LoadVerification(ctx, orgID, "")
	if err != nil {
		return View{}, err
	}
	v, err := viewOf(orgID, sc)
	if err != nil {
		return View{}, err
	}
	if e, bad := domain.NormalizeEmail(rawEmail); bad == "" {
		v.Email = e
	}
	return v, nil
}

func viewOf(orgID string, sc domain.VerifyScope) (View, error) {
	if sc.Org == nil {
		return View{}, domain.Errorf(domain.ENOTFOUND, "There is no organisation %q. Open the link from your email again.", orgID)
	}
	return View{OrgID: orgID, OrgName: sc.Org.Name, NotRequired: !TwoStepAnywhere(*sc.Org)}, nil
}

// address checks a typed address.
func address(raw string) (string, error) {
	e, bad := domain.NormalizeEmail(raw)
	if bad != "" {
		return "", &domain.Error{Code: domain.EINVALID, Message: "The email address " + bad + ".", Fields: map[string]string{"email": bad}}
	}
	return e, nil
}

// Send sends a new code to the address if it must verify, replacing the
// one before, under the per-address and per-org limits (ETOOMANY with
// RetryAfter; see NextSend for the per-address ones, which keep a
// live code rather than refuse once an address's hourly budget is spent).
// Every valid address of an org that asks for two-step verification gets
// the same answer: "if this address must verify, a code is on its way";
// and the same calls (one LoadVerification, then, unless the live code is
// kept, one SaveOTPSend and one hand-off of the state to the email queue),
// whether or not it is emailed; and it is held to AnswerFloor.
//
// The org's budget is spent here, in SaveOTPSend's transaction, not by the
// sender's claim: the budget must refuse a capped send atomically with the
// write that would replace the live code (refused, the old code stays and
// works; a budget checked at the claim would find the old code already
// replaced and leave the person with none), and it counts the sends meant
// to be emailed (AccountID set), which only this request knows; the
// counter is added 0 for the others in the same transaction, so the calls
// stay alike. A hand-off lost (the function dies after the commit) leaves
// an unmailed code: the person asks again after OTPResendGap.
func (s *Service) Send(ctx context.Context, orgID, rawEmail string) (View, error) {
	if s.AnswerFloor > 0 {
		start := time.Now()
		if s.Clock != nil {
			start = s.Clock()
		}
		defer s.floor(ctx, start)
	}
	addr, err := address(rawEmail)
	if err != nil {
		return View{OrgID: orgID, Email: rawEmail}, err
	}
	sc, err := s.Store.LoadVerification(ctx, orgID, addr)
	if err != nil {
		return View{}, err
	}
	v, err := viewOf(orgID, sc)
	if err != nil || v.NotRequired {
		return v, err
	}
	v.Email = addr
	account := ""
	if MustVerify(*sc.Org, sc.User) {
		account = sc.User.AccountID
	}
	now := s.now()
	plan, err := NextSend(sc.OTP, orgID, addr, account, now)
	if err != nil {
		return v, err
	}
	v.ExpiresAt = plan.Next.ExpiresAt
	if plan.Keep {
		return v, nil
	}
	next := plan.Next
	limit := s.OrgLimit
	if limit <= 0 {
		limit = OrgSendsPerMinute
	}
	if err := s.Store.SaveOTPSend(ctx, domain.OTPSend{Next: next, Prev: sc.OTP}, limit); err != nil {
		return View{OrgID: v.OrgID, OrgName: v.OrgName, Email: v.Email}, err
	}
	// Handed off for every address alike; the plan's code is dropped (the
	// sender mints the one it emails, at its claim).
	if err := s.Emails.Send(ctx, emails.PasscodeJob(next, sc.Org.Name, s.PageURL(ctx, orgID)).Message(0)); err != nil {
		s.log().ErrorContext(ctx, "passcode not handed to the email queue", "org", orgID, "err", err)
		return v, domain.Unavailable("The email with your code could not be sent. Ask for a new code in a minute.", domain.OTPResendGap)
	}
	return v, nil
}

// maxRounds bounds the re-reads when a code's state changes under a check
// (another answer counted, a new code): each round follows a real change.
const maxRounds = 8

// Verify checks a typed code and, when it is right, completes the
// verification: until now plus the frequency of the policy that applies
// (domain.PolicySettings.VerifyDue). A wrong code is EINVALID (400) and is
// counted; the fifth wrong one kills the code (ETOOMANY: ask for a new
// one); an expired code is EGONE (410).
func (s *Service) Verify(ctx context.Context, orgID, rawEmail, code, requestID string) (View, error) {
	addr, err := address(rawEmail)
	if err != nil {
		return View{OrgID: orgID, Email: rawEmail}, err
	}
	if !ValidCode(code) {
		return View{OrgID: orgID, Email: addr}, &domain.Error{Code: domain.EINVALID, Message: "Type the 6 digits of the code from the email.",
			Fields: map[string]string{"code": "must be 6 digits"}}
	}
	for range maxRounds {
		sc, err := s.Store.LoadVerification(ctx, orgID, addr)
		if err != nil {
			return View{}, err
		}
		v, err := viewOf(orgID, sc)
		if err != nil || v.NotRequired {
			return v, err
		}
		v.Email = addr
		now := s.now()
		o := sc.OTP
		switch {
		case o == nil:
			return v, domain.Errorf(domain.EINVALID, "That code is not right, or no code was sent to this address. Ask for a code first.")
		case o.Attempts >= domain.OTPMaxAttempts:
			return v, &domain.Error{Code: domain.ETOOMANY, RetryAfter: max(time.Second, o.SentAt.Add(domain.OTPResendGap).Sub(now)),
				Message: fmt.Sprintf("This code no longer works: it was typed wrong %d times. Ask for a new code.", domain.OTPMaxAttempts)}
		case !now.Before(o.ExpiresAt):
			return v, domain.Errorf(domain.EGONE, "This code has expired: a code works for %d minutes. Ask for a new code.", int(domain.OTPLifetime/time.Minute))
		}
		right := o.Matches(code) && o.AccountID != "" && MustVerify(*sc.Org, sc.User) && sc.User.AccountID == o.AccountID
		if !right {
			counted, err := s.Store.CountOTPAttempt(ctx, *o)
			if err != nil {
				return v, err
			}
			if !counted {
				continue
			}
			left := domain.OTPMaxAttempts - o.Attempts - 1
			if left == 0 {
				return v, &domain.Error{Code: domain.ETOOMANY, RetryAfter: max(time.Second, o.SentAt.Add(domain.OTPResendGap).Sub(now)),
					Message: fmt.Sprintf("That code is not right, and it was the %dth wrong try: this code no longer works. Ask for a new code.", domain.OTPMaxAttempts)}
			}
			v.TriesLeft = left
			return v, &domain.Error{Code: domain.EINVALID, Message: fmt.Sprintf("That code is not right. %d tries left for this code.", left),
				Extra: map[string]any{"triesLeft": left}}
		}
		if v, again, err := s.complete(ctx, v, sc, *o, now, requestID); !again {
			return v, err
		}
	}
	return View{}, domain.Unavailable("Too many changes to this code at once; nothing was changed. Try again.", time.Second)
}

// complete records the verification of sc's user by the code o read:
// until now plus the frequency of the policy that applies, with its audit
// entry. again: the code changed meanwhile (read again).
func (s *Service) complete(ctx context.Context, v View, sc domain.VerifyScope, o domain.OTP, now time.Time, requestID string) (View, bool, error) {
	u := *sc.User
	due := sc.Org.PolicyFor(u.AccountID).VerifyDue(now)
	after := map[string]any{"verifiedAt": now.Format(time.RFC3339)}
	if !due.IsZero() {
		after["verifyDueAt"] = due.Format(time.RFC3339)
	}
	var before map[string]any
	if !u.VerifiedAt.IsZero() {
		before = map[string]any{"verifiedAt": u.VerifiedAt.Format(time.RFC3339)}
	}
	audit := domain.NewAudit(v.OrgID, u.AccountID, domain.ActionUserVerify, domain.UserTarget(u.AccountID), requestID, now, before, after)
	err := s.Store.CompleteVerification(ctx, domain.Verified{Code: o, User: u, At: now, DueAt: due, Audit: audit})
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return v, true, nil
	}
	if err != nil {
		return v, false, err
	}
	v.VerifiedAt, v.DueAt = now, due
	return v, false, nil
}

// VerifyLink completes the verification by the link emailed with the code
// (its key, ValidLink): like the right code, but the key is 32 random
// bytes that only the mailbox holds, so a wrong key is not counted and the
// code's 5 tries do not bind the link: a stranger who types wrong codes
// after every send (killing each code) cannot keep the address's owner from
// verifying. A wrong, replaced or used link is EINVALID (400), an expired
// one EGONE (410).
func (s *Service) VerifyLink(ctx context.Context, orgID, rawEmail, key, requestID string) (View, error) {
	addr, err := address(rawEmail)
	if err != nil {
		return View{OrgID: orgID, Email: rawEmail}, err
	}
	if !ValidLink(key) {
		return View{OrgID: orgID, Email: addr}, domain.Errorf(domain.EINVALID, "This link is not complete. Open it from the email again, or type the code.")
	}
	for range maxRounds {
		sc, err := s.Store.LoadVerification(ctx, orgID, addr)
		if err != nil {
			return View{}, err
		}
		v, err := viewOf(orgID, sc)
		if err != nil || v.NotRequired {
			return v, err
		}
		v.Email = addr
		now := s.now()
		o := sc.OTP
		if o == nil || !o.MatchesLink(key) || o.AccountID == "" || !MustVerify(*sc.Org, sc.User) || sc.User.AccountID != o.AccountID {
			return v, domain.Errorf(domain.EINVALID, "This link no longer works: it was used, or a newer code was sent (use the latest email). Ask for a new code if you need one.")
		}
		if !now.Before(o.ExpiresAt) {
			return v, domain.Errorf(domain.EGONE, "This link has expired: it works for %d minutes. Ask for a new code.", int(domain.OTPLifetime/time.Minute))
		}
		if v, again, err := s.complete(ctx, v, sc, *o, now, requestID); !again {
			return v, err
		}
	}
	return View{}, domain.Unavailable("Too many changes to this code at once; nothing was changed. Try again.", time.Second)
}
