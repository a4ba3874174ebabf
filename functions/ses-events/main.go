// Command ses-events is SesEventsFunction: SES's bounce, complaint and
// delivery events (configuration set -> SNS topic -> SQS queue) recorded
// as suppressions, invitations' deliveries and audit entries.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
)

func main() {
	env := app.MustLoad()
	lambda.StartHandlerFunc(app.SesEvents(env, app.Store(env)))
}
