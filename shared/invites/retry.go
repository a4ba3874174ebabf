package invites

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/metrics"
)

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
func (s *Service) RetryDeliveries(ctx context.Context, limit int) (RetryReport, error) {
	now := s.now()
	due, err := s.Store.DueInvitations(ctx, now, limit)
	if err != nil {
		return RetryReport{}, err
	}
	rep := RetryReport{Due: len(due)}
	for _, inv := range due {
		if inv.Expired(now) {
			inv.Status = domain.InvitationExpired
			if err := s.Store.SaveDelivery(ctx, inv, now); err != nil {
				rep.Skipped++
				continue
			}
			rep.Expired++
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
		switch s.deliver(ctx, rotated, token, now).Delivery {
		case domain.DeliverySent:
			rep.Sent++
		default:
			rep.Failed++
		}
	}
	s.Metrics.Count(map[string]int{metrics.EmailRetryDue: rep.Due, metrics.EmailsSent: rep.Sent, metrics.EmailsFailed: rep.Failed, metrics.InvitationsExpired: rep.Expired})
	s.log().InfoContext(ctx, "email retry run", "due", rep.Due, "sent", rep.Sent, "failed", rep.Failed, "expired", rep.Expired, "skipped", rep.Skipped, "at", now.Format(time.RFC3339))
	return rep, nil
}
