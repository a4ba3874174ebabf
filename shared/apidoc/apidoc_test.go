package apidoc

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
)

// TestDocumentAgreesWithTemplate checks both ways: every route of
// template.yaml is documented with the same function and auth, and every
// documented operation is a route of the template.
func TestDocumentAgreesWithTemplate(t *testing.T) {
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	tpl, err := samtemplate.Load(filepath.Join(filepath.Dir(file), "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]Operation{}
	for _, o := range Operations(doc) {
		documented[o.Method+" "+o.Path] = o
	}
	routes := map[string]samtemplate.Route{}
	var anyRoutes []samtemplate.Route
	for _, r := range tpl.Routes() {
		if r.Method == "OPTIONS" {
			// CORS preflights, on every path (samtemplate's
			// TestRepoTemplateCORS): described once, in info.
			continue
		}
		if r.Method == "ANY" {
			// The other methods of a path the document has (OpenAPI has
			// no ANY): its own function answers them 405 with Allow
			// (TestPagesAnswerOtherMethods405 in passcodeapi and invitationsapi), with the same
			// authorisation as the path's operations.
			anyRoutes = append(anyRoutes, r)
			continue
		}
		routes[r.Method+" "+r.Path] = r
		o, ok := documented[r.Method+" "+r.Path]
		switch {
		case !ok:
			t.Errorf("template route %s %s is not in openapi.yaml", r.Method, r.Path)
		case o.FunctionID != r.FunctionID:
			t.Errorf("%s %s: openapi x-function %q, template %q", r.Method, r.Path, o.FunctionID, r.FunctionID)
		case o.Public != r.Public:
			t.Errorf("%s %s: openapi public=%v, template public=%v", r.Method, r.Path, o.Public, r.Public)
		}
	}
	for k := range documented {
		if _, ok := routes[k]; !ok {
			t.Errorf("openapi.yaml documents %s, which template.yaml does not route", k)
		}
	}
	for _, r := range anyRoutes {
		n := 0
		for _, o := range documented {
			if o.Path != r.Path {
				continue
			}
			n++
			if o.FunctionID != r.FunctionID || o.Public != r.Public {
				t.Errorf("ANY %s: function %s public %v, but %s %s is %s public %v", r.Path, r.FunctionID, r.Public, o.Method, o.Path, o.FunctionID, o.Public)
			}
		}
		if n == 0 {
			t.Errorf("ANY %s: the document has no operation on the path", r.Path)
		}
	}
	if len(routes) == 0 {
		t.Fatal("no routes read from the template")
	}
}
