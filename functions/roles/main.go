// Command roles is RolesFunction: users' direct roles on sites' products and
// their effective roles with why.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	lambda.StartHandlerFunc(groupsapi.Roles(env, store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)))
}
