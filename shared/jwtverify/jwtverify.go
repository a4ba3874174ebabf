// Package jwtverify verifies compact JWS JSON Web Tokens signed with RS256 or
// ES256 against an identity provider's JSON Web Key Set, using only the Go
// standard library.
//
// Every failure wraps [ErrInvalidToken]. The wrapped message names the reason
// for logs; it is for operators only and must never be echoed to clients.
package jwtverify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrInvalidToken is wrapped by every error Verify returns. Callers should
// test for it with errors.Is and answer clients with a generic 401; the
// wrapped message is for logs only.
var ErrInvalidToken = errors.New("invalid token")

// ErrKeySetUnavailable is wrapped, together with ErrInvalidToken, when the
// JWKS could not be fetched or parsed and no usable cached key exists. It lets
// callers tell an identity-provider outage from a bad token in their logs.
var ErrKeySetUnavailable = errors.New("key set unavailable")

// Defaults and limits.
const (
	// MaxTokenSize is the largest token, in bytes, Verify accepts.
	MaxTokenSize = 8 << 10
	// DefaultLeeway is the clock skew tolerated when Config.Leeway is zero.
	DefaultLeeway = 60 * time.Second
	// DefaultHTTPTimeout bounds each JWKS fetch.
	DefaultHTTPTimeout = 5 * time.Second
	// KeySetCacheTTL is how long a fetched JWKS is used before it is refetched.
	KeySetCacheTTL = time.Hour
	// MinRefreshInterval is the least time between two JWKS fetches caused by
	// an unknown kid, so forged kids cannot make the verifier hammer the IdP.
	MinRefreshInterval = time.Minute
	// MaxKeySetSize is the largest JWKS response body, in bytes, accepted.
	MaxKeySetSize = 1 << 20
)

// Supported signature algorithms (the JWS "alg" header values).
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// Config configures a Verifier.
type Config struct {
	// Issuer is the exact "iss" claim accepted. Required.
	Issuer string
	// Audience must be one of the token's "aud" values. Required.
	Audience string
	// JWKSURL is the http(s) URL of the identity provider's JSON Web Key Set.
	// Required.
	JWKSURL string
	// HTTPClient fetches the JWKS. Nil means a client with DefaultHTTPTimeout.
	// Each fetch is bounded by DefaultHTTPTimeout whatever the client.
	HTTPClient *http.Client
	// Leeway is the clock skew tolerated for exp, nbf and iat. Zero means
	// DefaultLeeway (60s); a negative value means no leeway.
	Leeway time.Duration
	// Now returns the current time. Nil means time.Now. It also drives the
	// JWKS cache, so tests can move the clock.
	Now func() time.Time
}

// Claims are the verified claims of a token.
type Claims struct {
	// Subject is the "sub" claim; never empty in a verified token.
	Subject string
	// Issuer is the "iss" claim; equal to Config.Issuer.
	Issuer string
	// Email is the optional "email" claim.
	Email string
	// Name is the optional "name" claim.
	Name string
	// Audience is the "aud" claim, a single string in the token or an array.
	Audience []string
	// ExpiresAt is the "exp" claim; always set.
	ExpiresAt time.Time
	// IssuedAt is the "iat" claim; zero when absent.
	IssuedAt time.Time
	// NotBefore is the "nbf" claim; zero when absent.
	NotBefore time.Time
	// Scope is the space-separated "scope" claim (a JSON array of strings is
	// joined with spaces); empty when absent.
	Scope string
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	keys     *keySet
}

// New returns a Verifier for cfg. It fails if Issuer, Audience or JWKSURL is
// empty or JWKSURL is not an absolute http(s) URL. It does not fetch the JWKS;
// the first Verify does.
func New(cfg Config) (*Verifier, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("jwtverify: Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("jwtverify: Audience is required")
	case cfg.JWKSURL == "":
		return nil, errors.New("jwtverify: JWKSURL is required")
	}
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("jwtverify: JWKSURL %q is not an absolute http(s) URL", cfg.JWKSURL)
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	} else if leeway < 0 {
		leeway = 0
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   leeway,
		now:      now,
		keys:     &keySet{url: cfg.JWKSURL, client: client, now: now},
	}, nil
}

// b64 decodes unpadded base64url strictly (no padding, no stray bits), so a
// token has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// invalid returns an error wrapping ErrInvalidToken with a fixed reason. The
// reason never contains token material.
func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, reason) }

