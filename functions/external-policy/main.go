// Command external-policy is ExternalPolicyFunction: an organisation's
// external user policy and test policy (read, change, preview a change)
// and the resets of external users' sessions.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.ExternalPolicy(env, app.Store(env)))
}
