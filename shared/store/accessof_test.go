package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/store"
)

// TestAccessOfReadsInParallel counts the longest chain of dependent
// BatchGetItems in AccessOf (a group job's plan reads every member's access
// with it): an SDK middleware holds every BatchGetItem until the test
// releases them, and the test releases, round by round, all those waiting
// once every goroutine is blocked (testing/synctest), so a round is a set of
// reads that were in flight together. 2,000 members on one key are 20
// reads: 2 rounds (16 + 4), not 20. Counted, never timed.
func TestAccessOfReadsInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var waiting []chan struct{}
		gate := func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("gate", func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.BatchGetItemInput); !ok {
					return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected %T", in.Parameters)
				}
				ch := make(chan struct{})
				mu.Lock()
				waiting = append(waiting, ch)
				mu.Unlock()
				<-ch
				return middleware.InitializeOutput{Result: &dynamodb.BatchGetItemOutput{}}, middleware.Metadata{}, nil
			}), middleware.After)
		}
		db := dynamodb.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:9"), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, gate) })
		st := store.New(db, "model")
		accounts := make([]string, 2000)
		for i := range accounts {
			accounts[i] = fmt.Sprintf("m%05d", i)
		}
		done := make(chan error)
		go func() {
			_, err := st.AccessOf(context.Background(), "o", accounts, []string{"wiki/confluence"})
			done <- err
		}()
		var rounds, calls, widest int
		for {
			synctest.Wait()
			mu.Lock()
			batch := waiting
			waiting = nil
			mu.Unlock()
			if len(batch) == 0 {
				break
			}
			rounds++
			calls += len(batch)
			widest = max(widest, len(batch))
			for _, ch := range batch {
				close(ch)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		t.Logf("AccessOf of %d members: %d BatchGetItems in %d rounds (at most %d at once)", len(accounts), calls, rounds, widest)
		if calls != 20 || rounds != 2 {
			t.Errorf("%d BatchGetItems in %d rounds, want 20 in 2 (16 at once)", calls, rounds)
		}
	})
}
