// Command sdkfloor is the size budget's floor: the least a function of this
// service can be. It builds its DynamoDB and SES clients through
// shared/platform/awsenv (the configuration path every function uses) and calls one
// operation of each, so the linker keeps the clients, and does nothing
// else. Every bootstrap is held to a multiple of its size (infra/size) and
// INIT (infra/scripts/bench-init.sh).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/platform/awsenv"
)

func main() {
	cfg, err := awsenv.Config()
	if err != nil {
		log.Fatal(err)
	}
	db, mail := dynamodb.NewFromConfig(cfg), ses.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, _ map[string]any) (int, error) {
		tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			return 0, err
		}
		if _, err := mail.GetSendQuota(ctx, &ses.GetSendQuotaInput{}); err != nil {
			return 0, err
		}
		return len(tables.TableNames), nil
	})
}
