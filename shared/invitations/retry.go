package invitations

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// RetryStore is what the scheduled invitation job needs from persistence:
// the sweep of overdue emails and the release of lapsed invitations.
type RetryStore interface {
	// DueInvitations lists undelivered invitations whose email is due at
	// now: its hand-off to the queue is overdue (a new one's SendGrace has
	// passed), its claim lapsed, or its retry is due.
	DueInvitations(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error)
	ReleaseStore
}

// ReleaseStore is what releasing lapsed invitations needs from persistence.
type ReleaseStore interface {
	// DueExpiries lists delivered pending invitations whose expiry is at or
	// before now (cost ∝ those due).
	DueExpiries(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error)
	// LoadInvitee reads an invited account's profile, access, memberships
	// and invitations (nil when it has no profile).
	LoadInvitee(ctx context.Context, orgID, accountID string) (*domain.UserRecord, error)
	// ExpireInvitation marks a lapsed pending invitation expired and
	// releases what its invitee held, with the audit entry, in one
	// transaction conditioned on it being pending at its version and
	// lapsed at now. ECONFLICT naming the groups (Extra "groups") while a
	// group of the invitee has a job in flight; ECONFLICT or
	// domain.ErrAccessChanged when it changed meanwhile.
	ExpireInvitation(ctx context.Context, rv domain.Revocation, now time.Time) error
}

