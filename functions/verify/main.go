// Command verify is VerifyFunction: the two-step verification page (GET
// shows, POST hands a one-time passcode to the email queue, whose sender
// mints and emails it, or checks one).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/passcode/passcodeapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	emails := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EMAIL_QUEUE_URL"))
	lambda.StartHandlerFunc(passcodeapi.VerifyPage(env, st, emails))
}
