package groupsapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Jobs is the fan-out service of group role changes and deletions.
func Jobs(env config.Env, st *store.Store, q queue.Sender) *jobs.Service {
	svc := jobs.New(st, q)
	svc.Now, svc.Log = env.Now, env.Log
	return svc
}

// GroupJobsWorker is GroupJobsWorkerFunction's handler: SQS events of the
// jobs queue (plans, pages, finishers) and of its dead-letter queue (pages
// that kept failing, recorded in their job). Each record that fails is
// reported alone (ReportBatchItemFailures) and comes back after the
// visibility timeout.
func GroupJobsWorker(env config.Env, svc *jobs.Service) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsworker.Handler(env, "jobs worker", svc.Handle, svc.Dead)
}
