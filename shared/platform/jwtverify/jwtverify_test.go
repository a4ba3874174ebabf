package jwtverify_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "guestaccess-api"
)

// Key generation is slow (RSA-2048), so the tests share a few issuers.
var issuers = sync.OnceValues(func() ([3]*jwttest.Issuer, error) {
	var is [3]*jwttest.Issuer
	for n := range is {
		i, err := jwttest.NewIssuer(testIssuer, testAudience)
		if err != nil {
			return is, err
		}
		is[n] = i
	}
	return is, nil
})

// issuer returns a shared issuer (n = 0, 1 or 2) using clock.
func issuer(t *testing.T, n int, clock *fakeClock) *jwttest.Issuer {
	t.Helper()
	is, err := issuers()
	if err != nil {
		t.Fatal(err)
	}
	c := *is[n] // copy so Now is per test
	c.Now = clock.Now
	return &c
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// jwksServer serves a swappable JWKS body and counts requests.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int64
	body   atomic.Pointer[[]byte]
	status atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.Set(body)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) Set(body []byte) { s.body.Store(&body) }

// mergeJWKS merges the keys of several JWK Sets.
func mergeJWKS(t *testing.T, sets ...[]byte) []byte {
	t.Helper()
	var all []json.RawMessage
	for _, b := range sets {
		var s struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		all = append(all, s.Keys...)
	}
	b, err := json.Marshal(map[string]any{"keys": all})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type fixture struct {
	clock *fakeClock
	iss   *jwttest.Issuer
	srv   *jwksServer
	v     *jwtverify.Verifier
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: newClock()}
	f.iss = issuer(t, 0, f.clock)
	f.srv = newJWKSServer(t, f.iss.JWKS())
	v, err := jwtverify.New(jwtverify.Config{
		Issuer: testIssuer, Audience: testAudience, JWKSURL: f.srv.URL,
		HTTPClient: f.srv.Client(), Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

// must returns a function that returns tok or fails t on err, for wrapping
// calls that return (string, error).
func must(t *testing.T) func(tok string, err error) string {
	return func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func TestVerifyRS256(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.Token("user-1", 10*time.Minute, map[string]any{
		"email": "ada@example.com", "name": "Ada", "scope": "guests:read guests:write",
		"nbf": f.clock.Now().Unix(),
	}))
	c, err := f.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	now := f.clock.Now()
	want := jwtverify.Claims{
		Subject: "user-1", Issuer: testIssuer, Email: "ada@example.com", Name: "Ada",
		Audience: []string{testAudience}, ExpiresAt: now.Add(10 * time.Minute).UTC(),
		IssuedAt: now.UTC(), NotBefore: now.UTC(), Scope: "guests:read guests:write",
	}
	if !claimsEqual(c, want) {
		t.Errorf("claims = %+v, want %+v", c, want)
	}
}

func claimsEqual(a, b jwtverify.Claims) bool {
	return a.Subject == b.Subject && a.Issuer == b.Issuer && a.Email == b.Email &&
		a.Name == b.Name && slices.Equal(a.Audience, b.Audience) && a.Scope == b.Scope &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.IssuedAt.Equal(b.IssuedAt) && a.NotBefore.Equal(b.NotBefore)
}

func TestVerifyES256(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.TokenES256("user-2", time.Minute, nil))
	c, err := f.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "user-2" {
		t.Errorf("Subject = %q", c.Subject)
	}
}

func TestVerifyClaims(t *testing.T) {
	f := setup(t)
	now := f.clock.Now()
	tests := []struct {
		name  string
		ttl   time.Duration
		extra map[string]any
		ok    bool
	}{
		{"expired", -2 * time.Minute, nil, false},
		{"expired within leeway", -30 * time.Second, nil, true},
		{"expires now plus leeway", -60 * time.Second, nil, false},
		{"missing exp", time.Minute, map[string]any{"exp": nil}, false},
		{"exp as string", time.Minute, map[string]any{"exp": "9999999999"}, false},
		{"exp fractional", time.Minute, map[string]any{"exp": float64(now.Unix()) + 30.5}, true},
		{"exp huge", time.Minute, map[string]any{"exp": 1e300}, false},
		{"exp after year 33658", time.Minute, map[string]any{"exp": 2e12}, false},
		{"nbf before year -29700", time.Minute, map[string]any{"nbf": -2e12}, false},
		{"nbf in future", time.Hour, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}, false},
		{"nbf within leeway", time.Hour, map[string]any{"nbf": now.Add(30 * time.Second).Unix()}, true},
		{"iat in future", time.Hour, map[string]any{"iat": now.Add(5 * time.Minute).Unix()}, false},
		{"iat absent", time.Hour, map[string]any{"iat": nil}, true},
		{"wrong iss", time.Minute, map[string]any{"iss": "https://evil.example.com/"}, false},
		{"iss without trailing slash", time.Minute, map[string]any{"iss": strings.TrimSuffix(testIssuer, "/")}, false},
		{"iss different case", time.Minute, map[string]any{"iss": strings.ToUpper(testIssuer)}, false},
		{"missing iss", time.Minute, map[string]any{"iss": nil}, false},
		{"wrong aud", time.Minute, map[string]any{"aud": "other-api"}, false},
		{"missing aud", time.Minute, map[string]any{"aud": nil}, false},
		{"aud array containing", time.Minute, map[string]any{"aud": []string{"other-api", testAudience}}, true},
		{"aud array without", time.Minute, map[string]any{"aud": []string{"other-api", "third"}}, false},
		{"aud array of non-strings", time.Minute, map[string]any{"aud": []any{1, testAudience}}, false},
		{"aud empty array", time.Minute, map[string]any{"aud": []string{}}, false},
		{"missing sub", time.Minute, map[string]any{"sub": nil}, false},
		{"empty sub", time.Minute, map[string]any{"sub": ""}, false},
		{"sub not a string", time.Minute, map[string]any{"sub": 42}, false},
		{"email not a string", time.Minute, map[string]any{"email": true}, false},
		{"scope array", time.Minute, map[string]any{"scope": []string{"a", "b"}}, true},
		{"product not a string", time.Minute, map[string]any{"product": []string{"confluence"}}, false},
		{"orgs array", time.Minute, map[string]any{"orgs": []string{"a", "b"}}, true},
		{"orgs string", time.Minute, map[string]any{"orgs": "a b"}, true},
		{"orgs entry with a space", time.Minute, map[string]any{"orgs": []string{"a b"}}, false},
		{"orgs entry empty", time.Minute, map[string]any{"orgs": []string{""}}, false},
		{"orgs entry not a string", time.Minute, map[string]any{"orgs": []any{"a", 1}}, false},
		{"orgs an object", time.Minute, map[string]any{"orgs": map[string]any{"a": true}}, false},
		{"sites entry with a tab", time.Minute, map[string]any{"sites": []string{"a/b\tc/d"}}, false},
		{"upper-case claim names ignored", time.Minute, map[string]any{"SUB": "x", "sub": nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := must(t)(f.iss.Token("user-1", tt.ttl, tt.extra))
			_, err := f.v.Verify(context.Background(), tok)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("Verify accepted the token")
				}
				t.Logf("rejected: %v", err)
				if !errors.Is(err, jwtverify.ErrInvalidToken) {
					t.Fatalf("error %v does not wrap ErrInvalidToken", err)
				}
			}
		})
	}
}

