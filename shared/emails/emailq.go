// Package emails is the one path of the emails the service sends: the
// change that needs an email records it in its own transaction (an outbox
// entry in the sharded due-work index), then hands its id to the email
// queue; the sender (EmailSenderFunction) claims each entry, renders it,
// waits for a slot of the account-wide send rate (Pacer), sends it through
// the mailer and records the outcome. A hand-off lost between the commit
// and the queue is found by the sweep (the invitation job) once the entry
// is overdue, so no email is lost; the claim is a conditional write, so a
// message delivered twice sends one email in the ordinary case.
//
// The package knows no AWS: the store, the mailer, the queues and the
// window counter are interfaces, adapted at the edge (store, sesmailer,
// sqsqueue/localqueue). It also renders each email from its template
// (email.go, otp.go, reverify.go): every user-controlled value is data,
// never markup or a header.
package emails

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// KindInvitation is the kind of an invitation's email (invite, resend,
// retry): its outbox entry is the invitation itself.
const KindInvitation = "invitation"

// KindPasscode is the kind of a one-time passcode's email: its entry is
// the address's passcode state (store.ClaimPasscodeEmail), handed off by
// every valid send request whatever the address; the sender mints the code
// when it claims the state, and only for an address that must verify.
const KindPasscode = "passcode"

// Job is the body of one message on the email queue: which outbox entry to
// send, never a secret (a passcode's job names the address, whose code the
// sender mints).
type Job struct {
	// Kind says which outbox the entry is in (KindInvitation, KindPasscode).
	Kind string `json:"k"`
	// OrgID, AccountID and ID name an invitation's entry.
	OrgID     string `json:"o"`
	AccountID string `json:"a,omitempty"`
	ID        string `json:"i,omitempty"`
	// Email and SentMs name a passcode's entry: the address and the send
	// request (its state's sentMs); OrgName and PageURL are what the
	// request read and the email shows.
	Email   string `json:"e,omitempty"`
	SentMs  int64  `json:"t,omitempty"`
	OrgName string `json:"on,omitempty"`
	PageURL string `json:"u,omitempty"`
	// Attempt counts the sends tried before this message (0: the first).
	Attempt int `json:"n,omitempty"`
}

// PasscodeJob is the job of a send request's passcode state o, of the org
// named orgName whose verification page is pageURL.
func PasscodeJob(o domain.OTP, orgName, pageURL string) Job {
	return Job{Kind: KindPasscode, OrgID: o.OrgID, Email: o.Email, SentMs: o.SentAt.UnixMilli(), OrgName: orgName, PageURL: pageURL}
}

// InvitationJob is the job of an invitation's email.
func InvitationJob(inv domain.Invitation) Job {
	return Job{Kind: KindInvitation, OrgID: inv.OrgID, AccountID: inv.AccountID, ID: inv.ID}
}

// Message is the queue message of j, visible after delay (capped at SQS's
// 15 minutes).
func (j Job) Message(delay time.Duration) queue.Message {
	b, _ := json.Marshal(j)
	s := int32(min(max(delay, 0), queue.MaxDelaySeconds*time.Second) / time.Second)
	return queue.Message{Body: string(b), DelaySeconds: s}
}

// ParseJob reads a message body; an error names what is wrong with it.
func ParseJob(body string) (Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return j, fmt.Errorf("emailq: not a job: %w", err)
	}
	switch {
	case j.Kind != KindInvitation && j.Kind != KindPasscode:
		return j, fmt.Errorf("emailq: unknown job kind %q", j.Kind)
	case !domain.ValidSlug(j.OrgID) || j.Attempt < 0:
		return j, errors.New("emailq: job names no valid entry")
	case j.Kind == KindInvitation && (!domain.ValidAccountID(j.AccountID) || !domain.ValidAccountID(j.ID)):
		return j, errors.New("emailq: job names no valid entry")
	case j.Kind == KindPasscode && (j.Email == "" || j.SentMs <= 0 || j.PageURL == ""):
		return j, errors.New("emailq: passcode job names no valid entry")
	}
	return j, nil
}

// ErrPermanent marks a send that will never succeed as it is (the address
// is refused, suppressed, or cannot be rendered): the email is recorded
// failed and not retried by the queue. A mailer wrapper (for example a
// suppression list) wraps it into its error to say so.
var ErrPermanent = errors.New("emailq: permanent refusal")

// permanentCodes are the SES error codes that no retry clears.
var permanentCodes = map[string]bool{
	"MessageRejected":                    true,
	"MailFromDomainNotVerifiedException": true,
	"MailFromDomainNotVerified":          true,
	"InvalidParameterValue":              true,
}

// Permanent reports whether a send's error is a permanent refusal:
// ErrPermanent, a recipient the renderer refuses, or an SES error whose code
// no retry clears. Anything else (throttling, SES unavailable, a network
// error, an account paused) is transient and retried with backoff.
func Permanent(err error) bool {
	if errors.Is(err, ErrPermanent) || errors.Is(err, ErrBadRecipient) || errors.Is(err, ErrBadAcceptURL) {
		return true
	}
	var coded interface{ ErrorCode() string }
	return errors.As(err, &coded) && permanentCodes[coded.ErrorCode()]
}
