// Command group-jobs-worker is GroupJobsWorkerFunction: it applies group role
// changes and deletions to every member, page by page, from the jobs queue
// (SQS event, ReportBatchItemFailures), and records the pages that reach the
// dead-letter queue.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/queue/sqsqueue"
)

func main() {
	env := app.MustLoad()
	q := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("GROUP_JOBS_QUEUE_URL"))
	lambda.StartHandlerFunc(app.GroupJobsWorker(env, app.Jobs(env, app.Store(env), q)))
}
