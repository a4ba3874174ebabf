// Command spaces is SpacesFunction: a site's Confluence spaces, their
// admins and guests, and each guest's one space.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.Spaces(env, app.Store(env)))
}
