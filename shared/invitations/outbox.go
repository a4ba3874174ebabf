// Package invitations holds the application services of invitations: inviting
// people to a site (Inviter), the page behind the email link (Acceptor) and
// the scheduled sweep of emails whose hand-off to the email queue is
// overdue, with the release of lapsed invitations (Retrier). Each declares the
// small store interface it needs; none knows DynamoDB, SES or API Gateway.
package invitations

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// Config is the deployment's settings for invitations.
type Config struct {
	// AcceptURL is the absolute URL of the accept page; the token is added
	// as ?token=. Only the email sender renders links (EmailSenderFunction,
	// which the API does not integrate, so its PUBLIC_BASE_URL may name
	// the API's URL without a circular dependency).
	AcceptURL string
	// Lifetime is how long an invitation link stays valid.
	Lifetime time.Duration
}

// AcceptPath is the accept page's path under the public base URL.
const AcceptPath = "/invitations/accept"

// ConfigOf is the settings of a deployment whose public base URL is
// publicBaseURL and whose links live for lifetime.
func ConfigOf(publicBaseURL string, lifetime time.Duration) Config {
	return Config{AcceptURL: publicBaseURL + AcceptPath, Lifetime: lifetime}
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

// Renderer renders an invitation's email with the link of token, for the
// email sender (emails.Sender.Render).
func Renderer(acceptURL string) func(inv domain.Invitation, token string) (emails.Message, error) {
	return func(inv domain.Invitation, token string) (emails.Message, error) {
		msg, err := emails.RenderInvitation(emailOf(inv, AcceptLink(acceptURL, token)))
		msg.Tags = InvitationTags(inv)
		return msg, err
	}
}

// handOff gives the email queue the jobs of invitations whose write just
// committed (each invitation is its own outbox entry: delivery pending,
// due in the DUE#EMAIL index SendGrace after its write). A failed hand-off
// loses nothing: the sweep (the invitation job) queues every entry whose
// hand-off is overdue. It returns how many were queued.
func handOff(ctx context.Context, q queue.Sender, log *slog.Logger, invs []domain.Invitation) int {
	if len(invs) == 0 {
		return 0
	}
	msgs := make([]queue.Message, len(invs))
	for i, inv := range invs {
		msgs[i] = emails.InvitationJob(inv).Message(0)
	}
	err := q.Send(ctx, msgs...)
	if err == nil {
		return len(msgs)
	}
	var se *queue.SendError
	failed := len(msgs)
	if errors.As(err, &se) {
		failed = len(se.Failed)
	}
	log.WarnContext(ctx, "emails not handed to the queue; the sweep will queue them", "failed", failed, "err", err)
	return len(msgs) - failed
}

// InvitationTags are the SES message tags of an invitation's email: the
// org (whose suppressions apply) and the invitation, which SES's bounce and
// complaint events carry back to mark it.
func InvitationTags(inv domain.Invitation) map[string]string {
	return map[string]string{emails.TagOrg: inv.OrgID, emails.TagKind: emails.KindTagInvitation, emails.TagInvitation: inv.ID}
}

// emailOf is what the email of an invitation says: who invited whom to
// which site, and what the invitee becomes there.
func emailOf(inv domain.Invitation, link string) emails.Invitation {
	roles := map[string]string{}
	for p, r := range inv.Effective() {
		roles[string(p)] = string(r)
	}
	return emails.Invitation{To: inv.Email, InviterName: inv.InviterName, OrgName: inv.OrgName, SiteName: inv.SiteName,
		SiteHost: inv.SiteHost, Message: inv.Message, AcceptURL: link, ExpiresAt: inv.ExpiresAt,
		Kind: string(inv.Kind), Roles: roles}
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
