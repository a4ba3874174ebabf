package samtemplate

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// publicRoutes are the template's routes without the authorizer, but the
// CORS preflights: the pages strangers use (issue 16, item 1).
func publicRoutes(t *testing.T, tpl *Template) []Route {
	var out []Route
	for _, r := range tpl.Routes() {
		if r.Public && r.Method != "OPTIONS" {
			out = append(out, r)
		}
	}
	if len(out) < 4 {
		t.Fatalf("public routes %v: want the verification and accept pages' GET and POST", out)
	}
	return out
}

// TestRepoTemplatePublicRouteThrottles: every public route (the
// verification page, the accept page) has a MethodSettings throttle whose
// rate and burst are the PublicRouteRateLimit and PublicRouteBurstLimit
// parameters (numbers with sane defaults), and nothing else is throttled
// by them. (Without them a flood of passcode requests reaches the function
// and the table at whatever rate it is sent.)
func TestRepoTemplatePublicRouteThrottles(t *testing.T) {
	tpl := repoTemplate(t)
	throttles, err := tpl.MethodThrottles("Api")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range publicRoutes(t, tpl) {
		found := false
		for _, th := range throttles {
			if th.Path == r.Path && (th.Method == "*" || th.Method == r.Method) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %s has no MethodSettings throttle", r.Method, r.Path)
		}
	}
	public := map[string]bool{}
	for _, r := range publicRoutes(t, tpl) {
		public[r.Path] = true
	}
	var stage *MethodThrottle // the stage-wide setting (ApiRateLimit, ApiBurstLimit): every other method
	for i, th := range throttles {
		if th.Path == "/*" && th.Method == "*" {
			stage = &throttles[i]
			continue
		}
		if !public[th.Path] {
			t.Errorf("throttle %+v is not on a public route", th)
		}
		if th.Rate < 1 || th.Burst < th.Rate || th.Rate > 1000 {
			t.Errorf("throttle %+v: want 1 <= rate <= burst and a rate well under the account's 10,000 a second", th)
		}
	}
	if stage == nil {
		t.Error("no stage-wide throttle (MethodSettings /* *)")
	}
	for _, th := range throttles {
		if stage != nil && th != *stage && (th.Rate > stage.Rate || th.Burst > stage.Burst) {
			t.Errorf("public throttle %+v is not tighter than the stage's %+v", th, *stage)
		}
	}
	api := tpl.resources["Api"]
	for i, s := range seq(at(api, "Properties", "MethodSettings")) {
		want := map[string]string{"ThrottlingRateLimit": "PublicRouteRateLimit", "ThrottlingBurstLimit": "PublicRouteBurstLimit"}
		if str(get(s, "ResourcePath")) == "/*" {
			want = map[string]string{"ThrottlingRateLimit": "ApiRateLimit", "ThrottlingBurstLimit": "ApiBurstLimit"}
		}
		for key, param := range want {
			if in, ok := intrinsic(get(s, key)); !ok || in.Fn != "Ref" || in.Arg != param {
				t.Errorf("MethodSettings[%d].%s: want !Ref %s", i, key, param)
			}
		}
	}
	for _, p := range []string{"PublicRouteRateLimit", "PublicRouteBurstLimit", "ApiRateLimit", "ApiBurstLimit"} {
		if n := at(tpl.root, "Parameters", p); str(get(n, "Type")) != "Number" || str(get(n, "MinValue")) != "1" {
			t.Errorf("parameter %s: want a Number of at least 1", p)
		}
	}
}

