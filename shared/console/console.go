// Package console is the reference admin console: a static web app (HTML,
// CSS and plain JavaScript modules under static/, no build step and nothing
// fetched from a CDN) that an org or site admin uses for everything the API
// offers. It runs on its own origin and calls the API cross-origin, with a
// bearer token it gets from the identity provider (authorization code with
// PKCE). The dev stack serves it with [Handler]; a deployment copies static/
// to the console bucket and writes config.json next to it (docs/operating.md).
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed static
var files embed.FS

// Files are the console's static files (index.html at the root).
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed pattern names the folder: cannot happen
	}
	return sub
}

// Config is the console's config.json: where the API is and how to sign in.
type Config struct {
	// APIBaseURL is the API's base URL (the stage URL, no trailing slash).
	APIBaseURL string `json:"apiBaseUrl"`
	// AuthorizeURL and TokenURL are the identity provider's OAuth 2.0
	// endpoints; the console uses the authorization code flow with PKCE
	// (S256), as a public client.
	AuthorizeURL string `json:"authorizeUrl"`
	TokenURL     string `json:"tokenUrl"`
	// ClientID is the console's client id at the identity provider.
	ClientID string `json:"clientId"`
	// Scope is asked for in the authorization request (may be empty).
	Scope string `json:"scope,omitempty"`
	// OrgID and SiteID preselect the org and site the console opens on.
	OrgID  string `json:"orgId,omitempty"`
	SiteID string `json:"siteId,omitempty"`
}

// Handler serves the console's files and its config.json, with a content
// security policy that lets its scripts reach only its own origin, the API
// and the token endpoint.
func Handler(cfg Config) http.Handler {
	conf, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	csp := CSP(cfg)
	static := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/config.json" {
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			_, _ = w.Write(conf)
			return
		}
		static.ServeHTTP(w, r)
	})
}

// CSP is the console's Content-Security-Policy: scripts, styles and images
// from its own origin only; fetches to its origin, the API and the token
// endpoint; no framing; forms nowhere.
func CSP(cfg Config) string {
	connect := []string{"'self'"}
	for _, u := range []string{cfg.APIBaseURL, cfg.TokenURL} {
		if o := origin(u); o != "" && !contains(connect, o) {
			connect = append(connect, o)
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + strings.Join(connect, " ") +
		"; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
