package invites

import (
	"context"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/metrics"
)

// RetryStore is what the email retry job needs from persistence.
type RetryStore interface {
	// DueInvitations lists undelivered invitations whose email is due at now.
	DueInvitations(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error)
	// RotateToken gives an invitation a new token hash (the old link stops
	// working) and returns it with its new version; ECONFLICT if it changed.
	RotateToken(ctx context.Context, inv domain.Invitation, newHash string) (domain.Invitation, error)
	// SaveDeliveries records email outcomes (and expiries).
	SaveDeliveries(ctx context.Context, ds []domain.Delivery) ([]int, error)
}

// Retrier is the scheduled job that sends undelivered invitation emails.
type Retrier struct {
	Store  RetryStore
	Mailer Sender
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// RetryReport is what one run of the email retry job did.
type RetryReport struct {
	Due     int `json:"due"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Expired int `json:"expired"`
	Skipped int `json:"skipped"` // changed meanwhile (accepted, revoked, re-sent)
}

// RetryDeliveries sends the invitation emails that are due: those that
// failed, and those whose sender died between writing and sending. Each gets
// a new token (only hashes are stored, so the old link cannot be re-sent)
// and the old link stops working. An invitation past its expiry is marked
// expired instead. At most limit invitations are handled per run.
func (s *Retrier) RetryDeliveries(ctx context.Context, limit int) (RetryReport, error) {
	now := clock(s.Now)
	due, err := s.Store.DueInvitations(ctx, now, limit)
	if err != nil {
		return RetryReport{}, err
	}
	rep := RetryReport{Due: len(due)}
	var expired []domain.Delivery
	var send []domain.Invitation
	var tokens []string
	for _, inv := range due {
		if inv.Expired(now) {
			inv.Status = domain.InvitationExpired
			expired = append(expired, domain.Delivery{Invitation: inv, RetryAt: now})
			continue
		}
		token, hash := domain.NewToken()
		rotated, err := s.Store.RotateToken(ctx, inv, hash)
		if domain.ErrorCode(err) == domain.ECONFLICT {
			rep.Skipped++
			continue
		} else if err != nil {
			return rep, err
		}
		send, tokens = append(send, rotated), append(tokens, token)
	}
	ob := outbox{mailer: s.Mailer, cfg: s.Config, log: logger(s.Log)}
	deliveries := append(expired, ob.send(ctx, send, tokens, now)...)
	changed, err := s.Store.SaveDeliveries(ctx, deliveries)
	if err != nil {
		return rep, err
	}
	skip := map[int]bool{}
	for _, i := range changed {
		skip[i] = true
	}
	for i, d := range deliveries {
		switch {
		case skip[i]:
			rep.Skipped++
		case d.Invitation.Status == domain.InvitationExpired:
			rep.Expired++
		case d.Invitation.Delivery == domain.DeliverySent:
			rep.Sent++
		default:
			rep.Failed++
		}
	}
	s.Metrics.Count(map[string]int{metrics.EmailRetryDue: rep.Due, metrics.EmailsSent: rep.Sent, metrics.EmailsFailed: rep.Failed, metrics.InvitationsExpired: rep.Expired})
	logger(s.Log).InfoContext(ctx, "email retry run", "due", rep.Due, "sent", rep.Sent, "failed", rep.Failed, "expired", rep.Expired, "skipped", rep.Skipped, "at", now.Format(time.RFC3339))
	return rep, nil
}
