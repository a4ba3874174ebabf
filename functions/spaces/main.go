// Command spaces is SpacesFunction: a site's Confluence spaces, their
// admins and guests, and each guest's one space.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/spaces/spacesapi"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(spacesapi.Spaces(env, st, st))
}
