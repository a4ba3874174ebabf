// Command export-worker is ExportWorkerFunction: it writes the external
// users' export jobs page by page from the exports queue (SQS event,
// ReportBatchItemFailures), and marks failed the jobs whose page reached
// the dead-letter queue.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
)

func main() {
	env := config.MustLoad()
	q := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EXPORTS_QUEUE_URL"))
	lambda.StartHandlerFunc(app.ExportWorker(env, app.Exports(env, app.Store(env), q, extusers.Limits{})))
}
