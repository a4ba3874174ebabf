package jwtverify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
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

// publicKey is one usable signing key of the JWKS.
type publicKey struct {
	alg string // the JWK "alg", or "" when the JWK names none
	key crypto.PublicKey
}

// keySet fetches and caches a JWKS.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	// fetchMu serialises fetches so concurrent misses cause one request.
	// Cached lookups take only mu, so they never wait for the network.
	fetchMu sync.Mutex

	mu          sync.Mutex // guards the fields below
	keys        map[string][]publicKey
	fetchedAt   time.Time // of the last successful fetch
	lastAttempt time.Time // of the last fetch, successful or not
	lastErr     error     // of the last fetch, nil if it succeeded
}

// lookup returns the key named kid usable with alg, fetching the JWKS when it
// is not cached, stale, or lacks kid (at most once per MinRefreshInterval for
// unknown kids).
func (s *keySet) lookup(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	if k, err, done := s.cached(kid, alg); done {
		return k, err
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	// Another goroutine may have fetched while this one waited.
	if k, err, done := s.cached(kid, alg); done {
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
			if k, known, merr := match(s.keys, kid, alg); known {
				return k, merr
			}
		}
		return nil, err
	}
	s.keys, s.fetchedAt, s.lastAttempt, s.lastErr = keys, start, start, nil
	k, known, merr := match(s.keys, kid, alg)
	if !known {
		return nil, invalid("unknown kid")
	}
	return k, merr
}

// cached answers from the cache when it can; done is false when a fetch is
// needed.
func (s *keySet) cached(kid, alg string) (k crypto.PublicKey, err error, done bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := s.keys != nil && now.Sub(s.fetchedAt) < KeySetCacheTTL
	k, known, err := match(s.keys, kid, alg)
	switch {
	case fresh && known:
		return k, err, true
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
			return k, err, true
		}
		return nil, s.lastErr, true
	}
	return nil, nil, false
}

// match finds kid in keys and the key of it usable with alg. known reports
// whether kid is in keys at all; err is set when it is but no key of it
// matches alg (key type or JWK "alg" differ).
func match(keys map[string][]publicKey, kid, alg string) (k crypto.PublicKey, known bool, err error) {
	cands, known := keys[kid]
	if !known {
		return nil, false, nil
	}
	for _, c := range cands {
		if c.alg != "" && c.alg != alg {
			continue
		}
		switch c.key.(type) {
		case *rsa.PublicKey:
			if alg == RS256 {
				return c.key, true, nil
			}
		case *ecdsa.PublicKey:
			if alg == ES256 {
				return c.key, true, nil
			}
		}
	}
	return nil, true, invalid("key type does not match alg")
}

// jwk is the subset of RFC 7517/7518 members used.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// fetch GETs and parses the JWKS.
func (s *keySet) fetch(ctx context.Context) (map[string][]publicKey, error) {
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

// parseJWKS parses a JWK Set. Keys that are not for signatures, of an
// unsupported type, or invalid are skipped so one odd key does not disable
// the others.
func parseJWKS(body []byte) (map[string][]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("JWKS: malformed JSON")
	}
	if set.Keys == nil {
		return nil, errors.New(`JWKS: no "keys" member`)
	}
	keys := make(map[string][]publicKey)
	for _, raw := range set.Keys {
		var j jwk
		if json.Unmarshal(raw, &j) != nil || j.Kid == "" || (j.Use != "" && j.Use != "sig") {
			continue
		}
		k, err := j.publicKey()
		if err != nil {
			continue
		}
		keys[j.Kid] = append(keys[j.Kid], publicKey{alg: j.Alg, key: k})
	}
	return keys, nil
}

// publicKey converts a JWK to an RSA or P-256 ECDSA public key.
func (j jwk) publicKey() (crypto.PublicKey, error) {
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != RS256 {
			return nil, errors.New("RSA key for another alg")
		}
		nb, err := b64.DecodeString(j.N)
		if err != nil {
			return nil, err
		}
		eb, err := b64.DecodeString(j.E)
		if err != nil || len(eb) == 0 || len(eb) > 4 {
			return nil, errors.New("bad RSA exponent")
		}
		n := new(big.Int).SetBytes(nb)
		if bits := n.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, errors.New("RSA modulus size out of range")
		}
		e := new(big.Int).SetBytes(eb).Int64()
		if e < 3 || e > 1<<31-1 || e%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: n, E: int(e)}, nil
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != ES256) {
			return nil, errors.New("unsupported curve")
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != 32 {
			return nil, errors.New("bad EC x")
		}
		y, err := b64.DecodeString(j.Y)
		if err != nil || len(y) != 32 {
			return nil, errors.New("bad EC y")
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point) // checks the point is on the curve
	}
	return nil, errors.New("unsupported kty")
}
