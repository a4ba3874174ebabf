package devstack

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// The gateway's own answers and the origin filter, as the template makes
// them (issue 10): with an allowed origin every kind of answer carries its
// CORS headers; a request from another origin is refused with 403 and none;
// a request from the API's own origin (a guest page's form) passes; without
// any allowed origin no answer carries CORS headers. The functions here
// answer 200 without CORS headers of their own (their wrapper is tested in
// httpapi and end to end): a CORS header on a 200 would have to come from
// the gateway, which adds none.
func TestGatewayCORS(t *testing.T) {
	const console, evil, self = "https://console.example", "https://evil.example", "https://api.example"
	tpl := repoTemplate(t)
	responses, err := gatewayResponses(tpl, tpl.Routes())
	if err != nil {
		t.Fatal(err)
	}
	withOrigins := func(list string) func(*Gateway) {
		return func(g *Gateway) {
			g.Origins, g.SelfOrigin = cors.MustParse(list), self
			g.Conditions = map[string]bool{HasOriginsCondition: g.Origins.Enabled()}
		}
	}
	invite := "/orgs/14west/sites/wiki/invitations"
	kinds := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"no token (UNAUTHORIZED)", "POST", invite, "", "{}", 401},
		{"refused token (UNAUTHORIZED)", "POST", invite, "forged", "{}", 401},
		{"denied (ACCESS_DENIED)", "POST", invite, "deny", "{}", 403},
		{"unknown route (MISSING_AUTHENTICATION_TOKEN)", "GET", "/no/such/route", "", "", 403},
		{"over 10 MB (REQUEST_TOO_LARGE)", "POST", "/invitations/accept", "", strings.Repeat("x", maxPayload+1), 413},
		{"function failed (DEFAULT_5XX)", "GET", "/invitations/accept?token=t", "", "", 502},
		{"function answered", "GET", "/invitations/accept?token=t&ok=1", "", "", 200},
	}
	do := func(t *testing.T, base, method, path, token, body, origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	corsOf := func(r *http.Response) []string {
		var out []string
		for _, h := range []string{cors.AllowOrigin, cors.ExposeHeaders, cors.Vary} {
			if v := r.Header.Get(h); v != "" {
				out = append(out, h+": "+v)
			}
		}
		return out
	}

	t.Run("allowed origins", func(t *testing.T) {
		srv := testGateway(t, responses, withOrigins(console))
		for _, k := range kinds {
			resp := do(t, srv.URL, k.method, k.path, k.token, k.body, console)
			if resp.StatusCode != k.status {
				t.Errorf("%s: status %d, want %d", k.name, resp.StatusCode, k.status)
			}
			if k.status != 200 && (resp.Header.Get(cors.AllowOrigin) != console || resp.Header.Get(cors.Vary) != "Origin" || resp.Header.Get(cors.ExposeHeaders) != cors.Exposed) {
				t.Errorf("%s from the allowed origin: %v", k.name, corsOf(resp))
			}
			if k.status == 200 && len(corsOf(resp)) != 0 {
				t.Errorf("%s: the gateway added %v to a function's answer", k.name, corsOf(resp))
			}
			if got := corsOf(do(t, srv.URL, k.method, k.path, k.token, k.body, "")); k.status != 200 && len(got) != 2 {
				t.Errorf("%s without Origin: %v, want only Expose-Headers and Vary", k.name, got)
			}
			resp = do(t, srv.URL, k.method, k.path, k.token, k.body, evil)
			if resp.StatusCode != 403 || len(corsOf(resp)) != 0 || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s from another origin: %d %v, want 403 (WAF_FILTERED) without CORS headers", k.name, resp.StatusCode, corsOf(resp))
			}
		}
		// The API's own origin (a guest page posting its form) passes the
		// filter; the gateway echoes it as API Gateway would.
		if resp := do(t, srv.URL, "POST", "/invitations/accept?ok=1", "", "token=t", self); resp.StatusCode != 200 {
			t.Errorf("the API's own origin: %d", resp.StatusCode)
		}
		for _, o := range []string{"null", "https://console.example.evil.example", "http://console.example", "HTTPS://CONSOLE.EXAMPLE"} {
			if resp := do(t, srv.URL, "GET", "/no/such/route", "", "", o); resp.StatusCode != 403 || len(corsOf(resp)) != 0 {
				t.Errorf("origin %q: %d %v", o, resp.StatusCode, corsOf(resp))
			}
		}
	})

	t.Run("no allowed origin", func(t *testing.T) {
		srv := testGateway(t, responses, withOrigins(""))
		for _, k := range kinds {
			for _, o := range []string{console, evil, ""} {
				resp := do(t, srv.URL, k.method, k.path, k.token, k.body, o)
				if resp.StatusCode != k.status || len(corsOf(resp)) != 0 {
					t.Errorf("%s from %q: %d %v, want %d without CORS headers (and no origin filter)", k.name, o, resp.StatusCode, corsOf(resp), k.status)
				}
			}
		}
	})
}
