// Command groups is GroupsFunction: an organisation's groups and their
// memberships (/orgs/{orgId}/groups..., /orgs/{orgId}/users/{accountId}/groups).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
)

func main() {
	env := app.MustLoad()
	lambda.StartHandlerFunc(app.Groups(env, app.Store(env)))
}
