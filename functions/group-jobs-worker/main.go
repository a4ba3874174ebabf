// Command group-jobs-worker is GroupJobsWorkerFunction: it applies group role
// changes and deletions to every member, page by page, from the jobs queue
// (SQS event, ReportBatchItemFailures), and records the pages that reach the
// dead-letter queue.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	q := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("GROUP_JOBS_QUEUE_URL"))
	// Pages wait for a conflicted transaction longer than a request does
	// and leave their site's counter item free between them (docs/data-model.md,
	// "Capacity").
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	st.Retry = store.JobRetry
	svc := groupsapi.Jobs(env, st, q)
	svc.PagePause = jobs.DefaultPagePause
	lambda.StartHandlerFunc(groupsapi.GroupJobsWorker(env, svc))
}
