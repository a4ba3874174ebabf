// Package reqscope carries two things through one request's context, so that
// API-layer middleware can shape how a request's writes happen without the
// services knowing about it:
//
//   - a write gate: middleware may start something concurrently with the
//     handler (an idempotency-key claim) that must succeed before the
//     request writes anything; adapters call BeforeWrite before each write.
//   - tail work: writes whose result the answer does not depend on (recording
//     email deliveries) run at Finish, concurrently with the middleware's own
//     closing writes (keeping the idempotent answer), instead of one after
//     the other.
//
// Without a scope in the context, BeforeWrite returns at once and Defer runs
// its work immediately: services behave the same outside an API request.
package reqscope

import (
	"context"
	"sync"
)

type ctxKey struct{}

// Scope is one request's gate and tail work.
type Scope struct {
	mu      sync.Mutex
	gate    chan struct{} // nil: open
	gateErr error
	tails   []func(context.Context)
}

// With returns a context carrying a new scope.
func With(ctx context.Context) (context.Context, *Scope) {
	s := &Scope{}
	return context.WithValue(ctx, ctxKey{}, s), s
}

func from(ctx context.Context) *Scope {
	s, _ := ctx.Value(ctxKey{}).(*Scope)
	return s
}

// Hold closes the gate until the returned function is called; writes wait
// for it. Calling it with a non-nil error makes every waiting and later
// write fail with that error (nothing is written).
func (s *Scope) Hold() (open func(error)) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.gate = ch
	s.mu.Unlock()
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			s.mu.Lock()
			s.gateErr = err
			s.mu.Unlock()
			close(ch)
		})
	}
}

// BeforeWrite waits until the request's gate (if any) is open and returns
// its error: adapters call it before every write.
func BeforeWrite(ctx context.Context) error {
	s := from(ctx)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	ch := s.gate
	s.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gateErr
}

// Defer runs f at the end of the request (Finish), concurrently with the
// other closing work, or at once when ctx has no scope.
func Defer(ctx context.Context, f func(context.Context)) {
	s := from(ctx)
	if s == nil {
		f(ctx)
		return
	}
	s.mu.Lock()
	s.tails = append(s.tails, f)
	s.mu.Unlock()
}

// Finish runs the deferred work and also, all at once, and waits for them.
func (s *Scope) Finish(ctx context.Context, also ...func(context.Context)) {
	s.mu.Lock()
	work := append(append([]func(context.Context){}, s.tails...), also...)
	s.tails = nil
	s.mu.Unlock()
	if len(work) == 1 {
		work[0](ctx)
		return
	}
	var wg sync.WaitGroup
	for _, f := range work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	wg.Wait()
}
