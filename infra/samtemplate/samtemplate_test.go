package samtemplate

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// repoTemplate loads the repository's template.yaml; go test runs in the
// package directory, two levels below the repository root.
func repoTemplate(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tpl
}

// The checks on the real template assert presence, not counts, so that
// routes and functions can be added to template.yaml freely.
func TestRepoTemplateRoutes(t *testing.T) {
	tpl := repoTemplate(t)
	routes := tpl.Routes()
	want := []struct {
		method, path, function string
		public                 bool
	}{
		{"POST", "/orgs/{orgId}/sites/{siteId}/invitations", "InviteGuestsFunction", false},
		{"GET", "/invitations/accept", "AcceptInvitationFunction", true},
		{"POST", "/invitations/accept", "AcceptInvitationFunction", true},
	}
	for _, w := range want {
		i := slices.IndexFunc(routes, func(r Route) bool { return r.Method == w.method && r.Path == w.path })
		if i < 0 {
			t.Errorf("route %s %s missing from %+v", w.method, w.path, routes)
			continue
		}
		r := routes[i]
		if r.FunctionID != w.function || r.Public != w.public || r.EventID == "" {
			t.Errorf("route %s %s = %+v, want function %s public %v", w.method, w.path, r, w.function, w.public)
		}
		if !r.Public && r.Authorizer != "JwtAuthorizer" {
			t.Errorf("guarded route %s %s authorizer = %q", w.method, w.path, r.Authorizer)
		}
		if r.RestAPIID != "Api" {
			t.Errorf("route %s %s RestAPIID = %q", w.method, w.path, r.RestAPIID)
		}
	}
	if !slices.IsSortedFunc(routes, func(a, b Route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	}) {
		t.Errorf("routes not sorted by path then method: %+v", routes)
	}
	for _, r := range routes {
		if r.Method != strings.ToUpper(r.Method) || !strings.HasPrefix(r.Path, "/") {
			t.Errorf("odd route %+v", r)
		}
	}

	name, fn := tpl.DefaultAuthorizer()
	if name != "JwtAuthorizer" || fn != "AuthorizerFunction" {
		t.Errorf("DefaultAuthorizer() = %q, %q; want JwtAuthorizer, AuthorizerFunction", name, fn)
	}

	r, params, ok := Match(routes, "post", "/orgs/o1/sites/s1/invitations")
	if !ok || r.FunctionID != "InviteGuestsFunction" || !reflect.DeepEqual(params, map[string]string{"orgId": "o1", "siteId": "s1"}) {
		t.Errorf("Match invite = %+v %v %v", r, params, ok)
	}
	// Other methods of a public page go to its function (ANY), which
	// answers 405 with Allow; a guarded path's are API Gateway's 403.
	if r, _, ok := Match(routes, "DELETE", "/invitations/accept"); !ok || r.Method != "ANY" || r.FunctionID != "AcceptInvitationFunction" || !r.Public {
		t.Errorf("DELETE /invitations/accept matched %+v %v, want the accept function's ANY route", r, ok)
	}
	if r, _, ok := Match(routes, "GET", "/invitations/accept"); !ok || r.Method != "GET" {
		t.Errorf("GET /invitations/accept matched %+v %v, want its GET route before ANY", r, ok)
	}
	if _, _, ok := Match(routes, "DELETE", "/orgs/o1/sites/s1/invitations"); ok {
		t.Error("DELETE /orgs/o1/sites/s1/invitations matched")
	}
	if got := MatchPath(routes, "/invitations/accept/"); len(got) < 2 {
		t.Errorf("MatchPath(/invitations/accept/) = %+v, want GET and POST", got)
	}
}

