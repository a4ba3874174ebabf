// Command invite-guests is InviteGuestsFunction: POST /orgs/{orgId}/sites/{siteId}/invitations.
// The invitations' emails go to the email queue (EmailSenderFunction sends them).
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
	lambda.StartHandlerFunc(invitationsapi.InviteGuests(env, st, invitationsdb.New(st), emails))
}
