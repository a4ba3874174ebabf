package devstack_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// raw sends a request without the OpenAPI check (preflights and the dev
// identity provider are not API operations).
func raw(t *testing.T, method, u string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestCORSPreflightOnEveryPath: every path of the template answers a
// preflight from the console's origin without a token (204, the allowed
// methods and headers), and refuses one from another origin (403, no CORS
// headers: the origin filter).
func TestCORSPreflightOnEveryPath(t *testing.T) {
	e := start(t, "embedded")
	n := 0
	for _, r := range e.Routes {
		if r.Method != "OPTIONS" {
			continue
		}
		n++
		path := pathParam.ReplaceAllString(r.Path, "x1")
		resp, _ := raw(t, "OPTIONS", e.URL+path, nil, "Origin", e.ConsoleURL, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		if resp.StatusCode != 204 || resp.Header.Get(cors.AllowOrigin) != e.ConsoleURL || resp.Header.Get(cors.AllowMethods) != cors.Methods ||
			resp.Header.Get(cors.AllowHeaders) != cors.Headers || resp.Header.Get(cors.MaxAge) != cors.Age || resp.Header.Get("Vary") != "Origin" {
			t.Errorf("OPTIONS %s from the console: %d %v", path, resp.StatusCode, resp.Header)
		}
		resp, _ = raw(t, "OPTIONS", e.URL+path, nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if resp.StatusCode != 403 || resp.Header.Get(cors.AllowOrigin) != "" || resp.Header.Get(cors.AllowMethods) != "" {
			t.Errorf("OPTIONS %s from another origin: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	if n < 40 {
		t.Errorf("%d preflight routes", n)
	}
}

// TestCORSOnEveryKindOfAnswer: what each kind of answer carries for the
// console's origin and for another (the list the report asks for).
func TestCORSOnEveryKindOfAnswer(t *testing.T) {
	e := start(t, "embedded", func(o *devstack.Options) { o.AllowedOrigins = []string{"https://admin.example.com"} })
	admin := e.token(t, demo.AdminID)
	groups := "/orgs/" + demo.OrgID + "/groups"
	key := "cors-" + strings.Repeat("k", 8)
	body := `{"name":"CORS readers"}`
	for _, origin := range []string{e.ConsoleURL, "https://admin.example.com"} {
		for _, c := range []struct {
			name, method, path, token, body string
			hdr                             []string
			status                          int
		}{
			{"a result", "GET", groups, admin, "", nil, 200},
			{"a created resource (Location)", "POST", groups, admin, body, []string{"Idempotency-Key", key + origin}, 201},
			{"an idempotent replay", "POST", groups, admin, body, []string{"Idempotency-Key", key + origin}, 201},
			{"a handler's problem (field errors)", "POST", groups, admin, `{"name":""}`, nil, 400},
			{"a handler's 404", "GET", groups + "/no-such-group", admin, "", nil, 404},
			{"the gateway's 401", "GET", groups, "", "", nil, 401},
			{"the gateway's unknown route", "GET", "/no/such/route", admin, "", nil, 403},
		} {
			if c.name == "a created resource (Location)" {
				body = `{"name":"CORS readers ` + origin[len(origin)-4:] + `"}`
				c.body = body
			}
			if c.name == "an idempotent replay" {
				c.body = body
			}
			hdr := append([]string{"Origin", origin}, c.hdr...)
			var r response
			if c.path == "/no/such/route" { // not an operation of openapi.yaml
				resp, b := raw(t, c.method, e.URL+c.path, nil, append(hdr, "Authorization", "Bearer "+c.token)...)
				r = response{resp.StatusCode, resp.Header, b}
			} else {
				r = e.do(t, c.method, c.path, c.token, c.body, hdr...)
			}
			if r.status != c.status {
				t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, r.body)
			}
			if r.header.Get(cors.AllowOrigin) != origin || r.header.Get("Vary") != "Origin" || r.header.Get(cors.ExposeHeaders) != cors.Exposed {
				t.Errorf("%s from %s: %v", c.name, origin, r.header)
			}
			if c.name == "an idempotent replay" && r.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: %v", r.header)
			}
		}
	}
	// From an origin not in the list: refused before anything runs, with
	// no CORS header, and nothing changed.
	before := e.do(t, "GET", groups, admin, "").body
	r := e.do(t, "POST", groups, admin, `{"name":"From elsewhere"}`, "Origin", "https://evil.example")
	if r.status != 403 || r.header.Get(cors.AllowOrigin) != "" || r.header.Get(cors.ExposeHeaders) != "" {
		t.Errorf("another origin: %d %v", r.status, r.header)
	}
	if after := e.do(t, "GET", groups, admin, "").body; string(after) != string(before) {
		t.Error("a refused origin's request changed the groups")
	}
	// Without an Origin (curl, a server): answers as before, with Vary.
	if r := e.do(t, "GET", groups, admin, ""); r.status != 200 || r.header.Get(cors.AllowOrigin) != "" || r.header.Get("Vary") != "Origin" {
		t.Errorf("no Origin: %d %v", r.status, r.header)
	}
}

// TestConsoleSignIn: the dev identity provider's authorization code flow
// with PKCE, as the console uses it, and the console's config.
func TestConsoleSignIn(t *testing.T) {
	e := start(t, "embedded")
	resp, b := raw(t, "GET", e.ConsoleURL+"/config.json", nil)
	var cfg map[string]string
	if err := json.Unmarshal(b, &cfg); err != nil || resp.StatusCode != 200 || cfg["apiBaseUrl"] != e.URL || cfg["tokenUrl"] != e.URL+"/dev/oauth/token" ||
		cfg["clientId"] != devstack.ConsoleClientID || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self' "+e.URL) {
		t.Fatalf("config.json: %d %s %v", resp.StatusCode, b, resp.Header)
	}
	if resp, b := raw(t, "GET", e.ConsoleURL+"/", nil); resp.StatusCode != 200 || !strings.Contains(string(b), "<html") {
		t.Fatalf("console index: %d", resp.StatusCode)
	}

	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := e.ConsoleURL + "/"
	authorize := func(redirectURI, challenge string) (*http.Response, []byte) {
		q := url.Values{"response_type": {"code"}, "client_id": {devstack.ConsoleClientID}, "redirect_uri": {redirectURI}, "state": {"s1"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "sub": {demo.AdminID}}
		return raw(t, "POST", e.URL+"/dev/authorize", strings.NewReader(q.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	}
	code := func() string {
		t.Helper()
		resp, b := authorize(redirect, challenge)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 303 || loc == nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "s1" || loc.Query().Get("code") == "" {
			t.Fatalf("authorize: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), b)
		}
		return loc.Query().Get("code")
	}
	exchange := func(code, verifier string) (*http.Response, map[string]any) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {devstack.ConsoleClientID}, "code_verifier": {verifier}}
		resp, b := raw(t, "POST", e.URL+"/dev/oauth/token", strings.NewReader(f.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Origin", e.ConsoleURL)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp, m
	}

	if resp, b := raw(t, "GET", e.URL+"/dev/authorize?response_type=code&client_id=guestaccess-console&redirect_uri="+url.QueryEscape(redirect)+
		"&state=s1&code_challenge_method=S256&code_challenge="+challenge, nil); resp.StatusCode != 200 || !strings.Contains(string(b), `value="`+demo.AdminID+`"`) {
		t.Errorf("the account chooser: %d %s", resp.StatusCode, b)
	}
	for name, r := range map[string][2]string{
		"a redirect to another origin": {"https://evil.example/", challenge},
		"no challenge":                 {redirect, ""},
	} {
		if resp, _ := authorize(r[0], r[1]); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d, redirect %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A wrong verifier is refused, and burns the code.
	c := code()
	if resp, m := exchange(c, strings.Repeat("w", 50)); resp.StatusCode != 400 || m["error"] != "invalid_grant" || resp.Header.Get(cors.AllowOrigin) != e.ConsoleURL {
		t.Errorf("wrong verifier: %d %v %v", resp.StatusCode, m, resp.Header)
	}
	if resp, m := exchange(c, verifier); resp.StatusCode != 400 || m["error"] != "invalid_grant" {
		t.Errorf("a burnt code: %d %v", resp.StatusCode, m)
	}
	c = code()
	resp, m := exchange(c, verifier)
	tok, _ := m["access_token"].(string)
	if resp.StatusCode != 200 || tok == "" || m["token_type"] != "Bearer" || resp.Header.Get(cors.AllowOrigin) != e.ConsoleURL || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("exchange: %d %v %v", resp.StatusCode, m, resp.Header)
	}
	if r := e.do(t, "GET", "/orgs/"+demo.OrgID+"/groups", tok, ""); r.status != 200 {
		t.Errorf("the console's token on the API: %d %s", r.status, r.body)
	}
	if resp, m := exchange(c, verifier); resp.StatusCode != 400 || m["error"] != "invalid_grant" {
		t.Errorf("a code used twice: %d %v", resp.StatusCode, m)
	}
}
