package console_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guestaccess/guestaccess/shared/console"
)

// The console's deployment in template.yaml (DeployConsole=true), checked
// without AWS: off by default, the bucket never public, CloudFront the only
// reader and HTTPS the only way in, and the same security headers as
// console.Handler gives in make dev.

// node is a YAML node with lookups for the tests.
type node struct{ *yaml.Node }

func (n node) get(keys ...string) node {
	cur := n.Node
	for _, k := range keys {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return node{}
		}
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == k {
				next = cur.Content[i+1]
			}
		}
		cur = next
	}
	return node{cur}
}

func (n node) str() string {
	if n.Node == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func (n node) items() []node {
	if n.Node == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]node, len(n.Content))
	for i, c := range n.Content {
		out[i] = node{c}
	}
	return out
}

// entries returns a mapping's keys and values.
func (n node) entries() ([]string, []node) {
	if n.Node == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	var ks []string
	var vs []node
	for i := 0; i+1 < len(n.Content); i += 2 {
		ks = append(ks, n.Content[i].Value)
		vs = append(vs, node{n.Content[i+1]})
	}
	return ks, vs
}

func loadTemplate(t *testing.T) node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return node{doc.Content[0]}
}

// TestTemplateConsoleIsOffByDefault: every console resource and output is
// under the WithConsole condition, which DeployConsole's default "false"
// turns off (existing stacks and LocalStack's free plan see no change).
func TestTemplateConsoleIsOffByDefault(t *testing.T) {
	tpl := loadTemplate(t)
	if p := tpl.get("Parameters", "DeployConsole"); p.get("Default").str() != "false" || len(p.get("AllowedValues").items()) != 2 {
		t.Errorf("DeployConsole parameter: default %q", p.get("Default").str())
	}
	cond := tpl.get("Conditions", "WithConsole")
	if cond.Tag != "!Equals" || len(cond.items()) != 2 || cond.items()[0].str() != "DeployConsole" || cond.items()[1].str() != "true" {
		t.Errorf("WithConsole is not !Equals [!Ref DeployConsole, \"true\"]")
	}
	ids, res := tpl.get("Resources").entries()
	n := 0
	for i, id := range ids {
		typ := res[i].get("Type").str()
		console := strings.HasPrefix(id, "Console")
		aws := strings.HasPrefix(typ, "AWS::S3::") || strings.HasPrefix(typ, "AWS::CloudFront::")
		if console || aws {
			n++
			if res[i].get("Condition").str() != "WithConsole" {
				t.Errorf("resource %s (%s) is not under Condition: WithConsole", id, typ)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d console resources, want 5 (bucket, its policy, OAC, headers policy, distribution)", n)
	}
	outs, vals := tpl.get("Outputs").entries()
	for i, id := range outs {
		if strings.HasPrefix(id, "Console") && vals[i].get("Condition").str() != "WithConsole" {
			t.Errorf("output %s is not under Condition: WithConsole", id)
		}
	}
}

// TestTemplateConsoleBucketIsNeverPublic: every public access block is on,
// object ownership disables ACLs, no website hosting and no canned ACL,
// encryption at rest, and the bucket policy allows only this distribution
// (CloudFront's service principal with the distribution's SourceArn) to read
// objects, and refuses any request not over TLS.
func TestTemplateConsoleBucketIsNeverPublic(t *testing.T) {
	tpl := loadTemplate(t)
	b := tpl.get("Resources", "ConsoleBucket", "Properties")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if b.get("PublicAccessBlockConfiguration", k).str() != "true" {
			t.Errorf("ConsoleBucket PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
	for _, k := range []string{"WebsiteConfiguration", "AccessControl", "CorsConfiguration"} {
		if b.get(k).Node != nil {
			t.Errorf("ConsoleBucket has %s", k)
		}
	}
	if r := b.get("OwnershipControls", "Rules").items(); len(r) != 1 || r[0].get("ObjectOwnership").str() != "BucketOwnerEnforced" {
		t.Error("ConsoleBucket does not enforce bucket-owner ownership (ACLs off)")
	}
	if e := b.get("BucketEncryption", "ServerSideEncryptionConfiguration").items(); len(e) == 0 || e[0].get("ServerSideEncryptionByDefault", "SSEAlgorithm").str() == "" {
		t.Error("ConsoleBucket has no default encryption")
	}

	pol := tpl.get("Resources", "ConsoleBucketPolicy", "Properties")
	if pol.get("Bucket").Tag != "!Ref" || pol.get("Bucket").str() != "ConsoleBucket" {
		t.Errorf("ConsoleBucketPolicy is not on ConsoleBucket")
	}
	var allows, tls int
	for _, st := range pol.get("PolicyDocument", "Statement").items() {
		switch st.get("Effect").str() {
		case "Allow":
			allows++
			p := st.get("Principal")
			if p.str() != "" || p.get("AWS").Node != nil || p.get("Service").str() != "cloudfront.amazonaws.com" {
				t.Errorf("statement %s allows a principal other than CloudFront", st.get("Sid").str())
			}
			if st.get("Action").str() != "s3:GetObject" {
				t.Errorf("statement %s allows more than s3:GetObject", st.get("Sid").str())
			}
			src := st.get("Condition", "StringEquals", "AWS:SourceArn")
			if src.Tag != "!Sub" || !strings.Contains(src.str(), ":distribution/${ConsoleDistribution}") {
				t.Errorf("statement %s is not limited to this distribution (AWS:SourceArn)", st.get("Sid").str())
			}
		case "Deny":
			if st.get("Condition", "Bool", "aws:SecureTransport").str() == "false" {
				tls++
			}
		}
	}
	if allows != 1 || tls != 1 {
		t.Errorf("bucket policy: %d allow statements (want 1, for the distribution), %d TLS-only denials (want 1)", allows, tls)
	}
}

// TestTemplateConsoleDistribution: CloudFront reads the bucket through
// Origin Access Control (no legacy identity, no website endpoint), serves
// HTTPS only, index.html at the root, and with the console's headers.
func TestTemplateConsoleDistribution(t *testing.T) {
	tpl := loadTemplate(t)
	d := tpl.get("Resources", "ConsoleDistribution", "Properties", "DistributionConfig")
	if d.get("DefaultRootObject").str() != "index.html" {
		t.Errorf("DefaultRootObject %q", d.get("DefaultRootObject").str())
	}
	origins := d.get("Origins").items()
	if len(origins) != 1 {
		t.Fatalf("%d origins, want the bucket only", len(origins))
	}
	o := origins[0]
	if o.get("DomainName").Tag != "!GetAtt" || o.get("DomainName").str() != "ConsoleBucket.RegionalDomainName" {
		t.Errorf("origin domain %q is not the bucket's REST endpoint", o.get("DomainName").str())
	}
	if o.get("OriginAccessControlId").str() != "ConsoleOriginAccessControl.Id" || o.get("S3OriginConfig", "OriginAccessIdentity").str() != "" || o.get("CustomOriginConfig").Node != nil {
		t.Error("the origin is not read through Origin Access Control")
	}
	oac := tpl.get("Resources", "ConsoleOriginAccessControl", "Properties", "OriginAccessControlConfig")
	if oac.get("SigningBehavior").str() != "always" || oac.get("OriginAccessControlOriginType").str() != "s3" {
		t.Error("the origin access control does not always sign S3 requests")
	}
	cb := d.get("DefaultCacheBehavior")
	if cb.get("ViewerProtocolPolicy").str() != "https-only" {
		t.Errorf("ViewerProtocolPolicy %q, want https-only", cb.get("ViewerProtocolPolicy").str())
	}
	if h := cb.get("ResponseHeadersPolicyId"); h.Tag != "!Ref" || h.str() != "ConsoleHeadersPolicy" {
		t.Error("the default behaviour has not the console's headers policy")
	}
	for _, m := range cb.get("AllowedMethods").items() {
		if m.str() != "GET" && m.str() != "HEAD" {
			t.Errorf("the console's behaviour allows %s", m.str())
		}
	}
}

// TestTemplateConsoleHeaders: the deployed Content-Security-Policy is
// console.CSP's for the stack's API URL (the ApiUrl output) and the
// ConsoleTokenUrl parameter, resolved here as CloudFormation would for an
// example API id, region and token endpoint; the other headers are
// console.Handler's, plus HSTS.
func TestTemplateConsoleHeaders(t *testing.T) {
	tpl := loadTemplate(t)
	sec := tpl.get("Resources", "ConsoleHeadersPolicy", "Properties", "ResponseHeadersPolicyConfig", "SecurityHeadersConfig")
	csp := sec.get("ContentSecurityPolicy", "ContentSecurityPolicy")
	if csp.Tag != "!Sub" || len(csp.items()) != 2 {
		t.Fatalf("ContentSecurityPolicy is not !Sub [format, {TokenOrigin: ...}]")
	}
	join := csp.items()[1].get("TokenOrigin")

	const apiID, region, tokenURL = "abc123defg", "eu-west-1", "https://login.idp.example/oauth2/token"
	resolve := strings.NewReplacer("${Api}", apiID, "${AWS::Region}", region, "${AWS::URLSuffix}", "amazonaws.com",
		"${StageName}", "v1", "${TokenOrigin}", tokenOrigin(t, join, tokenURL))
	apiURL := resolve.Replace(tpl.get("Outputs", "ApiUrl", "Value").str())
	want := console.CSP(console.Config{APIBaseURL: apiURL, TokenURL: tokenURL})
	if got := resolve.Replace(csp.items()[0].str()); got != want {
		t.Errorf("deployed CSP\n\t%s\nconsole.CSP\n\t%s", got, want)
	}
	if sec.get("ContentSecurityPolicy", "Override").str() != "true" {
		t.Error("the CSP does not override the origin's")
	}
	for path, want := range map[string]string{
		"ContentTypeOptions/Override":                    "true",
		"FrameOptions/FrameOption":                       "DENY",
		"ReferrerPolicy/ReferrerPolicy":                  "no-referrer",
		"StrictTransportSecurity/AccessControlMaxAgeSec": "63072000",
	} {
		if got := sec.get(strings.Split(path, "/")...).str(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

// tokenOrigin evaluates the template's TokenOrigin, !Join ["", ["https://",
// !Select [2, !Split ["/", !Ref ConsoleTokenUrl]]]], for a token URL.
func tokenOrigin(t *testing.T, join node, tokenURL string) string {
	t.Helper()
	args := join.items()
	if join.Tag != "!Join" || len(args) != 2 || args[0].str() != "" || len(args[1].items()) != 2 {
		t.Fatalf("TokenOrigin is not !Join [\"\", [prefix, host]]")
	}
	prefix, sel := args[1].items()[0].str(), args[1].items()[1]
	if sel.Tag != "!Select" || len(sel.items()) != 2 {
		t.Fatalf("TokenOrigin's host is not a !Select")
	}
	split := sel.items()[1]
	if split.Tag != "!Split" || split.items()[0].str() != "/" || split.items()[1].Tag != "!Ref" || split.items()[1].str() != "ConsoleTokenUrl" {
		t.Fatalf("TokenOrigin does not split ConsoleTokenUrl on /")
	}
	i, err := strconv.Atoi(sel.items()[0].str())
	if err != nil {
		t.Fatalf("TokenOrigin's !Select index: %v", err)
	}
	host := strings.Split(tokenURL, "/")[i]
	return prefix + host
}
