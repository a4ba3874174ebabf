package emails

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// InvitationStore is what sending an invitation's email needs from the
// table: the invitation is its own outbox entry (delivery pending or
// failed, in the due-work index's DUE#EMAIL shards).
type InvitationStore interface {
	// InvitationForEmail reads one invitation (nil when there is none).
	InvitationForEmail(ctx context.Context, orgID, accountID, id string) (*domain.Invitation, error)
	// ClaimInvitationEmail takes the invitation's email for one sender
	// until now+lease, with a new token hash (the link in this email; the
	// links of earlier emails stop working), conditioned on the version
	// read and on the email being claimable now (no other sender holds
	// it). ECONFLICT when it is held or changed.
	ClaimInvitationEmail(ctx context.Context, inv domain.Invitation, newHash string, now time.Time, lease time.Duration) (domain.Invitation, error)
	// SaveDeliveries records email outcomes (see emailsdb.Store.SaveDeliveries).
	SaveDeliveries(ctx context.Context, ds []domain.Delivery) ([]int, error)
}

// Defaults of Sender's settings.
const (
	// DefaultLease is how long a claim keeps other senders off an email:
	// longer than one send takes, shorter than the queue's visibility
	// timeout, so a message delivered again after a sender died finds the
	// claim lapsed.
	DefaultLease = 2 * time.Minute
	// DefaultMaxAttempts is how many transient failures in a row an email
	// has before its message goes to the dead-letter queue.
	DefaultMaxAttempts = 5
	// DefaultRetryBase is the delay after the first transient failure,
	// doubling per attempt (capped at SQS's 15 minutes).
	DefaultRetryBase = 30 * time.Second
	// SlowRetry is when an email is due again for the sweep after its
	// message went to the dead-letter queue.
	SlowRetry = 6 * time.Hour
)

// Sender delivers the email of one queue message: claim, render, pace,
// send, record. It is EmailSenderFunction's service.
type Sender struct {
	Store InvitationStore
	// Passcodes is the table's passcode states (KindPasscode jobs).
	Passcodes PasscodeStore
	Mailer    Mailer
	Pacer     *Pacer
	// Render renders an invitation's email with its new token's link.
	Render func(inv domain.Invitation, token string) (Message, error)
	// Retries is the email queue (a transient failure is queued again with
	// a delay); DeadLetters its dead-letter queue (what kept failing).
	Retries, DeadLetters queue.Sender
	// Lease, MaxAttempts and RetryBase: 0 means their Default.
	Lease       time.Duration
	MaxAttempts int
	RetryBase   time.Duration
	Now         func() time.Time
	Log         *slog.Logger
	Metrics     *metrics.Recorder
}

// Outcome is what Process did with one message.
type Outcome string

// Outcomes of Process.
const (
	// Sent: SES accepted the email and it is recorded sent.
	Sent Outcome = "sent"
	// Dropped: nothing to send (already sent, changed, claimed by another
	// sender, no longer pending): the message is done.
	Dropped Outcome = "dropped"
	// Refused: SES (or the renderer) refused it for good: recorded failed,
	// due again only at the link's expiry (released then).
	Refused Outcome = "refused"
	// Suppressed: the suppression check refused it (the address bounced or
	// complained for the org): recorded bounced or complained, not retried.
	Suppressed Outcome = "suppressed"
	// Retrying: a transient failure, recorded, and queued again with a delay.
	Retrying Outcome = "retrying"
	// DeadLettered: the last transient failure allowed: its message went to
	// the dead-letter queue; the sweep tries it again after SlowRetry.
	DeadLettered Outcome = "dead-lettered"
)

// RetryDelay is the queue delay after attempt transient failures.
func (s *Sender) RetryDelay(attempt int) time.Duration {
	d := s.RetryBase
	if d <= 0 {
		d = DefaultRetryBase
	}
	for i := 1; i < attempt && d < queue.MaxDelaySeconds*time.Second; i++ {
		d *= 2
	}
	return min(d, queue.MaxDelaySeconds*time.Second)
}

// Handle is Process for the SQS worker: the outcome is logged; an error
// leaves the message for the queue to deliver again (and, after
// maxReceiveCount deliveries, to its dead-letter queue).
func (s *Sender) Handle(ctx context.Context, body string) error {
	_, err := s.Process(ctx, body)
	return err
}

