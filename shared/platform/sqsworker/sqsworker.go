// Package sqsworker is the Lambda handler of a queue worker: an SQS event
// handled record by record (ReportBatchItemFailures), the records of a
// dead-letter queue apart, and the dead letters counted in a metric.
package sqsworker

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// WorkerReserve is the time a worker invocation keeps in hand before its
// deadline: records it has not started by then are reported as failures,
// and the queue delivers them again, so no invocation runs into its timeout.
const WorkerReserve = 5 * time.Second

// Handler handles an SQS event record by record: a record of a
// dead-letter queue goes to dead, any other to handle. Each record that
// fails is reported alone (ReportBatchItemFailures) and comes back after
// the visibility timeout; records not started when the invocation's
// deadline is nearer than WorkerReserve are left for redelivery. The
// dead-letter records handled (each a failed job's page) are counted in
// metrics.JobPagesFailed, which an alarm watches.
func Handler(env config.Env, name string, handle, dead func(context.Context, string) error) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		failedJobs := 0
		defer func() {
			if failedJobs > 0 {
				env.Metrics.Count(map[string]int{metrics.JobPagesFailed: failedJobs})
			}
		}()
		deadline, bounded := ctx.Deadline()
		for i, r := range ev.Records {
			if bounded && time.Until(deadline) < WorkerReserve {
				for _, rest := range ev.Records[i:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
				}
				env.Log.WarnContext(ctx, name+": near the deadline; records left for redelivery", "left", len(ev.Records)-i)
				break
			}
			f, deadLetter := handle, queue.IsDeadLetterARN(r.EventSourceARN)
			if deadLetter {
				f = dead
			}
			if err := f(ctx, r.Body); err != nil {
				env.Log.WarnContext(ctx, name+": record failed; it will be delivered again", "messageId", r.MessageId, "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			} else if deadLetter {
				// A page that kept failing: its job is marked failed now.
				failedJobs++
				env.Log.ErrorContext(ctx, name+": a page reached the dead-letter queue; its job is failed", "messageId", r.MessageId)
			}
		}
		return resp, nil
	}
}
