package jwtverify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"testing"
)

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	enc := func(b []byte) string { return b64.EncodeToString(b) }
	n2048 := enc(append([]byte{0x80}, make([]byte, 255)...))
	n1024 := enc(append([]byte{0x80}, make([]byte, 127)...))
	coord := enc(bytes.Repeat([]byte{1}, 32))
	keys := []map[string]string{
		{"kid": "rsa", "kty": "RSA", "n": n2048, "e": "AQAB"},
		{"kid": "rsa-sig", "kty": "RSA", "use": "sig", "alg": "RS256", "n": n2048, "e": "AQAB"},
		{"kid": "rsa-enc", "kty": "RSA", "use": "enc", "n": n2048, "e": "AQAB"},
		{"kid": "rsa-small", "kty": "RSA", "n": n1024, "e": "AQAB"},
		{"kid": "rsa-e-even", "kty": "RSA", "n": n2048, "e": enc([]byte{2})},
		{"kid": "rsa-e-1", "kty": "RSA", "n": n2048, "e": "AQ"},
		{"kid": "rsa-e-huge", "kty": "RSA", "n": n2048, "e": enc([]byte{1, 0, 0, 0, 1})},
		{"kid": "rsa-padded", "kty": "RSA", "n": n2048 + "==", "e": "AQAB"},
		{"kid": "rsa-ps", "kty": "RSA", "alg": "PS256", "n": n2048, "e": "AQAB"},
		{"kid": "ec-off-curve", "kty": "EC", "crv": "P-256", "x": coord, "y": coord},
		{"kid": "ec-p384", "kty": "EC", "crv": "P-384", "x": coord, "y": coord},
		{"kid": "ec-short", "kty": "EC", "crv": "P-256", "x": enc([]byte{1}), "y": coord},
		{"kid": "oct", "kty": "oct", "k": "c2VjcmV0"},
		{"kty": "RSA", "n": n2048, "e": "AQAB"}, // no kid
	}
	body, _ := json.Marshal(map[string]any{"keys": keys})
	got, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["rsa"] == nil || got["rsa-sig"] == nil {
		t.Fatalf("parsed kids = %v, want only rsa and rsa-sig", got)
	}
	if _, ok := got["rsa"][0].key.(*rsa.PublicKey); !ok {
		t.Errorf("rsa key is %T", got["rsa"][0].key)
	}

	for _, bad := range []string{`not json`, `{}`, `{"keys":{}}`, `[]`} {
		if _, err := parseJWKS([]byte(bad)); err == nil {
			t.Errorf("parseJWKS(%s) succeeded", bad)
		}
	}
}

func TestMatchPicksKeyByAlg(t *testing.T) {
	r, e := &rsa.PublicKey{}, &ecdsa.PublicKey{}
	keys := map[string][]publicKey{
		"both": {{key: r}, {key: e}},
		"pin":  {{alg: ES256, key: r}},
	}
	if k, known, err := match(keys, "both", ES256); !known || err != nil || k != e {
		t.Errorf("both/ES256 = %v %v %v", k, known, err)
	}
	if k, known, err := match(keys, "both", RS256); !known || err != nil || k != r {
		t.Errorf("both/RS256 = %v %v %v", k, known, err)
	}
	if _, known, err := match(keys, "pin", RS256); !known || err == nil {
		t.Errorf("pin/RS256: known=%v err=%v, want mismatch", known, err)
	}
	if _, known, _ := match(keys, "nope", RS256); known {
		t.Error("unknown kid reported known")
	}
}

func TestVerifySignatureRejectsWrongKeyTypes(t *testing.T) {
	if verifySignature(RS256, &ecdsa.PublicKey{}, nil, nil) || verifySignature(ES256, &rsa.PublicKey{}, nil, nil) ||
		verifySignature("HS256", &rsa.PublicKey{}, nil, nil) {
		t.Error("verifySignature accepted a key of the wrong type")
	}
}
