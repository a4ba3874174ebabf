package devstack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// CORS as the browser enforces it: a page on an origin the stack does not
// allow calls the API with fetch() and the browser refuses every answer;
// the same calls from an allowed origin read the JSON, the problems and
// the exposed headers. Embedded backend (the gateway's CORS does not
// depend on the store).

// fetchResult is what the page's fetch() gave: a response the script could
// read, or the error its promise rejected with.
type fetchResult struct {
	OK      bool              `json:"ok"`
	Error   string            `json:"error"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"` // the headers the script may read
	Body    string            `json:"body"`
}

// pageFetch runs fetch(url, init) in the tab's page (init is a JS object
// literal) and returns what the script saw.
func pageFetch(t *testing.T, tab *browsertest.Tab, what, url, init string) fetchResult {
	t.Helper()
	js := fmt.Sprintf(`(async () => {
  try {
    const r = await fetch(%q, %s);
    const headers = {};
    for (const [k, v] of r.headers) headers[k] = v;
    return {ok: true, status: r.status, headers, body: await r.text()};
  } catch (e) {
    return {ok: false, error: e.name + ': ' + e.message};
  }
})()`, url, init)
	return browsertest.Get(tab, what, chromedp.Evaluate[fetchResult](js, chromedp.EvalAwaitPromise))
}

