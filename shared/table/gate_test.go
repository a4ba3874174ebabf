package table_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/platform/reqscope"
	"github.com/guestaccess/guestaccess/shared/table"
)

// backends runs f on both DynamoDB implementations, with a table and a raw
// client that bypasses the table's guards.
func backends(t *testing.T, f func(t *testing.T, tb *table.Table, raw *dynamodb.Client)) {
	for _, b := range []string{"moto", "embedded"} {
		t.Run(b, func(t *testing.T) {
			var db *dynamodb.Client
			if b == "moto" {
				db = dynamodb.NewFromConfig(testenv.AWSConfig(testenv.Endpoint(t, "MOTO_ENDPOINT")))
			} else {
				db = testenv.Minidyn(t, nil)
			}
			f(t, table.New(db, testenv.Table(t, db)), db)
		})
	}
}

// directWrites are the write operations other than a transaction, each
// writing (or, for DeleteItem, removing) the item PK=pk, SK=sk.
func directWrites(tb *table.Table) map[string]func(ctx context.Context, pk, sk string) error {
	return map[string]func(ctx context.Context, pk, sk string) error{
		"PutItem": func(ctx context.Context, pk, sk string) error {
			_, err := tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tb.Name, Item: table.Key(pk, sk)})
			return err
		},
		"UpdateItem": func(ctx context.Context, pk, sk string) error {
			_, err := tb.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb.Name, Key: table.Key(pk, sk),
				UpdateExpression: aws.String("SET x = :x"), ExpressionAttributeValues: table.Item{":x": table.N(1)}})
			return err
		},
		"BatchWriteItem": func(ctx context.Context, pk, sk string) error {
			_, err := tb.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				tb.Name: {{PutRequest: &types.PutRequest{Item: table.Key(pk, sk)}}}}})
			return err
		},
		"DeleteItem": func(ctx context.Context, pk, sk string) error {
			_, err := tb.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &tb.Name, Key: table.Key(pk, sk)})
			return err
		},
	}
}

func stored(t *testing.T, raw *dynamodb.Client, name, pk, sk string) bool {
	t.Helper()
	got, err := raw.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &name, Key: table.Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("read back %s/%s: %v", pk, sk, err)
	}
	return got.Item != nil
}

// TestDirectWritesWaitForTheGate: a write that is not a transaction
// (PutItem, UpdateItem, BatchWriteItem, DeleteItem sent through the
// table's client) waits while the request's write gate is held, goes
// through once it opens, and fails with the gate's error, writing nothing,
// when the gate opens with one (an Idempotency-Key claim that failed).
func TestDirectWritesWaitForTheGate(t *testing.T) {
	backends(t, func(t *testing.T, tb *table.Table, raw *dynamodb.Client) {
		refused := errors.New("the key's claim failed")
		for op, write := range directWrites(tb) {
			t.Run(op, func(t *testing.T) {
				pk, sk := "GATE#"+op, "x"
				if op == "DeleteItem" {
					if _, err := raw.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &tb.Name, Item: table.Key(pk, sk)}); err != nil {
						t.Fatal(err)
					}
				}
				// Held, then opened with an error: nothing is written.
				ctx, sc := reqscope.With(context.Background())
				open := sc.Hold()
				done := make(chan error, 1)
				go func() { done <- write(ctx, pk, sk) }()
				select {
				case err := <-done:
					t.Fatalf("%s went through a held gate (err %v)", op, err)
				case <-time.After(150 * time.Millisecond):
				}
				open(refused)
				if err := <-done; !errors.Is(err, refused) {
					t.Fatalf("%s after the gate opened with an error: %v, want it", op, err)
				}
				if got := stored(t, raw, tb.Name, pk, sk); got != (op == "DeleteItem") {
					t.Fatalf("%s through a refused gate changed the item (stored now: %v)", op, got)
				}
				// Held, then opened: the write goes through.
				ctx, sc = reqscope.With(context.Background())
				open = sc.Hold()
				go func() { done <- write(ctx, pk, sk) }()
				open(nil)
				if err := <-done; err != nil {
					t.Fatalf("%s after the gate opened: %v", op, err)
				}
				if got := stored(t, raw, tb.Name, pk, sk); got == (op == "DeleteItem") {
					t.Fatalf("%s after the gate opened did nothing (stored now: %v)", op, got)
				}
			})
		}
	})
}

// TestUngatedWritesPassAHeldGate: the idempotency records' own writes
// (table.Ungated) do not wait on the gate they settle.
func TestUngatedWritesPassAHeldGate(t *testing.T) {
	backends(t, func(t *testing.T, tb *table.Table, raw *dynamodb.Client) {
		ctx, sc := reqscope.With(context.Background())
		open := sc.Hold()
		defer open(nil)
		ctx, cancel := context.WithTimeout(table.Ungated(ctx), 10*time.Second)
		defer cancel()
		if _, err := tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tb.Name, Item: table.Key("GATE#ungated", "x")}); err != nil {
			t.Fatalf("an ungated write under a held gate: %v", err)
		}
		if !stored(t, raw, tb.Name, "GATE#ungated", "x") {
			t.Fatal("the ungated write stored nothing")
		}
	})
}
