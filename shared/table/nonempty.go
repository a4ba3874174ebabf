package table

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/shared/platform/reqscope"
)

// The one guard of "nothing empty is stored" (docs/data-model.md, invariants):
// every write the store's client sends passes through it, whichever call
// site built it. An item (PutItem, a transaction's Put, a BatchWriteItem
// put) loses its empty maps, lists and sets, at any depth, before it is
// sent; an update whose values hold an empty collection is refused before
// it is sent, since dropping a value would change what its expression means
// (clear such an attribute with REMOVE: see setOrRemove). A group whose
// roles map was written empty answered 500 on the embedded backend (issue
// 16, item 2); DynamoDB itself refuses empty sets.

// The write gate is the other guard of every write: a request whose
// Idempotency-Key is still being claimed (reqscope.Scope.Hold) writes
// nothing before the claim is settled, and nothing at all if the claim
// failed. Every write operation sent through the client waits on
// reqscope.BeforeWrite, whichever call site built it (a transaction, a
// PutItem, an UpdateItem, a DeleteItem, a BatchWriteItem), except the
// idempotency records' own writes, which are the claim (Ungated).

// guardWrites installs the guards on a copy of the client's options.
func guardWrites(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("store.noEmptyCollections",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if err := gate(ctx, in.Parameters); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				if err := pruneWrite(in.Parameters); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

// ungated marks a context whose writes pass the gate (Ungated).
type ungated struct{}

// Ungated returns ctx whose writes do not wait on the request's write gate:
// only for the idempotency records' own writes (claiming, keeping and
// releasing a key), which settle the gate or run after it failed.
func Ungated(ctx context.Context) context.Context {
	return context.WithValue(ctx, ungated{}, true)
}

// gate waits on the request's write gate before a write operation.
func gate(ctx context.Context, params any) error {
	switch params.(type) {
	case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput, *dynamodb.DeleteItemInput,
		*dynamodb.BatchWriteItemInput, *dynamodb.TransactWriteItemsInput:
		if ctx.Value(ungated{}) != nil {
			return nil
		}
		return reqscope.BeforeWrite(ctx)
	}
	return nil
}

// pruneWrite drops the empty collections of the items a write puts, and
// refuses an update that would set one.
func pruneWrite(params any) error {
	switch p := params.(type) {
	case *dynamodb.PutItemInput:
		pruneItem(p.Item)
	case *dynamodb.UpdateItemInput:
		return noEmptyValues("UpdateItem", p.ExpressionAttributeValues)
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range p.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					pruneItem(r.PutRequest.Item)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, w := range p.TransactItems {
			if w.Put != nil {
				pruneItem(w.Put.Item)
			}
			if w.Update != nil {
				if err := noEmptyValues("a transaction's Update", w.Update.ExpressionAttributeValues); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// pruneItem deletes every attribute that is an empty collection (after its
// own empty members are deleted).
func pruneItem(it map[string]types.AttributeValue) {
	for k, v := range it {
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			pruneItem(m.Value)
		}
		if Empty(v) {
			delete(it, k)
		}
	}
}

// noEmptyValues refuses an update's values holding an empty collection.
func noEmptyValues(op string, vals map[string]types.AttributeValue) error {
	for k, v := range vals {
		switch v.(type) {
		case *types.AttributeValueMemberM, *types.AttributeValueMemberL, *types.AttributeValueMemberSS,
			*types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
			if Empty(v) {
				return fmt.Errorf("store: %s would write the empty collection %s: no item holds one (remove the attribute instead)", op, k)
			}
		}
	}
	return nil
}
