package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Idempotency windows: a claimed key is locked while its request runs (a
// request that died frees it after idemLock), and a finished response is
// replayed for idemKeep.
const (
	idemLock = 2 * time.Minute
	idemKeep = 24 * time.Hour
)

// BeginIdempotent implements domain.InviteStore. The key is scoped to the org
// (and, by the caller, to the account). It claims the key with a conditional
// put; only when the key was seen before does it read the kept record.
func (s *Store) BeginIdempotent(ctx context.Context, orgID, k, requestHash string, now time.Time) (*domain.IdempotentResponse, error) {
	it := idemItem{keys: keys{PK: idemPK(orgID, k), SK: skIdem, Type: typeIdem, TTL: ttl(now.Add(idemKeep))}, RequestHash: requestHash, LockedUntil: now.Add(idemLock).UnixMilli()}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      marshal(it),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR (done = :false AND lockedUntil < :now)"),
		ExpressionAttributeValues: item{":false": &types.AttributeValueMemberBOOL{Value: false}, ":now": num(now.UnixMilli())},
	})
	var ccf *types.ConditionalCheckFailedException
	if err == nil {
		return nil, nil
	} else if !errors.As(err, &ccf) {
		return nil, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(idemPK(orgID, k), skIdem), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("store: read idempotency key: %w", err)
	}
	if res.Item == nil { // expired and removed between the two calls
		return s.BeginIdempotent(ctx, orgID, k, requestHash, now)
	}
	old, err := unmarshal[idemItem](res.Item)
	if err != nil {
		return nil, err
	}
	return &domain.IdempotentResponse{RequestHash: old.RequestHash, Done: old.Done, Status: old.Status, Body: old.Body}, nil
}

// FinishIdempotent implements domain.InviteStore.
func (s *Store) FinishIdempotent(ctx context.Context, orgID, k string, resp domain.IdempotentResponse, now time.Time) error {
	it := idemItem{keys: keys{PK: idemPK(orgID, k), SK: skIdem, Type: typeIdem, TTL: ttl(now.Add(idemKeep))},
		RequestHash: resp.RequestHash, Done: true, Status: resp.Status, Body: resp.Body, LockedUntil: now.UnixMilli()}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: marshal(it)}); err != nil {
		return fmt.Errorf("store: keep idempotent response: %w", err)
	}
	return nil
}

// ReleaseIdempotent implements domain.InviteStore.
func (s *Store) ReleaseIdempotent(ctx context.Context, orgID, k string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(idemPK(orgID, k), skIdem),
		ConditionExpression:       aws.String("done = :false"),
		ExpressionAttributeValues: item{":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}
