// Command spaces is SpacesFunction: a site's Confluence spaces, their
// admins and guests, and each guest's one space.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
)

func main() {
	env := app.MustLoad()
	lambda.StartHandlerFunc(app.Spaces(env, app.Store(env)))
}
