package jwtverify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

const (
	// failureBackoff is the least time between fetches while the cache is
	// empty or stale and the last fetch failed.
	failureBackoff = 5 * time.Second
	// maxStale is how long past its fetch a key set may still be used when
	// refreshing it fails.
	maxStale = 24 * time.Hour
	// RSA modulus bounds, in bits.
	minRSABits = 2048
	maxRSABits = 8192
)

// keySet fetches and caches a JWKS.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	// fetchMu serialises fetches so concurrent misses cause one request.
	// Cached lookups take only mu, so they never wait for the network.
	fetchMu sync.Mutex

	mu          sync.Mutex                       // guards the fields below
	keys        map[string][]jwt.VerificationKey // kid → usable keys (*rsa.PublicKey, *ecdsa.PublicKey)
	fetchedAt   time.Time                        // of the last successful fetch
	lastAttempt time.Time                        // of the last fetch, successful or not
	lastErr     error                            // of the last fetch, nil if it succeeded
}

// lookup returns the keys named kid, fetching the JWKS when it is not cached,
// stale, or lacks kid (at most once per MinRefreshInterval for unknown kids).
// Which of the keys fits the token's alg is left to the JWT library, which
// refuses a key of the wrong type.
func (s *keySet) lookup(ctx context.Context, kid string) ([]jwt.VerificationKey, error) {
	if k, err, done := s.cached(kid); done {
		return k, err
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	// Another goroutine may have fetched while this one waited.
	if k, err, done := s.cached(kid); done {
		return k, err
	}

	start := s.now()
	keys, err := s.fetch(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrKeySetUnavailable, err)
		// A cancelled caller says nothing about the IdP: do not back off.
		if ctx.Err() == nil {
			s.lastAttempt, s.lastErr = start, err
		}
		// Serve a stale key rather than fail while the IdP is down.
		if s.keys != nil && start.Sub(s.fetchedAt) < maxStale {
			if k, known := s.keys[kid]; known {
				return k, nil
			}
		}
		return nil, err
	}
	s.keys, s.fetchedAt, s.lastAttempt, s.lastErr = keys, start, start, nil
	k, known := s.keys[kid]
	if !known {
		return nil, invalid("unknown kid")
	}
	return k, nil
}

// cached answers from the cache when it can; done is false when a fetch is
// needed.
func (s *keySet) cached(kid string) (k []jwt.VerificationKey, err error, done bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := s.keys != nil && now.Sub(s.fetchedAt) < KeySetCacheTTL
	k, known := s.keys[kid]
	switch {
	case fresh && known:
		return k, nil, true
	case fresh:
		// Unknown kid: maybe the IdP rotated keys. Refetch, but rate-limited
		// so forged kids cannot turn each request into a fetch.
		if now.Sub(s.lastAttempt) < MinRefreshInterval {
			return nil, invalid("unknown kid"), true
		}
		return nil, nil, false
	case s.lastErr != nil && now.Sub(s.lastAttempt) < failureBackoff:
		// Empty or stale, and a fetch just failed: do not retry yet.
		if known && now.Sub(s.fetchedAt) < maxStale {
			return k, nil, true
		}
		return nil, s.lastErr, true
	}
	return nil, nil, false
}

// fetch GETs and parses the JWKS.
func (s *keySet) fetch(ctx context.Context) (map[string][]jwt.VerificationKey, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS fetch: HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxKeySetSize+1))
	if err != nil {
		return nil, fmt.Errorf("JWKS fetch: %w", err)
	}
	if len(body) > MaxKeySetSize {
		return nil, errors.New("JWKS fetch: body larger than 1 MiB")
	}
	return parseJWKS(body)
}

// parseJWKS parses a JWK Set with jwkset and keeps the keys this package
// trusts: signature keys with a kid that are RSA of 2048 to 8192 bits for
// RS256 or P-256 EC for ES256. Other and invalid keys are skipped so one odd
// key does not disable the others.
func parseJWKS(body []byte) (map[string][]jwt.VerificationKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("JWKS: malformed JSON")
	}
	if set.Keys == nil {
		return nil, errors.New(`JWKS: no "keys" member`)
	}
	keys := make(map[string][]jwt.VerificationKey)
	for _, raw := range set.Keys {
		// Private: false: private members, if an IdP ever leaked them, are
		// ignored, and symmetric ("oct") keys are refused.
		j, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{StrictPadding: true})
		if err != nil {
			continue
		}
		m := j.Marshal()
		if m.KID == "" || (m.USE != "" && m.USE != jwkset.UseSig) {
			continue
		}
		if usable(j.Key(), string(m.ALG)) {
			keys[m.KID] = append(keys[m.KID], j.Key())
		}
	}
	return keys, nil
}

// usable reports whether key, named for alg ("" when the JWK names none), is
// one this package verifies with.
func usable(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		return (alg == "" || alg == RS256) && bits >= minRSABits && bits <= maxRSABits
	case *ecdsa.PublicKey:
		return (alg == "" || alg == ES256) && k.Curve == elliptic.P256()
	}
	return false
}
