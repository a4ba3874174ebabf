// Package suppressions keeps an org from emailing an address that bounced
// permanently or complained, until an org admin clears it. Gate is the
// check before every send (a decorator of the mailer); Recorder records
// SES's bounce and complaint events (the suppression, the invitation's
// delivery, the audit entry); Admin lists and clears an org's
// suppressions. None knows DynamoDB, SES or SNS.
//
// Suppressions are per org. An address that bounced for one org is kept
// from the others by SES's own account-level suppression list: SES drops
// their sends to it and reports a permanent bounce (subtype
// OnAccountSuppressionList), which Recorder records for that org in turn.
// An account-wide list here would let one org's admin unblock, and list,
// the addresses of another.
package suppressions

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
)

// Lookup reads an org's suppression of an address (nil: none).
type Lookup interface {
	Suppression(ctx context.Context, orgID, email string) (*domain.Suppression, error)
}

// Gate is an emails.Mailer that refuses, with *emails.SuppressedError, an
// email to an address suppressed for the org it is sent for (its
// emails.TagOrg tag), and hands every other email to Next. An email
// without an org tag is not checked. A failed read fails the send (it is
// retried like any failed send): an address is never emailed unchecked.
type Gate struct {
	Next  emails.Mailer
	Store Lookup
}

// Gate is an emails.Mailer.
var _ emails.Mailer = Gate{}

// Send checks the recipient, then sends through Next.
func (g Gate) Send(ctx context.Context, msg emails.Message) (string, error) {
	if org := msg.Tags[emails.TagOrg]; org != "" {
		reason, known := checkedIn(ctx, org, msg.To)
		if !known {
			s, err := g.Store.Suppression(ctx, org, msg.To)
			if err != nil {
				return "", err
			}
			if s != nil {
				reason = s.Reason
			}
		}
		if reason != "" {
			return "", &emails.SuppressedError{Reason: reason}
		}
	}
	return g.Next.Send(ctx, msg)
}

type checkedKey struct{}

type checked struct {
	org   string
	addrs map[string]domain.SuppressionReason // "" for an address read and not suppressed
}

// Checked returns ctx carrying what a strongly consistent read of the
// request's own made known: the org's suppressions (found) of addrs. The
// Gate answers those addresses from it rather than read each again (an
// invite reads them with everything else it reads, in one call).
func Checked(ctx context.Context, org string, addrs []string, found map[string]domain.SuppressionReason) context.Context {
	c := checked{org: org, addrs: make(map[string]domain.SuppressionReason, len(addrs))}
	for _, a := range addrs {
		c.addrs[a] = found[a]
	}
	return context.WithValue(ctx, checkedKey{}, c)
}

// checkedIn reports what Checked put in ctx for org's addr, if anything.
func checkedIn(ctx context.Context, org, addr string) (domain.SuppressionReason, bool) {
	c, ok := ctx.Value(checkedKey{}).(checked)
	if !ok || c.org != org {
		return "", false
	}
	r, ok := c.addrs[addr]
	return r, ok
}

// InvitationReader reads an org's invitation (nil: none), the one an
// event's email carried.
type InvitationReader interface {
	InvitationOfOrg(ctx context.Context, orgID, id string) (*domain.Invitation, error)
}

// EventWriter writes a recorded event (its key, and the suppression,
// invitation and audit entry it brings) in one transaction; false when the
// event was recorded before.
type EventWriter interface {
	RecordSESEvent(ctx context.Context, r domain.SESEventRecord) (bool, error)
}

// EventStore is what Recorder reads and writes: an event without an
// invitation writes only (EventWriter).
type EventStore interface {
	InvitationReader
	EventWriter
}

// Outcome is what recording one event did.
type Outcome string

// Outcomes of Record.
const (
	// Recorded: the audit entry (and the suppression, the invitation) written.
	Recorded Outcome = "recorded"
	// Duplicate: the event was recorded before; nothing written.
	Duplicate Outcome = "duplicate"
	// Ignored: not a bounce or complaint, or not attributable to an org.
	Ignored Outcome = "ignored"
)

// Recorder records SES events.
type Recorder struct {
	Store EventStore
	Now   func() time.Time
	Log   *slog.Logger
}

// maxConflicts bounds the re-reads of an invitation that changed under an
// event (accepted, re-sent, revoked meanwhile): each follows a real change.
const maxConflicts = 3

