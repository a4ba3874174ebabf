// Command invite-guests is InviteGuestsFunction: POST /orgs/{orgId}/sites/{siteId}/invitations.
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
	lambda.Start(deps.InviteHandler())
}