func TestRepoTemplateFunctions(t *testing.T) {
	tpl := repoTemplate(t)
	fns := tpl.Functions()
	if !slices.IsSortedFunc(fns, func(a, b Function) int { return strings.Compare(a.LogicalID, b.LogicalID) }) {
		t.Error("functions not sorted")
	}
	byID := map[string]Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
		if f.BuildMethod != "makefile" {
			t.Errorf("%s BuildMethod = %q", f.LogicalID, f.BuildMethod)
		}
		// TABLE_NAME comes from Globals as !Ref Table.
		if in := f.IntrinsicEnv["TABLE_NAME"]; in.Fn != "Ref" || in.Arg != "Table" {
			t.Errorf("%s TABLE_NAME = %+v", f.LogicalID, in)
		}
		if _, ok := f.Env["TABLE_NAME"]; ok {
			t.Errorf("%s intrinsic TABLE_NAME among literal env", f.LogicalID)
		}
	}
	for _, id := range []string{"AuthorizerFunction", "InviteGuestsFunction", "AcceptInvitationFunction"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("function %s missing", id)
		}
	}
	// The API's functions cannot name the API (a circular dependency): their
	// PUBLIC_BASE_URL is the parameter; the functions the API does not
	// integrate (the email sender, the scheduled jobs) name the API when
	// the parameter is empty.
	if in := byID["VerifyFunction"].IntrinsicEnv["PUBLIC_BASE_URL"]; in.Fn != "Ref" || in.Arg != "PublicBaseUrl" {
		t.Errorf("VerifyFunction PUBLIC_BASE_URL = %+v, want Ref PublicBaseUrl", in)
	}
	for _, id := range []string{"EmailSenderFunction", "ReverifyFunction"} {
		if in := byID[id].IntrinsicEnv["PUBLIC_BASE_URL"]; in.Fn != "Fn::If" {
			t.Errorf("%s PUBLIC_BASE_URL = %+v, want Fn::If", id, in)
		}
	}
	if d := tpl.ParameterDefaults(); d["LogLevel"] != "INFO" || d["InvitationLifetimeHours"] != "168" {
		t.Errorf("ParameterDefaults() = %v", d)
	}
}

