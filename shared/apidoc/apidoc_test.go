package apidoc

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/guestaccess/guestaccess/shared/samtemplate"
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
	for _, r := range tpl.Routes() {
		if r.Method == "OPTIONS" {
			// CORS preflights, on every path (samtemplate's
			// TestRepoTemplateCORS): described once, in info.
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
	if len(routes) == 0 {
		t.Fatal("no routes read from the template")
	}
}
