package samtemplate

import (
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/cors"
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

	for _, id := range []string{"OriginPatterns", "OriginFilter", "OriginFilterAssociation"} {
		if str(get(tpl.resources[id], "Condition")) != "HasAllowedOrigins" {
			t.Errorf("%s is missing or not under HasAllowedOrigins", id)
		}
	}
	rule := seq(at(tpl.resources["OriginFilter"], "Properties", "Rules"))
	if len(rule) != 1 || at(rule[0], "Action", "Block") == nil {
		t.Fatalf("OriginFilter: want one blocking rule")
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
