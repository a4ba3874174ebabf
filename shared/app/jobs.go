package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/fanout"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
	"github.com/guestaccess/guestaccess/shared/store"
)

// WorkerReserve is the time a worker invocation keeps in hand before its
// deadline: records it has not started by then are reported as failures,
// and the queue delivers them again, so no invocation runs into its timeout.
const WorkerReserve = sqsworker.WorkerReserve

// Jobs is the fan-out service of group role changes and deletions.
func Jobs(env config.Env, st *store.Store, q queue.Sender) *fanout.Service {
	return &fanout.Service{Store: st, Queue: q, Now: env.Now, Log: env.Log}
}

// GroupJobsWorker is GroupJobsWorkerFunction's handler: SQS events of the
// jobs queue (plans, pages, finishers) and of its dead-letter queue (pages
// that kept failing, recorded in their job). Each record that fails is
// reported alone (ReportBatchItemFailures) and comes back after the
// visibility timeout.
func GroupJobsWorker(env config.Env, svc *fanout.Service) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsWorker(env, "jobs worker", svc.Handle, svc.Dead)
}

// sqsWorker is sqsworker.Handler (the worker functions' one SQS loop).
func sqsWorker(env config.Env, name string, handle, dead func(context.Context, string) error) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsworker.Handler(env, name, handle, dead)
}
