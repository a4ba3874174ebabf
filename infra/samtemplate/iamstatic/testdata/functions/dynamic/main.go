// Command dynamic is a fixture of the analysis: an index name that is not a
// constant (a problem), a transaction with a Delete item, and a Query on
// the table.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func main() {
	db := dynamodb.NewFromConfig(aws.Config{})
	index := os.Args[1]
	lambda.StartHandlerFunc(func(ctx context.Context, _ struct{}) (struct{}, error) {
		if _, err := db.Query(ctx, &dynamodb.QueryInput{IndexName: &index}); err != nil {
			return struct{}{}, err
		}
		_, err := db.Query(ctx, &dynamodb.QueryInput{})
		if err != nil {
			return struct{}{}, err
		}
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Delete: &types.Delete{}}}})
		return struct{}{}, err
	})
}
