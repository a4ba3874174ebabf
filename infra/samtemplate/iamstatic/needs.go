package iamstatic

import (
	"fmt"
	"sort"
	"strings"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
)

// Need is one IAM action on one resource that a function's reachable code
// needs, in the text form of [samtemplate.PolicyStatement.Resources].
type Need struct {
	Action, Resource string
	// Why is the call site (and item or index) that needs it.
	Why string
}

func (n Need) String() string { return n.Action + " on " + n.Resource }

// txItemAction is the IAM action of each kind of TransactWriteItem.
var txItemAction = map[string]string{
	"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
}

// iamPrefix maps an SDK service package to its IAM action prefix where they
// differ.
var iamPrefix = map[string]string{"sesv2": "ses"}

// Needs turns a function's analysis into IAM needs, resolving the table and
// queues through the function's environment in tpl. Problems are what it
// cannot resolve; each must fail the check.
func Needs(a *Analysis, tpl *samtemplate.Template, fn samtemplate.Function) (needs []Need, problems []string) {
	problems = append(problems, a.Problems...)
	seen := map[string]bool{}
	add := func(action, resource, why string) {
		if k := action + "\x00" + resource; !seen[k] {
			seen[k] = true
			needs = append(needs, Need{action, resource, why})
		}
	}
	table := refTo(tpl, fn, "TABLE_NAME", "AWS::DynamoDB::Table")
	var queues []string
	for k := range a.Env {
		if q := refTo(tpl, fn, k, "AWS::SQS::Queue"); q != "" {
			queues = append(queues, q)
		}
	}
	sort.Strings(queues)
	ops := make([]string, 0, len(a.Calls))
	for op := range a.Calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		site := a.Calls[op]
		svc, method, _ := strings.Cut(op, ".")
		switch svc {
		case "dynamodb":
			if table == "" {
				problems = append(problems, fmt.Sprintf("%s calls %s (%s) but its TABLE_NAME names no table of the template", fn.LogicalID, op, site))
				continue
			}
			switch method {
			case "TransactWriteItems":
				if len(a.TxKinds) == 0 {
					problems = append(problems, fmt.Sprintf("%s calls %s (%s) but no transaction item kind is constructed in its reachable code", fn.LogicalID, op, site))
				}
				for kind, at := range a.TxKinds {
					add("dynamodb:"+txItemAction[kind], table, fmt.Sprintf("TransactWriteItems (%s) with a %s item (%s)", site, kind, at))
				}
			case "TransactGetItems":
				add("dynamodb:GetItem", table, "TransactGetItems ("+site+")")
			case "Query", "Scan":
				for idx, at := range a.Indexes[method] {
					add("dynamodb:"+method, table+"/index/"+idx, fmt.Sprintf("%s (%s) on index %s (%s)", method, site, idx, at))
				}
				if at, ok := a.OnTable[method]; ok {
					add("dynamodb:"+method, table, fmt.Sprintf("%s (%s) with an input without index (%s)", method, site, at))
				}
				if len(a.Indexes[method]) == 0 && a.OnTable[method] == "" {
					problems = append(problems, fmt.Sprintf("%s calls %s (%s) but no %sInput is built in its reachable code", fn.LogicalID, op, site, method))
				}
			default:
				add("dynamodb:"+method, table, site)
			}
		case "ses", "sesv2":
			add(iamPrefix[svc]+orDefault(svc)+":"+method, "*", site)
		case "sqs":
			if len(queues) == 0 {
				problems = append(problems, fmt.Sprintf("%s calls %s (%s) but reads no environment variable that the template sets to a queue", fn.LogicalID, op, site))
			}
			for _, q := range queues {
				add("sqs:"+strings.TrimSuffix(method, "Batch"), q, site)
			}
		default:
			problems = append(problems, fmt.Sprintf("%s calls %s (%s): no rule maps service %s to IAM actions and resources (add one to iamstatic)", fn.LogicalID, op, site, svc))
		}
	}
	sort.Slice(needs, func(i, j int) bool { return needs[i].String() < needs[j].String() })
	sort.Strings(problems)
	return needs, problems
}

