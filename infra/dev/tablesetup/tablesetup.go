// Package tablesetup creates the service's DynamoDB table from template.yaml's
// own `Table` definition, for `make dev`, the tests and the emulators. It is
// dev and test tooling: production code never creates tables (CloudFormation
// does), so the template parser and its YAML library stay out of the Lambda
// binaries.
package tablesetup

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
)

// Create creates a table named name from the template's `Table` resource
// (the one definition of the table) and waits until it is active where the
// server reports a status (minidyn's DescribeTable reports none).
func Create(ctx context.Context, db *dynamodb.Client, tpl *samtemplate.Template, name string) error {
	in, err := tpl.TableInput("Table", name)
	if err != nil {
		return err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("tablesetup: create table %s: %w", name, err)
	}
	for i := 0; i < 200; i++ {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil || out.Table == nil || out.Table.TableStatus == "" || out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("tablesetup: table %s did not become active", name)
}
