package httpapi

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/idempotency"
	"github.com/guestaccess/guestaccess/shared/platform/reqscope"
)

type fakeKeys struct {
	ClaimFn   func(scope, key, hash string) (*idempotency.Record, error)
	KeepFn    func(scope, key string, rec idempotency.Record) error
	ReleaseFn func(scope, key string) error
}

func (f fakeKeys) ClaimKey(_ context.Context, scope, key, hash, _ string, _ time.Time) (*idempotency.Record, error) {
	return f.ClaimFn(scope, key, hash)
}

func (f fakeKeys) KeepAnswer(_ context.Context, scope, key string, rec idempotency.Record, _ time.Time) error {
	return f.KeepFn(scope, key, rec)
}

func (f fakeKeys) ReleaseKey(_ context.Context, scope, key, _ string) error {
	return f.ReleaseFn(scope, key)
}

func keyed(key, body string) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: "/orgs/{orgId}/x", Path: "/orgs/o/x", Body: body,
		Headers: map[string]string{"Idempotency-Key": key}, PathParameters: map[string]string{"orgId": "o"}}
	req.RequestContext.Authorizer = map[string]any{"sub": "admin"}
	req.RequestContext.RequestID = "req-1"
	return req
}

// writer is a handler that writes (after the request's gate), then defers
// a tail write, and answers 200.
type writer struct {
	wrote, tail atomic.Int32
	status      int
}

func (w *writer) handle(ctx context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if err := reqscope.BeforeWrite(ctx); err != nil {
		return Error(ctx, quiet, err, events.APIGatewayProxyRequest{}), nil
	}
	w.wrote.Add(1)
	reqscope.Defer(ctx, func(context.Context) { w.tail.Add(1) })
	status := w.status
	if status == 0 {
		status = 200
	}
	return JSON(status, map[string]string{"ok": "yes"}), nil
}

func TestEndpointFirstRequestKeepsItsAnswer(t *testing.T) {
	w := &writer{}
	claimed := make(chan struct{})
	var kept idempotency.Record
	var keptAfterTail bool
	e := Endpoint{Handler: w.handle, Log: quiet, Keys: fakeKeys{
		ClaimFn: func(scope, key, hash string) (*idempotency.Record, error) {
			if w.wrote.Load() != 0 {
				t.Error("the handler wrote before the key was claimed")
			}
			time.Sleep(20 * time.Millisecond)
			close(claimed)
			return nil, nil
		},
		KeepFn: func(scope, key string, rec idempotency.Record) error { kept = rec; keptAfterTail = true; return nil },
	}}
	resp, err := e.Handle(context.Background(), keyed("k", `{"a":1}`))
	<-claimed
	if err != nil || resp.StatusCode != 200 || w.wrote.Load() != 1 || w.tail.Load() != 1 || !keptAfterTail {
		t.Fatalf("resp %+v err %v wrote %d tail %d kept %v", resp, err, w.wrote.Load(), w.tail.Load(), keptAfterTail)
	}
	if kept.Status != 200 || kept.Body != resp.Body || !kept.Done || kept.Headers["Content-Type"] != "application/json" {
		t.Errorf("kept = %+v", kept)
	}
}

func TestEndpointDuplicateNeverWrites(t *testing.T) {
	first := keyed("k", `{"a":1}`)
	hash := requestHash(first)
	for _, c := range []struct {
		name   string
		rec    idempotency.Record
		status int
	}{
		{"replay", idempotency.Record{RequestHash: hash, Done: true, Status: 200, Body: `{"first":true}`, Headers: map[string]string{"Content-Type": "application/json"}}, 200},
		{"in flight", idempotency.Record{RequestHash: hash}, http.StatusConflict},
		{"other request", idempotency.Record{RequestHash: "other", Done: true, Status: 200}, http.StatusUnprocessableEntity},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := &writer{}
			e := Endpoint{Handler: w.handle, Log: quiet, Keys: fakeKeys{
				ClaimFn: func(string, string, string) (*idempotency.Record, error) { r := c.rec; return &r, nil },
			}}
			resp, _ := e.Handle(context.Background(), first)
			if resp.StatusCode != c.status || w.wrote.Load() != 0 || w.tail.Load() != 0 {
				t.Errorf("status %d (want %d), wrote %d, tail %d: %s", resp.StatusCode, c.status, w.wrote.Load(), w.tail.Load(), resp.Body)
			}
			if c.name == "replay" && (resp.Body != `{"first":true}` || resp.Headers["Idempotent-Replayed"] != "true") {
				t.Errorf("replay = %+v", resp)
			}
		})
	}
}

