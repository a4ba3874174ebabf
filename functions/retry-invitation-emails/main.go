// Command retry-invitation-emails is RetryInvitationEmailsFunction: on a
// schedule, it sends the invitation emails that failed or were never sent.
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
	lambda.StartHandlerFunc(app.RetryInvitationEmails(env, app.Store(env), mailer))
}
