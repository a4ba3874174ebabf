package testenv

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Conflicts makes the first N TransactWriteItems calls of a client fail the
// way real DynamoDB does when another transaction on one of their items is
// in flight: TransactionCanceledException with reason TransactionConflict
// (no emulator here produces it). The call never reaches the server, so
// nothing is written. Attach Add to a client's APIOptions.
type Conflicts struct {
	mu sync.Mutex
	// N is how many calls fail; Op is the operation (default TransactWriteItems).
	N  int
	Op string
	// Injected counts the failures injected so far.
	Injected int
}

// Set makes the next n calls fail and starts the count of injected
// failures again. Use it (and Count), not the fields, while the client may
// be in use: the dev stack's workers call it from their own goroutines.
func (f *Conflicts) Set(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.N, f.Injected = n, 0
}

// Count returns how many failures were injected since the last Set.
func (f *Conflicts) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Injected
}

// Add attaches the fault to an SDK client's middleware stack.
func (f *Conflicts) Add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testenv.conflicts", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		f.mu.Lock()
		op := f.Op
		f.mu.Unlock()
		if op == "" {
			op = "TransactWriteItems"
		}
		if awsmiddleware.GetOperationName(ctx) != op {
			return next.HandleInitialize(ctx, in)
		}
		f.mu.Lock()
		fail := f.Injected < f.N
		if fail {
			f.Injected++
		}
		f.mu.Unlock()
		if !fail {
			return next.HandleInitialize(ctx, in)
		}
		n := 1
		if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
			n = len(tx.TransactItems)
		}
		reasons := make([]types.CancellationReason, n)
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		// DynamoDB names the conflicting item; the last one (the site's
		// counters, which every invite updates) is the usual culprit.
		reasons[n-1] = types.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
		return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"),
			CancellationReasons: reasons,
		}
	}), middleware.After)
}
