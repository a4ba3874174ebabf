package samtemplate

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// implicitAPI is the logical id SAM gives the API it creates for Api events
// without a RestApiId.
const implicitAPI = "ServerlessRestApi"

// Route is one Type: Api event of an AWS::Serverless::Function.
type Route struct {
	// FunctionID is the logical id of the function the event belongs to.
	FunctionID string
	// Method is the HTTP method, upper case; "ANY" matches every method.
	Method string
	// Path is the resource path as written in the template, e.g.
	// /orgs/{orgId}/sites/{siteId}/invitations.
	Path string
	// Public is true when the event says Auth: {Authorizer: NONE}; every
	// other route is guarded by an authorizer.
	Public bool
	// EventID is the event's key under the function's Events.
	EventID string
	// RestAPIID is the logical id behind the event's RestApiId (!Ref Api),
	// or "ServerlessRestApi", SAM's implicit API, when it has none.
	RestAPIID string
	// Authorizer is the authorizer guarding the route: the event's
	// Auth.Authorizer if set, else its API's DefaultAuthorizer. It is "NONE"
	// for a public route, and "" when neither is declared.
	Authorizer string
}

// Routes returns every Api event of every function, sorted by path, then
// method (then function and event id, for a stable order).
func (t *Template) Routes() []Route {
	out, _ := t.routes() // Parse has already rejected templates it fails on
	return out
}

func (t *Template) routes() ([]Route, error) {
	var out []Route
	for _, id := range t.ofType(typeFunction) {
		events := at(t.resources[id], "Properties", "Events")
		if events == nil || events.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			evID, ev := events.Content[i].Value, deref(events.Content[i+1])
			if str(get(ev, "Type")) != "Api" {
				continue
			}
			p := get(ev, "Properties")
			path, okPath := literal(get(p, "Path"))
			method, okMethod := literal(get(p, "Method"))
			if !okPath || !okMethod || !strings.HasPrefix(path, "/") || method == "" {
				return nil, fmt.Errorf("samtemplate: Api event %s.%s (line %d) needs a literal Path starting with / and a literal Method", id, evID, events.Content[i].Line)
			}
			r := Route{
				FunctionID: id,
				EventID:    evID,
				Method:     strings.ToUpper(method),
				Path:       path,
				RestAPIID:  implicitAPI,
			}
			if api := get(p, "RestApiId"); api != nil {
				if in, ok := intrinsic(api); ok && in.Fn == "Ref" {
					r.RestAPIID = in.Arg
				} else if v, ok := literal(api); ok {
					r.RestAPIID = v
				}
			}
			r.Authorizer = str(at(p, "Auth", "Authorizer"))
			if r.Authorizer == "" {
				r.Authorizer = str(get(t.apiAuth(r.RestAPIID, "DefaultAuthorizer"), "DefaultAuthorizer"))
			}
			r.Public = r.Authorizer == "NONE"
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		if a.FunctionID != b.FunctionID {
			return a.FunctionID < b.FunctionID
		}
		return a.EventID < b.EventID
	})
	return out, nil
}

// apiAuth returns the Auth mapping of API apiID that declares key: the
// resource's own, else the one under Globals.Api, which applies to every API.
func (t *Template) apiAuth(apiID, key string) *yaml.Node {
	if r := t.resources[apiID]; r != nil && t.types[apiID] == typeAPI {
		if auth := at(r, "Properties", "Auth"); get(auth, key) != nil {
			return auth
		}
	}
	if auth := at(t.root, "Globals", "Api", "Auth"); get(auth, key) != nil {
		return auth
	}
	return nil
}

// DefaultAuthorizer returns the DefaultAuthorizer of the template's
// AWS::Serverless::Api (the first by logical id that declares one, else
// Globals.Api) and the logical id of the Lambda function behind it, taken
// from the authorizer's FunctionArn: !GetAtt X.Arn. functionID is "" when the
// authorizer is not a Lambda function of this template (AWS_IAM, Cognito, a
// literal ARN); both are "" when no API declares a default authorizer.
func (t *Template) DefaultAuthorizer() (name, functionID string) {
	ids := append(t.ofType(typeAPI), implicitAPI)
	for _, id := range ids {
		auth := t.apiAuth(id, "DefaultAuthorizer")
		if name = str(get(auth, "DefaultAuthorizer")); name == "" {
			continue
		}
		return name, t.authorizerFunction(id, name)
	}
	return "", ""
}

// authorizerFunction returns the logical id of the function behind the
// Lambda authorizer name of API apiID.
func (t *Template) authorizerFunction(apiID, name string) string {
	auths := get(t.apiAuth(apiID, "Authorizers"), "Authorizers")
	in, ok := intrinsic(at(auths, name, "FunctionArn"))
	if !ok || in.Fn != "Fn::GetAtt" {
		return ""
	}
	fn, attr, _ := strings.Cut(in.Arg, ".")
	if attr != "Arn" || t.types[fn] != typeFunction {
		return ""
	}
	return fn
}

// Function is an AWS::Serverless::Function of the template.
type Function struct {
	// LogicalID is the function's logical id.
	LogicalID string
	// BuildMethod is Metadata.BuildMethod (e.g. makefile), "" if unset.
	BuildMethod string
	// Env holds the environment variables with literal values: those of
	// Globals.Function.Environment.Variables overlaid with the function's
	// own. Variables whose value is an intrinsic are in IntrinsicEnv instead.
	Env map[string]string
	// IntrinsicEnv holds the environment variables whose values are only
	// known at deploy time (!Ref Table, !If ..., !Sub ...), for a local
	// runner to resolve or replace.
	IntrinsicEnv map[string]Intrinsic
}

// Functions returns the template's serverless functions, sorted by logical id.
func (t *Template) Functions() []Function {
	var out []Function
	global := at(t.root, "Globals", "Function", "Environment", "Variables")
	for _, id := range t.ofType(typeFunction) {
		r := t.resources[id]
		f := Function{
			LogicalID:    id,
			BuildMethod:  str(at(r, "Metadata", "BuildMethod")),
			Env:          map[string]string{},
			IntrinsicEnv: map[string]Intrinsic{},
		}
		for _, vars := range []*yaml.Node{global, at(r, "Properties", "Environment", "Variables")} {
			if vars == nil || vars.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(vars.Content); i += 2 {
				k, v := vars.Content[i].Value, vars.Content[i+1]
				delete(f.Env, k)
				delete(f.IntrinsicEnv, k)
				if in, ok := intrinsic(v); ok {
					f.IntrinsicEnv[k] = in
				} else if s, ok := literal(v); ok {
					f.Env[k] = s
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// PolicyActions returns the literal actions a function's inline policy
// statements allow (e.g. "dynamodb:BatchGetItem"), sorted and unique.
func (t *Template) PolicyActions(logicalID string) []string {
	seen := map[string]bool{}
	for _, p := range seq(at(t.resources[logicalID], "Properties", "Policies")) {
		for _, st := range seq(get(p, "Statement")) {
			a := get(st, "Action")
			nodes := seq(a)
			if a != nil && a.Kind == yaml.ScalarNode {
				nodes = []*yaml.Node{a}
			}
			for _, n := range nodes {
				if s, ok := literal(n); ok {
					seen[s] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