// Verify checks token, a compact JWS, and returns its claims. The signature
// must be RS256 or ES256 by a key of the configured JWKS named by the "kid"
// header; exp is required; nbf and iat must not be in the future; iss must
// equal Config.Issuer; aud must contain Config.Audience; sub must be non-empty.
// ctx bounds a JWKS fetch, if one is needed. Every error wraps ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	if token == "" {
		return Claims{}, invalid("empty token")
	}
	if len(token) > MaxTokenSize {
		return Claims{}, invalid("token too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, invalid("not a compact JWS")
	}
	if parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Claims{}, invalid("empty JWS segment")
	}

	alg, kid, err := parseHeader(parts[0])
	if err != nil {
		return Claims{}, err
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return Claims{}, invalid("malformed signature encoding")
	}
	key, err := v.keys.lookup(ctx, kid, alg)
	if err != nil {
		return Claims{}, err
	}
	signingInput := token[:len(parts[0])+1+len(parts[1])]
	if !verifySignature(alg, key, []byte(signingInput), sig) {
		return Claims{}, invalid("bad signature")
	}

	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return Claims{}, invalid("malformed payload encoding")
	}
	c, err := parseClaims(payload)
	if err != nil {
		return Claims{}, err
	}
	if err := v.validate(c); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// parseHeader decodes the protected header and returns its alg and kid. Only
// RS256 and ES256 are accepted; "none", HS* and anything else are refused
// before any key is looked up, which rules out algorithm confusion.
func parseHeader(seg string) (alg, kid string, err error) {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return "", "", invalid("malformed header encoding")
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return "", "", invalid("malformed header")
	}
	if err := jsonString(h["alg"], &alg); err != nil {
		return "", "", invalid("malformed alg header")
	}
	if alg != RS256 && alg != ES256 {
		return "", "", invalid("unsupported alg")
	}
	if err := jsonString(h["kid"], &kid); err != nil || kid == "" {
		return "", "", invalid("missing kid header")
	}
	// RFC 7515 4.1.11: extensions listed in crit must be understood. We
	// understand none, so any crit means reject.
	if _, ok := h["crit"]; ok {
		return "", "", invalid("unsupported crit header")
	}
	// jku, jwk, x5u and x5c are ignored on purpose: keys only come from the
	// configured JWKS.
	return alg, kid, nil
}

// verifySignature checks sig over signingInput with key under alg. The key's
// type must match alg.
func verifySignature(alg string, key crypto.PublicKey, signingInput, sig []byte) bool {
	digest := sha256.Sum256(signingInput)
	switch alg {
	case RS256:
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case ES256:
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || len(sig) != 64 {
			return false
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, digest[:], r, s)
	}
	return false
}

// parseClaims decodes the registered and known claims of payload. Keys match
// exactly (encoding/json would otherwise match struct fields
// case-insensitively).
func parseClaims(payload []byte) (Claims, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil || m == nil {
		return Claims{}, invalid("malformed claims")
	}
	var c Claims
	for name, dst := range map[string]*string{
		"sub": &c.Subject, "iss": &c.Issuer, "email": &c.Email, "name": &c.Name,
	} {
		if err := jsonString(m[name], dst); err != nil {
			return Claims{}, invalid("malformed " + name + " claim")
		}
	}
	for name, dst := range map[string]*time.Time{
		"exp": &c.ExpiresAt, "iat": &c.IssuedAt, "nbf": &c.NotBefore,
	} {
		if err := numericDate(m[name], dst); err != nil {
			return Claims{}, invalid("malformed " + name + " claim")
		}
	}
	var err error
	if c.Audience, err = stringOrStrings(m["aud"]); err != nil {
		return Claims{}, invalid("malformed aud claim")
	}
	scopes, err := stringOrStrings(m["scope"])
	if err != nil {
		return Claims{}, invalid("malformed scope claim")
	}
	c.Scope = strings.Join(scopes, " ")
	return c, nil
}

// validate applies the time, issuer, audience and subject rules.
func (v *Verifier) validate(c Claims) error {
	now := v.now()
	switch {
	case c.ExpiresAt.IsZero():
		return invalid("missing exp claim")
	case !now.Before(c.ExpiresAt.Add(v.leeway)):
		return invalid("token expired")
	case !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore):
		return invalid("token not yet valid")
	case !c.IssuedAt.IsZero() && now.Add(v.leeway).Before(c.IssuedAt):
		return invalid("token issued in the future")
	case c.Issuer != v.issuer:
		return invalid("wrong issuer")
	case !slices.Contains(c.Audience, v.audience):
		return invalid("wrong audience")
	case c.Subject == "":
		return invalid("missing sub claim")
	}
	return nil
}
