package samtemplate

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PolicyNames returns what a function's policy holds besides inline
// statements, each as written: managed policy names or ARNs
// ("AWSXrayWriteOnlyAccess"), SAM policy templates by their key
// ("DynamoDBCrudPolicy"), and a Role property ("Role: ...") that replaces
// the role SAM would build. [Template.PolicyStatements] reads none of
// them, so a least-privilege check must treat each as a grant it cannot
// see.
func (t *Template) PolicyNames(logicalID string) []string {
	var out []string
	props := at(t.resources[logicalID], "Properties")
	if r := get(props, "Role"); r != nil {
		s, ok := resourceText(r)
		if !ok {
			s = fmt.Sprintf("(line %d)", r.Line)
		}
		out = append(out, "Role: "+s)
	}
	// Policies may be one policy rather than a list: a name, or a mapping.
	for _, p := range scalarOrSeq(get(props, "Policies")) {
		if get(p, "Statement") != nil {
			continue
		}
		if s, ok := literal(p); ok {
			out = append(out, s)
			continue
		}
		if s, ok := resourceText(p); ok { // !Ref / !Sub of an ARN
			out = append(out, s)
			continue
		}
		if dp := deref(p); dp != nil && dp.Kind == yaml.MappingNode && len(dp.Content) >= 2 {
			out = append(out, dp.Content[0].Value)
			continue
		}
		out = append(out, fmt.Sprintf("(unreadable policy entry, line %d)", deref(p).Line))
	}
	return out
}

// UnreadPolicyParts returns, for a function's inline statements, every
// Action or Resource entry that [Template.PolicyStatements] leaves out
// because it is not in a form it reads (a list-form !Sub, !If, !Join, a
// NotAction or NotResource), with its line: a check must fail on these
// rather than treat the statement as covering less than it may.
func (t *Template) UnreadPolicyParts(logicalID string) []string {
	var out []string
	for _, p := range seq(at(t.resources[logicalID], "Properties", "Policies")) {
		for _, st := range seq(get(p, "Statement")) {
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if n := get(st, k); n != nil {
					out = append(out, fmt.Sprintf("%s (line %d)", k, n.Line))
				}
			}
			for _, n := range scalarOrSeq(get(st, "Action")) {
				if _, ok := literal(n); !ok {
					out = append(out, fmt.Sprintf("Action (line %d)", n.Line))
				}
			}
			for _, n := range scalarOrSeq(get(st, "Resource")) {
				if _, ok := resourceText(n); !ok {
					out = append(out, fmt.Sprintf("Resource (line %d)", n.Line))
				}
			}
		}
	}
	return out
}

// StatementConditionKeys returns, for each inline statement of a function
// in the order of [Template.PolicyStatements], the condition keys its
// Condition tests, as "Operator key" ("StringEquals ses:FromAddress"),
// sorted.
func (t *Template) StatementConditionKeys(logicalID string) [][]string {
	var out [][]string
	for _, p := range seq(at(t.resources[logicalID], "Properties", "Policies")) {
		for _, st := range seq(get(p, "Statement")) {
			var keys []string
			c := deref(get(st, "Condition"))
			if c != nil {
				for i := 0; i+1 < len(c.Content); i += 2 {
					op, m := c.Content[i].Value, deref(c.Content[i+1])
					for j := 0; m != nil && j+1 < len(m.Content); j += 2 {
						keys = append(keys, op+" "+m.Content[j].Value)
					}
				}
			}
			sort.Strings(keys)
			out = append(out, keys)
		}
	}
	return out
}

// HasConditionKey reports whether keys (one statement's, from
// [Template.StatementConditionKeys]) test the condition key name with any
// operator.
func HasConditionKey(keys []string, name string) bool {
	for _, k := range keys {
		if _, key, _ := strings.Cut(k, " "); key == name {
			return true
		}
	}
	return false
}

// MatchesIAM reports whether s matches an IAM pattern: "*" is any run of
// characters ("/" included) and "?" one character; case is significant
// (compare actions in one case).
func MatchesIAM(pattern, s string) bool { return wildcard(pattern, s) }