// TestRepoTemplatePublicRoutesPerIP: the web ACL limits each source IP on
// the public routes (a WAF rate-based rule, PublicRequestsPerIp in 5
// minutes, answered 429), exists whenever that rule is wanted (not only
// with AllowedOrigins), and an alarm watches the rule's blocked requests.
// The rule's scope is evaluated: every public route matches, under the
// stage or a base path, and no other route does.
func TestRepoTemplatePublicRoutesPerIP(t *testing.T) {
	tpl := repoTemplate(t)
	param := at(tpl.root, "Parameters", "PublicRequestsPerIp")
	if d, err := strconv.Atoi(str(get(param, "Default"))); str(get(param, "Type")) != "Number" || err != nil || d < 10 || d > 1000 {
		t.Errorf("PublicRequestsPerIp: want a Number defaulting to 10..1000 (WAF's least is 10)")
	}
	if in, ok := intrinsic(at(tpl.root, "Conditions", "WithWebAcl")); !ok || in.Fn != "Fn::Or" {
		t.Errorf("WithWebAcl: %v, want !Or [HasAllowedOrigins, HasRateRule]", in)
	}
	for _, id := range []string{"OriginFilter", "OriginFilterAssociation"} {
		if str(get(tpl.resources[id], "Condition")) != "WithWebAcl" {
			t.Errorf("%s is missing or not under WithWebAcl", id)
		}
	}
	var rule map[string]string
	var ruleNode = at(tpl.resources["OriginFilter"], "Properties", "Rules")
	for _, r := range seq(ruleNode) {
		cond, then, ok := ifOrNoValue(r)
		if !ok || cond != "HasRateRule" {
			continue
		}
		rb := at(then, "Statement", "RateBasedStatement")
		limit, _ := intrinsic(get(rb, "Limit"))
		rule = map[string]string{
			"limit":  limit.String(),
			"window": str(get(rb, "EvaluationWindowSec")),
			"key":    str(get(rb, "AggregateKeyType")),
			"regex":  str(at(rb, "ScopeDownStatement", "RegexMatchStatement", "RegexString")),
			"field":  strings.Join(keys(at(rb, "ScopeDownStatement", "RegexMatchStatement", "FieldToMatch")), ","),
			"status": str(at(then, "Action", "Block", "CustomResponse", "ResponseCode")),
			"metric": str(at(then, "VisibilityConfig", "MetricName")),
		}
	}
	if rule == nil {
		t.Fatal("OriginFilter has no rule under !If [HasRateRule, ...]")
	}
	want := map[string]string{"limit": "!Ref PublicRequestsPerIp", "window": "300", "key": "IP", "field": "UriPath", "status": "429"}
	for k, v := range want {
		if rule[k] != v {
			t.Errorf("rate rule %s = %q, want %q", k, rule[k], v)
		}
	}
	re, err := regexp.Compile(rule["regex"])
	if err != nil {
		t.Fatalf("scope %q: %v", rule["regex"], err)
	}
	concrete := func(p string) string {
		return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(p, "x-1")
	}
	public := map[string]bool{}
	for _, r := range publicRoutes(t, tpl) {
		public[r.Path] = true
		for _, prefix := range []string{"", "/v1", "/guest-api"} {
			if p := prefix + concrete(r.Path); !re.MatchString(p) {
				t.Errorf("the rate rule's scope misses %s", p)
			}
		}
	}
	for _, r := range tpl.Routes() {
		if !public[r.Path] && re.MatchString("/v1"+concrete(r.Path)) {
			t.Errorf("the rate rule's scope takes %s, not a public route", r.Path)
		}
	}
	alarm := tpl.resources["PublicRoutesPerIpBlockedAlarm"]
	if str(get(alarm, "Type")) != "AWS::CloudWatch::Alarm" || str(get(alarm, "Condition")) != "HasRateRule" ||
		str(at(alarm, "Properties", "Namespace")) != "AWS/WAFV2" || str(at(alarm, "Properties", "MetricName")) != "BlockedRequests" {
		t.Fatal("PublicRoutesPerIpBlockedAlarm: want an alarm on AWS/WAFV2 BlockedRequests under HasRateRule")
	}
	dims := map[string]string{}
	for _, d := range seq(at(alarm, "Properties", "Dimensions")) {
		dims[str(get(d, "Name"))] = str(get(d, "Value"))
	}
	if dims["Rule"] != rule["metric"] || dims["WebACL"] != str(at(tpl.resources["OriginFilter"], "Properties", "VisibilityConfig", "MetricName")) {
		t.Errorf("alarm dimensions %v: want the rule's and the web ACL's metric names", dims)
	}
}

// keys lists a mapping's keys.
func keys(n *yaml.Node) []string {
	var out []string
	if n = deref(n); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}
