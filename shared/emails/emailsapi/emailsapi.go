// Package emailsapi wires the email sender (package emails) as
// EmailSenderFunction and the dev stack run it.
package emailsapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppressions"
)

// EmailSender is the sender of the email queue (emails), as
// EmailSenderFunction and the dev stack run it: mailer sends behind the
// org's suppression check (suppressions.Gate: the one place every email passes), paced account-wide at
// env.SendRate by the table's per-second window; retries go back to the
// email queue, what keeps failing to its dead-letter queue. The invitations'
// emails are claimed and recorded by db; st holds the passcodes and the
// suppressions.
func EmailSender(env config.Env, st *store.Store, db *emailsdb.Store, mailer emails.Mailer, retries, dead queue.Sender) *emails.Sender {
	if env.Sender == "" {
		env.Log.Warn("SENDER_ADDRESS is not set; emails will fail")
	}
	return &emails.Sender{Store: db, Passcodes: st, Mailer: suppressions.Gate{Next: mailer, Store: st},
		Render:  invitations.Renderer(invitations.ConfigOf(env.PublicBaseURL, env.Lifetime).AcceptURL),
		Pacer:   &emails.Pacer{Window: emailsdb.SendWindow{Store: db}, Rate: env.SendRate},
		Retries: retries, DeadLetters: dead, Now: env.Now, Log: env.Log, Metrics: env.Metrics}
}

// EmailWorker is EmailSenderFunction's handler: each record of the email
// queue (SQS event, ReportBatchItemFailures) is one email; a record that
// fails comes back after the visibility timeout.
func EmailWorker(env config.Env, s *emails.Sender) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsworker.Handler(env, "email sender", s.Handle, s.Handle)
}