// Process delivers the email of one message body. An error means the
// message is to be delivered again (the store or the pacer failed before
// the send, or the outcome could not be queued).
func (s *Sender) Process(ctx context.Context, body string) (Outcome, error) {
	j, err := ParseJob(body)
	if err != nil {
		// No retry can make it readable.
		s.log().ErrorContext(ctx, "email job dropped", "err", err)
		return Dropped, nil
	}
	if j.Kind == KindPasscode {
		return s.passcode(ctx, j)
	}
	inv, err := s.Store.InvitationForEmail(ctx, j.OrgID, j.AccountID, j.ID)
	if err != nil {
		return "", err
	}
	now := s.now()
	if inv == nil || inv.Status != domain.InvitationPending || inv.Delivery == domain.DeliverySent || inv.Expired(now) {
		// Sent meanwhile, accepted, revoked, or lapsed (the sweep
		// releases a lapsed invitation).
		return Dropped, nil
	}
	token, hash := domain.NewToken()
	claimed, err := s.Store.ClaimInvitationEmail(ctx, *inv, hash, now, s.lease())
	if domain.ErrorCode(err) == domain.ECONFLICT {
		// Another sender holds it, or it changed: that one records it, and
		// if it dies the due index keeps the email for the sweep.
		return Dropped, nil
	}
	if err != nil {
		return "", err
	}
	msg, err := s.Render(claimed, token)
	if err != nil {
		return s.refused(ctx, j, claimed, err)
	}
	if _, err := s.Pacer.Wait(ctx); err != nil {
		// The claim lapses; the message comes back after the visibility
		// timeout and claims it again.
		return "", err
	}
	id, err := s.Mailer.Send(ctx, msg)
	switch {
	case err == nil:
		claimed.Attempts++
		claimed.Delivery, claimed.MessageID, claimed.DeliveryNote = domain.DeliverySent, id, ""
		s.save(ctx, claimed, now)
		s.Metrics.Count(map[string]int{metrics.EmailsSent: 1})
		return Sent, nil
	case errors.As(err, new(*SuppressedError)):
		return s.suppressed(ctx, j, claimed, err)
	case Permanent(err):
		return s.refused(ctx, j, claimed, err)
	}
	return s.transient(ctx, j, claimed, err)
}

// refused records an email that will never be sent as it is: failed, due
// again only at its link's expiry, when the sweep releases it (an admin may
// resend it to a corrected address meanwhile).
func (s *Sender) refused(ctx context.Context, j Job, inv domain.Invitation, cause error) (Outcome, error) {
	s.log().WarnContext(ctx, "email refused for good", "kind", j.Kind, "id", j.ID, "org", j.OrgID, "err", cause)
	inv.Attempts++
	inv.Delivery, inv.DeliveryNote = domain.DeliveryFailed, truncate(cause.Error(), 500)
	s.save(ctx, inv, inv.ExpiresAt)
	s.Metrics.Count(map[string]int{metrics.EmailsFailed: 1})
	return Refused, nil
}

// suppressed records an email the suppression check refused (the address
// bounced or complained for the org before): the invitation shows bounced
// or complained, settled (out of the retry index; released at expiry), and
// nothing retries it until an org admin clears the address and resends.
func (s *Sender) suppressed(ctx context.Context, j Job, inv domain.Invitation, cause error) (Outcome, error) {
	var se *SuppressedError
	errors.As(cause, &se)
	s.log().InfoContext(ctx, "email not sent: the address is suppressed", "kind", j.Kind, "id", j.ID, "org", j.OrgID, "reason", se.Reason)
	inv.Attempts++
	inv.Delivery, inv.DeliveryNote = se.Reason.Delivery(), "suppressed"
	s.save(ctx, inv, inv.ExpiresAt)
	return Suppressed, nil
}

// transient records a failure that a retry may clear (SES throttling or
// unavailable) and queues the email again after RetryDelay; after
// MaxAttempts in a row its message goes to the dead-letter queue (the
// alarm) and the email is due for the sweep after SlowRetry.
func (s *Sender) transient(ctx context.Context, j Job, inv domain.Invitation, cause error) (Outcome, error) {
	now := s.now()
	inv.Attempts++
	inv.Delivery, inv.DeliveryNote = domain.DeliveryFailed, truncate(cause.Error(), 500)
	next := j
	next.Attempt++
	s.Metrics.Count(map[string]int{metrics.EmailsFailed: 1})
	if next.Attempt >= s.maxAttempts() {
		s.log().ErrorContext(ctx, "email kept failing: its message goes to the dead-letter queue", "kind", j.Kind, "id", j.ID, "org", j.OrgID, "attempts", next.Attempt, "err", cause)
		s.save(ctx, inv, now.Add(SlowRetry))
		if err := s.DeadLetters.Send(ctx, next.Message(0)); err != nil {
			// SQS moves it there itself after maxReceiveCount deliveries.
			return "", err
		}
		return DeadLettered, nil
	}
	delay := s.RetryDelay(next.Attempt)
	s.log().WarnContext(ctx, "email not sent; queued again", "kind", j.Kind, "id", j.ID, "org", j.OrgID, "attempt", next.Attempt, "in", delay, "err", cause)
	// Due for the sweep a little after the retry, should the message be lost.
	s.save(ctx, inv, now.Add(delay))
	if err := s.Retries.Send(ctx, next.Message(delay)); err != nil {
		s.log().WarnContext(ctx, "email retry not queued; the sweep will queue it", "id", j.ID, "err", err)
	}
	return Retrying, nil
}

// save records an outcome. An invitation changed meanwhile (accepted,
// revoked, resent) is left as it is. A failed write is logged: the
// invitation stays due in the index, and the sweep queues it again.
func (s *Sender) save(ctx context.Context, inv domain.Invitation, retryAt time.Time) {
	if _, err := s.Store.SaveDeliveries(ctx, []domain.Delivery{{Invitation: inv, RetryAt: retryAt}}); err != nil {
		s.log().ErrorContext(ctx, "email outcome not recorded", "id", inv.ID, "org", inv.OrgID, "delivery", string(inv.Delivery), "err", err)
	}
}

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