func TestVerifyScopeArrayJoined(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.Token("u", time.Minute, map[string]any{"scope": []string{"a", "b"}}))
	c, err := f.v.Verify(context.Background(), tok)
	if err != nil || c.Scope != "a b" {
		t.Fatalf("Scope = %q, err = %v", c.Scope, err)
	}
}

// TestVerifyProductClaims: a product's token carries the product it speaks
// for and the orgs and sites it was issued for, as arrays or
// space-separated strings.
func TestVerifyProductClaims(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.Token("confluence-client", time.Minute, map[string]any{
		"scope": "access:decide", "product": "confluence", "orgs": []string{"14west", "acme"}, "sites": "globex/wiki globex/blog"}))
	c, err := f.v.Verify(context.Background(), tok)
	if err != nil || c.Product != "confluence" || !reflect.DeepEqual(c.Orgs, []string{"14west", "acme"}) || !reflect.DeepEqual(c.Sites, []string{"globex/wiki", "globex/blog"}) {
		t.Fatalf("claims %+v, err = %v", c, err)
	}
	c, err = f.v.Verify(context.Background(), must(t)(f.iss.Token("u", time.Minute, nil)))
	if err != nil || c.Product != "" || c.Orgs != nil || c.Sites != nil {
		t.Fatalf("a token without them: %+v, err = %v", c, err)
	}
}

