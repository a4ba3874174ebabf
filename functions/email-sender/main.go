// Command email-sender is EmailSenderFunction: it sends the emails of the
// email queue (SQS event, ReportBatchItemFailures), each claimed in the
// table, paced account-wide under SES_MAX_SEND_RATE, its outcome recorded;
// retries go back to the queue with a delay, what keeps failing to the
// dead-letter queue.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/emails/emailsapi"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/platform/sesmailer"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	mailer := sesmailer.New(ses.NewFromConfig(env.AWS), env.Sender)
	client := sqs.NewFromConfig(env.AWS)
	retries := sqsqueue.New(client, os.Getenv("EMAIL_QUEUE_URL"))
	dead := sqsqueue.New(client, os.Getenv("EMAIL_DEAD_LETTER_QUEUE_URL"))
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(emailsapi.EmailWorker(env, emailsapi.EmailSender(env, st, emailsdb.New(st), mailer, retries, dead)))
}
