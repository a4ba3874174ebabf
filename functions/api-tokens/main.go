// Command api-tokens is ApiTokensFunction: a user's API tokens (create,
// list, revoke; rules §9).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.APITokens(env, app.Store(env)))
}