func TestVerifyNegativeLeewayMeansNone(t *testing.T) {
	f := setup(t)
	v, err := jwtverify.New(jwtverify.Config{
		Issuer: testIssuer, Audience: testAudience, JWKSURL: f.srv.URL, Leeway: -1, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := must(t)(f.iss.Token("u", -time.Second, nil))
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("token expired a second ago accepted without leeway")
	}
}

// reheader replaces the header of tok, keeping payload and signature.
func reheader(tok string, header map[string]any) string {
	h, _ := json.Marshal(header)
	_, rest, _ := strings.Cut(tok, ".")
	return base64.RawURLEncoding.EncodeToString(h) + "." + rest
}

// strayBits sets an unused low bit of the last base64url character of tok's
// signature: a lax decoder yields the same signature bytes, so the token
// would verify under a second spelling.
func strayBits(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[last^1])
}

func TestVerifyRejectsAttacks(t *testing.T) {
	f := setup(t)
	other := issuer(t, 1, f.clock)
	claims := f.iss.Claims("admin", time.Hour, nil)
	good := must(t)(f.iss.Token("user-1", time.Hour, nil))
	der, err := x509.MarshalPKIXPublicKey(&f.iss.RSAKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	forgedPayload := func() string {
		parts := strings.Split(good, ".")
		c, _ := json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(c)
		return strings.Join(parts, ".")
	}

	tests := map[string]string{
		"alg none":                        jwttest.UnsignedToken(claims),
		"alg none with kid":               f.iss.UnsignedToken(claims),
		"alg none with signature":         reheader(good, map[string]any{"alg": "none", "kid": f.iss.KeyID}),
		"alg None":                        reheader(good, map[string]any{"alg": "None", "kid": f.iss.KeyID}),
		"HS256 with PEM public key":       f.iss.HS256Token(f.iss.RSAPublicKeyPEM(), claims),
		"HS256 with DER public key":       f.iss.HS256Token(der, claims),
		"HS256 without kid":               jwttest.HS256Token(f.iss.RSAPublicKeyPEM(), claims),
		"HS384 header":                    reheader(good, map[string]any{"alg": "HS384", "kid": f.iss.KeyID}),
		"RS512 header":                    reheader(good, map[string]any{"alg": "RS512", "kid": f.iss.KeyID}),
		"PS256 header":                    reheader(good, map[string]any{"alg": "PS256", "kid": f.iss.KeyID}),
		"lower-case alg":                  reheader(good, map[string]any{"alg": "rs256", "kid": f.iss.KeyID}),
		"alg not a string":                reheader(good, map[string]any{"alg": []string{"RS256"}, "kid": f.iss.KeyID}),
		"missing kid":                     must(t)(f.iss.Sign("RS256", "", claims)),
		"kid not a string":                reheader(good, map[string]any{"alg": "RS256", "kid": 1}),
		"crit header":                     reheader(good, map[string]any{"alg": "RS256", "kid": f.iss.KeyID, "crit": []string{"exp"}}),
		"ES256 header on RSA kid":         must(t)(f.iss.Sign("ES256", f.iss.KeyID, claims)),
		"RS256 header on EC kid":          must(t)(f.iss.Sign("RS256", f.iss.ECKeyID, claims)),
		"tampered payload":                forgedPayload(),
		"other key with our kid":          must(t)(other.Sign("RS256", f.iss.KeyID, claims)),
		"other EC key with our kid":       must(t)(other.Sign("ES256", f.iss.ECKeyID, claims)),
		"signature stripped":              strings.TrimRight(good, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
		"signature truncated":             good[:len(good)-4],
		"signature padded":                good + "==",
		"signature with stray bits":       strayBits(good),
		"jku header ignored, still wrong": reheader(must(t)(other.Token("admin", time.Hour, nil)), map[string]any{"alg": "RS256", "kid": other.KeyID, "jku": "http://evil/"}),
	}
	// The reason matters for some: a forgery must fail on its signature or
	// algorithm, not by luck on something else.
	reasons := map[string]string{
		"alg none":                  "unsupported alg",
		"alg none with kid":         "unsupported alg",
		"alg None":                  "unsupported alg",
		"HS256 without kid":         "unsupported alg",
		"missing kid":               "missing kid header",
		"kid not a string":          "missing kid header",
		"crit header":               "unsupported crit header",
		"signature with stray bits": "malformed token",
		"HS256 with PEM public key": "unsupported alg",
		"HS256 with DER public key": "unsupported alg",
		"ES256 header on RSA kid":   "key type does not match alg",
		"RS256 header on EC kid":    "key type does not match alg",
		"tampered payload":          "bad signature",
		"other key with our kid":    "bad signature",
		"other EC key with our kid": "bad signature",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.Verify(context.Background(), tok)
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			t.Logf("rejected: %v", err)
			if want := reasons[name]; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want reason %q", err, want)
			}
			if !errors.Is(err, jwtverify.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
		})
	}
	if _, err := f.v.Verify(context.Background(), good); err != nil {
		t.Fatalf("good token after attacks: %v", err)
	}
}