// Record records one event: a permanent bounce or a complaint suppresses
// its recipient for the org the email was sent for and marks the
// invitation it carried bounced or complained (only while the invitation
// still carries that message, see carries: a later resend's delivery is
// not overwritten by an older email's bounce); a transient bounce is only
// audited. Deliveries and rejects are ignored here (logged by the caller).
// The same event recorded twice writes once.
func (r Recorder) Record(ctx context.Context, e domain.SESEvent) (Outcome, error) {
	if !e.Recorded() {
		return Ignored, nil
	}
	org := e.Tags[emails.TagOrg]
	addr, _ := domain.NormalizeEmail(e.Recipient)
	if !domain.ValidSlug(org) || addr == "" || e.MessageID == "" {
		r.log().WarnContext(ctx, "SES event not attributable to an org: ignored", "kind", e.Kind, "messageId", e.MessageID)
		return Ignored, nil
	}
	invID := e.Tags[emails.TagInvitation]
	if invID != "" && !domain.ValidAuditTarget(domain.InvitationTarget(invID)) {
		invID = ""
	}
	now := time.Now().UTC()
	if r.Now != nil {
		now = r.Now().UTC()
	}
	reason, suppresses := e.Suppresses()
	for attempt := 1; ; attempt++ {
		rec := domain.SESEventRecord{Key: e.Key(), KeyExpires: now.Add(domain.SESEventKeyTTL)}
		after := map[string]any{"email": addr, "messageId": e.MessageID, "detail": e.Detail(), "suppressed": suppresses}
		target := domain.OrgTarget(org)
		if invID != "" {
			target, after["invitationId"] = domain.InvitationTarget(invID), invID
		}
		if suppresses {
			rec.Suppression = &domain.Suppression{OrgID: org, Email: addr, Reason: reason, Detail: e.Detail(), MessageID: e.MessageID, InvitationID: invID, At: now}
			if invID != "" {
				inv, err := r.Store.InvitationOfOrg(ctx, org, invID)
				if err != nil {
					return "", err
				}
				if carries(inv, e) && inv.Delivery != reason.Delivery() {
					next := *inv
					next.Delivery, next.DeliveryNote, next.MessageID = reason.Delivery(), e.Detail(), e.MessageID
					rec.Invitation = &next
					after["delivery"] = string(next.Delivery)
				}
			}
		}
		rec.Audit = domain.NewAudit(org, domain.ActorSystem, e.Action(), target, "ses:"+e.MessageID, now, nil, after)
		ok, err := r.Store.RecordSESEvent(ctx, rec)
		if domain.ErrorCode(err) == domain.ECONFLICT && attempt < maxConflicts {
			continue
		}
		if err != nil {
			return "", err
		}
		if !ok {
			return Duplicate, nil
		}
		return Recorded, nil
	}
}

// carries reports whether a pending invitation's current email is the
// event's message: its recorded message id, or none recorded yet (the
// sender records the delivery after SES answers, and SES's event may come
// first; the invitation's tag names it, so the email in flight is this one).
// An older email's event (a resend recorded since) does not match.
func carries(inv *domain.Invitation, e domain.SESEvent) bool {
	if inv == nil || inv.Status != domain.InvitationPending {
		return false
	}
	return inv.MessageID == e.MessageID || (inv.MessageID == "" && !inv.Delivery.Settled())
}

func (r Recorder) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// CallerLoader reads the org and the caller (nil: none), whose power
// Admin checks first.
type CallerLoader interface {
	LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error)
}

// Lister pages an org's suppressed addresses.
type Lister interface {
	Suppressions(ctx context.Context, orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error)
}

// Clearer deletes an org's suppression of an address with its audit entry.
type Clearer interface {
	ClearSuppression(ctx context.Context, orgID, email string, audit domain.AuditEntry) error
}

// AdminStore is what Admin reads and writes: List reads the caller and
// pages (CallerLoader, Lister), Clear reads the caller and the suppression
// and deletes it (CallerLoader, Lookup, Clearer).
type AdminStore interface {
	Lookup
	CallerLoader
	Lister
	Clearer
}

// Admin is the org admins' view of their org's suppressed addresses.
type Admin struct {
	Store AdminStore
	Now   func() time.Time
}

// caller checks that c is an admin of the org.
func (a Admin) caller(ctx context.Context, c domain.Caller, orgID string) error {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := a.Store.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return err
	}
	if sc.Org == nil || sc.Caller == nil {
		return domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() {
		return domain.Errorf(domain.EFORBIDDEN, "Only organisation admins may see or clear suppressed addresses.")
	}
	return nil
}

// List answers a page of the org's suppressed addresses (org admins only).
func (a Admin) List(ctx context.Context, c domain.Caller, orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error) {
	if err := a.caller(ctx, c, orgID); err != nil {
		return domain.Page[domain.Suppression]{}, err
	}
	return a.Store.Suppressions(ctx, orgID, limit, cursor)
}

// Clear lets the org email an address again (org admins only), with an
// audit entry naming what was cleared. ENOTFOUND when it is not suppressed;
// like any path id, something that is not an address names none.
func (a Admin) Clear(ctx context.Context, c domain.Caller, orgID, rawEmail string) error {
	if err := a.caller(ctx, c, orgID); err != nil {
		return err
	}
	addr, _ := domain.NormalizeEmail(rawEmail)
	if addr == "" {
		return domain.Errorf(domain.ENOTFOUND, "This address is not suppressed.")
	}
	s, err := a.Store.Suppression(ctx, orgID, addr)
	if err != nil {
		return err
	}
	if s == nil {
		return domain.Errorf(domain.ENOTFOUND, "This address is not suppressed.")
	}
	now := time.Now().UTC()
	if a.Now != nil {
		now = a.Now().UTC()
	}
	before := map[string]any{"email": s.Email, "reason": string(s.Reason), "detail": s.Detail, "at": s.At.Format(time.RFC3339)}
	if s.InvitationID != "" {
		before["invitationId"] = s.InvitationID
	}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionSuppressionClear, domain.OrgTarget(orgID), c.RequestID, now, before, map[string]any{"email": s.Email})
	return a.Store.ClearSuppression(ctx, orgID, addr, audit)
}

// ErrNotSESEvent is returned by Parse for a body that is not an SES event.
var ErrNotSESEvent = errors.New("suppress: not an SES event")
