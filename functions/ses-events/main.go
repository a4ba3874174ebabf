// Command ses-events is SesEventsFunction: SES's bounce, complaint and
// delivery events (configuration set -> SNS topic -> SQS queue) recorded
// as suppressions, invitations' deliveries and audit entries.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.SesEvents(env, app.Store(env)))
}
