// Command access-decision is AccessDecisionFunction: the access decision
// products ask on every page load (rules §8).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/access/accessapi"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(accessapi.AccessDecision(env, accessdb.New(st)))
}
