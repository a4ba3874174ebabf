package jwtverify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
)

// jwkSet is a decoded JWKS whose keys tests edit.
type jwkSet []map[string]any

func decodeJWKS(t *testing.T, body []byte) jwkSet {
	t.Helper()
	var set struct{ Keys jwkSet }
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	return set.Keys
}

func (s jwkSet) encode(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// byKty returns the first key of type kty.
func (s jwkSet) byKty(kty string) map[string]any {
	for _, k := range s {
		if k["kty"] == kty {
			return k
		}
	}
	return nil
}

// TestKeySetKeyPolicy pins which JWKS keys are trusted: each case serves a
// JWKS with one key changed and a token validly signed by that key's private
// half, and checks the key was skipped when the set was read ("unknown kid"),
// not merely that verification failed later.
func TestKeySetKeyPolicy(t *testing.T) {
	clock := newClock()
	iss := issuer(t, 0, clock)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak := *iss // the same kid on a 1024-bit key
	weak.RSAKey = small
	rsTok := must(t)(iss.Token("u", time.Hour, nil))
	esTok := must(t)(iss.TokenES256("u", time.Hour, nil))
	b64 := base64.RawURLEncoding

	tests := []struct {
		name   string
		edit   func(s jwkSet) jwkSet
		token  string
		reason string // "" means the token verifies
	}{
		{"RSA without use and alg", func(s jwkSet) jwkSet {
			delete(s.byKty("RSA"), "use")
			delete(s.byKty("RSA"), "alg")
			return s
		}, rsTok, ""},
		{"EC without use and alg", func(s jwkSet) jwkSet {
			delete(s.byKty("EC"), "use")
			delete(s.byKty("EC"), "alg")
			return s
		}, esTok, ""},
		{"RSA for encryption", func(s jwkSet) jwkSet { s.byKty("RSA")["use"] = "enc"; return s }, rsTok, "unknown kid"},
		{"RSA for PS256", func(s jwkSet) jwkSet { s.byKty("RSA")["alg"] = "PS256"; return s }, rsTok, "unknown kid"},
		{"RSA named ES256", func(s jwkSet) jwkSet { s.byKty("RSA")["alg"] = "ES256"; return s }, rsTok, "unknown kid"},
		{"EC named RS256", func(s jwkSet) jwkSet { s.byKty("EC")["alg"] = "RS256"; return s }, esTok, "unknown kid"},
		{"RSA without kid", func(s jwkSet) jwkSet { delete(s.byKty("RSA"), "kid"); return s }, rsTok, "unknown kid"},
		{"RSA modulus padded", func(s jwkSet) jwkSet { s.byKty("RSA")["n"] = s.byKty("RSA")["n"].(string) + "=="; return s }, rsTok, "unknown kid"},
		{"RSA exponent 1", func(s jwkSet) jwkSet { s.byKty("RSA")["e"] = "AQ"; return s }, rsTok, "unknown kid"},
		{"RSA exponent over 2^31", func(s jwkSet) jwkSet { s.byKty("RSA")["e"] = b64.EncodeToString([]byte{1, 0, 0, 0, 1}); return s }, rsTok, "unknown kid"},
		{"RSA under 2048 bits", func(jwkSet) jwkSet {
			return decodeJWKS(t, weak.JWKS())
		}, must(t)(weak.Token("u", time.Hour, nil)), "unknown kid"},
		{"EC point off the curve", func(s jwkSet) jwkSet {
			y, _ := b64.DecodeString(s.byKty("EC")["y"].(string))
			y[len(y)-1] ^= 1
			s.byKty("EC")["y"] = b64.EncodeToString(y)
			return s
		}, esTok, "unknown kid"},
		{"EC on P-384", func(s jwkSet) jwkSet {
			pt, err := p384.PublicKey.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			k := s.byKty("EC")
			k["crv"], k["x"], k["y"] = "P-384", b64.EncodeToString(pt[1:49]), b64.EncodeToString(pt[49:])
			delete(k, "alg")
			return s
		}, esTok, "unknown kid"},
		{"oct key next to ours", func(s jwkSet) jwkSet {
			return append(s, map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"})
		}, jwttest.HS256Token([]byte("secret"), iss.Claims("u", time.Hour, nil)), "unsupported alg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, tt.edit(decodeJWKS(t, iss.JWKS())).encode(t))
			v, err := jwtverify.New(jwtverify.Config{
				Issuer: testIssuer, Audience: testAudience, JWKSURL: srv.URL, Now: clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), tt.token)
			switch {
			case tt.reason == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case tt.reason == "":
			case err == nil:
				t.Fatal("Verify accepted the token")
			case !errors.Is(err, jwtverify.ErrInvalidToken) || !strings.Contains(err.Error(), tt.reason):
				t.Fatalf("err = %v, want ErrInvalidToken with reason %q", err, tt.reason)
			}
		})
	}
}

// TestKeySetKidSharedByKeyTypes pins that a kid naming both an RSA and an EC
// key verifies either algorithm with the right key, and that a key of the
// wrong type is refused by the type check even when no JWK alg pins it.
func TestKeySetKidSharedByKeyTypes(t *testing.T) {
	f := setup(t)
	set := decodeJWKS(t, f.iss.JWKS())
	for _, k := range set {
		k["kid"] = "shared"
		delete(k, "alg")
	}
	rsaOnly := map[string]any{}
	for m, v := range set.byKty("RSA") {
		rsaOnly[m] = v
	}
	rsaOnly["kid"] = "rsa-only"
	f.srv.Set(append(set, rsaOnly).encode(t))

	claims := f.iss.Claims("u", time.Hour, nil)
	for _, alg := range []string{jwtverify.RS256, jwtverify.ES256} {
		if _, err := f.v.Verify(context.Background(), must(t)(f.iss.Sign(alg, "shared", claims))); err != nil {
			t.Errorf("%s with shared kid: %v", alg, err)
		}
	}
	_, err := f.v.Verify(context.Background(), must(t)(f.iss.Sign(jwtverify.ES256, "rsa-only", claims)))
	if err == nil || !strings.Contains(err.Error(), "key type does not match alg") {
		t.Fatalf("ES256 on an RSA key without alg: err = %v, want key type mismatch", err)
	}
}

func TestKeySetMalformed(t *testing.T) {
	for _, body := range []string{`not json`, `{}`, `{"keys":{}}`, `[]`, `{"keys":null}`} {
		t.Run(body, func(t *testing.T) {
			f := setup(t)
			f.srv.Set([]byte(body))
			_, err := f.v.Verify(context.Background(), must(t)(f.iss.Token("u", time.Hour, nil)))
			if !errors.Is(err, jwtverify.ErrKeySetUnavailable) || !errors.Is(err, jwtverify.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrKeySetUnavailable and ErrInvalidToken", err)
			}
		})
	}
	t.Run("empty set", func(t *testing.T) {
		f := setup(t)
		f.srv.Set([]byte(`{"keys":[]}`))
		_, err := f.v.Verify(context.Background(), must(t)(f.iss.Token("u", time.Hour, nil)))
		if err == nil || errors.Is(err, jwtverify.ErrKeySetUnavailable) || !strings.Contains(err.Error(), "unknown kid") {
			t.Fatalf("err = %v, want unknown kid", err)
		}
	})
}
