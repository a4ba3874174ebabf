// Command roles is RolesFunction: users' direct roles on sites' products and
// their effective roles with why.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.Roles(env, app.Store(env)))
}
