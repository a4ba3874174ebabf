// Command invitations is InvitationsFunction: GET /orgs/{orgId}/sites/{siteId}/invitations and
// POST .../invitations/{invitationId}/resend.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/sesmailer"
)

func main() {
	env := app.MustLoad()
	mailer := sesmailer.New(ses.NewFromConfig(env.AWS), env.Sender).WithConfigurationSet(env.ConfigurationSet)
	lambda.StartHandlerFunc(app.Invitations(env, app.Store(env), mailer))
}
