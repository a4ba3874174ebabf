package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/idempotency"
	"github.com/guestaccess/guestaccess/shared/platform/reqscope"
)

// Handler is the signature of every API Gateway (REST, payload 1.0) function.
type Handler = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// KeyStore keeps idempotency keys (shared/store implements it).
type KeyStore interface {
	// ClaimKey claims a key for a request (claim identifies the request):
	// nil when the request may run, else the key's record (an earlier
	// answer, or another request in flight).
	ClaimKey(ctx context.Context, scope, key, requestHash, claim string, now time.Time) (*idempotency.Record, error)
	// KeepAnswer keeps a claimed key's answer for replay.
	KeepAnswer(ctx context.Context, scope, key string, rec idempotency.Record, now time.Time) error
	// ReleaseKey frees a key claimed by the request claim that did not
	// complete.
	ReleaseKey(ctx context.Context, scope, key, claim string) error
}

// Endpoint is what every API function shares around its handler: the
// refusal of a repeated query parameter (CheckQuery), a request scope whose
// deferred writes finish before the answer (see reqscope) and,
// when Keys is set, idempotency keys for the requests that change something
// (POST, PUT, PATCH, DELETE; never GET or HEAD): a retry with the same
// Idempotency-Key gets the first answer again (Idempotent-Replayed: true)
// and changes nothing.
//
// The key is claimed concurrently with the handler's first reads; the
// handler's first write waits for the claim (reqscope's gate), so a
// duplicate never writes. The answer is kept concurrently with the handler's
// deferred writes. Keys are scoped to the caller and the org in the path;
// only 2xx answers are kept; any other answer frees the key for a retry.
type Endpoint struct {
	Handler Handler
	Keys    KeyStore
	Now     func() time.Time
	Log     *slog.Logger
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

type claim struct {
	rec *idempotency.Record
	err error
}

// Handle implements the Lambda handler.
func (e Endpoint) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if err := CheckQuery(req); err != nil {
		return Error(ctx, e.Log, err, req), nil
	}
	key, err := idempotencyKey(req)
	if err != nil {
		return Error(ctx, e.Log, err, req), nil
	}
	ctx, sc := reqscope.With(ctx)
	caller := CallerID(req)
	if key == "" || e.Keys == nil || !changes(req.HTTPMethod) || caller == "" {
		resp, err := e.Handler(ctx, req)
		sc.Finish(ctx)
		return resp, err
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	scope := req.PathParameters["orgId"]
	if scope == "" {
		scope = "-"
	}
	k := idempotency.Hash(caller, key)
	reqHash := requestHash(req)
	// A claim of this request's own, told from another request's with the
	// same key: after a claim whose answer was lost, the retry of the SDK
	// finds it, and a release frees only it.
	claimID := domain.NewID()
	open := sc.Hold()
	claimed := make(chan claim, 1)
	go func() {
		rec, err := e.Keys.ClaimKey(ctx, scope, k, reqHash, claimID, now())
		switch {
		case err != nil:
			open(err)
		case rec != nil:
			open(domain.Errorf(domain.ECONFLICT, "This Idempotency-Key was used before."))
		default:
			open(nil)
		}
		claimed <- claim{rec, err}
	}()
	resp, herr := e.Handler(ctx, req)
	open(nil) // a handler that wrote nothing no longer needs the gate
	c := <-claimed
	switch {
	case c.err != nil:
		// The claim may have been written though its answer was lost: free
		// it, or a retry would find the key in flight until the lock lapses.
		sc.Finish(ctx, func(ctx context.Context) { e.release(ctx, scope, k, claimID, req) })
		return Error(ctx, e.Log, c.err, req), nil
	case c.rec != nil:
		sc.Finish(ctx)
		return replay(ctx, e.Log, *c.rec, reqHash, req), nil
	}
	if herr == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		rec := idempotency.Record{RequestHash: reqHash, Done: true, Status: resp.StatusCode, Body: resp.Body, Headers: keptHeaders(resp.Headers)}
		sc.Finish(ctx, func(ctx context.Context) {
			if err := e.Keys.KeepAnswer(ctx, scope, k, rec, now()); err != nil {
				// The work stands; a retry finds the key locked until it lapses.
				e.logger().ErrorContext(ctx, "could not keep idempotent answer", "err", err, "requestId", req.RequestContext.RequestID)
			}
		})
		return resp, nil
	}
	sc.Finish(ctx, func(ctx context.Context) { e.release(ctx, scope, k, claimID, req) })
	return resp, herr
}

// release frees the key this request claimed (see KeyStore.ReleaseKey).
func (e Endpoint) release(ctx context.Context, scope, k, claimID string, req events.APIGatewayProxyRequest) {
	if err := e.Keys.ReleaseKey(ctx, scope, k, claimID); err != nil {
		e.logger().ErrorContext(ctx, "could not release idempotency key", "err", err, "requestId", req.RequestContext.RequestID)
	}
}

// changes reports the methods whose requests Idempotency-Key covers.
func changes(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (e Endpoint) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// replay answers a request whose key was used before.
func replay(ctx context.Context, log *slog.Logger, rec idempotency.Record, reqHash string, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	switch {
	case rec.RequestHash != reqHash:
		return Error(ctx, log, domain.Errorf(domain.EREFUSED, "This Idempotency-Key was already used for a different request."), req)
	case !rec.Done:
		return Error(ctx, log, domain.Errorf(domain.ECONFLICT, "A request with this Idempotency-Key is still in progress; retry shortly."), req)
	}
	h := headers("application/json")
	for k, v := range rec.Headers {
		h[k] = v
	}
	h["Idempotent-Replayed"] = "true"
	return events.APIGatewayProxyResponse{StatusCode: rec.Status, Headers: h, Body: rec.Body}
}

// keptHeaders are the answer headers a replay repeats.
func keptHeaders(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		switch strings.ToLower(k) {
		case "content-type", "location":
			out[k] = v
		}
	}
	return out
}

// requestHash identifies a request: method, route, path parameters, query
// string (canonical: the order of the parameters does not matter) and body.
// A request without a query string hashes as it did before queries counted.
func requestHash(req events.APIGatewayProxyRequest) string {
	parts := []string{req.HTTPMethod, req.Resource}
	names := make([]string, 0, len(req.PathParameters))
	for n := range req.PathParameters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		parts = append(parts, n+"="+req.PathParameters[n])
	}
	if q := CanonicalQuery(req); q != "" {
		parts = append(parts, "?"+q) // no path parameter's part starts with "?"
	}
	return idempotency.Hash(append(parts, req.Body)...)
}
