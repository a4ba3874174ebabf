// Command ses-events is SesEventsFunction: SES's bounce, complaint and
// delivery events (configuration set -> SNS topic -> SQS queue) recorded
// as suppressions, invitations' deliveries and audit entries.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppressions/suppressionsapi"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(suppressionsapi.SesEvents(env, st))
}
