// Command invitations is InvitationsFunction: GET /orgs/{orgId}/sites/{siteId}/invitations and
// POST .../invitations/{invitationId}/resend (the email goes to the email queue).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/guestaccess/guestaccess/shared/invitations/invitationsapi"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	emails := sqsqueue.New(sqs.NewFromConfig(env.AWS), os.Getenv("EMAIL_QUEUE_URL"))
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(invitationsapi.Invitations(env, st, invitationsdb.New(st), emails))
}
