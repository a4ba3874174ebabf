package samtemplate

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func repoTemplate(t *testing.T) *Template {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	tpl, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestRepoTemplate(t *testing.T) {
	tpl := repoTemplate(t)
	want := map[string]bool{ // method path -> public
		"POST /orgs/{orgId}/sites/{siteId}/invitations": false,
		"GET /invitations/accept":                       true,
		"POST /invitations/accept":                      true,
	}
	got := map[string]Route{}
	for _, r := range tpl.Routes() {
		got[r.Method+" "+r.Path] = r
	}
	for k, public := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("route %s missing", k)
		} else if r.Public != public {
			t.Errorf("route %s public = %v", k, r.Public)
		}
	}
	if name, fn := tpl.DefaultAuthorizer(); name != "JwtAuthorizer" || fn != "AuthorizerFunction" {
		t.Errorf("default authorizer = %s, %s", name, fn)
	}
	for _, f := range tpl.Functions() {
		if f.BuildMethod != "makefile" {
			t.Errorf("%s BuildMethod = %q", f.LogicalID, f.BuildMethod)
		}
	}
	in, err := tpl.TableInput("Table", "t")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "t" || len(in.KeySchema) != 2 || aws.ToString(in.KeySchema[0].AttributeName) != "PK" || len(in.GlobalSecondaryIndexes) != 3 {
		t.Errorf("table input = %+v", in)
	}
	for i, g := range in.GlobalSecondaryIndexes {
		if want := "GSI" + string(rune('1'+i)); aws.ToString(g.IndexName) != want || g.Projection.ProjectionType == "" {
			t.Errorf("index %d = %s %v", i, aws.ToString(g.IndexName), g.Projection)
		}
	}
	if a, ok := tpl.TableTTLAttribute("Table"); !ok || a != "ttl" {
		t.Errorf("ttl = %q %v", a, ok)
	}
	if _, err := tpl.TableInput("Api", "x"); err == nil {
		t.Error("TableInput of a non-table succeeded")
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{"a: [", "just a string", "Resources: 3"} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		}
	}
}

func TestMatch(t *testing.T) {
	tpl, err := Parse([]byte(`
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      FunctionArn: !GetAtt B.Arn
      Events:
        One: {Type: Api, Properties: {Path: "/orgs/{orgId}/sites/{siteId}", Method: get}}
        Two: {Type: Api, Properties: {Path: "/orgs/{orgId}/sites/special", Method: GET}}
        Three: {Type: Api, Properties: {Path: "/files/{proxy+}", Method: any, Auth: {Authorizer: NONE}}}
        Sched: {Type: Schedule, Properties: {Schedule: rate(1 hour)}}
`))
	if err != nil {
		t.Fatal(err)
	}
	routes := tpl.Routes()
	if len(routes) != 3 {
		t.Fatalf("routes = %+v", routes)
	}
	cases := []struct {
		method, path, event string
		params              map[string]string
	}{
		{"GET", "/orgs/o1/sites/s1", "One", map[string]string{"orgId": "o1", "siteId": "s1"}},
		{"GET", "/orgs/o1/sites/s1/", "One", map[string]string{"orgId": "o1", "siteId": "s1"}},
		{"GET", "/orgs/o1/sites/special", "Two", map[string]string{"orgId": "o1"}},
		{"DELETE", "/files/a/b/c", "Three", map[string]string{"proxy": "a/b/c"}},
		{"POST", "/orgs/o1/sites/s1", "", nil},
		{"GET", "/orgs/o1", "", nil},
		{"GET", "/orgs/o1/sites/s1/x", "", nil},
	}
	for _, c := range cases {
		r, p, ok := Match(routes, c.method, c.path)
		if c.event == "" {
			if ok {
				t.Errorf("%s %s matched %s", c.method, c.path, r.EventID)
			}
			continue
		}
		if !ok || r.EventID != c.event {
			t.Errorf("%s %s -> %v %v, want %s", c.method, c.path, r.EventID, ok, c.event)
			continue
		}
		for k, v := range c.params {
			if p[k] != v {
				t.Errorf("%s %s param %s = %q, want %q", c.method, c.path, k, p[k], v)
			}
		}
	}
	if n := len(MatchPath(routes, "/orgs/o1/sites/s1")); n != 1 {
		t.Errorf("MatchPath = %d routes", n)
	}
}
