// Command external-policy is ExternalPolicyFunction: an organisation's
// external user policy and test policy (read, change, preview a change)
// and the resets of external users' sessions.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/extpolicy/extpolicyapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(extpolicyapi.ExternalPolicy(env, st))
}
