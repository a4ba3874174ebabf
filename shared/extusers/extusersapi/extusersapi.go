// Package extusersapi is the external users' HTTP and queue side: the
// handler of ExternalUsersFunction's routes (verified domains, the list,
// the CSV export and its jobs), the export worker's handler, and the
// constructors that wire them to the store, the queue and the services.
package extusersapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domains/domainsapi"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Exports is the external users' service: verified domains, the list and
// the export, whose jobs' pages travel on q (the exports queue), within
// limits (zero fields: the defaults; the dev stack's tests pass small ones).
func Exports(env config.Env, st *store.Store, q queue.Sender, limits extusers.Limits) *extusers.Service {
	return &extusers.Service{Ports: extusers.PortsOf(st), Queue: q, Limits: limits, Checker: domainsapi.Checker(env, st), Checks: env.DomainChecks,
		Now: env.Now, Log: env.Log}
}

// ExternalUsers is ExternalUsersFunction's handler: an organisation's
// verified domains, its external users (list, CSV export, export jobs),
// with idempotency keys on the changes.
func ExternalUsers(env config.Env, st *store.Store, q queue.Sender, limits extusers.Limits) httpapi.Handler {
	return env.CORS(httpapi.Endpoint{Handler: ExternalUsersHandler{Service: Exports(env, st, q, limits), Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// ExportWorker is ExportWorkerFunction's handler: SQS events of the
// exports queue (one export page a record) and of its dead-letter queue
// (a page that kept failing: its job failed). Each record that fails is
// reported alone (ReportBatchItemFailures); records not started when the
// deadline nears are left for redelivery.
func ExportWorker(env config.Env, svc *extusers.Service) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsworker.Handler(env, "export worker", svc.HandlePage, svc.Dead)
}