func TestEndpointFailedRequestFreesTheKey(t *testing.T) {
	var released, kept atomic.Int32
	keys := fakeKeys{
		ClaimFn:   func(string, string, string) (*idempotency.Record, error) { return nil, nil },
		KeepFn:    func(string, string, idempotency.Record) error { kept.Add(1); return nil },
		ReleaseFn: func(string, string) error { released.Add(1); return nil },
	}
	w := &writer{status: 409}
	if resp, _ := (Endpoint{Handler: w.handle, Log: quiet, Keys: keys}).Handle(context.Background(), keyed("k", "{}")); resp.StatusCode != 409 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if released.Load() != 1 || kept.Load() != 0 {
		t.Errorf("released %d kept %d", released.Load(), kept.Load())
	}
}

func TestEndpointWithoutKeyRunsTails(t *testing.T) {
	w := &writer{}
	e := Endpoint{Handler: w.handle, Log: quiet, Keys: fakeKeys{}} // a claim would panic on the nil func
	req := keyed("", "{}")
	delete(req.Headers, "Idempotency-Key") // sent empty, it would be a 400
	if resp, _ := e.Handle(context.Background(), req); resp.StatusCode != 200 || w.tail.Load() != 1 {
		t.Errorf("status %d tail %d", resp.StatusCode, w.tail.Load())
	}
}

func TestEndpointConcurrentDuplicatesWriteOnce(t *testing.T) {
	var mu sync.Mutex
	claimedBy := 0
	w := &writer{}
	keys := fakeKeys{
		ClaimFn: func(string, string, string) (*idempotency.Record, error) {
			mu.Lock()
			defer mu.Unlock()
			claimedBy++
			if claimedBy > 1 {
				return &idempotency.Record{RequestHash: requestHash(keyed("k", "{}"))}, nil
			}
			return nil, nil
		},
		KeepFn: func(string, string, idempotency.Record) error { return nil },
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = (Endpoint{Handler: w.handle, Log: quiet, Keys: keys}).Handle(context.Background(), keyed("k", "{}"))
		}()
	}
	wg.Wait()
	if w.wrote.Load() != 1 {
		t.Errorf("%d of 8 duplicates wrote, want 1", w.wrote.Load())
	}
}

// TestEndpointKeysCoverEveryChangingMethod: PUT, PATCH and DELETE are keyed
// like POST (a replay changes nothing); GET and HEAD never claim a key.
func TestEndpointKeysCoverEveryChangingMethod(t *testing.T) {
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE", "GET", "HEAD"} {
		t.Run(m, func(t *testing.T) {
			var claims atomic.Int32
			w := &writer{}
			req := keyed("k", "")
			req.HTTPMethod = m
			keys := fakeKeys{ClaimFn: func(string, string, string) (*idempotency.Record, error) {
				claims.Add(1)
				return &idempotency.Record{RequestHash: requestHash(req), Done: true, Status: 200, Body: `{"first":true}`}, nil
			}}
			resp, _ := (Endpoint{Handler: w.handle, Log: quiet, Keys: keys}).Handle(context.Background(), req)
			keyedMethod := m != "GET" && m != "HEAD"
			if keyedMethod && (claims.Load() != 1 || w.wrote.Load() != 0 || resp.Headers["Idempotent-Replayed"] != "true") {
				t.Errorf("%s: claims %d, wrote %d, resp %+v", m, claims.Load(), w.wrote.Load(), resp)
			}
			if !keyedMethod && (claims.Load() != 0 || w.wrote.Load() != 1) {
				t.Errorf("%s: claims %d, wrote %d", m, claims.Load(), w.wrote.Load())
			}
		})
	}
}