func TestVerifyGarbage(t *testing.T) {
	f := setup(t)
	good := must(t)(f.iss.Token("user-1", time.Hour, nil))
	header, _, _ := strings.Cut(good, ".")
	inputs := []string{
		"", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "Bearer " + good, " " + good, good + " ",
		good + ".", "." + good, strings.ReplaceAll(good, "-", "+"), "ey.ey.ey", "\x00.\x00.\x00",
		"W10.W10.W10",          // [] [] []
		"bnVsbA.bnVsbA.bnVsbA", // null null null
		header + ".bnVsbA." + strings.Split(good, ".")[2],
		"日本.語.テキスト", strings.Repeat(".", 100),
	}
	for _, in := range inputs {
		_, err := f.v.Verify(context.Background(), in)
		if err == nil {
			t.Errorf("Verify(%q) accepted", in)
		} else if !errors.Is(err, jwtverify.ErrInvalidToken) {
			t.Errorf("Verify(%q): %v does not wrap ErrInvalidToken", in, err)
		}
	}
}

func TestVerifyOversizedToken(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.Token("user-1", time.Hour, map[string]any{"pad": strings.Repeat("x", jwtverify.MaxTokenSize)}))
	if _, err := f.v.Verify(context.Background(), tok); !errors.Is(err, jwtverify.ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrInvalidToken", err)
	}
	if n := f.srv.hits.Load(); n != 0 {
		t.Errorf("oversized token caused %d JWKS fetches", n)
	}
	tok = must(t)(f.iss.Token("user-1", time.Hour, map[string]any{"pad": strings.Repeat("x", 4000)}))
	if _, err := f.v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("4 KB token: %v", err)
	}
}

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	rotated := issuer(t, 1, f.clock)
	stranger := issuer(t, 2, f.clock)
	verify := func(i *jwttest.Issuer) error {
		t.Helper()
		_, err := f.v.Verify(ctx, must(t)(i.Token("u", time.Hour, nil)))
		return err
	}
	wantHits := func(n int64) {
		t.Helper()
		if got := f.srv.hits.Load(); got != n {
			t.Fatalf("JWKS hits = %d, want %d", got, n)
		}
	}

	if err := verify(f.iss); err != nil {
		t.Fatal(err)
	}
	wantHits(1)
	if err := verify(f.iss); err != nil {
		t.Fatal(err)
	}
	wantHits(1) // cached

	// The IdP rotates in a new key.
	f.clock.Advance(2 * time.Minute)
	f.srv.Set(mergeJWKS(t, f.iss.JWKS(), rotated.JWKS()))
	if err := verify(rotated); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	wantHits(2) // one refetch for the unknown kid

	// Forged kids within the minute do not reach the IdP.
	for range 10 {
		if err := verify(stranger); !errors.Is(err, jwtverify.ErrInvalidToken) {
			t.Fatalf("stranger: %v", err)
		}
	}
	wantHits(2)

	f.clock.Advance(jwtverify.MinRefreshInterval + time.Second)
	if err := verify(stranger); err == nil {
		t.Fatal("stranger accepted")
	}
	wantHits(3) // a minute later, one more try
	if err := verify(stranger); err == nil {
		t.Fatal("stranger accepted")
	}
	wantHits(3)

	// Known kids keep working without fetching.
	if err := verify(rotated); err != nil {
		t.Fatal(err)
	}
	wantHits(3)
}

