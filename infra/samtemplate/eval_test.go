package samtemplate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// evalNode evaluates a template value built from literals, Ref, Fn::Join,
// Fn::Split, Fn::Select, Fn::If and Fn::Sub as CloudFormation would, with
// refs giving the values of parameters, pseudo parameters and resources
// (a list parameter as []string; "Api.Stage" for ${Api.Stage}) and conds
// the conditions'. It answers a string, a []string, or nil for
// AWS::NoValue. Tests use it to check the template's computed values.
func evalNode(n *yaml.Node, refs map[string]any, conds map[string]bool) (any, error) {
	n = deref(n)
	in, ok := intrinsic(n)
	if !ok {
		switch n.Kind {
		case yaml.ScalarNode:
			return n.Value, nil
		case yaml.SequenceNode:
			return evalList(n.Content, refs, conds)
		}
		return nil, fmt.Errorf("line %d: cannot evaluate this node", n.Line)
	}
	// The argument: the tagged node itself (short form) or the mapping's value.
	arg := n
	if n.Kind == yaml.MappingNode && n.Tag == "!!map" {
		arg = deref(n.Content[1])
	}
	args := seq(arg)
	need := func(k int) error {
		if len(args) != k {
			return fmt.Errorf("line %d: %s takes %d arguments", n.Line, in.Fn, k)
		}
		return nil
	}
	switch in.Fn {
	case "Ref":
		if arg.Value == "AWS::NoValue" {
			return nil, nil
		}
		v, ok := refs[arg.Value]
		if !ok {
			return nil, fmt.Errorf("line %d: no value for !Ref %s", n.Line, arg.Value)
		}
		return v, nil
	case "Fn::Sub":
		if arg.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: only the one-string form of !Sub is evaluated", n.Line)
		}
		var missing error
		out := subVar.ReplaceAllStringFunc(arg.Value, func(m string) string {
			v, ok := refs[m[2:len(m)-1]].(string)
			if !ok {
				missing = fmt.Errorf("line %d: no string value for %s", n.Line, m)
			}
			return v
		})
		return out, missing
	case "Fn::If":
		if err := need(3); err != nil {
			return nil, err
		}
		c, ok := conds[args[0].Value]
		if !ok {
			return nil, fmt.Errorf("line %d: no value for condition %s", n.Line, args[0].Value)
		}
		if c {
			return evalNode(args[1], refs, conds)
		}
		return evalNode(args[2], refs, conds)
	case "Fn::Join":
		if err := need(2); err != nil {
			return nil, err
		}
		list, err := evalStrings(args[1], refs, conds)
		return strings.Join(list, args[0].Value), err
	case "Fn::Split":
		if err := need(2); err != nil {
			return nil, err
		}
		v, err := evalNode(args[1], refs, conds)
		s, ok := v.(string)
		if err == nil && !ok {
			err = fmt.Errorf("line %d: !Split of a non-string", n.Line)
		}
		return strings.Split(s, args[0].Value), err
	case "Fn::Select":
		if err := need(2); err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(args[0].Value)
		if err != nil {
			return nil, fmt.Errorf("line %d: !Select index %q", n.Line, args[0].Value)
		}
		list, err := evalStrings(args[1], refs, conds)
		if err == nil && (i < 0 || i >= len(list)) {
			err = fmt.Errorf("line %d: !Select %d of %d items", n.Line, i, len(list))
		}
		if err != nil {
			return nil, err
		}
		return list[i], nil
	}
	return nil, fmt.Errorf("line %d: %s is not evaluated", n.Line, in)
}

var subVar = regexp.MustCompile(`\$\{[^}!]+\}`)

// evalStrings evaluates n to a list of strings.
func evalStrings(n *yaml.Node, refs map[string]any, conds map[string]bool) ([]string, error) {
	v, err := evalNode(n, refs, conds)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]string)
	if !ok {
		return nil, fmt.Errorf("line %d: want a list, got %T", deref(n).Line, v)
	}
	return list, nil
}

// evalList evaluates a literal list's items, each to a string (an
// AWS::NoValue item is dropped, as CloudFormation drops it).
func evalList(items []*yaml.Node, refs map[string]any, conds map[string]bool) ([]string, error) {
	out := []string{}
	for _, c := range items {
		v, err := evalNode(c, refs, conds)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case nil:
		case string:
			out = append(out, v)
		default:
			return nil, fmt.Errorf("line %d: a list inside a list", deref(c).Line)
		}
	}
	return out, nil
}
