// Command invitations is InvitationsFunction: GET /orgs/{orgId}/sites/{siteId}/invitations and
// POST .../invitations/{invitationId}/resend (the email goes to the email queue).
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
	lambda.StartHandlerFunc(app.Invitations(env, app.Store(env), emails))
}