// blankOrigin serves an empty page: an origin for the browser to run the
// test's scripts on.
func blankOrigin(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>another origin</title></head><body><h1>Another origin</h1></body></html>`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// corsLog collects the browser's own account of blocked requests: the
// network layer's CORS error (Network.loadingFailed) and the console
// message (Log.entryAdded).
type corsLog struct {
	mu      sync.Mutex
	failed  []string
	console []string
}

func (c *corsLog) listen(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventLoadingFailed:
		s := ev.ErrorText
		if ev.CorsErrorStatus != nil {
			s += " " + string(ev.CorsErrorStatus.CorsError)
			if p := ev.CorsErrorStatus.FailedParameter; p != "" {
				s += " (" + p + ")"
			}
		}
		c.failed = append(c.failed, s)
	case *log.EventEntryAdded:
		if strings.Contains(ev.Entry.Text, "CORS") {
			c.console = append(c.console, ev.Entry.Text)
		}
	}
}

// take returns and forgets what was collected.
func (c *corsLog) take() (failed, console []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	failed, console, c.failed, c.console = c.failed, c.console, nil, nil
	return failed, console
}

// TestBrowserCORS: from a disallowed origin, a preflighted call (a guarded
// route with an Authorization header, a JSON POST) and a simple GET are
// refused by the browser (the promise rejects with a TypeError, the
// network layer names the CORS error) and the POST changed nothing; from
// an allowed origin (Options.AllowedOrigins) the same calls read their
// JSON, a handler's problem, the gateway's 401 problem and the exposed
// Location and Idempotent-Replayed headers.
func TestBrowserCORS(t *testing.T) {
	tab := browsertest.New(t)
	allowed, other := blankOrigin(t), blankOrigin(t)
	e := start(t, "embedded", func(o *devstack.Options) { o.AllowedOrigins = []string{allowed.URL} })
	admin := e.token(t, demo.AdminID)
	var seen corsLog
	tab.Listen(seen.listen)

	list := e.URL + invitePath(demo.OrgID, demo.SiteID)
	auth := fmt.Sprintf(`{headers: {Authorization: %q}}`, "Bearer "+admin)
	addr := unique("cors")
	invite := fmt.Sprintf(`{method: "POST", headers: {Authorization: %q, "Content-Type": "application/json"}, body: %q}`,
		"Bearer "+admin, guestBody("", addr))

	t.Run("disallowed origin", func(t *testing.T) {
		tab.Do("open the disallowed origin", chromedp.Navigate(other.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
		for _, c := range []struct{ what, url, init, corsErr string }{
			{"guarded GET with Authorization (preflighted)", list, auth, "PreflightMissingAllowOriginHeader"},
			{"JSON POST with Authorization (preflighted)", list, invite, "PreflightMissingAllowOriginHeader"},
			{"simple GET", list, `{}`, "MissingAllowOriginHeader"},
		} {
			r := pageFetch(t, tab, c.what, c.url, c.init)
			failed, console := seen.take()
			t.Logf("%s from %s: %s; network: %v; console: %v", c.what, other.URL, r.Error, failed, console)
			if r.OK || !strings.HasPrefix(r.Error, "TypeError: ") {
				t.Errorf("%s: the script read an answer (status %d, headers %v): %s", c.what, r.Status, r.Headers, r.Body)
			}
			if !strings.Contains(strings.Join(failed, "; "), c.corsErr) {
				t.Errorf("%s: the network layer says %v, want %s", c.what, failed, c.corsErr)
			}
		}
		// The POST never left the browser: its preflight failed.
		if body := string(e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID), admin, "").body); strings.Contains(body, addr) {
			t.Errorf("the refused POST invited %s", addr)
		}
	})

	t.Run("allowed origin", func(t *testing.T) {
		tab.Do("open the allowed origin", chromedp.Navigate(allowed.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))

		r := pageFetch(t, tab, "guarded GET", list, auth)
		var page map[string]any
		if !r.OK || r.Status != 200 || json.Unmarshal([]byte(r.Body), &page) != nil || page["invitations"] == nil {
			t.Fatalf("guarded GET: %+v", r)
		}

		r = pageFetch(t, tab, "invite", list, invite)
		if !r.OK || r.Status != 200 || !strings.Contains(r.Body, addr) {
			t.Fatalf("invite: %+v", r)
		}

		bad := fmt.Sprintf(`{method: "POST", headers: {Authorization: %q, "Content-Type": "application/json"}, body: %q}`,
			"Bearer "+admin, `{"emails":["cors-bad@agency.example"],"products":{"jira":{"role":"guest"}}}`) // guest exists only on Confluence: a 400
		r = pageFetch(t, tab, "bad invite", list, bad)
		p := map[string]any{}
		if !r.OK || r.Status != 400 || r.Headers["content-type"] != "application/problem+json" || json.Unmarshal([]byte(r.Body), &p) != nil || p["title"] == nil {
			t.Fatalf("a handler's problem: %+v", r)
		}
		t.Logf("a handler's problem, read by the page: %s", r.Body)

		r = pageFetch(t, tab, "simple GET", list, `{}`)
		p = map[string]any{}
		if !r.OK || r.Status != 401 || json.Unmarshal([]byte(r.Body), &p) != nil || p["status"] != float64(401) {
			t.Fatalf("the gateway's 401: %+v", r)
		}
		t.Logf("the gateway's 401, read by the page: %s", r.Body)

		key := "cors-" + addr
		group := fmt.Sprintf(`{method: "POST", headers: {Authorization: %q, "Content-Type": "application/json", "Idempotency-Key": %q}, body: %q}`,
			"Bearer "+admin, key, groupBody("cors-"+strings.Split(addr, "@")[0], map[string]string{"confluence": "guest"}))
		first := pageFetch(t, tab, "create a group", e.URL+groupsPath(demo.OrgID), group)
		if !first.OK || first.Status != 201 || !strings.HasPrefix(first.Headers["location"], "/orgs/"+demo.OrgID+"/groups/") {
			t.Fatalf("create a group: %+v", first)
		}
		second := pageFetch(t, tab, "create the group again", e.URL+groupsPath(demo.OrgID), group)
		if !second.OK || second.Status != 201 || second.Headers["idempotent-replayed"] != "true" || second.Headers["location"] != first.Headers["location"] {
			t.Fatalf("the replay: %+v", second)
		}
		t.Logf("headers the page reads on a replay: %v", second.Headers)
		// Only the safelisted headers and the exposed ones reach the script
		// (not Vary, not the Access-Control-* headers themselves).
		for h := range second.Headers {
			switch h {
			case "cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma",
				"idempotent-replayed", "location", "retry-after":
			default:
				t.Errorf("the page reads the unexposed header %s", h)
			}
		}
		if failed, console := seen.take(); len(failed) > 0 || len(console) > 0 {
			t.Errorf("the browser refused something from the allowed origin: %v %v", failed, console)
		}
	})
}
