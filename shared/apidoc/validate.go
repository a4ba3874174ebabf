package apidoc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

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
		if status == http.StatusMethodNotAllowed {
			return v.notAllowed(r, header)
		}
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

// notAllowed checks a 405 to a method the document does not have on a path
// it has: its Allow header (RFC 9110) lists exactly the path's documented
// methods, and HEAD when GET is one of them.
func (v *Validator) notAllowed(r *http.Request, header http.Header) error {
	var documented []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := v.router.FindRoute(probe); err == nil {
			documented = append(documented, m)
		}
	}
	if len(documented) == 0 {
		return fmt.Errorf("%s %s -> 405: the path is not documented", r.Method, r.URL.Path)
	}
	if slices.Contains(documented, r.Method) {
		return fmt.Errorf("%s %s -> 405: the document has this method", r.Method, r.URL.Path)
	}
	want := slices.Clone(documented)
	if slices.Contains(want, http.MethodGet) {
		want = append(want, http.MethodHead)
	}
	var allow []string
	for _, m := range strings.Split(header.Get("Allow"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			allow = append(allow, m)
		}
	}
	slices.Sort(want)
	slices.Sort(allow)
	if !slices.Equal(allow, want) {
		return fmt.Errorf("%s %s -> 405: Allow %q, want the documented methods %v", r.Method, r.URL.Path, header.Get("Allow"), want)
	}
	return nil
}