func TestRepoTemplateTable(t *testing.T) {
	tpl := repoTemplate(t)
	if ids := tpl.TableLogicalIDs(); !slices.Contains(ids, "Table") {
		t.Fatalf("TableLogicalIDs() = %v", ids)
	}
	in, err := tpl.TableInput("Table", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "local-table" {
		t.Errorf("TableName = %q", aws.ToString(in.TableName))
	}
	wantKeys := []types.KeySchemaElement{
		{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
	}
	if !reflect.DeepEqual(in.KeySchema, wantKeys) {
		t.Errorf("KeySchema = %+v", in.KeySchema)
	}
	if in.BillingMode != types.BillingModePayPerRequest || in.ProvisionedThroughput != nil {
		t.Errorf("billing = %s %+v", in.BillingMode, in.ProvisionedThroughput)
	}
	gsis := map[string]types.GlobalSecondaryIndex{}
	for _, g := range in.GlobalSecondaryIndexes {
		gsis[aws.ToString(g.IndexName)] = g
	}
	for _, name := range []string{"GSI1", "GSI2", "GSI3"} {
		g, ok := gsis[name]
		if !ok {
			t.Errorf("index %s missing", name)
			continue
		}
		want := []types.KeySchemaElement{
			{AttributeName: aws.String(name + "PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(name + "SK"), KeyType: types.KeyTypeRange},
		}
		if !reflect.DeepEqual(g.KeySchema, want) || g.Projection == nil || g.Projection.ProjectionType == "" {
			t.Errorf("index %s = %+v", name, g)
		}
	}
	defined := map[string]types.ScalarAttributeType{}
	for _, a := range in.AttributeDefinitions {
		defined[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	for _, a := range []string{"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"} {
		if defined[a] != types.ScalarAttributeTypeS {
			t.Errorf("attribute %s = %q, want S", a, defined[a])
		}
	}
	if a, ok := tpl.TableTTLAttribute("Table"); !ok || a != "ttl" {
		t.Errorf("TableTTLAttribute = %q %v", a, ok)
	}
}

const matchTemplate = `
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Site:     {Type: Api, Properties: {Path: "/orgs/{orgId}/sites/{siteId}", Method: get}}
        Special:  {Type: Api, Properties: {Path: "/orgs/{orgId}/sites/special", Method: GET}}
        LitFirst: {Type: Api, Properties: {Path: "/a/{x}/{y}", Method: GET}}
        LitLater: {Type: Api, Properties: {Path: "/{x}/b/c", Method: GET}}
        Root:     {Type: Api, Properties: {Path: /, Method: GET}}
        Files:    {Type: Api, Properties: {Path: "/files/{proxy+}", Method: any, Auth: {Authorizer: NONE}}}
        FileOne:  {Type: Api, Properties: {Path: "/files/{name}", Method: GET}}
        FilesPut: {Type: Api, Properties: {Path: "/files/{proxy+}", Method: PUT}}
        Trailing: {Type: Api, Properties: {Path: /x/, Method: POST}}
        Sched:    {Type: Schedule, Properties: {Schedule: rate(1 hour)}}
`

func TestMatch(t *testing.T) {
	routes := mustParse(t, matchTemplate).Routes()
	if len(routes) != 9 {
		t.Fatalf("Routes() = %d routes, want 9 (Schedule event excluded): %+v", len(routes), routes)
	}
	cases := []struct {
		name, method, path string
		event              string // "" for no match
		params             map[string]string
	}{
		{"params", "GET", "/orgs/o1/sites/s1", "Site", map[string]string{"orgId": "o1", "siteId": "s1"}},
		{"lower case method", "get", "/orgs/o1/sites/s1", "Site", map[string]string{"orgId": "o1", "siteId": "s1"}},
		{"trailing slash on request", "GET", "/orgs/o1/sites/s1/", "Site", map[string]string{"orgId": "o1", "siteId": "s1"}},
		{"trailing slash in template", "POST", "/x", "Trailing", map[string]string{}},
		{"trailing slash on both", "POST", "/x/", "Trailing", map[string]string{}},
		{"literal beats param", "GET", "/orgs/o1/sites/special", "Special", map[string]string{"orgId": "o1"}},
		{"leftmost literal wins", "GET", "/a/b/c", "LitFirst", map[string]string{"x": "b", "y": "c"}},
		{"param used when literal differs", "GET", "/z/b/c", "LitLater", map[string]string{"x": "z"}},
		{"root", "GET", "/", "Root", map[string]string{}},
		{"root without slash", "GET", "", "Root", map[string]string{}},
		{"greedy", "DELETE", "/files/a/b/c", "Files", map[string]string{"proxy": "a/b/c"}},
		{"param beats greedy", "GET", "/files/a", "FileOne", map[string]string{"name": "a"}},
		{"greedy when param cannot", "GET", "/files/a/b", "Files", map[string]string{"proxy": "a/b"}},
		{"exact method beats ANY", "PUT", "/files/a/b", "FilesPut", map[string]string{"proxy": "a/b"}},
		{"greedy needs a segment", "GET", "/files", "", nil},
		{"wrong method", "POST", "/orgs/o1/sites/s1", "", nil},
		{"too short", "GET", "/orgs/o1", "", nil},
		{"too long", "GET", "/orgs/o1/sites/s1/x", "", nil},
		{"empty param segment", "GET", "/orgs//sites/s1", "", nil},
		{"unknown", "GET", "/nowhere", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, p, ok := Match(routes, c.method, c.path)
			if c.event == "" {
				if ok {
					t.Fatalf("Match(%s %q) = %s, want no match", c.method, c.path, r.EventID)
				}
				return
			}
			if !ok || r.EventID != c.event {
				t.Fatalf("Match(%s %q) = %q %v, want %s", c.method, c.path, r.EventID, ok, c.event)
			}
			if !reflect.DeepEqual(p, c.params) {
				t.Errorf("params = %v, want %v", p, c.params)
			}
		})
	}
}

func TestMatchPath(t *testing.T) {
	routes := mustParse(t, matchTemplate).Routes()
	events := func(rs []Route) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.EventID)
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		path string
		want []string
	}{
		{"/orgs/o1/sites/s1", []string{"Site"}},
		{"/orgs/o1/sites/special/", []string{"Site", "Special"}},
		{"/files/a/b", []string{"Files", "FilesPut"}},
		{"/nowhere", nil},
	}
	for _, c := range cases {
		if got := events(MatchPath(routes, c.path)); !slices.Equal(got, c.want) {
			t.Errorf("MatchPath(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	// Method not allowed: the path is known, the method is not.
	if _, _, ok := Match(routes, "DELETE", "/orgs/o1/sites/s1"); ok || len(MatchPath(routes, "/orgs/o1/sites/s1")) == 0 {
		t.Error("want DELETE /orgs/o1/sites/s1 to be method-not-allowed")
	}
}

func TestIntrinsicsAndAuth(t *testing.T) {
	tpl := mustParse(t, `
Parameters:
  Stage: {Type: String, Default: dev}
  NoDefault: {Type: String}
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        SHARED: global
        OVERRIDDEN: global
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers:
          Lambda:
            FunctionArn: {"Fn::GetAtt": [Auth, Arn]}
          Other:
            FunctionArn: !GetAtt [Auth, Arn]
  Auth:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: go1.x}
    Properties:
      Environment:
        Variables:
          PLAIN: hello
          NUMBER: 42
          BOOL: true
          QUOTED: "!Ref not a tag"
          OVERRIDDEN: local
          REF: !Ref Stage
          LONG_REF: {Ref: Stage}
          SUB: !Sub "https://${MyApi}.example/${Stage}"
          SUB_LIST: !Sub ["${A}", {A: x}]
          IF: !If [Cond, a, !Ref Stage]
          GETATT: !GetAtt Table.Arn
          JOIN: {"Fn::Join": ["", [a, b]]}
      Events:
        Guarded: {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /g, Method: GET}}
        Other:   {Type: Api, Properties: {RestApiId: {Ref: MyApi}, Path: /o, Method: GET, Auth: {Authorizer: Other}}}
        Open:    {Type: Api, Properties: {RestApiId: !Ref MyApi, Path: /p, Method: GET, Auth: {Authorizer: NONE}}}
        Implicit: {Type: Api, Properties: {Path: /i, Method: GET}}
`)
	if name, fn := tpl.DefaultAuthorizer(); name != "Lambda" || fn != "Auth" {
		t.Errorf("DefaultAuthorizer() = %q %q", name, fn)
	}
	fns := tpl.Functions()
	if len(fns) != 1 {
		t.Fatalf("Functions() = %+v", fns)
	}
	f := fns[0]
	if f.LogicalID != "Auth" || f.BuildMethod != "go1.x" {
		t.Errorf("function = %+v", f)
	}
	wantEnv := map[string]string{"PLAIN": "hello", "NUMBER": "42", "BOOL": "true", "QUOTED": "!Ref not a tag", "SHARED": "global", "OVERRIDDEN": "local"}
	if !reflect.DeepEqual(f.Env, wantEnv) {
		t.Errorf("Env = %v, want %v", f.Env, wantEnv)
	}
	wantIntrinsic := map[string]Intrinsic{
		"TABLE_NAME": {Fn: "Ref", Arg: "Table"},
		"REF":        {Fn: "Ref", Arg: "Stage"},
		"LONG_REF":   {Fn: "Ref", Arg: "Stage"},
		"SUB":        {Fn: "Fn::Sub", Arg: "https://${MyApi}.example/${Stage}"},
		"SUB_LIST":   {Fn: "Fn::Sub"},
		"IF":         {Fn: "Fn::If"},
		"GETATT":     {Fn: "Fn::GetAtt", Arg: "Table.Arn"},
		"JOIN":       {Fn: "Fn::Join"},
	}
	if !reflect.DeepEqual(f.IntrinsicEnv, wantIntrinsic) {
		t.Errorf("IntrinsicEnv = %v, want %v", f.IntrinsicEnv, wantIntrinsic)
	}
	if s := wantIntrinsic["REF"].String(); s != "!Ref Stage" {
		t.Errorf("String() = %q", s)
	}
	if s := wantIntrinsic["IF"].String(); s != "!If ..." {
		t.Errorf("String() = %q", s)
	}
	if d := tpl.ParameterDefaults(); !reflect.DeepEqual(d, map[string]string{"Stage": "dev"}) {
		t.Errorf("ParameterDefaults() = %v", d)
	}

	got := map[string]Route{}
	for _, r := range tpl.Routes() {
		got[r.EventID] = r
	}
	for ev, want := range map[string]struct {
		public     bool
		authorizer string
		api        string
	}{
		"Guarded":  {false, "Lambda", "MyApi"},
		"Other":    {false, "Other", "MyApi"},
		"Open":     {true, "NONE", "MyApi"},
		"Implicit": {false, "", "ServerlessRestApi"},
	} {
		r := got[ev]
		if r.Public != want.public || r.Authorizer != want.authorizer || r.RestAPIID != want.api || r.FunctionID != "Auth" {
			t.Errorf("route %s = %+v, want %+v", ev, r, want)
		}
	}
}

func TestDefaultAuthorizerEdgeCases(t *testing.T) {
	cases := []struct {
		name, src, wantName, wantFn string
	}{
		{"none", `
Resources:
  Api: {Type: AWS::Serverless::Api, Properties: {StageName: v1}}
`, "", ""},
		{"iam", `
Resources:
  Api: {Type: AWS::Serverless::Api, Properties: {Auth: {DefaultAuthorizer: AWS_IAM}}}
`, "AWS_IAM", ""},
		{"literal arn", `
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      Auth:
        DefaultAuthorizer: L
        Authorizers: {L: {FunctionArn: "arn:aws:lambda:eu-west-1:1:function:f"}}
`, "L", ""},
		{"globals", `
Globals:
  Api:
    Auth:
      DefaultAuthorizer: G
      Authorizers: {G: {FunctionArn: !GetAtt AuthFn.Arn}}
Resources:
  AuthFn: {Type: AWS::Serverless::Function}
`, "G", "AuthFn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, fn := mustParse(t, c.src).DefaultAuthorizer()
			if name != c.wantName || fn != c.wantFn {
				t.Errorf("DefaultAuthorizer() = %q %q, want %q %q", name, fn, c.wantName, c.wantFn)
			}
		})
	}
}

func TestTableInput(t *testing.T) {
	tpl := mustParse(t, `
Resources:
  Prov:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 7}
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
        - {AttributeName: n, AttributeType: N}
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: byN
          KeySchema: [{AttributeName: n, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 2}
      TimeToLiveSpecification: {AttributeName: exp, Enabled: false}
  DefaultMode:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Fn: {Type: AWS::Serverless::Function}
`)
	if ids := tpl.TableLogicalIDs(); !slices.Equal(ids, []string{"DefaultMode", "Prov"}) {
		t.Errorf("TableLogicalIDs() = %v", ids)
	}
	in, err := tpl.TableInput("Prov", "p")
	if err != nil {
		t.Fatal(err)
	}
	if in.BillingMode != types.BillingModeProvisioned ||
		aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 || aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits) != 7 {
		t.Errorf("table billing = %s %+v", in.BillingMode, in.ProvisionedThroughput)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("indexes = %+v", in.GlobalSecondaryIndexes)
	}
	g := in.GlobalSecondaryIndexes[0]
	if g.Projection.ProjectionType != types.ProjectionTypeInclude || !slices.Equal(g.Projection.NonKeyAttributes, []string{"a", "b"}) {
		t.Errorf("projection = %+v", g.Projection)
	}
	if aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits) != 1 || aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits) != 2 {
		t.Errorf("index throughput = %+v", g.ProvisionedThroughput)
	}
	if _, ok := tpl.TableTTLAttribute("Prov"); ok {
		t.Error("disabled TTL reported")
	}
	if _, ok := tpl.TableTTLAttribute("DefaultMode"); ok {
		t.Error("absent TTL reported")
	}
	if _, ok := tpl.TableTTLAttribute("Missing"); ok {
		t.Error("TTL of a missing table reported")
	}
	in, err = tpl.TableInput("DefaultMode", "d")
	if err != nil {
		t.Fatal(err)
	}
	if in.BillingMode != types.BillingModePayPerRequest || in.ProvisionedThroughput != nil || in.GlobalSecondaryIndexes != nil {
		t.Errorf("default mode input = %+v", in)
	}
	for _, id := range []string{"Missing", "Fn"} {
		if _, err := tpl.TableInput(id, "x"); err == nil {
			t.Errorf("TableInput(%q) succeeded", id)
		}
	}
}

func TestTableInputErrors(t *testing.T) {
	cases := map[string]string{
		"no attributes": `
      KeySchema: [{AttributeName: id, KeyType: HASH}]`,
		"no key schema": `
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]`,
		"undefined key attribute": `
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: other, KeyType: HASH}]`,
		"intrinsic attribute name": `
      AttributeDefinitions: [{AttributeName: !Ref P, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]`,
		"provisioned without throughput": `
      BillingMode: PROVISIONED
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]`,
		"bad throughput": `
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: lots, WriteCapacityUnits: 1}
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]`,
		"unknown billing mode": `
      BillingMode: FREE
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]`,
		"index without projection": `
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - {IndexName: i, KeySchema: [{AttributeName: id, KeyType: HASH}]}`,
	}
	for name, props := range cases {
		t.Run(name, func(t *testing.T) {
			tpl := mustParse(t, "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:"+props+"\n")
			if in, err := tpl.TableInput("T", "t"); err == nil {
				t.Errorf("TableInput succeeded: %+v", in)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"malformed yaml":        "Resources: [",
		"bad indentation":       "Resources:\n  A:\n    Type: X\n   B: y\n",
		"empty":                 "",
		"scalar document":       "just a string",
		"no resources":          "Parameters: {}\n",
		"resources not a map":   "Resources: 3\n",
		"resource without type": "Resources:\n  A: {Properties: {}}\n",
		"intrinsic type":        "Resources:\n  A: {Type: !Ref X}\n",
		"duplicate resource":    "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n",
		"api event without path": `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events: {E: {Type: Api, Properties: {Method: GET}}}
`,
		"api event with intrinsic path": `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events: {E: {Type: Api, Properties: {Path: !Sub "/${P}", Method: GET}}}
`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(src)); err == nil {
				t.Errorf("Parse(%q) succeeded", src)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestLoadReportsPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(p, []byte("Resources: ["), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Load error = %v, want it to name %s", err, p)
	}
}

func TestAliases(t *testing.T) {
	tpl := mustParse(t, `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        A: &ev {Type: Api, Properties: {Path: /a, Method: GET, Auth: {Authorizer: NONE}}}
        B: *ev
`)
	if rs := tpl.Routes(); len(rs) != 2 || !rs[0].Public || !rs[1].Public {
		t.Errorf("Routes() = %+v", rs)
	}
}

func TestSchedules(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := tpl.Schedules()
	if err != nil || len(ss) == 0 {
		t.Fatalf("Schedules() = %v, %v", ss, err)
	}
	for _, s := range ss {
		if s.FunctionID == "" || s.Every <= 0 {
			t.Errorf("schedule %+v", s)
		}
		// The re-verification job's rate is a parameter: its Default runs locally.
		if s.FunctionID == "ReverifyFunction" && (s.Expression != "rate(1 hour)" || s.Every != time.Hour) {
			t.Errorf("ReverifyFunction's schedule %+v, want the ReverifySchedule parameter's default", s)
		}
	}
	for expr, want := range map[string]time.Duration{"rate(15 minutes)": 15 * time.Minute, "rate(1 hour)": time.Hour, "rate(2 days)": 48 * time.Hour} {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v", expr, got, err)
		}
	}
	for _, bad := range []string{"rate(1 hours)", "rate(2 minute)", "rate(0 minutes)", "rate(5 seconds)", "cron(0 12 * * ? *)", "rate(x minutes)", "every(5 minutes)", "5 minutes)"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}
