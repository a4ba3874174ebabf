package testenv

import (
	"context"
	"sort"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Trace records when each SDK call started and ended, across clients (attach
// it to the DynamoDB and the SES client), to measure the longest chain of
// dependent calls: calls that overlap in time ran concurrently; a call that
// started after another ended may have waited for it.
//
// Latency, when set, is added to every call (before it is sent): calls that
// were issued together then overlap by far more than a goroutine's
// scheduling delay, so the measured chain reflects the code's structure, not
// the machine's noise.
type Trace struct {
	Latency time.Duration
	mu      sync.Mutex
	calls   []Call
}

// Call is one recorded SDK call.
type Call struct {
	Service, Op string
	Start, End  time.Time
}

// Add attaches the trace to an SDK client's middleware stack.
func (tr *Trace) Add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testenv.trace", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		start := time.Now()
		if tr.Latency > 0 {
			time.Sleep(tr.Latency)
		}
		out, md, err := next.HandleInitialize(ctx, in)
		c := Call{Service: awsmiddleware.GetServiceID(ctx), Op: awsmiddleware.GetOperationName(ctx), Start: start, End: time.Now()}
		tr.mu.Lock()
		tr.calls = append(tr.calls, c)
		tr.mu.Unlock()
		return out, md, err
	}), middleware.After)
}

// Reset forgets the recorded calls.
func (tr *Trace) Reset() { tr.mu.Lock(); tr.calls = nil; tr.mu.Unlock() }

// Calls returns the recorded calls in start order.
func (tr *Trace) Calls() []Call {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := append([]Call(nil), tr.calls...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Chain returns the longest chain of calls each of which started after the
// previous one ended (keep only the calls for which keep is true; nil keeps
// all): the number of round trips a request had to make one after the other.
func (tr *Trace) Chain(keep func(Call) bool) []Call {
	var cs []Call
	for _, c := range tr.Calls() {
		if keep == nil || keep(c) {
			cs = append(cs, c)
		}
	}
	best := make([]int, len(cs))
	prev := make([]int, len(cs))
	top := -1
	for i := range cs {
		best[i], prev[i] = 1, -1
		for j := 0; j < i; j++ {
			if !cs[j].End.After(cs[i].Start) && best[j]+1 > best[i] {
				best[i], prev[i] = best[j]+1, j
			}
		}
		if top < 0 || best[i] > best[top] {
			top = i
		}
	}
	var chain []Call
	for i := top; i >= 0; i = prev[i] {
		chain = append([]Call{cs[i]}, chain...)
	}
	return chain
}
