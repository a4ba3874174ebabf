// Command groups is GroupsFunction: an organisation's groups, their
// memberships, and the jobs that change a group's role or delete it
// (/orgs/{orgId}/groups..., /orgs/{orgId}/users/{accountId}/groups,
// /orgs/{orgId}/jobs/{jobId}).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	jobs := groupsapi.Jobs(env, st, sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("GROUP_JOBS_QUEUE_URL")))
	lambda.StartHandlerFunc(groupsapi.Groups(env, st, jobs))
}
