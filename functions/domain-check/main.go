// Command domain-check is DomainCheckFunction: on a schedule, it looks up
// the DNS TXT challenge of each domain claim due and verifies, keeps,
// lapses or unverifies the domain (audited).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domains/domainsapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	env := config.MustLoad()
	st := store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
	lambda.StartHandlerFunc(domainsapi.DomainCheck(env, st))
}
