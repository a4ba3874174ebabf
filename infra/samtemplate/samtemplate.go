// Package samtemplate reads template.yaml, the deployable truth, so that the
// local stack and the tests take the API routes, the functions' settings and
// the table definition from it instead of restating them.
//
// The template is read with the go.yaml.in/yaml/v3 node API, so CloudFormation
// short-form tags (!Ref, !GetAtt, !Sub, !If, !Equals, ...) parse like any
// other value; where a value is an intrinsic function rather than a literal it
// is reported as an [Intrinsic].
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resource types the package understands.
const (
	typeFunction = "AWS::Serverless::Function"
	typeAPI      = "AWS::Serverless::Api"
	typeTable    = "AWS::DynamoDB::Table"
)

// Template is a parsed SAM template. Build one with [Load] or [Parse]; its
// methods only read it, so it is safe for concurrent use.
type Template struct {
	root      *yaml.Node            // top-level mapping
	resources map[string]*yaml.Node // logical id -> resource mapping node
	types     map[string]string     // logical id -> Type
}

// Load reads and parses the template file at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// Parse parses a template. CloudFormation short-form tags are kept as tagged
// nodes. Parse fails on malformed YAML, on a document that is not a mapping
// with a Resources mapping, on a resource without a literal Type, and on an
// Api event without a literal Path and Method, so that [Template.Routes]
// never has to guess.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("samtemplate: empty template")
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("samtemplate: template is not a mapping")
	}
	res := get(root, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, errors.New("samtemplate: template has no Resources mapping")
	}
	t := &Template{root: root, resources: map[string]*yaml.Node{}, types: map[string]string{}}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, deref(res.Content[i+1])
		if _, dup := t.resources[id]; dup {
			return nil, fmt.Errorf("samtemplate: resource %s declared twice (line %d)", id, res.Content[i].Line)
		}
		typ, ok := literal(get(r, "Type"))
		if r.Kind != yaml.MappingNode || !ok || typ == "" {
			return nil, fmt.Errorf("samtemplate: resource %s (line %d) has no literal Type", id, res.Content[i].Line)
		}
		t.resources[id], t.types[id] = r, typ
	}
	if _, err := t.routes(); err != nil {
		return nil, err
	}
	return t, nil
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t *Template) ofType(typ string) []string {
	var ids []string
	for id, rt := range t.types {
		if rt == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ParameterDefaults returns the literal Default of every template parameter
// that has one, by parameter name; it helps resolve an [Intrinsic] such as
// !Ref LogLevel locally.
func (t *Template) ParameterDefaults() map[string]string {
	out := map[string]string{}
	params := get(t.root, "Parameters")
	if params == nil || params.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(params.Content); i += 2 {
		if v, ok := literal(get(params.Content[i+1], "Default")); ok {
			out[params.Content[i].Value] = v
		}
	}
	return out
}

// Intrinsic is a CloudFormation intrinsic function found where a literal
// could have been, in short form (!Ref Table) or long form
// ({"Fn::GetAtt": [Fn, Arn]}).
type Intrinsic struct {
	// Fn is the long-form name: "Ref", "Condition", "Fn::GetAtt", "Fn::Sub",
	// "Fn::If", ...
	Fn string
	// Arg is the argument when it is a single scalar: Ref's name, Sub's
	// format string, GetAtt's "LogicalID.Attribute" (a list-form GetAtt is
	// joined with a dot). It is empty when the argument is a list or mapping.
	Arg string
}

// String renders the intrinsic in short form, e.g. "!Ref Table"; a list or
// mapping argument is shown as "...".
func (i Intrinsic) String() string {
	name := "!" + strings.TrimPrefix(i.Fn, "Fn::")
	if i.Arg == "" {
		return name + " ..."
	}
	return name + " " + i.Arg
}

// intrinsic reports whether n is an intrinsic function call, in short form
// (a node tagged !Ref, !GetAtt, ...) or long form (a one-key mapping whose
// key is Ref or Fn::*).
func intrinsic(n *yaml.Node) (Intrinsic, bool) {
	n = deref(n)
	if n == nil {
		return Intrinsic{}, false
	}
	var fn string
	var arg *yaml.Node
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		fn, arg = tag[1:], n
		if fn != "Ref" && fn != "Condition" {
			fn = "Fn::" + fn
		}
	} else if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k != "Ref" && !strings.HasPrefix(k, "Fn::") {
			return Intrinsic{}, false
		}
		fn, arg = k, deref(n.Content[1])
	} else {
		return Intrinsic{}, false
	}
	in := Intrinsic{Fn: fn}
	switch {
	case arg.Kind == yaml.ScalarNode:
		in.Arg = arg.Value
	case fn == "Fn::GetAtt" && arg.Kind == yaml.SequenceNode:
		var parts []string
		for _, p := range arg.Content {
			parts = append(parts, deref(p).Value)
		}
		in.Arg = strings.Join(parts, ".")
	}
	return in, true
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key in a mapping node, nil if absent.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// at walks a chain of mapping keys.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

// literal returns the value of a scalar that is not an intrinsic function.
func literal(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	if _, ok := intrinsic(n); ok {
		return "", false
	}
	return n.Value, true
}

// str returns a literal scalar's value, "" for anything else.
func str(n *yaml.Node) string {
	v, _ := literal(n)
	return v
}

// seq returns the items of a sequence node.
func seq(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}
