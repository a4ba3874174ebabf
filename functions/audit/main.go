// Command audit is AuditFunction: an organisation's audit log, newest
// first, filtered by actor, target and time.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.Audit(env, app.Store(env)))
}
