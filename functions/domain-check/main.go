// Command domain-check is DomainCheckFunction: on a schedule, it looks up
// the DNS TXT challenge of each domain claim due and verifies, keeps,
// lapses or unverifies the domain (audited).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(app.DomainCheck(env, app.Store(env)))
}
