// Command reverify is ReverifyFunction: on a schedule, it finds the
// external users whose two-step verification lapsed, marks them as needing
// it and emails them the verification page's link.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/sesmailer"
	"github.com/guestaccess/guestaccess/shared/reverify/reverifyapi"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	mailer := sesmailer.New(ses.NewFromConfig(env.AWS), env.Sender).WithConfigurationSet(env.ConfigurationSet)
	lambda.StartHandlerFunc(reverifyapi.Reverify(env, st, mailer))
}
