// Package jwtverify verifies compact JWS JSON Web Tokens signed with RS256 or
// ES256 against an identity provider's JSON Web Key Set.
//
// Token parsing, the algorithm allow-list, signature verification and the
// registered-claim checks are github.com/golang-jwt/jwt/v5; JWK parsing is
// github.com/MicahParks/jwkset. This package adds the policy around them (which
// claims are required, which keys are trusted) and a JWKS cache that bounds how
// often the identity provider is asked.
//
// Every failure wraps [ErrInvalidToken]. The wrapped message names the reason
// for logs; it is for operators only and must never be echoed to clients.
package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
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
	// JWKSURL is the https URL of the identity provider's JSON Web Key Set
	// (plain http only to a loopback host, for local runs: see
	// CheckJWKSURL). Required.
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
	// ExpiresAt is the "exp" claim, to the second; always set.
	ExpiresAt time.Time
	// IssuedAt is the "iat" claim, to the second; zero when absent.
	IssuedAt time.Time
	// NotBefore is the "nbf" claim, to the second; zero when absent.
	NotBefore time.Time
	// Scope is the space-separated "scope" claim (a JSON array of strings is
	// joined with spaces); empty when absent.
	Scope string
	// Product is the optional "product" claim: the product a product's
	// token (client credentials) speaks for.
	Product string
	// Orgs is the optional "orgs" claim, the org ids a product's token was
	// issued for: a JSON array of strings, or one space-separated string.
	// No entry is empty or holds white space.
	Orgs []string
	// Sites is the optional "sites" claim, the single sites (org/site) a
	// product's token was issued for, in the same forms as Orgs.
	Sites []string
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	keys   *keySet
}

// New returns a Verifier for cfg. It fails if Issuer, Audience or JWKSURL is
// empty or JWKSURL is not an acceptable key set URL (CheckJWKSURL). It does
// not fetch the JWKS; the first Verify does.
func New(cfg Config) (*Verifier, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("jwtverify: Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("jwtverify: Audience is required")
	case cfg.JWKSURL == "":
		return nil, errors.New("jwtverify: JWKSURL is required")
	}
	if err := CheckJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
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
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{RS256, ES256}),
		jwt.WithStrictDecoding(), // one encoding per token: no padding, no stray bits
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
	return &Verifier{
		parser: parser,
		keys:   &keySet{url: cfg.JWKSURL, client: client, now: now},
	}, nil
}

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
	var (
		keyfuncCalled bool
		keyErr        error
	)
	keyfunc := func(t *jwt.Token) (any, error) {
		keyfuncCalled = true
		var keys jwt.VerificationKeySet
		keys, keyErr = v.keysFor(ctx, t)
		return keys, keyErr
	}
	mc := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, mc, keyfunc); err != nil {
		if keyErr != nil {
			return Claims{}, keyErr
		}
		return Claims{}, reason(err, keyfuncCalled)
	}
	return claimsOf(mc)
}

