package apidoc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Validator checks real responses against the document.
type Validator struct {
	router routers.Router
}

// NewValidator builds a validator that matches requests by path alone
// (whatever host and port a test server has).
func NewValidator(ctx context.Context) (*Validator, error) {
	openapi3filter.RegisterBodyDecoder("text/html", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	doc, err := Load(ctx)
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Validator{router: r}, nil
}

// Response validates one exchange: the route must be documented, and the
// status, content type and body must match the documented response.
func (v *Validator) Response(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	r := req.Clone(ctx)
	r.URL.Scheme, r.URL.Host, r.Host = "", "", ""
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("%s %s is not documented: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s -> %d: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}
