// Command access-decision is AccessDecisionFunction: the access decision
// products ask on every page load (rules §8).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.AccessDecision(env, app.Store(env)))
}
