// Command retry-invitation-emails is RetryInvitationEmailsFunction: on a
// schedule, it sends the invitation emails that failed or were never sent.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/app"
)

func main() {
	deps, err := app.FromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(deps.RetryHandler())
}
