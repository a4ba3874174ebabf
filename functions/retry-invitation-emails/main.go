// Command retry-invitation-emails is RetryInvitationEmailsFunction: on a
// schedule, it queues the invitation emails whose hand-off to the email
// queue is overdue (lost between a commit and the queue, a sender that
// died, a retry due), and releases the invitations that lapsed.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
)

func main() {
	env := config.MustLoad()
	emails := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EMAIL_QUEUE_URL"))
	lambda.StartHandlerFunc(app.RetryInvitationEmails(env, app.Store(env), emails))
}
