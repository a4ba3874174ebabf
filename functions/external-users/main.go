// Command external-users is ExternalUsersFunction: an organisation's
// verified domains, its external users (paginated, filtered), their CSV
// export, and export jobs (created, read, downloaded).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/extusers/extusersapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	q := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EXPORTS_QUEUE_URL"))
	lambda.StartHandlerFunc(extusersapi.ExternalUsers(env, st, q, extusers.Limits{}))
}
