// Package reverifyapi wires the scheduled re-verification job
// (ReverifyFunction) to the store and the mailer.
package reverifyapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/reverify"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Reverify is ReverifyFunction's handler: one run of the scheduled
// re-verification job (EventBridge rule). It reads the users due from the
// due index, emails those whose verification lapsed (links under
// PUBLIC_BASE_URL) and stops well before the invocation's deadline; the
// next run goes on. Its audit entries carry the event's id.
func Reverify(env config.Env, st *store.Store, mailer emails.Mailer) func(context.Context, events.EventBridgeEvent) (reverify.Report, error) {
	if env.Sender == "" {
		env.Log.Warn("SENDER_ADDRESS is not set; re-verification emails will fail")
	}
	job := &reverify.Job{Ports: reverify.PortsOf(st), Mailer: mailer, BaseURL: env.PublicBaseURL, Now: env.Now, Log: env.Log, SendRate: env.SendRate}
	return func(ctx context.Context, ev events.EventBridgeEvent) (reverify.Report, error) {
		return job.Run(ctx, ev.ID)
	}
}
