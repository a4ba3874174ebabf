package invitationsapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppressions"
)

// The constructors of the invitations' functions, as their mains and the
// dev stack wire them.

func invitesConfig(env config.Env) invitations.Config {
	return invitations.ConfigOf(env.PublicBaseURL, env.Lifetime)
}

// InviteGuests is InviteGuestsFunction's handler: POST
// /orgs/{orgId}/sites/{siteId}/invitations, with idempotency keys (st).
// The invitations are written by db; the emails go to the email queue
// emails.
func InviteGuests(env config.Env, st *store.Store, db *invitationsdb.Store, emails queue.Sender) httpapi.Handler {
	svc := &invitations.Inviter{Store: db, Emails: emails, Config: invitesConfig(env), Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return env.CORS(httpapi.Endpoint{Handler: InviteHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// AcceptInvitation is AcceptInvitationFunction's handler: the page behind
// the email link.
func AcceptInvitation(env config.Env, db *invitationsdb.Store) httpapi.Handler {
	svc := &invitations.Acceptor{Store: db, Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return env.CORS(httpapi.Endpoint{Handler: AcceptHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// Invitations is InvitationsFunction's handler: a site's invitations
// (list) and resend, with idempotency keys on resends; a resent
// invitation's email goes to the email queue emails. The invitations are
// read and written by db; st keeps the idempotency keys and serves the
// suppression routes.
func Invitations(env config.Env, st *store.Store, db *invitationsdb.Store, emails queue.Sender) httpapi.Handler {
	svc := &invitations.Manager{Store: db, Emails: emails, Config: invitesConfig(env), Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	sup := httpapi.SuppressionsHandler{Service: suppressions.Admin{Store: st, Now: env.Now}}
	return env.CORS(httpapi.Endpoint{Handler: InvitationsHandler{Service: svc, Suppressions: sup, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// RetryBatch is how many due invitations one run of the retry job queues
// (the sender sends them at the account's rate); the rest wait for the next
// run.
const RetryBatch = 1000

// ReleaseBatch is how many lapsed invitations one run of the job releases
// (each one Query and one transaction); the rest wait for the next run.
const ReleaseBatch = 100

// RetryInvitationEmails is RetryInvitationEmailsFunction's handler: one run
// of the scheduled invitation job (EventBridge rule): it queues the emails
// whose hand-off is overdue (at most RetryBatch) on the email queue emails,
// then releases the invitations that lapsed (at most ReleaseBatch), whose
// audit entries carry the event's id.
func RetryInvitationEmails(env config.Env, db *invitationsdb.Store, emails queue.Sender) func(context.Context, events.EventBridgeEvent) (invitations.RetryReport, error) {
	svc := &invitations.Retrier{Store: db, Emails: emails, Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return func(ctx context.Context, ev events.EventBridgeEvent) (invitations.RetryReport, error) {
		return svc.Run(ctx, ev.ID, RetryBatch, ReleaseBatch)
	}
}
