package devstack

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestGatewayThrottlesPublicRoutes: the local gateway applies the
// template's MethodSettings throttles as API Gateway does: a burst of
// PublicRouteBurstLimit requests to a public route passes, the next is
// THROTTLED (the template's 429 problem, and no function runs), the bucket
// refills at PublicRouteRateLimit a second, each method of the path has its
// own bucket, and other routes are not throttled.
func TestGatewayThrottlesPublicRoutes(t *testing.T) {
	tpl := repoTemplate(t)
	throttles, err := tpl.MethodThrottles("Api")
	if err != nil || len(throttles) == 0 {
		t.Fatalf("throttles %v %v", throttles, err)
	}
	defaults := tpl.ParameterDefaults()
	if defaults["PublicRouteBurstLimit"] == "" || defaults["PublicRouteRateLimit"] == "" {
		t.Fatal("no PublicRouteBurstLimit/PublicRouteRateLimit defaults")
	}
	th := throttles[0]
	responses, err := gatewayResponses(tpl, tpl.Routes())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := testGateway(t, responses, func(g *Gateway) {
		g.Throttles = throttles
		g.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	get := func(method, path string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		_ = json.Unmarshal(b, &doc)
		return resp.StatusCode, doc
	}
	page := "/orgs/acme/verify?ok=1"
	for i := range int(th.Burst) {
		if s, _ := get("GET", page); s != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, s)
		}
	}
	s, doc := get("GET", page)
	if s != 429 || doc["status"] != float64(429) || doc["requestId"] == "" {
		t.Fatalf("over the burst: %d %v; want the THROTTLED problem", s, doc)
	}
	if s, _ := get("POST", "/orgs/acme/verify?ok=1"); s != 200 {
		t.Fatalf("POST has its own bucket: %d", s)
	}
	if s, _ := get("GET", "/orgs/acme/users/x?ok=1"); s == 429 {
		t.Fatal("a route without a throttle was throttled")
	}
	mu.Lock()
	now = now.Add(time.Duration(float64(time.Second) / th.Rate))
	mu.Unlock()
	if s, _ := get("GET", page); s != 200 {
		t.Fatalf("after 1/rate seconds: %d; want one more request through", s)
	}
	if s, _ := get("GET", page); s != 429 {
		t.Fatalf("and then: %d", s)
	}
}
