// Command awsenvclients is the size test's control: a function that builds
// its DynamoDB and SES clients from shared/awsenv and calls one operation of
// each, so the linker keeps the clients. It must stay within the budget.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/awsenv"
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