// Retrier is the scheduled job that queues the invitation emails whose
// hand-off is overdue (the sweep: no email is lost when a function dies
// between its commit and the hand-off) and releases invitations that lapsed.
type Retrier struct {
	Store RetryStore
	// Emails is the email queue.
	Emails queue.Sender
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// RetryReport is what one run of the job did.
type RetryReport struct {
	// Due is how many undelivered invitations were due for an email.
	Due int `json:"due"`
	// Queued is how many of them were handed to the email queue (the
	// sender sends them and records each outcome).
	Queued int `json:"queued"`
	// Lapsed is how many delivered pending invitations were due for release
	// (past their expiry).
	Lapsed int `json:"lapsed"`
	// Expired is how many invitations were marked expired and released,
	// undelivered (among Due) and delivered (among Lapsed).
	Expired int `json:"expired"`
	// Busy is how many lapsed invitations wait for a group job of their
	// invitee to finish: they stay due for the next run.
	Busy    int `json:"busy"`
	Skipped int `json:"skipped"` // changed meanwhile (accepted, revoked, re-sent)
	// Suppressed is how many were not sent because their address bounced
	// or complained before (recorded as such, never retried).
	Suppressed int `json:"suppressed"`
}

// Run is one run of the scheduled job: first the due emails (at most
// emails invitations), then the release of lapsed invitations (at most
// releases). What is left waits for the next run. runID is the audit
// entries' request id (the schedule's event id).
func (s *Retrier) Run(ctx context.Context, runID string, emails, releases int) (RetryReport, error) {
	now := clock(s.Now)
	var rep RetryReport
	err := s.retryDeliveries(ctx, runID, now, emails, &rep)
	if err == nil && releases > 0 {
		err = s.releaseLapsed(ctx, runID, now, releases, &rep)
	}
	s.Metrics.Count(map[string]int{metrics.EmailRetryDue: rep.Due, metrics.InvitationsExpired: rep.Expired})
	logger(s.Log).InfoContext(ctx, "invitation job run", "due", rep.Due, "queued", rep.Queued, "lapsed", rep.Lapsed,
		"expired", rep.Expired, "busy", rep.Busy, "skipped", rep.Skipped, "at", now.Format(time.RFC3339))
	return rep, err
}

// RetryDeliveries runs the email half of the job alone (Run without
// releases).
func (s *Retrier) RetryDeliveries(ctx context.Context, limit int) (RetryReport, error) {
	return s.Run(ctx, "", limit, 0)
}

// retryDeliveries queues the invitation emails that are due: those whose
// hand-off was lost (the writer died between its commit and the queue, or
// the queue refused), whose sender died holding its claim, or whose retry
// is due after a failure. The sender gives each a new link when it claims
// it. An invitation past its expiry is released instead (release). At most
// limit invitations are handled.
func (s *Retrier) retryDeliveries(ctx context.Context, runID string, now time.Time, limit int, rep *RetryReport) error {
	due, err := s.Store.DueInvitations(ctx, now, limit)
	if err != nil {
		return err
	}
	rep.Due = len(due)
	var send []domain.Invitation
	for _, inv := range due {
		if inv.Expired(now) {
			if err := s.release(ctx, runID, inv, now, rep); err != nil {
				return err
			}
			continue
		}
		send = append(send, inv)
	}
	rep.Queued = handOff(ctx, s.Emails, logger(s.Log), send)
	return nil
}

// releaseLapsed releases the delivered invitations that lapsed (rules §7: an
// expired invitation no longer counts), at most limit.
func (s *Retrier) releaseLapsed(ctx context.Context, runID string, now time.Time, limit int, rep *RetryReport) error {
	due, err := s.Store.DueExpiries(ctx, now, limit)
	if err != nil {
		return err
	}
	rep.Lapsed = len(due)
	for _, inv := range due {
		if err := s.release(ctx, runID, inv, now, rep); err != nil {
			return err
		}
	}
	return nil
}

// release marks one lapsed pending invitation expired and releases what its
// invitee holds, as a revoke does (by the system, audited
// invitation.expire): one Query of the invitee's partition, one
// transaction. The invitation is taken as the partition holds it (the due
// index may lag); if it is no longer pending and lapsed, or the account is
// no longer invited, it is skipped. A group of the invitee with a job in
// flight skips it this run (it stays due).
func (s *Retrier) release(ctx context.Context, runID string, due domain.Invitation, now time.Time, rep *RetryReport) error {
	rec, err := s.Store.LoadInvitee(ctx, due.OrgID, due.AccountID)
	if err != nil {
		return err
	}
	var inv *domain.Invitation
	if rec != nil {
		for i := range rec.Invitations {
			if rec.Invitations[i].ID == due.ID {
				inv = &rec.Invitations[i]
			}
		}
	}
	if inv == nil || inv.Status != domain.InvitationPending || !inv.Expired(now) || rec.User.Status != domain.UserInvited {
		rep.Skipped++
		return nil
	}
	roles := map[string]any{}
	for k, a := range rec.Access {
		if !a.Empty() {
			roles[k] = string(a.Effective)
		}
	}
	audit := domain.NewAudit(inv.OrgID, domain.ActorSystem, domain.ActionInvitationExpire, domain.InvitationTarget(inv.ID), runID, now,
		map[string]any{"invitation": string(domain.InvitationPending), "expiresAt": inv.ExpiresAt.UTC().Format(time.RFC3339), "email": rec.User.Email,
			"status": string(rec.User.Status), "roles": roles, "groups": rec.Groups},
		map[string]any{"invitation": string(domain.InvitationExpired), "account": inv.AccountID, "site": inv.SiteID})
	err = s.Store.ExpireInvitation(ctx, domain.Revocation{Invitation: *inv, Record: *rec, Audit: audit}, now)
	var de *domain.Error
	switch {
	case err == nil:
		rep.Expired++
	case errors.As(err, &de) && de.Code == domain.ECONFLICT && de.Extra["groups"] != nil:
		rep.Busy++
		logger(s.Log).InfoContext(ctx, "lapsed invitation waits for a group job", "invitationId", inv.ID, "org", inv.OrgID, "groups", de.Extra["groups"])
	case errors.Is(err, domain.ErrAccessChanged) || domain.ErrorCode(err) == domain.ECONFLICT:
		rep.Skipped++
	default:
		return err
	}
	return nil
}
