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
	// Headers are the response headers given as literals, their values
	// without SAM's single quotes.
	Headers map[string]string
	// FromRequest are the response headers mapped from a request header
	// (method.request.header.<Name>): response header -> request header.
	// API Gateway leaves such a header out when the request has none.
	FromRequest map[string]string
	// Conditions are the template conditions headers depend on, given as
	// !If [Condition, value, !Ref AWS::NoValue]: the header is sent only
	// when its condition holds.
	Conditions map[string]string
	// Templates are the body templates by content type. API Gateway
	// substitutes $context variables in them (no VTL).
	Templates map[string]string
}

// GatewayResponses returns the GatewayResponses of the API apiID by response
// type: those under Globals.Api, overridden by the API's own. It fails on a
// value the local gateway could not reproduce: a non-literal status or
// template, or a header that is neither a quoted literal nor a request
// header's value, or another intrinsic than !If [Condition, value, !Ref
// AWS::NoValue].
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
	gr := GatewayResponse{Type: typ, Headers: map[string]string{}, FromRequest: map[string]string{}, Conditions: map[string]string{}, Templates: map[string]string{}}
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
			name, vn := hs.Content[i].Value, deref(hs.Content[i+1])
			if cond, then, ok := ifOrNoValue(vn); ok {
				gr.Conditions[name], vn = cond, then
			}
			v, ok := literal(vn)
			switch {
			case ok && strings.HasPrefix(v, requestHeader) && len(v) > len(requestHeader):
				gr.FromRequest[name] = v[len(requestHeader):]
			case ok && len(v) >= 2 && strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'"):
				gr.Headers[name] = v[1 : len(v)-1]
			default:
				return bad("header "+name+" is neither a quoted literal such as \"'text/plain'\" nor method.request.header.<Name>, nor either under !If [Condition, ..., !Ref AWS::NoValue]", hs.Content[i].Line)
			}
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

// requestHeader prefixes a header mapped from the request's.
const requestHeader = "method.request.header."

// ifOrNoValue matches !If [Condition, value, !Ref AWS::NoValue] (short or
// long form): the condition's name and the value.
func ifOrNoValue(n *yaml.Node) (cond string, then *yaml.Node, ok bool) {
	in, isFn := intrinsic(n)
	if !isFn || in.Fn != "Fn::If" {
		return "", nil, false
	}
	args := n
	if n.Kind == yaml.MappingNode { // {"Fn::If": [...]}
		args = deref(n.Content[1])
	}
	items := seq(args)
	if len(items) != 3 {
		return "", nil, false
	}
	name, isLit := literal(items[0])
	if no, isRef := intrinsic(items[2]); !isLit || !isRef || no.Fn != "Ref" || no.Arg != "AWS::NoValue" {
		return "", nil, false
	}
	return name, items[1], true
}

// Render returns the headers API Gateway sends with this response: the
// literals and the request's mapped headers (getHeader reads the request's,
// "" when absent), each only when its condition, if any, holds in conds.
func (gr GatewayResponse) Render(conds map[string]bool, getHeader func(string) string) map[string]string {
	out := map[string]string{}
	for name, v := range gr.Headers {
		out[name] = v
	}
	for name, from := range gr.FromRequest {
		if v := getHeader(from); v != "" {
			out[name] = v
		}
	}
	for name, cond := range gr.Conditions {
		if !conds[cond] {
			delete(out, name)
		}
	}
	return out
}
