// Package invites holds the application services of invitations: inviting
// people to a site (Inviter), the page behind the email link (Acceptor) and
// the scheduled retry of undelivered emails (Retrier). Each declares the
// small store interface it needs; none knows DynamoDB, SES or API Gateway.
package invites

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/email"
)

// Sender sends one rendered email and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, msg email.Message) (string, error)
}

// Config is the deployment's settings for invitations.
type Config struct {
	// AcceptURL gives the absolute URL of the accept page for the request
	// (or job) in ctx; the token is added as ?token=. A request's is under
	// the API's public URL as that request reached it (shared/publicurl).
	AcceptURL func(ctx context.Context) string
	// Lifetime is how long an invitation link stays valid.
	Lifetime time.Duration
	// RetryAfter is when an undelivered email is due again (doubling per attempt).
	RetryAfter time.Duration
	// SendRate caps emails per second (SES's account sending rate); 0 means
	// DefaultSendRate. Up to SendRate emails leave at once.
	SendRate int
}

// DefaultSendRate is SES's default production sending rate (emails per second).
const DefaultSendRate = 14

// outbox renders and sends invitation emails, all at once within the send rate.
type outbox struct {
	mailer Sender
	cfg    Config
	log    *slog.Logger
}

// AcceptLink returns the link a token is accepted through.
func AcceptLink(acceptURL, token string) string {
	u, err := url.Parse(acceptURL)
	if err != nil {
		return acceptURL + "?token=" + url.QueryEscape(token)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}

// send emails each invitation (with its token) in one concurrent wave paced
// by the send rate, and returns each one's delivery outcome. It never fails:
// an email SES refuses is a failed delivery, due again after a backoff.
func (o outbox) send(ctx context.Context, invs []domain.Invitation, tokens []string, now time.Time) []domain.Delivery {
	out := make([]domain.Delivery, len(invs))
	rate := o.cfg.SendRate
	if rate <= 0 {
		rate = DefaultSendRate
	}
	var wg sync.WaitGroup
	for k := range invs {
		// Emails beyond the first second's burst wait for their slot.
		delay := time.Duration(k/rate) * time.Second
		wg.Add(1)
		go func() {
			defer wg.Done()
			if delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
			out[k] = o.deliver(ctx, invs[k], tokens[k], now)
		}()
	}
	wg.Wait()
	return out
}

func (o outbox) deliver(ctx context.Context, inv domain.Invitation, token string, now time.Time) domain.Delivery {
	msg, err := email.RenderInvitation(emailOf(inv, AcceptLink(o.cfg.AcceptURL(ctx), token)))
	var id string
	if err == nil {
		msg.Tags = InvitationTags(inv)
		id, err = o.mailer.Send(ctx, msg)
	}
	inv.Attempts++
	if se := (*email.SuppressedError)(nil); errors.As(err, &se) {
		// Not a failure: the address bounced or complained before, and
		// stays unmailed until an admin clears it. Nothing is retried.
		o.log.InfoContext(ctx, "invitation email not sent: the address is suppressed", "invitationId", inv.ID, "reason", se.Reason)
		inv.Delivery, inv.DeliveryNote = se.Reason.Delivery(), "suppressed"
		return domain.Delivery{Invitation: inv, RetryAt: now}
	}
	if err != nil {
		o.log.WarnContext(ctx, "invitation email not sent", "invitationId", inv.ID, "attempt", inv.Attempts, "err", err)
		inv.Delivery, inv.DeliveryNote = domain.DeliveryFailed, truncate(err.Error(), 500)
		return domain.Delivery{Invitation: inv, RetryAt: now.Add(Backoff(o.cfg.RetryAfter, inv.Attempts))}
	}
	inv.Delivery, inv.MessageID, inv.DeliveryNote = domain.DeliverySent, id, ""
	return domain.Delivery{Invitation: inv, RetryAt: now}
}

// InvitationTags are the SES message tags of an invitation's email: the
// org (whose suppressions apply) and the invitation, which SES's bounce and
// complaint events carry back to mark it.
func InvitationTags(inv domain.Invitation) map[string]string {
	return map[string]string{email.TagOrg: inv.OrgID, email.TagKind: email.KindTagInvitation, email.TagInvitation: inv.ID}
}

// emailOf is what the email of an invitation says: who invited whom to
// which site, and what the invitee becomes there.
func emailOf(inv domain.Invitation, link string) email.Invitation {
	roles := map[string]string{}
	for p, r := range inv.Effective() {
		roles[string(p)] = string(r)
	}
	return email.Invitation{To: inv.Email, InviterName: inv.InviterName, OrgName: inv.OrgName, SiteName: inv.SiteName,
		SiteHost: inv.SiteHost, Message: inv.Message, AcceptURL: link, ExpiresAt: inv.ExpiresAt,
		Kind: string(inv.Kind), Roles: roles}
}

// MaxRetryDelay caps the wait between two attempts at one email.
const MaxRetryDelay = 6 * time.Hour

// Backoff is the wait before attempt n+1 after n failed attempts: base,
// doubling, capped at MaxRetryDelay.
func Backoff(base time.Duration, attempts int) time.Duration {
	if base <= 0 {
		base = 15 * time.Minute
	}
	d := base
	for i := 1; i < attempts && d < MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, MaxRetryDelay)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

func clock(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}
