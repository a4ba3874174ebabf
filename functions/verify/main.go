// Command verify is VerifyFunction: the two-step verification page (GET
// shows, POST hands a one-time passcode to the email queue, whose sender
// mints and emails it, or checks one).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/passcode/passcodeapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
)

func main() {
	env := config.MustLoad()
	emails := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EMAIL_QUEUE_URL"))
	lambda.StartHandlerFunc(passcodeapi.VerifyPage(env, app.Store(env), emails))
}
