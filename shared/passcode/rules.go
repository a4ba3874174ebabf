package passcode

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The rules of sending and checking a passcode that only this capability
// uses. The passcode state (domain.OTP), its hashing and the limits the
// table's writes also apply (domain.OTPLifetime, domain.OTPResendGap, …)
// are in shared/domain/otp.go, which explains the limits as a whole.
const (
	// Digits is the length of a code.
	Digits = 6
	// OrgSendsPerMinute is how many codes one org may email per minute
	// (every address together): it bounds what anyone can make the org's
	// sender do. Only sends that email someone count (domain.OTP.Emailed).
	OrgSendsPerMinute = 30
)

// SendPlan is what a send request does for an address: Keep, the address's
// live code stays as it is (nothing written, nothing emailed, the answer
// the same "sent" with Next = that code); otherwise Next is a fresh code to
// write, whose plain digits are Code and plain link key Link.
type SendPlan struct {
	Keep bool
	Next domain.OTP
	Code string
	Link string
}

// NextSend checks the per-address limits for a send at now, given the
// state read (nil: never sent), for account (empty: an address nobody is
// emailed), and plans it:
//   - within domain.OTPResendGap of the last send: ETOOMANY (the code just
//     sent is in the mailbox);
//   - the first domain.OTPSendsPerHour sends of a window: a fresh code each;
//   - beyond them in the window (the budget spent, by the user or by
//     anyone else): Keep while the last code is live; once it is dead, a
//     fresh code if it was sent domain.OTPLifetime ago or more, else
//     ETOOMANY with RetryAfter until then (at most domain.OTPLifetime).
//
// The state machine is the same for every address: nothing in it depends
// on account but the code's AccountID.
func NextSend(prev *domain.OTP, orgID, email, account string, now time.Time) (SendPlan, error) {
	next := domain.OTP{OrgID: orgID, Email: email, AccountID: account, SentAt: now, ExpiresAt: now.Add(domain.OTPLifetime), WindowStart: now, Sends: 1}
	if prev != nil {
		if wait := prev.SentAt.Add(domain.OTPResendGap).Sub(now); wait > 0 {
			return SendPlan{}, &domain.Error{Code: domain.ETOOMANY, RetryAfter: wait,
				Message: "A code was sent to this address less than a minute ago. Use the code in that email, or ask for a new one in a moment."}
		}
		if now.Before(prev.WindowStart.Add(domain.OTPSendWindow)) {
			if prev.Sends >= domain.OTPSendsPerHour {
				if prev.Live(now) {
					return SendPlan{Keep: true, Next: *prev}, nil
				}
				if wait := prev.SentAt.Add(domain.OTPLifetime).Sub(now); wait > 0 {
					return SendPlan{}, &domain.Error{Code: domain.ETOOMANY, RetryAfter: wait,
						Message: fmt.Sprintf("Many codes were asked for this address this hour: a new one can be sent %d minutes after the last.", int(domain.OTPLifetime/time.Minute))}
				}
			}
			next.WindowStart, next.Sends = prev.WindowStart, prev.Sends+1
		}
	}
	code, link := domain.MintOTP(&next)
	return SendPlan{Next: next, Code: code, Link: link}, nil
}

// ValidLink reports whether s looks like a link key: 43 characters of
// unpadded base64url (32 bytes).
func ValidLink(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32 && len(s) == 43
}

// ValidCode reports whether s looks like a code: exactly 6 ASCII digits.
func ValidCode(s string) bool {
	if len(s) != Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustVerify reports whether u must verify by passcode in org: an active
// account whose address is outside the org's verified domains, under a
// policy (the org's or the test policy naming it) with two-step on.
func MustVerify(org domain.Org, u *domain.User) bool {
	return u != nil && u.Status == domain.UserActive && org.IsExternal(u.Email) && org.PolicyFor(u.AccountID).TwoStep
}

// TwoStepAnywhere reports whether any policy of the org asks for two-step
// verification: the org's, or its test policy.
func TwoStepAnywhere(org domain.Org) bool {
	return org.Policy.TwoStep || org.TestPolicy != nil && org.TestPolicy.Settings.TwoStep
}
