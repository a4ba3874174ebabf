package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
)

func runOut(t *testing.T, args ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := run(args, &b); err != nil {
		t.Fatalf("devidp %v: %v", args, err)
	}
	return strings.TrimSpace(b.String())
}

// TestTokensVerifyAgainstPublishedJWKS: what deploy.sh publishes (jwks) and
// what e2e.sh presents (token) agree, through the project's own verifier,
// across separate runs that share only the state file.
func TestTokensVerifyAgainstPublishedJWKS(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sub", "idp.json")
	jwks := runOut(t, "-state", state, "-issuer", "https://idp.test/", "-audience", "aud-1", "jwks")
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v, want mode 0600", fi, err)
	}
	// Later runs keep the first run's issuer, audience and keys.
	if got := runOut(t, "-state", state, "-issuer", "ignored", "issuer"); got != "https://idp.test/" {
		t.Errorf("issuer = %q", got)
	}
	if got := runOut(t, "-state", state, "audience"); got != "aud-1" {
		t.Errorf("audience = %q", got)
	}
	if again := runOut(t, "-state", state, "jwks"); again != jwks {
		t.Errorf("JWKS changed between runs:\n%s\n%s", jwks, again)
	}
	tok := runOut(t, "-state", state, "token", "-sub", "local-admin", "-email", "admin@14west.example")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(jwks))
	}))
	defer srv.Close()
	v, err := jwtverify.New(jwtverify.Config{Issuer: "https://idp.test/", Audience: "aud-1", JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("token from devidp does not verify against its JWKS: %v", err)
	}
	if c.Subject != "local-admin" || c.Email != "admin@14west.example" {
		t.Errorf("claims = %+v", c)
	}

	// A product's token: bound to its product, orgs and sites.
	ptok := runOut(t, "-state", state, "product", "-product", "confluence", "-org", "14west", "-org", "acme", "-site", "globex/wiki")
	c, err = v.Verify(context.Background(), ptok)
	if err != nil {
		t.Fatalf("product token from devidp does not verify: %v", err)
	}
	if c.Subject != "confluence" || c.Scope != "access:decide" || c.Product != "confluence" ||
		strings.Join(c.Orgs, " ") != "14west acme" || strings.Join(c.Sites, " ") != "globex/wiki" {
		t.Errorf("product claims = %+v", c)
	}
}

func TestRefusesBadUse(t *testing.T) {
	state := filepath.Join(t.TempDir(), "idp.json")
	for _, args := range [][]string{
		{"-state", state},
		{"-state", state, "nonsense"},
		{"-state", state, "token"},
		{"-state", state, "product", "-product", "confluence"},               // bound to nothing
		{"-state", state, "product", "-product", "madeup", "-org", "14west"}, // no such product
		{"-state", state, "product", "-product", "jira", "-org", "No Org"},   // not an org id
		{"-state", state, "product", "-product", "jira", "-site", "14west"},  // not org/site
	} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("devidp %v succeeded", args)
		}
	}
	if err := os.WriteFile(state, []byte(`{"issuer":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-state", state, "jwks"}, &bytes.Buffer{}); err == nil {
		t.Error("devidp accepted a broken state file")
	}
}
