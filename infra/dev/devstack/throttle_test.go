package devstack

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
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

// TestGatewayStageThrottle: the template's stage-wide MethodSettings
// (ApiRateLimit, ApiBurstLimit) throttle every other route, each path and
// method its own bucket, while a public route keeps its own, tighter one.
func TestGatewayStageThrottle(t *testing.T) {
	tpl := repoTemplate(t)
	throttles, err := tpl.MethodThrottles("Api")
	if err != nil {
		t.Fatal(err)
	}
	var stage, public float64
	for _, th := range throttles {
		if th.Path == "/*" {
			stage = th.Burst
		} else if th.Path == "/orgs/{orgId}/verify" {
			public = th.Burst
		}
	}
	if stage == 0 || public == 0 || public >= stage {
		t.Fatalf("stage burst %v, public burst %v: want both, the public one smaller", stage, public)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The stage-wide setting listed first too: the route's own setting still wins.
	g := &Gateway{Throttles: append(slices.Clone(throttles[len(throttles)-1:]), throttles...), Now: func() time.Time { return now }}
	route := func(method, path string) samtemplate.Route {
		for _, r := range tpl.Routes() {
			if r.Method == method && r.Path == path {
				return r
			}
		}
		t.Fatalf("no route %s %s", method, path)
		return samtemplate.Route{}
	}
	users, audit := route("GET", "/orgs/{orgId}/users/{accountId}/roles"), route("GET", "/orgs/{orgId}/audit")
	for i := range int(stage) {
		if g.throttled(users) {
			t.Fatalf("request %d of the stage's burst was throttled", i+1)
		}
	}
	if !g.throttled(users) {
		t.Fatal("over the stage's burst: not throttled")
	}
	if g.throttled(audit) {
		t.Fatal("another path shares the bucket")
	}
	verify := route("GET", "/orgs/{orgId}/verify")
	for i := range int(public) {
		if g.throttled(verify) {
			t.Fatalf("request %d of the public route's burst was throttled", i+1)
		}
	}
	if !g.throttled(verify) {
		t.Fatal("over the public route's burst: not throttled (the stage's bucket was used)")
	}
}
