// Package jwttest is a throwaway identity provider for tests and local
// development: it holds fresh signing keys, serves them as a JWKS and signs
// tokens with them. It also crafts the malformed and malicious tokens a
// verifier must refuse. Never use it in production.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"time"
)

// Issuer is a test identity provider with an RSA-2048 key (RS256) and a P-256
// key (ES256). Its fields may be changed before use; it is safe for
// concurrent use afterwards.
type Issuer struct {
	// Issuer is the "iss" claim of the tokens it signs.
	Issuer string
	// Audience is the "aud" claim of the tokens it signs.
	Audience string
	// KeyID is the kid of RSAKey (its RFC 7638 thumbprint).
	KeyID string
	// ECKeyID is the kid of ECKey (its RFC 7638 thumbprint).
	ECKeyID string
	// RSAKey signs RS256 tokens.
	RSAKey *rsa.PrivateKey
	// ECKey signs ES256 tokens.
	ECKey *ecdsa.PrivateKey
	// Now returns the time used for iat and exp; nil means time.Now.
	Now func() time.Time
}

// NewIssuer returns an Issuer with freshly generated keys.
func NewIssuer(issuer, audience string) (*Issuer, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("jwttest: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("jwttest: %w", err)
	}
	i := &Issuer{Issuer: issuer, Audience: audience, RSAKey: rk, ECKey: ek}
	i.KeyID = thumbprint(i.rsaJWK())
	i.ECKeyID = thumbprint(i.ecJWK())
	return i, nil
}

var b64 = base64.RawURLEncoding

// rsaJWK returns the required members of the RSA public JWK.
func (i *Issuer) rsaJWK() map[string]string {
	pub := i.RSAKey.PublicKey
	e := big32(pub.E)
	return map[string]string{"kty": "RSA", "n": b64.EncodeToString(pub.N.Bytes()), "e": b64.EncodeToString(e)}
}

// ecJWK returns the required members of the EC public JWK.
func (i *Issuer) ecJWK() map[string]string {
	point, err := i.ECKey.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		panic(err) // cannot happen for a generated P-256 key
	}
	return map[string]string{"kty": "EC", "crv": "P-256",
		"x": b64.EncodeToString(point[1:33]), "y": b64.EncodeToString(point[33:])}
}

// big32 encodes a positive int big-endian without leading zeros.
func big32(v int) []byte {
	var b []byte
	for ; v > 0; v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	return b
}

// thumbprint is the RFC 7638 JWK thumbprint: encoding/json sorts map keys,
// which is the canonical form the RFC asks for.
func thumbprint(required map[string]string) string {
	j, _ := json.Marshal(required)
	sum := sha256.Sum256(j)
	return b64.EncodeToString(sum[:])
}

// JWKS returns the public keys as a JSON Web Key Set.
func (i *Issuer) JWKS() []byte {
	rk := i.rsaJWK()
	rk["kid"], rk["use"], rk["alg"] = i.KeyID, "sig", "RS256"
	ek := i.ecJWK()
	ek["kid"], ek["use"], ek["alg"] = i.ECKeyID, "sig", "ES256"
	b, _ := json.Marshal(map[string]any{"keys": []any{rk, ek}})
	return b
}

// ServeHTTP serves the JWKS, so an Issuer can back an httptest.Server or a
// local dev server's JWKS_URL.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(i.JWKS())
}

// RSAPublicKeyPEM returns the RSA public key as a PEM "PUBLIC KEY" block, the
// bytes an algorithm-confusion attacker would use as an HMAC secret.
func (i *Issuer) RSAPublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&i.RSAKey.PublicKey)
	if err != nil {
		panic(err) // cannot happen for an RSA key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Claims returns the standard claims for sub: iss, aud, sub, iat = now and
// exp = now+ttl (a negative ttl gives an expired token), overlaid with extra.
// An extra value of nil removes the claim.
func (i *Issuer) Claims(sub string, ttl time.Duration, extra map[string]any) map[string]any {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	t := now()
	c := map[string]any{
		"iss": i.Issuer, "aud": i.Audience, "sub": sub,
		"iat": t.Unix(), "exp": t.Add(ttl).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Token returns an RS256 token for sub valid for ttl; see Claims for extra.
func (i *Issuer) Token(sub string, ttl time.Duration, extra map[string]any) (string, error) {
	return i.Sign("RS256", i.KeyID, i.Claims(sub, ttl, extra))
}

// TokenES256 returns an ES256 token for sub valid for ttl; see Claims for
// extra.
func (i *Issuer) TokenES256(sub string, ttl time.Duration, extra map[string]any) (string, error) {
	return i.Sign("ES256", i.ECKeyID, i.Claims(sub, ttl, extra))
}

// Sign signs claims with the issuer's key for alg ("RS256" or "ES256") and
// puts kid, which need not be the key's, in the header.
func (i *Issuer) Sign(alg, kid string, claims map[string]any) (string, error) {
	input, err := signingInput(map[string]any{"alg": alg, "typ": "JWT", "kid": kid}, claims)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(nil, i.RSAKey, crypto.SHA256, digest[:])
	case "ES256":
		r, s, serr := ecdsa.Sign(rand.Reader, i.ECKey, digest[:])
		sig, err = make([]byte, 64), serr
		if err == nil {
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	default:
		err = fmt.Errorf("jwttest: unsupported alg %q", alg)
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// signingInput returns base64url(header) "." base64url(claims).
func signingInput(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("jwttest: header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwttest: claims: %w", err)
	}
	return b64.EncodeToString(h) + "." + b64.EncodeToString(c), nil
}

// UnsignedToken returns an alg "none" token with claims and an empty
// signature segment. It panics if claims cannot be marshalled.
func UnsignedToken(claims map[string]any) string {
	return unsigned(map[string]any{"alg": "none", "typ": "JWT"}, claims)
}

// HS256Token returns a token with claims MACed with HMAC-SHA256 under secret.
// With an RSA public key as secret it is the classic algorithm-confusion
// attack. It panics if claims cannot be marshalled.
func HS256Token(secret []byte, claims map[string]any) string {
	return hs256(map[string]any{"alg": "HS256", "typ": "JWT"}, secret, claims)
}

// UnsignedToken is like the package-level UnsignedToken but names the
// issuer's RSA kid in the header, as a real attacker would.
func (i *Issuer) UnsignedToken(claims map[string]any) string {
	return unsigned(map[string]any{"alg": "none", "typ": "JWT", "kid": i.KeyID}, claims)
}

// HS256Token is like the package-level HS256Token but names the issuer's RSA
// kid in the header, so a verifier that picks the key by kid and the
// algorithm from the header would MAC with the RSA public key.
func (i *Issuer) HS256Token(secret []byte, claims map[string]any) string {
	return hs256(map[string]any{"alg": "HS256", "typ": "JWT", "kid": i.KeyID}, secret, claims)
}

func unsigned(header, claims map[string]any) string {
	input, err := signingInput(header, claims)
	if err != nil {
		panic(err)
	}
	return input + "."
}

func hs256(header map[string]any, secret []byte, claims map[string]any) string {
	input, err := signingInput(header, claims)
	if err != nil {
		panic(err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64.EncodeToString(mac.Sum(nil))
}
