// Command api-tokens is ApiTokensFunction: a user's API tokens (create,
// list, revoke; §9).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/apitokens/apitokensapi"
	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(apitokensapi.APITokens(env, app.Store(env)))
}
