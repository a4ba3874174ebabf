package samtemplate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

// The template's CORS (issue 10): a preflight on every path, answered
// without the authorizer by the one preflight function; every function
// gets the allowed origins; every gateway response echoes an allowed
// Origin under the HasAllowedOrigins condition, except the origin
// filter's own refusal; and the origin filter runs under that condition.
func TestRepoTemplateCORS(t *testing.T) {
	tpl := repoTemplate(t)
	routes := tpl.Routes()
	paths := map[string]bool{}
	preflights := map[string]bool{}
	for _, r := range routes {
		if r.Method != "OPTIONS" {
			paths[r.Path] = true
			if r.FunctionID == "CorsPreflightFunction" {
				t.Errorf("%s %s goes to the preflight function", r.Method, r.Path)
			}
			continue
		}
		if r.FunctionID != "CorsPreflightFunction" || !r.Public {
			t.Errorf("OPTIONS %s: function %s, public %v; want CorsPreflightFunction without the authorizer", r.Path, r.FunctionID, r.Public)
		}
		preflights[r.Path] = true
	}
	for p := range paths {
		if !preflights[p] {
			t.Errorf("path %s has no OPTIONS preflight route", p)
		}
	}
	for p := range preflights {
		if !paths[p] {
			t.Errorf("OPTIONS %s: no other method routes this path", p)
		}
	}

	param := at(tpl.root, "Parameters", "AllowedOrigins")
	if str(get(param, "Type")) != "CommaDelimitedList" || get(param, "Default") == nil || str(get(param, "Default")) != "" {
		t.Errorf("AllowedOrigins must be a CommaDelimitedList defaulting to none")
	}
	if in, ok := intrinsic(at(tpl.root, "Conditions", "HasAllowedOrigins")); !ok || in.Fn != "Fn::Not" {
		t.Errorf("HasAllowedOrigins: %v", in)
	}
	for _, f := range tpl.Functions() {
		if in, ok := f.IntrinsicEnv["ALLOWED_ORIGINS"]; !ok || in.Fn != "Fn::Join" {
			t.Errorf("%s has no ALLOWED_ORIGINS from the AllowedOrigins parameter", f.LogicalID)
		}
	}

	responses, err := tpl.GatewayResponses("Api")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := responses["WAF_FILTERED"]; !ok {
		t.Error("no WAF_FILTERED gateway response: the origin filter's refusal would fall back to DEFAULT_4XX, with CORS headers")
	}
	for typ, gr := range responses {
		corsHeaders := []string{cors.AllowOrigin, cors.ExposeHeaders, cors.Vary}
		if typ == "WAF_FILTERED" {
			for _, h := range corsHeaders {
				if _, lit := gr.Headers[h]; lit || gr.FromRequest[h] != "" {
					t.Errorf("WAF_FILTERED carries %s: a refused origin gets no CORS headers", h)
				}
			}
			continue
		}
		if gr.FromRequest[cors.AllowOrigin] != cors.Origin || gr.Headers[cors.ExposeHeaders] != cors.Exposed || gr.Headers[cors.Vary] != cors.Origin {
			t.Errorf("%s: CORS headers %v %v", typ, gr.Headers, gr.FromRequest)
		}
		for _, h := range corsHeaders {
			if gr.Conditions[h] != "HasAllowedOrigins" {
				t.Errorf("%s: %s is not under HasAllowedOrigins (without allowed origins it would echo any)", typ, h)
			}
		}
	}

	if str(get(tpl.resources["OriginPatterns"], "Condition")) != "HasAllowedOrigins" {
		t.Errorf("OriginPatterns is missing or not under HasAllowedOrigins")
	}
	// The web ACL also carries the public routes' per-IP rate rule (issue 16;
	// TestRepoTemplatePublicRoutesPerIP), so it exists under WithWebAcl and
	// the origin rule under HasAllowedOrigins.
	for _, id := range []string{"OriginFilter", "OriginFilterAssociation"} {
		if str(get(tpl.resources[id], "Condition")) != "WithWebAcl" {
			t.Errorf("%s is missing or not under WithWebAcl", id)
		}
	}
	var rule []*yaml.Node
	for _, r := range seq(at(tpl.resources["OriginFilter"], "Properties", "Rules")) {
		if cond, then, ok := ifOrNoValue(r); ok && cond == "HasAllowedOrigins" {
			rule = append(rule, then)
		}
	}
	if len(rule) != 1 || at(rule[0], "Action", "Block") == nil {
		t.Fatalf("OriginFilter: want one blocking rule under HasAllowedOrigins")
	}
	stmts := seq(at(rule[0], "Statement", "AndStatement", "Statements"))
	if len(stmts) != 2 || !strings.EqualFold(str(at(stmts[0], "SizeConstraintStatement", "FieldToMatch", "SingleHeader", "Name")), "origin") ||
		at(stmts[1], "NotStatement", "Statement", "RegexPatternSetReferenceStatement") == nil {
		t.Errorf("OriginFilter's rule must block an Origin present and not matching OriginPatterns")
	}
	if !slices.Contains(tpl.ofType("AWS::WAFv2::WebACLAssociation"), "OriginFilterAssociation") {
		t.Error("OriginFilterAssociation is not a web ACL association")
	}
}

