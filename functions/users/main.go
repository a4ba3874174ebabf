// Command users is UsersFunction: an account's life in its org (removal,
// suspension) and revoking a site's pending invitation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.Users(env, app.Store(env)))
}