func TestKeySetCacheExpires(t *testing.T) {
	f := setup(t)
	tok := must(t)(f.iss.Token("u", 3*time.Hour, nil))
	for range 3 {
		if _, err := f.v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(jwtverify.KeySetCacheTTL + time.Second)
	if _, err := f.v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.hits.Load(); got != 2 {
		t.Fatalf("JWKS hits = %d, want 2", got)
	}
}

func TestKeySetUnavailable(t *testing.T) {
	f := setup(t)
	f.srv.status.Store(http.StatusInternalServerError)
	tok := must(t)(f.iss.Token("u", 3*time.Hour, nil))
	_, err := f.v.Verify(context.Background(), tok)
	if !errors.Is(err, jwtverify.ErrInvalidToken) || !errors.Is(err, jwtverify.ErrKeySetUnavailable) {
		t.Fatalf("err = %v, want ErrInvalidToken and ErrKeySetUnavailable", err)
	}
	// Failures back off briefly instead of fetching on every request.
	_, _ = f.v.Verify(context.Background(), tok)
	if got := f.srv.hits.Load(); got != 1 {
		t.Fatalf("JWKS hits = %d, want 1", got)
	}
	f.clock.Advance(10 * time.Second)
	f.srv.status.Store(http.StatusOK)
	if _, err := f.v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}

	// Once the cache is stale, a failing IdP does not lock users out: the
	// stale keys are used.
	f.clock.Advance(jwtverify.KeySetCacheTTL + time.Minute)
	f.srv.status.Store(http.StatusServiceUnavailable)
	if _, err := f.v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("stale keys not served: %v", err)
	}
}

