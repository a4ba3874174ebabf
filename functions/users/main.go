// Command users is UsersFunction: an account's life in its org (removal,
// suspension) and revoking a site's pending invitation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/users/usersapi"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(usersapi.Users(env, st, st))
}
