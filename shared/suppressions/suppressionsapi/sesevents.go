// Package suppressionsapi is SesEventsFunction's constructor: SES's
// bounce, complaint and delivery events, queued, recorded as suppressions
// (package suppressions), invitations' deliveries and audit entries. The
// check before every send (suppressions.Gate) is wired by the email
// sender's constructor.
package suppressionsapi

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppressions"
)

// SES event metric names (EMF counts).
const (
	metricSESRecorded  = "SESEventsRecorded"
	metricSESDuplicate = "SESEventsDuplicate"
	metricSESIgnored   = "SESEventsIgnored"
	metricSESBounce    = "SESBounces"
	metricSESComplaint = "SESComplaints"
	metricSESDelivery  = "SESDeliveries"
)

// SesEvents is SesEventsFunction's handler: SQS records of the SES events
// queue, each an SES event (the SNS topic delivers it raw). A record that is not an SES
// event is logged and dropped (it never will be one); a record whose
// recording fails is reported alone and comes back.
func SesEvents(env config.Env, st *store.Store) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	rec := suppressions.Recorder{Store: st, Now: env.Now, Log: env.Log}
	handle := func(ctx context.Context, body string) error {
		evs, err := suppressions.Parse([]byte(body))
		if errors.Is(err, suppressions.ErrNotSESEvent) {
			env.Log.WarnContext(ctx, "SES events: a record that is not an SES event was dropped", "err", err)
			env.Metrics.Count(map[string]int{metricSESIgnored: 1})
			return nil
		}
		counts := map[string]int{}
		for _, e := range evs {
			switch e.Kind {
			case domain.SESBounce:
				counts[metricSESBounce]++
			case domain.SESComplaint:
				counts[metricSESComplaint]++
			case domain.SESDelivery:
				counts[metricSESDelivery]++
			}
			out, err := rec.Record(ctx, e)
			if err != nil {
				env.Metrics.Count(counts)
				return err
			}
			env.Log.InfoContext(ctx, "SES event", "kind", e.Kind, "messageId", e.MessageID, "detail", e.Detail(), "outcome", out)
			switch out {
			case suppressions.Recorded:
				counts[metricSESRecorded]++
			case suppressions.Duplicate:
				counts[metricSESDuplicate]++
			}
		}
		env.Metrics.Count(counts)
		return nil
	}
	// The template leaves the dead-letter queue unconsumed (an alarm, then
	// a redrive to the queue once the cause is fixed); consumed, it is
	// handled the same way.
	return sqsworker.Handler(env, "SES events", handle, handle)
}