// keysFor returns the JWKS keys that may have signed t. The library has
// already refused every alg but RS256 and ES256 at this point; it checks that
// a key's type fits the alg when it verifies the signature.
func (v *Verifier) keysFor(ctx context.Context, t *jwt.Token) (jwt.VerificationKeySet, error) {
	// RFC 7515 4.1.11: extensions listed in crit must be understood. We
	// understand none, so any crit means reject. jku, jwk, x5u and x5c are
	// ignored on purpose: keys only come from the configured JWKS.
	if _, ok := t.Header["crit"]; ok {
		return jwt.VerificationKeySet{}, invalid("unsupported crit header")
	}
	kid, ok := t.Header["kid"].(string)
	if !ok || kid == "" {
		return jwt.VerificationKeySet{}, invalid("missing kid header")
	}
	keys, err := v.keys.lookup(ctx, kid)
	if err != nil {
		return jwt.VerificationKeySet{}, err
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}

// reason maps a library error to an error wrapping ErrInvalidToken. Errors
// from before the signature check get a fixed reason, so logs never carry
// token material (the library's JSON errors may quote it).
func reason(err error, keyfuncCalled bool) error {
	switch {
	case errors.Is(err, jwt.ErrInvalidKeyType):
		return invalid("key type does not match alg")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && !keyfuncCalled:
		// The parser refuses an alg outside WithValidMethods before it asks
		// for a key.
		return invalid("unsupported alg")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid("bad signature")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalid("unsupported alg") // missing, not a string, or unknown to the library
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid("malformed token")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		// Claim validation runs after the signature check and its messages
		// are fixed texts naming the failed checks (exp, iss, aud…), so they
		// are kept, and so is errors.Is to the library's sentinels.
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return invalid("rejected")
}

// maxNumericDate bounds NumericDate values (about year 33658): far beyond it
// the float-to-int conversion behind time.Unix overflows, differently per
// architecture.
const maxNumericDate = 1e12

// claimsOf extracts the claims of a token the library has verified and
// applies the rules it does not know: sub is required, the optional string
// claims must be strings, and dates must be in range.
func claimsOf(mc jwt.MapClaims) (Claims, error) {
	for _, name := range []string{"exp", "iat", "nbf"} {
		if f, ok := mc[name].(float64); ok && math.Abs(f) > maxNumericDate {
			return Claims{}, invalid("malformed " + name + " claim")
		}
	}
	var (
		c   Claims
		err error
		ok  bool
	)
	if c.Subject, err = mc.GetSubject(); err != nil {
		return Claims{}, invalid("malformed sub claim")
	}
	if c.Subject == "" {
		return Claims{}, invalid("missing sub claim")
	}
	c.Issuer, _ = mc.GetIssuer()     // checked by the parser
	c.Audience, _ = mc.GetAudience() // checked by the parser
	for name, dst := range map[string]*string{"email": &c.Email, "name": &c.Name, "product": &c.Product} {
		if *dst, err = optionalString(mc, name); err != nil {
			return Claims{}, err
		}
	}
	// exp, iat and nbf were type-checked by the parser, which requires exp.
	exp, _ := mc.GetExpirationTime()
	if exp == nil {
		return Claims{}, invalid("missing exp claim")
	}
	c.ExpiresAt = exp.UTC()
	if iat, _ := mc.GetIssuedAt(); iat != nil {
		c.IssuedAt = iat.UTC()
	}
	if nbf, _ := mc.GetNotBefore(); nbf != nil {
		c.NotBefore = nbf.UTC()
	}
	switch s := mc["scope"].(type) {
	case nil:
	case string:
		c.Scope = s
	case []any:
		scopes := make([]string, len(s))
		for i, v := range s {
			if scopes[i], ok = v.(string); !ok {
				return Claims{}, invalid("malformed scope claim")
			}
		}
		c.Scope = strings.Join(scopes, " ")
	default:
		return Claims{}, invalid("malformed scope claim")
	}
	for name, dst := range map[string]*[]string{"orgs": &c.Orgs, "sites": &c.Sites} {
		if *dst, err = optionalList(mc, name); err != nil {
			return Claims{}, err
		}
	}
	return c, nil
}

// optionalList returns the list claim name, nil when it is absent or null:
// a JSON array of strings, or a string of space-separated entries. An entry
// that is empty or holds white space is malformed: the authorizer passes
// the list on joined with spaces.
func optionalList(mc jwt.MapClaims, name string) ([]string, error) {
	var list []string
	switch v := mc[name].(type) {
	case nil:
		return nil, nil
	case string:
		list = strings.Fields(v)
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok || s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
				return nil, invalid("malformed " + name + " claim")
			}
			list = append(list, s)
		}
	default:
		return nil, invalid("malformed " + name + " claim")
	}
	return list, nil
}

// optionalString returns the string claim name, "" when it is absent or null.
func optionalString(mc jwt.MapClaims, name string) (string, error) {
	switch s := mc[name].(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	}
	return "", invalid("malformed " + name + " claim")
}

// CheckJWKSURL accepts an absolute https URL, or an http URL whose host is
// loopback (localhost, 127.0.0.0/8, ::1): the keys that decide who is an
// admin must not travel in clear over a network, where anyone on the path
// could serve their own and sign any token. The template's JwksUrl
// AllowedPattern says the same; the authorizer checks it again at start.
func CheckJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("jwtverify: JWKSURL %q is not an absolute https URL", raw)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("jwtverify: JWKSURL %q must be https (plain http only to a loopback host, for local runs)", raw)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
