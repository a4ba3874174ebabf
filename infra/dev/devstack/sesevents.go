package devstack

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/infra/dev/localqueue"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// SesEventsFunctionID records SES's events, in process, from the stack's
// SES events queue.
const SesEventsFunctionID = "SesEventsFunction"

// ConfigurationSet is the SES configuration set the stack's sends name
// (the deployment's is SesConfigurationSet's name).
const ConfigurationSet = "guestaccess-dev-email"

// SimulatorDomain is SES's mailbox simulator's domain. The local SES
// inbox delivers everything, so the stack plays the simulator's events
// itself: an email to bounce@ bounces permanently, to complaint@ is
// complained about, to suppressionlist@ bounces as if on SES's account-level
// suppression list, to success@ is delivered; each event goes, as SES's
// configuration set would publish it (raw SNS delivery), to the SES events
// queue that SesEventsFunction consumes. A "+label" keeps addresses apart:
// bounce+pat@simulator.amazonses.com bounces too (as on SES).
const SimulatorDomain = "simulator.amazonses.com"

// simulatedSES sends through next, then publishes the simulator's event of
// each email to a simulator address.
type simulatedSES struct {
	next   emails.Mailer
	events queue.Sender
	now    func() time.Time
}

// Send sends msg, then queues its simulated event.
func (s simulatedSES) Send(ctx context.Context, msg emails.Message) (string, error) {
	id, err := s.next.Send(ctx, msg)
	if err != nil {
		return id, err
	}
	if body, ok := SimulatedEvent(msg, id, s.now()); ok {
		// SES publishes after the send returns; a failure here is SNS's
		// problem in AWS, so it does not fail the send.
		_ = s.events.Send(context.WithoutCancel(ctx), queue.Message{Body: body})
	}
	return id, nil
}

// SimulatedEvent is the SES event (configuration set event publishing's
// JSON) that SES's mailbox simulator produces for an email sent to one of
// its addresses; false for any other address.
func SimulatedEvent(msg emails.Message, messageID string, at time.Time) (string, bool) {
	local, dom, ok := strings.Cut(strings.ToLower(msg.To), "@")
	if !ok || dom != SimulatorDomain {
		return "", false
	}
	local, _, _ = strings.Cut(local, "+")
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	tags := map[string][]string{"ses:configuration-set": {ConfigurationSet}}
	for k, v := range msg.Tags {
		tags[k] = []string{v}
	}
	ev := map[string]any{"mail": map[string]any{"timestamp": ts, "messageId": messageID, "destination": []string{msg.To}, "tags": tags}}
	recipients := []map[string]string{{"emailAddress": msg.To}}
	switch local {
	case "bounce":
		ev["eventType"] = "Bounce"
		ev["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipients, "timestamp": ts, "feedbackId": messageID + "-b"}
	case "suppressionlist":
		ev["eventType"] = "Bounce"
		ev["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "OnAccountSuppressionList", "bouncedRecipients": recipients, "timestamp": ts, "feedbackId": messageID + "-b"}
	case "complaint":
		ev["eventType"] = "Complaint"
		ev["complaint"] = map[string]any{"complainedRecipients": recipients, "complaintFeedbackType": "abuse", "timestamp": ts, "feedbackId": messageID + "-c"}
	case "success":
		ev["eventType"] = "Delivery"
		ev["delivery"] = map[string]any{"recipients": []string{msg.To}, "timestamp": ts, "processingTimeMillis": 1}
	default:
		return "", false
	}
	b, _ := json.Marshal(ev)
	return string(b), true
}

// startSESEvents starts the SES events queue (in process, SQS semantics)
// feeding SesEventsFunction's handler, and returns the mailer the stack's
// functions send through: the SES emulator with the simulator's events.
func (st *Stack) startSESEvents(o Options, next emails.Mailer, handler localqueue.Handler) emails.Mailer {
	as := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return handler(WithFunction(ctx, SesEventsFunctionID), ev)
	}
	st.SESEvents = localqueue.New(localqueue.Options{Name: "ses-events", MaxReceiveCount: 5, BatchSize: 10, VisibilityTimeout: o.JobsVisibility,
		Handler: as, Log: o.Log})
	st.SESEvents.Start(context.Background())
	st.closers = append(st.closers, st.SESEvents.Close)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return simulatedSES{next: next, events: st.SESEvents, now: now}
}