func orDefault(svc string) string {
	if _, ok := iamPrefix[svc]; ok {
		return ""
	}
	return svc
}

// refTo returns "${X.Arn}" when the function's environment variable name is
// !Ref X (or !GetAtt X.QueueUrl for a queue) of a resource of type typ.
func refTo(tpl *samtemplate.Template, fn samtemplate.Function, name, typ string) string {
	in, ok := fn.IntrinsicEnv[name]
	if !ok {
		return ""
	}
	id := ""
	switch {
	case in.Fn == "Ref":
		id = in.Arg
	case in.Fn == "Fn::GetAtt" && strings.HasSuffix(in.Arg, ".QueueUrl"):
		id = strings.TrimSuffix(in.Arg, ".QueueUrl")
	}
	if id == "" || tpl.ResourceType(id) != typ {
		return ""
	}
	return "${" + id + ".Arn}"
}

// AllowedManagedPolicies are the policies by name a function may hold
// beside its inline statements: the X-Ray write policy that tracing needs
// (SAM attaches it itself for Tracing: Active; writing it out is allowed).
var AllowedManagedPolicies = []string{"AWSXrayWriteOnlyAccess", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}

// Compare holds needs against the function's policy in tpl: missing are
// needs no statement allows; excess are (action, resource) pairs of Allow
// statements that no need uses; problems are policy parts the check cannot
// read or vouch for (a policy by name other than [AllowedManagedPolicies],
// an unreadable action or resource, a wildcard action, a wildcard resource
// other than SES's, an SES grant without a ses:FromAddress condition).
func Compare(tpl *samtemplate.Template, id string, needs []Need) (missing, excess, problems []string) {
	for _, n := range needs {
		if !tpl.Allows(id, n.Action, n.Resource) {
			missing = append(missing, fmt.Sprintf("%s: %s is not granted (needed by %s)", id, n, n.Why))
		}
	}
	for _, name := range tpl.PolicyNames(id) {
		if !contains(AllowedManagedPolicies, name) {
			problems = append(problems, fmt.Sprintf("%s: policy %q is not an inline statement, so its grants cannot be checked", id, name))
		}
	}
	for _, part := range tpl.UnreadPolicyParts(id) {
		problems = append(problems, fmt.Sprintf("%s: policy %s is in a form the check does not read", id, part))
	}
	conds := tpl.StatementConditionKeys(id)
	for i, st := range tpl.PolicyStatements(id) {
		if st.Effect != "Allow" {
			continue
		}
		for _, act := range st.Actions {
			if strings.ContainsAny(act, "*?") {
				problems = append(problems, fmt.Sprintf("%s: action %s (statement %q) is a wildcard: name each action, so that an unused one shows", id, act, st.Sid))
			}
			for _, res := range st.Resources {
				if strings.ContainsAny(res, "*?") && !strings.HasPrefix(strings.ToLower(act), "ses:") {
					problems = append(problems, fmt.Sprintf("%s: resource %s of %s (statement %q) is a wildcard: name the table, index or queue", id, res, act, st.Sid))
				}
				used := false
				for _, n := range needs {
					if samtemplate.MatchesIAM(strings.ToLower(act), strings.ToLower(n.Action)) && samtemplate.MatchesIAM(res, n.Resource) {
						used = true
						break
					}
				}
				if !used {
					excess = append(excess, fmt.Sprintf("%s: %s on %s is granted (statement %q) but no reachable code needs it", id, act, res, st.Sid))
				}
				if strings.HasPrefix(strings.ToLower(act), "ses:") && (i >= len(conds) || !samtemplate.HasConditionKey(conds[i], "ses:FromAddress")) {
					problems = append(problems, fmt.Sprintf("%s: %s on %s (statement %q) has no ses:FromAddress condition", id, act, res, st.Sid))
				}
			}
		}
	}
	return missing, excess, problems
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
