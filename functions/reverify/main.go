// Command reverify is ReverifyFunction: on a schedule, it finds the
// external users whose two-step verification lapsed, marks them as needing
// it and emails them the verification page's link.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/sesmailer"
)

func main() {
	env := config.MustLoad()
	mailer := sesmailer.New(ses.NewFromConfig(env.AWS), env.Sender).WithConfigurationSet(env.ConfigurationSet)
	lambda.StartHandlerFunc(app.Reverify(env, app.Store(env), mailer))
}
