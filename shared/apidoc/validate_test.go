package apidoc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestValidatorTakesA405WithAllow: a method the document does not have on
// a path it has may be answered 405 when Allow lists exactly the path's
// documented methods (and HEAD with GET), as the public pages answer their
// other methods; any other answer to it, a 405 without that Allow, or a
// 405 to a documented method or an unknown path is not valid.
func TestValidatorTakesA405WithAllow(t *testing.T) {
	v, err := NewValidator(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path, allow string
		status              int
		ok                  bool
	}{
		{"DELETE", "/invitations/accept", "GET, HEAD, POST", 405, true},
		{"TRACE", "/orgs/14west/verify", "POST,GET,HEAD", 405, true},
		{"DELETE", "/invitations/accept", "", 405, false},
		{"DELETE", "/invitations/accept", "GET, POST", 405, false},
		{"DELETE", "/invitations/accept", "GET, HEAD, POST, DELETE", 405, false},
		{"DELETE", "/invitations/accept", "GET, HEAD, POST", 403, false},
		{"GET", "/invitations/accept", "GET, HEAD, POST", 405, false},
		{"DELETE", "/no/such/path", "GET", 405, false},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, nil)
		h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
		if c.allow != "" {
			h.Set("Allow", c.allow)
		}
		err := v.Response(context.Background(), req, c.status, h, []byte("<p>x</p>"))
		if (err == nil) != c.ok {
			t.Errorf("%s %s -> %d Allow %q: %v, want valid %v", c.method, c.path, c.status, c.allow, err, c.ok)
		}
	}
}
