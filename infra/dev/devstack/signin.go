package devstack

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// ConsoleClientID is the admin console's client id at the dev identity
// provider.
const ConsoleClientID = "guestaccess-console"

// codeLifetime is how long an authorization code may be exchanged.
const codeLifetime = time.Minute

// signIn is the dev identity provider's OAuth 2.0 authorization code flow
// with PKCE (RFC 7636, S256 only), for public clients such as the admin
// console: GET /dev/authorize shows the demo accounts, choosing one
// redirects back with a code, and POST /dev/oauth/token exchanges the code
// and its verifier for an access token from the same issuer as /dev/token.
// Codes are single-use and live a minute. A deployment uses its own
// identity provider's endpoints instead; the console's code is the same.
type signIn struct {
	st    *Stack
	mu    sync.Mutex
	codes map[string]authCode
}

type authCode struct {
	sub, redirectURI, challenge string
	expires                     time.Time
}

// authRequest is a checked authorization request.
type authRequest struct {
	ClientID, RedirectURI, State, Challenge string
}

// parse checks an authorization request's parameters: the console's
// client id, a redirect URI on an allowed origin, and an S256 challenge.
func (s *signIn) parse(q url.Values) (authRequest, string) {
	ar := authRequest{ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state"), Challenge: q.Get("code_challenge")}
	if q.Get("response_type") != "code" {
		return ar, "response_type must be code"
	}
	if ar.ClientID != ConsoleClientID {
		return ar, "unknown client_id"
	}
	u, err := url.Parse(ar.RedirectURI)
	if err != nil || !s.st.Origins.Allows(u.Scheme+"://"+u.Host) {
		return ar, "redirect_uri is not on an allowed origin"
	}
	if q.Get("code_challenge_method") != "S256" || len(ar.Challenge) < 43 || len(ar.Challenge) > 128 {
		return ar, "a code_challenge with code_challenge_method S256 is required"
	}
	return ar, ""
}

var authorizeTmpl = template.Must(template.New("authorize").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign in (dev identity provider)</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0}main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px}
button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.7rem 1rem;font-size:1rem;border:1px solid #8993a4;border-radius:4px;background:#fff;cursor:pointer}
button:focus{outline:3px solid #4c9aff;outline-offset:2px}.muted{color:#5e6c84;font-size:.9rem}</style></head>
<body><main><h1>Sign in (dev identity provider)</h1>
{{if .Problem}}<p role="alert">This sign-in request is not valid: {{.Problem}}.</p>{{else}}
<p class="muted">The local stack's stand-in for your identity provider: choose the demo account to sign in as.</p>
<form method="post" action="/dev/authorize">
<input type="hidden" name="response_type" value="code"><input type="hidden" name="client_id" value="{{.Req.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Req.RedirectURI}}"><input type="hidden" name="state" value="{{.Req.State}}">
<input type="hidden" name="code_challenge" value="{{.Req.Challenge}}"><input type="hidden" name="code_challenge_method" value="S256">
{{range .Accounts}}<button type="submit" name="sub" value="{{.ID}}"><strong>{{.ID}}</strong> <span class="muted">{{.Power}}</span></button>
{{end}}</form>{{end}}
</main></body></html>`))

// authorize serves GET (the account chooser) and POST (the choice:
// a code, and a 303 back to the client).
func (s *signIn) authorize(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		q = r.PostForm
	}
	ar, problem := s.parse(q)
	// Chromium holds a form's redirect to form-action too: the chooser's
	// POST answers 303 to the client's redirect URI (an allowed origin, as
	// parse checked), so that origin is a form target as well as 'self'.
	formAction := "'self'"
	if u, err := url.Parse(ar.RedirectURI); problem == "" && err == nil {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'")
	sub := q.Get("sub")
	if problem == "" && r.Method == http.MethodPost && !domain.ValidAccountID(sub) {
		problem = "sub must be an account id"
	}
	if problem != "" || r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if problem != "" {
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = authorizeTmpl.Execute(w, map[string]any{"Problem": problem, "Req": ar, "Accounts": Accounts()})
		return
	}
	code := domain.NewID() + domain.NewID()
	s.mu.Lock()
	now := time.Now()
	for k, c := range s.codes { // forget the expired
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
	s.codes[code] = authCode{sub: sub, redirectURI: ar.RedirectURI, challenge: ar.Challenge, expires: now.Add(codeLifetime)}
	s.mu.Unlock()
	back, _ := url.Parse(ar.RedirectURI)
	bq := back.Query()
	bq.Set("code", code)
	if ar.State != "" {
		bq.Set("state", ar.State)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// token exchanges a code and its PKCE verifier for an access token, with
// CORS headers for the allowed origins (the console calls it from its own).
func (s *signIn) token(w http.ResponseWriter, r *http.Request) {
	h := map[string]string{}
	if r.Method == http.MethodOptions {
		ph, ok := s.st.Origins.Preflight(r.Header.Get(cors.Origin))
		for k, v := range ph {
			w.Header().Set(k, v)
		}
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.st.Origins.Headers(h, r.Header.Get(cors.Origin))
	for k, v := range h {
		w.Header().Set(k, v)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	fail := func(code string) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		fail("unsupported_grant_type")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	c, found := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code")) // single use, whatever the outcome
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if !found || time.Now().After(c.expires) || f.Get("client_id") != ConsoleClientID || f.Get("redirect_uri") != c.redirectURI ||
		subtle.ConstantTimeCompare([]byte(challenge), []byte(c.challenge)) != 1 {
		fail("invalid_grant")
		return
	}
	tok, err := s.st.Token(c.sub)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}
