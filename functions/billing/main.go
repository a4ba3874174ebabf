// Command billing is BillingFunction: a site's guest list, its billing
// summary and the recount of its billing counters.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.Billing(env, app.Store(env)))
}
