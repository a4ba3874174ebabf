// Command api-tokens is ApiTokensFunction: a user's API tokens (create,
// list, revoke; rules §9).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
)

func main() {
	env := app.MustLoad()
	lambda.StartHandlerFunc(app.APITokens(env, app.Store(env)))
}