// TestRepoTemplateOriginPatterns evaluates OriginPatterns' patterns as
// CloudFormation would, for a deployment on the API's own URL and one with
// a PublicBaseUrl, and matches them as the web ACL does (the Origin
// lower-cased, any pattern): each allowed origin and the API's own pass;
// look-alikes do not (dots escaped, both ends anchored); no pattern is
// listed twice, and eight allowed origins fit WAF's ten patterns a set.
func TestRepoTemplateOriginPatterns(t *testing.T) {
	tpl := repoTemplate(t)
	list := at(tpl.resources["OriginPatterns"], "Properties", "RegularExpressionList")
	const api = "https://abc123.execute-api.eu-west-1.amazonaws.com"
	for _, c := range []struct {
		name, publicBase string
		allowed, want    []string
	}{
		{"on the API's URL", "", []string{"https://admin.example.com", "http://localhost:5173"},
			[]string{`^https://admin\.example\.com$`, `^http://localhost:5173$`, `^https://abc123\.execute-api\.eu-west-1\.amazonaws\.com$`}},
		{"with a PublicBaseUrl", "https://guests.example.org/welcome", []string{"https://admin.example.com"},
			[]string{`^https://admin\.example\.com$`, `^https://abc123\.execute-api\.eu-west-1\.amazonaws\.com$`, `^https://guests\.example\.org$`}},
	} {
		refs := map[string]any{"AllowedOrigins": c.allowed, "PublicBaseUrl": c.publicBase, "Api": "abc123", "AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com"}
		conds := map[string]bool{"UseApiUrl": c.publicBase == "", "HasAllowedOrigins": true}
		got, err := evalStrings(list, refs, conds)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: patterns\n%q\nwant\n%q", c.name, got, c.want)
		}
		var res []*regexp.Regexp
		for _, p := range got {
			res = append(res, regexp.MustCompile(p))
		}
		passes := func(origin string) bool {
			return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(strings.ToLower(origin)) })
		}
		for _, o := range append(slices.Clone(c.allowed), api, "HTTPS://ADMIN.EXAMPLE.COM") {
			if !passes(o) {
				t.Errorf("%s: the filter refuses %s", c.name, o)
			}
		}
		for _, o := range []string{"https://adminxexample.com", "https://admin.example.com.evil.net", "https://evil.admin.example.com", "http://admin.example.com",
			"https://admin.example.com:8443", "null", "https://evil.example"} {
			if passes(o) {
				t.Errorf("%s: the filter lets %s through", c.name, o)
			}
		}
	}
	eight := []string{}
	for i := range 8 {
		eight = append(eight, fmt.Sprintf("https://admin%d.example.com", i))
	}
	got, err := evalStrings(list, map[string]any{"AllowedOrigins": eight, "PublicBaseUrl": "https://g.example.org", "Api": "a", "AWS::Region": "r", "AWS::URLSuffix": "s"},
		map[string]bool{"UseApiUrl": false})
	if err != nil || len(got) > 10 {
		t.Errorf("eight allowed origins: %d patterns (WAF takes 10 a set), %v", len(got), err)
	}
}
