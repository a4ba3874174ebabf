// Package idempotency holds what an idempotency key keeps: the claim of a
// request in flight and, once it is done, its answer, replayed to retries
// with the same key. The API-layer middleware (shared/httpapi) runs it; a
// store (shared/store) keeps the records.
package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Record is one key's state.
type Record struct {
	// RequestHash identifies the request the key was first used for; a
	// different request under the same key is refused.
	RequestHash string
	// Done is set once the answer is kept.
	Done bool
	// Status, Headers and Body are the kept answer.
	Status  int
	Headers map[string]string
	Body    string
}

// Windows: a claimed key is locked while its request runs (a request that
// died frees it after Lock), and a finished answer is replayed for Keep.
const (
	Lock = 2 * time.Minute
	Keep = 24 * time.Hour
)

// Hash returns a stable digest of parts (each separated, so ("ab","c") and
// ("a","bc") differ).
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