func TestKeySetTooLarge(t *testing.T) {
	f := setup(t)
	f.srv.Set([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", jwtverify.MaxKeySetSize) + `"}`))
	_, err := f.v.Verify(context.Background(), must(t)(f.iss.Token("u", time.Hour, nil)))
	if !errors.Is(err, jwtverify.ErrKeySetUnavailable) {
		t.Fatalf("err = %v, want ErrKeySetUnavailable", err)
	}
}

func TestKeySetSkipsUnusableKeys(t *testing.T) {
	f := setup(t)
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(f.iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["kty"] == "RSA" {
			k["use"] = "enc" // an encryption key must not verify signatures
		}
	}
	set.Keys = append(set.Keys, map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"})
	b, _ := json.Marshal(map[string]any{"keys": set.Keys})
	f.srv.Set(b)
	if _, err := f.v.Verify(context.Background(), must(t)(f.iss.Token("u", time.Hour, nil))); err == nil {
		t.Fatal("token verified with a use=enc key")
	}
	if _, err := f.v.Verify(context.Background(), must(t)(f.iss.TokenES256("u", time.Hour, nil))); err != nil {
		t.Fatalf("EC key next to unusable keys: %v", err)
	}
	if _, err := f.v.Verify(context.Background(), jwttest.HS256Token([]byte("secret"), f.iss.Claims("u", time.Hour, nil))); err == nil {
		t.Fatal("HS256 token accepted with an oct key in the set")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := setup(t)
	rs := must(t)(f.iss.Token("u", time.Hour, nil))
	es := must(t)(f.iss.TokenES256("u", time.Hour, nil))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for n := range 64 {
		wg.Go(func() {
			tok := rs
			if n%2 == 1 {
				tok = es
			}
			if _, err := f.v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.srv.hits.Load(); got != 1 {
		t.Errorf("JWKS hits = %d, want 1 (fetches are single-flight)", got)
	}
}

func TestNew(t *testing.T) {
	ok := jwtverify.Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "https://idp.example.com/.well-known/jwks.json"}
	if _, err := jwtverify.New(ok); err != nil {
		t.Fatalf("New: %v", err)
	}
	for name, mod := range map[string]func(*jwtverify.Config){
		"no issuer":     func(c *jwtverify.Config) { c.Issuer = "" },
		"no audience":   func(c *jwtverify.Config) { c.Audience = "" },
		"no JWKS URL":   func(c *jwtverify.Config) { c.JWKSURL = "" },
		"relative URL":  func(c *jwtverify.Config) { c.JWKSURL = "/jwks.json" },
		"file URL":      func(c *jwtverify.Config) { c.JWKSURL = "file:///etc/passwd" },
		"malformed URL": func(c *jwtverify.Config) { c.JWKSURL = "https://%zz" },
		"plain http":    func(c *jwtverify.Config) { c.JWKSURL = "http://idp.example.com/.well-known/jwks.json" },
	} {
		c := ok
		mod(&c)
		if _, err := jwtverify.New(c); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestIssuerServesJWKS(t *testing.T) {
	iss := issuer(t, 0, newClock())
	srv := httptest.NewServer(iss)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, Use, Alg string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || len(set.Keys) != 2 ||
		set.Keys[0].Kid != iss.KeyID || set.Keys[1].Kid != iss.ECKeyID {
		t.Fatalf("JWKS = %+v", set)
	}
	resp2, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d", resp2.StatusCode)
	}
}

// jwksURLCases are key set URLs and whether they are acceptable: https
// anywhere, plain http only to a loopback host. The authorizer's test checks
// the template's JwksUrl AllowedPattern against the same cases.
var jwksURLCases = map[string]bool{
	"https://idp.example.com/.well-known/jwks.json":         true,
	"https://idp.example.com":                               true,
	"https://127.0.0.1:8443/jwks.json":                      true,
	"http://127.0.0.1:8080/.well-known/jwks.json":           true,
	"http://127.0.0.1":                                      true,
	"http://127.1.2.3:9/jwks":                               true,
	"http://localhost:4566/bucket/jwks.json":                true,
	"http://[::1]:8080/jwks.json":                           true,
	"http://idp.example.com/.well-known/jwks.json":          false,
	"http://10.0.0.5/jwks.json":                             false,
	"http://169.254.169.254/latest/meta-data":               false,
	"http://s3.localhost.localstack.cloud:4566/b/jwks.json": false,
	"http://localhost.evil.example/jwks.json":               false,
	"http://localhost@evil.example/jwks.json":               false,
	"http://127.0.0.1.evil.example/jwks.json":               false,
	"ftp://idp.example.com/jwks.json":                       false,
	"/jwks.json":                                            false,
	"":                                                      false,
}

func TestCheckJWKSURL(t *testing.T) {
	for u, ok := range jwksURLCases {
		if err := jwtverify.CheckJWKSURL(u); (err == nil) != ok {
			t.Errorf("CheckJWKSURL(%q) = %v, want ok=%v", u, err, ok)
		}
	}
}

// TestTemplateJwksURLPattern: the template's JwksUrl AllowedPattern, which
// CloudFormation applies before anything is deployed, accepts exactly the
// URLs the authorizer accepts at start.
func TestTemplateJwksURLPattern(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pattern, ok := tpl.ParameterPattern("JwksUrl")
	if !ok {
		t.Fatal("JwksUrl has no AllowedPattern")
	}
	re := regexp.MustCompile(pattern)
	for u, want := range jwksURLCases {
		if got := re.MatchString(u); got != want {
			t.Errorf("JwksUrl AllowedPattern %q on %q = %v, want %v", pattern, u, got, want)
		}
	}
}
