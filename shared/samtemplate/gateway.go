package samtemplate

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// GatewayResponse is one entry of an API's GatewayResponses: what API Gateway
// answers by itself, without calling a function, for one response type
// (UNAUTHORIZED, MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX, ...).
type GatewayResponse struct {
	// Type is the response type, the entry's key.
	Type string
	// StatusCode is the declared status; 0 when the entry declares none (API
	// Gateway then keeps the response type's own status).
	StatusCode int
	// Headers are the response headers, their literal values without SAM's
	// single quotes.
	Headers map[string]string
	// Templates are the body templates by content type. API Gateway
	// substitutes $context variables in them (no VTL).
	Templates map[string]string
}

// GatewayResponses returns the GatewayResponses of the API apiID by response
// type: those under Globals.Api, overridden by the API's own. It fails on a
// value the local gateway could not reproduce: a non-literal status,
// template or header, or a header that is not a quoted literal (a mapping
// from the request).
func (t *Template) GatewayResponses(apiID string) (map[string]GatewayResponse, error) {
	out := map[string]GatewayResponse{}
	sources := []*yaml.Node{at(t.root, "Globals", "Api", "GatewayResponses")}
	if r := t.resources[apiID]; r != nil && t.types[apiID] == typeAPI {
		sources = append(sources, at(r, "Properties", "GatewayResponses"))
	}
	for _, m := range sources {
		if m == nil {
			continue
		}
		if m.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("samtemplate: GatewayResponses (line %d) is not a mapping", m.Line)
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			gr, err := gatewayResponse(m.Content[i].Value, deref(m.Content[i+1]))
			if err != nil {
				return nil, err
			}
			out[gr.Type] = gr
		}
	}
	return out, nil
}

func gatewayResponse(typ string, n *yaml.Node) (GatewayResponse, error) {
	gr := GatewayResponse{Type: typ, Headers: map[string]string{}, Templates: map[string]string{}}
	bad := func(what string, line int) (GatewayResponse, error) {
		return GatewayResponse{}, fmt.Errorf("samtemplate: gateway response %s (line %d): %s", typ, line, what)
	}
	if n.Kind != yaml.MappingNode {
		return bad("not a mapping", n.Line)
	}
	if sc := get(n, "StatusCode"); sc != nil {
		v, ok := literal(sc)
		code, err := strconv.Atoi(v)
		if !ok || err != nil || code < 100 || code > 599 {
			return bad("StatusCode is not a literal HTTP status", sc.Line)
		}
		gr.StatusCode = code
	}
	if hs := at(n, "ResponseParameters", "Headers"); hs != nil {
		if hs.Kind != yaml.MappingNode {
			return bad("ResponseParameters.Headers is not a mapping", hs.Line)
		}
		for i := 0; i+1 < len(hs.Content); i += 2 {
			v, ok := literal(hs.Content[i+1])
			if !ok || len(v) < 2 || !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
				return bad("header "+hs.Content[i].Value+" is not a quoted literal such as \"'text/plain'\"", hs.Content[i].Line)
			}
			gr.Headers[hs.Content[i].Value] = v[1 : len(v)-1]
		}
	}
	if ts := get(n, "ResponseTemplates"); ts != nil {
		if ts.Kind != yaml.MappingNode {
			return bad("ResponseTemplates is not a mapping", ts.Line)
		}
		for i := 0; i+1 < len(ts.Content); i += 2 {
			v, ok := literal(ts.Content[i+1])
			if !ok {
				return bad("template "+ts.Content[i].Value+" is not a literal", ts.Content[i].Line)
			}
			gr.Templates[ts.Content[i].Value] = v
		}
	}
	return gr, nil
}
