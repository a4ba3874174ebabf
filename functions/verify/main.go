// Command verify is VerifyFunction: the two-step verification page (GET
// shows, POST emails a one-time passcode or checks one).
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
	lambda.StartHandlerFunc(app.VerifyPage(env, app.Store(env), mailer))
}
