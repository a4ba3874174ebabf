package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/sqsworker"
)

// sqsWorker is the queue workers' Lambda handler (sqsworker.Handler), for
// the constructors still in this package.
func sqsWorker(env config.Env, name string, handle, dead func(context.Context, string) error) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return sqsworker.Handler(env, name, handle, dead)
}
