package testenv

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

type sink struct{ got []string }

func (s *sink) Send(_ context.Context, msgs ...queue.Message) error {
	for _, m := range msgs {
		s.got = append(s.got, m.Body)
	}
	return nil
}

// TestFaultsFailCallK: calls are counted across clients while armed, only
// call k fails, and the two modes differ exactly in whether the call took
// effect (an item written, a message sent), against moto.
func TestFaultsFailCallK(t *testing.T) {
	f := &Faults{}
	db := dynamodb.NewFromConfig(AWSConfig(Moto(t)), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, f.Add) })
	table := Table(t, db)
	q := &sink{}
	sender := f.Sender(q)
	ctx := context.Background()
	put := func(pk string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "X"}}})
		return err
	}
	exists := func(pk string) bool {
		res, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "X"}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Item != nil
	}
	_ = put("unarmed") // not counted
	for _, c := range []struct {
		mode        FaultMode
		wrote, sent bool
	}{{FaultError, false, false}, {FaultAfterEffect, true, true}} {
		// Call 2 is the PutItem, call 3 the queue send.
		for k, what := range map[int]string{2: "put", 3: "send"} {
			f.Arm(k, c.mode)
			q.got = nil
			pk := c.mode.String() + "-" + what
			err1 := put("first-" + pk)
			err2 := put(pk)
			err3 := sender.Send(ctx, queue.Message{Body: pk})
			f.Disarm()
			var inj *InjectedFault
			failed := map[int]error{2: err2, 3: err3}[k]
			if err1 != nil || !errors.As(failed, &inj) || inj.Call != k || inj.Mode != c.mode {
				t.Fatalf("%s call %d: errors %v, %v, %v", c.mode, k, err1, err2, err3)
			}
			if calls := strings.Join(f.Calls(), " "); calls != "DynamoDB.PutItem DynamoDB.PutItem SQS.SendMessageBatch" {
				t.Errorf("calls counted: %s", calls)
			}
			if what == "put" && exists(pk) != c.wrote {
				t.Errorf("%s: the failed PutItem wrote: %v, want %v", c.mode, exists(pk), c.wrote)
			}
			if what == "send" && (len(q.got) == 1) != c.sent {
				t.Errorf("%s: the failed send went: %v, want %v", c.mode, q.got, c.sent)
			}
			if f.Fired() == nil || f.Fired().Op != map[int]string{2: "DynamoDB.PutItem", 3: "SQS.SendMessageBatch"}[k] {
				t.Errorf("fired: %+v", f.Fired())
			}
		}
	}
	// ArmOp fails every call of one operation.
	f.ArmOp("DynamoDB.GetItem", FaultError)
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "x"}, "SK": &types.AttributeValueMemberS{Value: "X"}}}); err == nil || put("after-armop") != nil {
		t.Errorf("ArmOp: GetItem %v", err)
	}
	f.Disarm()
}
