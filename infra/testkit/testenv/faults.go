package testenv

import (
	"context"
	"fmt"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// FaultMode says how the armed call of a [Faults] fails.
type FaultMode int

const (
	// FaultError fails the call before it is sent: it never reaches the
	// server, nothing is written, and the caller gets an error the SDK does
	// not retry (the middleware runs above the SDK's retry loop).
	FaultError FaultMode = iota + 1
	// FaultAfterEffect sends the call and lets it take effect, then hands
	// the caller an error instead of the answer, as when a response is lost
	// and the client times out.
	FaultAfterEffect
)

// String names the mode in test names.
func (m FaultMode) String() string {
	switch m {
	case FaultError:
		return "error"
	case FaultAfterEffect:
		return "after-effect"
	}
	return "none"
}

// InjectedFault is the error a failed call returns.
type InjectedFault struct {
	// Call is the failed call's number (from 1) and Op its "service.Operation".
	Call int
	Op   string
	Mode FaultMode
}

func (e *InjectedFault) Error() string {
	if e.Mode == FaultAfterEffect {
		return fmt.Sprintf("injected fault: call %d (%s) took effect, then timed out", e.Call, e.Op)
	}
	return fmt.Sprintf("injected fault: call %d (%s) failed before it was sent", e.Call, e.Op)
}

// Timeout lets callers that look for timeouts see one.
func (e *InjectedFault) Timeout() bool { return e.Mode == FaultAfterEffect }

// Faults counts the AWS calls of one run across every client it is attached
// to (DynamoDB and SES through their APIOptions, a queue through Sender) and
// fails call number K in Mode. Calls are counted only while it is armed
// (Arm); Disarm stops counting. Test support only: no function imports it.
type Faults struct {
	mu    sync.Mutex
	armed bool
	k     int
	mode  FaultMode
	calls []string
	fired *InjectedFault
	op    string // ArmOp's operation
}

// Arm starts counting from zero and fails call k (from 1) in mode; k = 0
// only counts.
func (f *Faults) Arm(k int, mode FaultMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.k, f.mode, f.calls, f.fired, f.op = true, k, mode, nil, nil, ""
}

// ArmOp starts counting from zero and fails every call of op
// ("service.Operation", e.g. "SES.SendEmail") in mode: a test's setup uses
// it to leave state behind that only a failure makes (an undelivered email).
func (f *Faults) ArmOp(op string, mode FaultMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.k, f.mode, f.calls, f.fired, f.op = true, 0, mode, nil, nil, op
}

// Disarm stops counting and failing; the calls counted stay readable.
func (f *Faults) Disarm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = false
}

// Calls returns the calls counted since Arm, as "service.Operation", in the
// order they were made.
func (f *Faults) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Fired returns the fault injected since Arm, or nil.
func (f *Faults) Fired() *InjectedFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

// next counts one call and reports the fault to inject into it, if any.
func (f *Faults) next(op string) *InjectedFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return nil
	}
	f.calls = append(f.calls, op)
	if f.op != "" && op != f.op || f.op == "" && len(f.calls) != f.k {
		return nil
	}
	f.fired = &InjectedFault{Call: len(f.calls), Op: op, Mode: f.mode}
	return f.fired
}

// Add attaches the faults to an SDK client's middleware stack (a DynamoDB,
// SES or SQS client's APIOptions). It sits in the Initialize step, above the
// SDK's retries: one counted call is one operation however many attempts it
// takes.
func (f *Faults) Add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testenv.faults", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		fault := f.next(awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx))
		if fault == nil {
			return next.HandleInitialize(ctx, in)
		}
		if fault.Mode == FaultError {
			return middleware.InitializeOutput{}, middleware.Metadata{}, fault
		}
		out, md, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return out, md, err // the call failed by itself: nothing to add
		}
		return middleware.InitializeOutput{}, md, fault
	}), middleware.Before)
}

// Sender wraps a queue sender so that each Send counts as one SQS
// SendMessageBatch call (the in-process queue of the dev stack has no SDK
// client to attach middleware to).
func (f *Faults) Sender(s queue.Sender) queue.Sender { return faultySender{s, f} }

type faultySender struct {
	queue.Sender
	f *Faults
}

func (q faultySender) Send(ctx context.Context, msgs ...queue.Message) error {
	fault := q.f.next("SQS.SendMessageBatch")
	if fault == nil {
		return q.Sender.Send(ctx, msgs...)
	}
	if fault.Mode == FaultError {
		return fault
	}
	if err := q.Sender.Send(ctx, msgs...); err != nil {
		return err
	}
	return fault
}

// ReadOnly reports whether op ("service.Operation") only reads: a read
// that took effect and then lost its answer (FaultAfterEffect) leaves the
// state a read that failed before it was sent (FaultError) leaves, and the
// caller sees an error either way, so a fault test need fail it in one mode
// only.
func ReadOnly(op string) bool {
	switch op {
	case "DynamoDB.GetItem", "DynamoDB.BatchGetItem", "DynamoDB.Query", "DynamoDB.Scan", "DynamoDB.TransactGetItems", "DynamoDB.DescribeTable":
		return true
	}
	return false
}
