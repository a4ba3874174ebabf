// Package cors is the API's cross-origin policy: which browser origins may
// call it, and the headers each answer carries. It has no AWS imports: the
// handlers (shared/httpapi), the preflight function and the local gateway
// share it, and template.yaml's AllowedOrigins parameter feeds it (the
// functions' ALLOWED_ORIGINS variable).
//
// Admin frontends authenticate with a bearer token, never cookies, so no
// answer carries Access-Control-Allow-Credentials; and an origin is always
// named, never "*".
package cors

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Request and response header names.
const (
	Origin        = "Origin"
	AllowOrigin   = "Access-Control-Allow-Origin"
	AllowMethods  = "Access-Control-Allow-Methods"
	AllowHeaders  = "Access-Control-Allow-Headers"
	ExposeHeaders = "Access-Control-Expose-Headers"
	MaxAge        = "Access-Control-Max-Age"
	Vary          = "Vary"
)

// The values the policy answers with. Methods are every method the API
// routes; Headers the request headers a frontend sends beyond the
// CORS-safelisted ones; Exposed the response headers a frontend may read
// (an idempotent replay, a created resource, when to retry, an export's
// file name, parts and next part).
const (
	Methods = "GET, HEAD, POST, PUT, PATCH, DELETE"
	Headers = "Authorization, Content-Type, Idempotency-Key"
	Exposed = "Idempotent-Replayed, Location, Retry-After, Content-Disposition, Link, X-Export-Parts"
	// Age is how long a browser may keep a preflight's answer, in
	// seconds: two hours, Chromium's cap.
	Age = "7200"
)

// Policy is the list of allowed origins. The zero value allows none: every
// answer is then without CORS headers, and browsers on other origins are
// refused.
type Policy struct {
	origins []string
}

// Parse reads a comma-separated list of origins (ALLOWED_ORIGINS, from the
// template's AllowedOrigins parameter); an empty list allows none. Each must
// be an origin, scheme://host[:port] with http or https and nothing after:
// "*", a path, a query or credentials are refused, as is an http origin
// other than localhost's (a frontend served over plain HTTP on the internet
// would leak its token).
func Parse(list string) (Policy, error) {
	var p Policy
	for _, raw := range strings.Split(list, ",") {
		o := strings.TrimSpace(raw)
		if o == "" {
			continue
		}
		norm, err := origin(o)
		if err != nil {
			return Policy{}, fmt.Errorf("allowed origin %q: %w", o, err)
		}
		if !slices.Contains(p.origins, norm) {
			p.origins = append(p.origins, norm)
		}
	}
	return p, nil
}

// MustParse is Parse for lists known to be valid (tests, the dev stack's
// own origins); it panics on an invalid one.
func MustParse(list string) Policy {
	p, err := Parse(list)
	if err != nil {
		panic(err)
	}
	return p
}

func origin(o string) (string, error) {
	if o == "*" || o == "null" {
		return "", fmt.Errorf("must name one origin (scheme://host[:port])")
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("scheme must be https (or http for localhost)")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") {
		return "", fmt.Errorf("must be scheme://host[:port] and nothing more")
	}
	host := u.Hostname()
	if u.Scheme == "http" && host != "localhost" && host != "127.0.0.1" && host != "::1" {
		return "", fmt.Errorf("http is allowed only for localhost; use https")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Origins returns the allowed origins.
func (p Policy) Origins() []string { return slices.Clone(p.origins) }

// Enabled reports whether any origin is allowed.
func (p Policy) Enabled() bool { return len(p.origins) > 0 }

// Allows reports whether a request's Origin header names an allowed
// origin. Browsers send the origin in its serialised form (lower-case
// scheme and host, no default port), which is what is compared.
func (p Policy) Allows(origin string) bool {
	return origin != "" && slices.Contains(p.origins, origin)
}

// Headers sets on h the headers of an answer to a request from origin: for
// an allowed origin, Access-Control-Allow-Origin naming it and the exposed
// headers; for any other, none. Vary: Origin is set whenever any origin is
// allowed, as the answer then depends on the Origin header (caches must not
// hand one origin's answer to another).
func (p Policy) Headers(h map[string]string, origin string) {
	if !p.Enabled() {
		return
	}
	h[Vary] = addVary(h[Vary], Origin)
	if !p.Allows(origin) {
		return
	}
	h[AllowOrigin] = origin
	h[ExposeHeaders] = Exposed
}

// Preflight returns the headers of the answer to a preflight (OPTIONS)
// request from origin, and whether the origin is allowed: the methods,
// request headers and cache lifetime, with Access-Control-Allow-Origin.
func (p Policy) Preflight(origin string) (map[string]string, bool) {
	h := map[string]string{}
	p.Headers(h, origin)
	if !p.Allows(origin) {
		return h, false
	}
	delete(h, ExposeHeaders) // meaningless on a preflight
	h[AllowMethods] = Methods
	h[AllowHeaders] = Headers
	h[MaxAge] = Age
	return h, true
}

func addVary(v, name string) string {
	for _, f := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(f), name) {
			return v
		}
	}
	if strings.TrimSpace(v) == "" {
		return name
	}
	return v + ", " + name
}
