// Package apidoc holds the OpenAPI 3 document of the API (openapi.yaml),
// embedded so that the dev server can serve it and tests can check the
// template's routes and real responses against it.
package apidoc

import (
	"context"
	_ "embed"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// YAML is the OpenAPI document as written.
//
//go:embed openapi.yaml
var YAML []byte

// Load parses and validates the document.
func Load(ctx context.Context) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(YAML)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, err
	}
	return doc, nil
}

// Operation is one method on one path of the document.
type Operation struct {
	Method     string
	Path       string
	FunctionID string // x-function
	Public     bool   // security: []
}

// Operations lists the document's operations, sorted by path then method.
func Operations(doc *openapi3.T) []Operation {
	var out []Operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := Operation{Method: strings.ToUpper(method), Path: path}
			if fn, ok := op.Extensions["x-function"].(string); ok {
				o.FunctionID = fn
			}
			o.Public = op.Security != nil && len(*op.Security) == 0
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
