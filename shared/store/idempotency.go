package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/platform/idempotency"
	"github.com/guestaccess/guestaccess/shared/table"
)

// ClaimKey claims an idempotency key (already scoped and hashed by the
// caller) for a request, with one conditional PutItem. It returns nil when
// the request may run, or the key's record when it was used before (Done)
// or is in flight (not Done); only then does it read the record. claim
// identifies the request (random): a claim found in flight with the same
// claim is this request's own, written by an attempt whose answer was lost
// (the SDK retried it), and the request may run.
func (s *Store) ClaimKey(ctx context.Context, scope, k, requestHash, claim string, now time.Time) (*idempotency.Record, error) {
	ctx = table.Ungated(ctx) // the claim settles the write gate: it cannot wait on it
	for range 3 {
		it := idemItem{Keys: table.Keys{PK: table.IdemPK(scope, k), SK: table.SKIdem, Type: typeIdem, TTL: table.TTL(now.Add(idempotency.Keep))},
			RequestHash: requestHash, LockedUntil: now.Add(idempotency.Lock).UnixMilli(), Claim: claim}
		_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &s.Name,
			Item:                      table.Marshal(it),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR (done = :false AND lockedUntil < :now)"),
			ExpressionAttributeValues: table.Item{":false": &types.AttributeValueMemberBOOL{Value: false}, ":now": table.N(now.UnixMilli())},
		})
		var ccf *types.ConditionalCheckFailedException
		if err == nil {
			return nil, nil
		} else if !errors.As(err, &ccf) {
			return nil, fmt.Errorf("store: claim idempotency key: %w", err)
		}
		got, err := s.Get(ctx, table.IdemPK(scope, k), table.SKIdem)
		if err != nil {
			return nil, err
		}
		if got == nil { // expired and removed between the two calls: claim again
			continue
		}
		old, err := decodeIdem(got)
		if err != nil {
			return nil, err
		}
		if !old.Done && claim != "" && old.Claim == claim {
			return nil, nil
		}
		return &idempotency.Record{RequestHash: old.RequestHash, Done: old.Done, Status: old.Status, Headers: old.Headers, Body: string(old.Body)}, nil
	}
	return nil, errors.New("store: idempotency key kept disappearing")
}

// KeepAnswer keeps the answer of a claimed key for idempotency.Keep.
func (s *Store) KeepAnswer(ctx context.Context, scope, k string, rec idempotency.Record, now time.Time) error {
	ctx = table.Ungated(ctx) // the idempotency record is the gate's own bookkeeping
	it := idemItem{Keys: table.Keys{PK: table.IdemPK(scope, k), SK: table.SKIdem, Type: typeIdem, TTL: table.TTL(now.Add(idempotency.Keep))},
		RequestHash: rec.RequestHash, Done: true, Status: rec.Status, Headers: rec.Headers, Body: []byte(rec.Body), LockedUntil: now.UnixMilli()}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Name, Item: table.Marshal(it)}); err != nil {
		return fmt.Errorf("store: keep idempotent answer: %w", err)
	}
	return nil
}

// ReleaseKey frees a key claimed by the request claim that did not
// complete, so that a retry runs at once: the claim is rewritten as already
// lapsed (a PutItem, not a DeleteItem: one SDK operation fewer in the
// functions). A key whose answer is kept, claimed by another request, or
// never claimed (the claim's write failed) stays as it is.
func (s *Store) ReleaseKey(ctx context.Context, scope, k, claim string) error {
	ctx = table.Ungated(ctx) // runs after a failed claim closed the gate with its error
	it := idemItem{Keys: table.Keys{PK: table.IdemPK(scope, k), SK: table.SKIdem, Type: typeIdem, TTL: table.TTL(time.Now().Add(idempotency.Lock))}, LockedUntil: 0}
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.Name, Item: table.Marshal(it),
		ConditionExpression:       aws.String("done = :false AND claim = :claim"),
		ExpressionAttributeValues: table.Item{":false": &types.AttributeValueMemberBOOL{Value: false}, ":claim": &types.AttributeValueMemberS{Value: claim}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}
