package samtemplate

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// PolicyStatement is one statement of a function's inline policy.
type PolicyStatement struct {
	Sid    string
	Effect string // "Allow" or "Deny", as written
	// Actions are the literal actions, e.g. "dynamodb:Query".
	Actions []string
	// Resources are the statement's resources in one text form: a literal
	// as written ("*"), !GetAtt X.Arn as "${X.Arn}", !Ref X as "${X}", and
	// !Sub's format string as written ("${Table.Arn}/index/GSI1"). A
	// resource in any other form (a list-form !Sub, !If, ...) is left out,
	// so the statement covers less, never more, than it may.
	Resources []string
	// Conditional is true when the statement has a Condition, which
	// [Template.Allows] does not evaluate.
	Conditional bool
}

// PolicyStatements returns the statements of a function's inline policies
// (Policies entries with a Statement), in template order. SAM policy
// templates (DynamoDBCrudPolicy, ...) and managed policy names are not read.
func (t *Template) PolicyStatements(logicalID string) []PolicyStatement {
	var out []PolicyStatement
	for _, p := range seq(at(t.resources[logicalID], "Properties", "Policies")) {
		for _, st := range seq(get(p, "Statement")) {
			ps := PolicyStatement{Sid: str(get(st, "Sid")), Effect: str(get(st, "Effect")), Conditional: get(st, "Condition") != nil}
			for _, n := range scalarOrSeq(get(st, "Action")) {
				if s, ok := literal(n); ok {
					ps.Actions = append(ps.Actions, s)
				}
			}
			for _, n := range scalarOrSeq(get(st, "Resource")) {
				if r, ok := resourceText(n); ok {
					ps.Resources = append(ps.Resources, r)
				}
			}
			out = append(out, ps)
		}
	}
	return out
}

// Allows reports whether a function's inline policy allows action on
// resource (both in the text form of [PolicyStatement.Resources], e.g.
// "dynamodb:Query" on "${Table.Arn}/index/GSI2"): some Allow statement
// matches both and no Deny statement does. Actions match case-insensitively,
// and "*" and "?" in the policy are wildcards, as in IAM. Conditions are not
// evaluated: a conditional Allow counts as allowing.
func (t *Template) Allows(logicalID, action, resource string) bool {
	allowed := false
	for _, st := range t.PolicyStatements(logicalID) {
		if !st.matches(action, resource) {
			continue
		}
		switch st.Effect {
		case "Deny":
			if !st.Conditional {
				return false
			}
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

func (st PolicyStatement) matches(action, resource string) bool {
	okAction := false
	for _, a := range st.Actions {
		if wildcard(strings.ToLower(a), strings.ToLower(action)) {
			okAction = true
			break
		}
	}
	if !okAction {
		return false
	}
	for _, r := range st.Resources {
		if wildcard(r, resource) {
			return true
		}
	}
	return false
}

// wildcard matches IAM's "*" (any run of characters, "/" included) and
// "?" (one character).
func wildcard(pattern, s string) bool {
	for pattern != "" {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcard(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// resourceText renders a Resource item in the form of PolicyStatement.Resources.
func resourceText(n *yaml.Node) (string, bool) {
	if in, ok := intrinsic(n); ok {
		switch {
		case in.Arg == "":
			return "", false
		case in.Fn == "Fn::GetAtt", in.Fn == "Ref":
			return "${" + in.Arg + "}", true
		case in.Fn == "Fn::Sub":
			return in.Arg, true
		}
		return "", false
	}
	return literal(n)
}

// scalarOrSeq returns a list's items, or a single value (a scalar or an
// intrinsic, even a list-form one) as a list of one.
func scalarOrSeq(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if _, ok := intrinsic(n); ok || n != nil && n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	return seq(n)
}
