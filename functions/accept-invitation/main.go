// Command accept-invitation is AcceptInvitationFunction: the page behind the
// invitation email link (GET shows, POST accepts).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.AcceptInvitation(env, app.Store(env)))
}
