package invites

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/metrics"
)

// RetryStore is what the scheduled invitation job needs from persistence:
// the email retry and the release of lapsed invitations.
type RetryStore interface {
	// DueInvitations lists undelivered invitations whose email is due at now.
	DueInvitations(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error)
	// RotateToken gives an invitation a new token hash (the old link stops
	// working) and returns it with its new version; ECONFLICT if it changed.
	RotateToken(ctx context.Context, inv domain.Invitation, newHash string) (domain.Invitation, error)
	// SaveDeliveries records email outcomes.
	SaveDeliveries(ctx context.Context, ds []domain.Delivery) ([]int, error)
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

// Retrier is the scheduled job that sends undelivered invitation emails and
// releases invitations that lapsed.
type Retrier struct {
	Store  RetryStore
	Mailer Sender
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// RetryReport is what one run of the job did.
type RetryReport struct {
	// Due is how many undelivered invitations were due for an email.
	Due    int `json:"due"`
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
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
	s.Metrics.Count(map[string]int{metrics.EmailRetryDue: rep.Due, metrics.EmailsSent: rep.Sent, metrics.EmailsFailed: rep.Failed, metrics.InvitationsExpired: rep.Expired})
	logger(s.Log).InfoContext(ctx, "invitation job run", "due", rep.Due, "sent", rep.Sent, "failed", rep.Failed, "lapsed", rep.Lapsed,
		"expired", rep.Expired, "busy", rep.Busy, "skipped", rep.Skipped, "at", now.Format(time.RFC3339))
	return rep, err
}

// RetryDeliveries runs the email half of the job alone (Run without
// releases).
func (s *Retrier) RetryDeliveries(ctx context.Context, limit int) (RetryReport, error) {
	return s.Run(ctx, "", limit, 0)
}

// retryDeliveries sends the invitation emails that are due: those that
// failed, and those whose sender died between writing and sending. Each gets
// a new token (only hashes are stored, so the old link cannot be re-sent)
// and the old link stops working. An invitation past its expiry is released
// instead (release). At most limit invitations are handled.
func (s *Retrier) retryDeliveries(ctx context.Context, runID string, now time.Time, limit int, rep *RetryReport) error {
	due, err := s.Store.DueInvitations(ctx, now, limit)
	if err != nil {
		return err
	}
	rep.Due = len(due)
	var send []domain.Invitation
	var tokens []string
	for _, inv := range due {
		if inv.Expired(now) {
			if err := s.release(ctx, runID, inv, now, rep); err != nil {
				return err
			}
			continue
		}
		token, hash := domain.NewToken()
		rotated, err := s.Store.RotateToken(ctx, inv, hash)
		if domain.ErrorCode(err) == domain.ECONFLICT {
			rep.Skipped++
			continue
		} else if err != nil {
			return err
		}
		send, tokens = append(send, rotated), append(tokens, token)
	}
	ob := outbox{mailer: s.Mailer, cfg: s.Config, log: logger(s.Log)}
	deliveries := ob.send(ctx, send, tokens, now)
	changed, err := s.Store.SaveDeliveries(ctx, deliveries)
	if err != nil {
		return err
	}
	skip := map[int]bool{}
	for _, i := range changed {
		skip[i] = true
	}
	for i, d := range deliveries {
		switch {
		case skip[i]:
			rep.Skipped++
		case d.Invitation.Delivery == domain.DeliverySent:
			rep.Sent++
		case d.Invitation.Delivery.Settled():
			rep.Suppressed++
		default:
			rep.Failed++
		}
	}
	return nil
}

// releaseLapsed releases the delivered invitations that lapsed (§7: an
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
