package awsenv_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/platform/awsenv"
)

// vars is every variable awsenv reads; each test starts with none of them.
var vars = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SQS",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE",
}

// env unsets every variable awsenv reads (restored after the test), then
// sets kv (name, value, name, value...).
func env(t *testing.T, kv ...string) {
	t.Helper()
	for _, k := range vars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// TestLinksNoServiceNorConfig: awsenv must not make a function link the
// SDK's config package or a service it does not use.
func TestLinksNoServiceNorConfig(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/guestaccess/guestaccess/shared/platform/awsenv").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/config") || strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") {
			t.Errorf("shared/platform/awsenv depends on %s", p)
		}
	}
}

func TestEndpoint(t *testing.T) {
	const global, dyn, sesURL = "http://global:1", "http://dynamo:2", "http://ses:3"
	for _, tc := range []struct {
		name    string
		env     []string
		service string
		want    string
	}{
		{"nothing set", nil, "DYNAMODB", ""},
		{"global only", []string{"AWS_ENDPOINT_URL", global}, "DYNAMODB", global},
		{"service only", []string{"AWS_ENDPOINT_URL_DYNAMODB", dyn}, "DYNAMODB", dyn},
		{"service wins over global", []string{"AWS_ENDPOINT_URL", global, "AWS_ENDPOINT_URL_DYNAMODB", dyn}, "DYNAMODB", dyn},
		{"another service's variable", []string{"AWS_ENDPOINT_URL", global, "AWS_ENDPOINT_URL_SES", sesURL}, "DYNAMODB", global},
		{"SES", []string{"AWS_ENDPOINT_URL", global, "AWS_ENDPOINT_URL_SES", sesURL}, "SES", sesURL},
		{"SDK id spelling", []string{"AWS_ENDPOINT_URL_DYNAMODB", dyn}, "DynamoDB", dyn},
		{"SDK id with a space", []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", dyn}, "Secrets Manager", dyn},
		{"empty service reads the global", []string{"AWS_ENDPOINT_URL", global, "AWS_ENDPOINT_URL_DYNAMODB", dyn}, "", global},
		{"ignored", []string{"AWS_ENDPOINT_URL", global, "AWS_ENDPOINT_URL_DYNAMODB", dyn, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}, "DYNAMODB", ""},
		{"ignored, any case", []string{"AWS_ENDPOINT_URL", global, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}, "SQS", ""},
		{"ignore flag false", []string{"AWS_ENDPOINT_URL", global, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}, "SQS", global},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env(t, tc.env...)
			if got := awsenv.Endpoint(tc.service); got != tc.want {
				t.Errorf("Endpoint(%q) = %q, want %q", tc.service, got, tc.want)
			}
			got := awsenv.BaseEndpoint(tc.service)
			if (got == nil) != (tc.want == "") || (got != nil && *got != tc.want) {
				t.Errorf("BaseEndpoint(%q) = %v, want %q", tc.service, got, tc.want)
			}
		})
	}
}

func TestRegion(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "us-east-1"},
		{[]string{"AWS_DEFAULT_REGION", "eu-west-1"}, "eu-west-1"},
		{[]string{"AWS_REGION", "ap-southeast-2", "AWS_DEFAULT_REGION", "eu-west-1"}, "ap-southeast-2"},
	} {
		env(t, append([]string{"AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s"}, tc.env...)...)
		cfg, err := awsenv.Config()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != tc.want || awsenv.Region() != tc.want {
			t.Errorf("env %v: region %q, want %q", tc.env, cfg.Region, tc.want)
		}
	}
}

func TestStaticCredentials(t *testing.T) {
	env(t, "AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "secret", "AWS_SESSION_TOKEN", "session")
	cfg, err := awsenv.Config()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKID" || c.SecretAccessKey != "secret" || c.SessionToken != "session" || c.CanExpire {
		t.Errorf("credentials %+v, %v", c, err)
	}
}

func TestMissingCredentials(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{[]string{"AWS_ACCESS_KEY_ID", "AKID"}, "must be set together"},
		{[]string{"AWS_SECRET_ACCESS_KEY", "secret"}, "must be set together"},
		// Container endpoints are not read (see the package comment).
		{[]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/creds"}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
	} {
		env(t, tc.env...)
		_, err := awsenv.Config()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v: error %v, want one containing %q", tc.env, err, tc.want)
		}
	}
}

func TestRetrySettings(t *testing.T) {
	env(t, "AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s")
	cfg, err := awsenv.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retryer != nil || cfg.RetryMaxAttempts != 0 {
		t.Error("without AWS_MAX_ATTEMPTS each service keeps its own standard retryer")
	}
	if got := dynamodb.NewFromConfig(cfg).Options().Retryer.MaxAttempts(); got != 4 {
		t.Errorf("DynamoDB max attempts %d, want the SDK's DynamoDB default 4", got)
	}
	env(t, "AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s", "AWS_MAX_ATTEMPTS", "7", "AWS_RETRY_MODE", "adaptive")
	if cfg, err = awsenv.Config(); err != nil || cfg.RetryMaxAttempts != 7 || cfg.RetryMode != aws.RetryModeAdaptive {
		t.Errorf("config %d %q, %v", cfg.RetryMaxAttempts, cfg.RetryMode, err)
	}
	for _, bad := range [][]string{{"AWS_MAX_ATTEMPTS", "0"}, {"AWS_MAX_ATTEMPTS", "x"}, {"AWS_RETRY_MODE", "legacy"}} {
		env(t, "AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s", bad[0], bad[1])
		if _, err := awsenv.Config(); err == nil {
			t.Errorf("%s=%s accepted", bad[0], bad[1])
		}
	}
}

// recorder is a fake AWS endpoint that answers every call with an empty
// JSON or XML document and records the operations it saw.
type recorder struct {
	mu  sync.Mutex
	ops []string
	srv *httptest.Server
}

func newRecorder(t *testing.T, tls bool) *recorder {
	r := &recorder{}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		op := req.Header.Get("X-Amz-Target") // DynamoDB (JSON 1.0)
		if op == "" {                        // SES (query protocol)
			_ = req.ParseForm()
			op = req.Form.Get("Action")
		}
		r.mu.Lock()
		r.ops = append(r.ops, op)
		r.mu.Unlock()
		if strings.HasPrefix(op, "DynamoDB") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write([]byte(`{"TableNames":[]}`))
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetSendQuotaResponse><GetSendQuotaResult><Max24HourSend>200</Max24HourSend></GetSendQuotaResult></GetSendQuotaResponse>`))
	})
	if tls {
		r.srv = httptest.NewTLSServer(h)
	} else {
		r.srv = httptest.NewServer(h)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) seen() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.ops, ",")
}

// call makes one call with each client: DynamoDB ListTables, SES GetSendQuota.
func call(cfg aws.Config) (dynErr, sesErr error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, dynErr = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }).ListTables(ctx, &dynamodb.ListTablesInput{})
	_, sesErr = ses.NewFromConfig(cfg, func(o *ses.Options) { o.RetryMaxAttempts = 1 }).GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	return dynErr, sesErr
}

// TestClientsFollowEndpoints pins the contract with the SDK: clients made
// by plain NewFromConfig from Config's result go where the endpoint
// variables say, with the service-specific variable first.
func TestClientsFollowEndpoints(t *testing.T) {
	creds := []string{"AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s"}
	t.Run("global only", func(t *testing.T) {
		g := newRecorder(t, false)
		env(t, append(creds, "AWS_ENDPOINT_URL", g.srv.URL)...)
		cfg, err := awsenv.Config()
		if err != nil {
			t.Fatal(err)
		}
		if d, s := call(cfg); d != nil || s != nil {
			t.Fatal(d, s)
		}
		if got := g.seen(); got != "DynamoDB_20120810.ListTables,GetSendQuota" {
			t.Errorf("global endpoint saw %q", got)
		}
	})
	t.Run("service-specific wins", func(t *testing.T) {
		g, d := newRecorder(t, false), newRecorder(t, false)
		env(t, append(creds, "AWS_ENDPOINT_URL", g.srv.URL, "AWS_ENDPOINT_URL_DYNAMODB", d.srv.URL)...)
		cfg, err := awsenv.Config()
		if err != nil {
			t.Fatal(err)
		}
		if de, se := call(cfg); de != nil || se != nil {
			t.Fatal(de, se)
		}
		if g.seen() != "GetSendQuota" || d.seen() != "DynamoDB_20120810.ListTables" {
			t.Errorf("global saw %q, DynamoDB's saw %q", g.seen(), d.seen())
		}
	})
	t.Run("service-specific alone", func(t *testing.T) {
		s := newRecorder(t, false)
		env(t, append(creds, "AWS_ENDPOINT_URL_SES", s.srv.URL)...)
		cfg, err := awsenv.Config()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ses.NewFromConfig(cfg).GetSendQuota(context.Background(), &ses.GetSendQuotaInput{}); err != nil {
			t.Fatal(err)
		}
		if s.seen() != "GetSendQuota" {
			t.Errorf("SES endpoint saw %q", s.seen())
		}
		if db := dynamodb.NewFromConfig(cfg); db.Options().BaseEndpoint != nil {
			t.Errorf("DynamoDB has endpoint %q; only SES's was set", *db.Options().BaseEndpoint)
		}
	})
	t.Run("ignored", func(t *testing.T) {
		env(t, append(creds, "AWS_ENDPOINT_URL", "http://global:1", "AWS_ENDPOINT_URL_DYNAMODB", "http://dynamo:2",
			"AWS_ENDPOINT_URL_SES", "http://ses:3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")...)
		cfg, err := awsenv.Config()
		if err != nil {
			t.Fatal(err)
		}
		if e := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; e != nil {
			t.Errorf("DynamoDB endpoint %q despite the ignore flag", *e)
		}
		if e := ses.NewFromConfig(cfg).Options().BaseEndpoint; e != nil {
			t.Errorf("SES endpoint %q despite the ignore flag", *e)
		}
	})
}

// TestCABundle: AWS_CA_BUNDLE's certificates are the trusted roots; a bad
// bundle is an error at start, not at the first call.
func TestCABundle(t *testing.T) {
	creds := []string{"AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "s"}
	srv := newRecorder(t, true)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env(t, append(creds, "AWS_ENDPOINT_URL", srv.srv.URL)...)
	cfg, err := awsenv.Config()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := call(cfg); d == nil || !strings.Contains(d.Error(), "certificate") {
		t.Fatalf("without the bundle the test server's certificate was accepted: %v", d)
	}
	env(t, append(creds, "AWS_ENDPOINT_URL", srv.srv.URL, "AWS_CA_BUNDLE", bundle)...)
	if cfg, err = awsenv.Config(); err != nil {
		t.Fatal(err)
	}
	if d, s := call(cfg); d != nil || s != nil {
		t.Fatalf("with the bundle: %v, %v", d, s)
	}
	notPEM := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(notPEM, []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		env(t, append(creds, "AWS_CA_BUNDLE", path)...)
		if _, err := awsenv.Config(); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
			t.Errorf("bundle %s: error %v", path, err)
		}
	}
}

// TestMotoThroughGlobalEndpoint: a DynamoDB client built the way the
// functions build theirs reaches moto with only AWS_ENDPOINT_URL set.
func TestMotoThroughGlobalEndpoint(t *testing.T) {
	moto := testenv.Endpoint(t, "MOTO_ENDPOINT")
	env(t, "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test", "AWS_ENDPOINT_URL", moto)
	cfg, err := awsenv.Config()
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := testenv.Table(t, testenv.DynamoDB(moto, nil))
	out, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range out.TableNames {
		if name == table {
			return
		}
	}
	t.Errorf("ListTables on %s did not list the table just created there (%s): %v", moto, table, out.TableNames)
}
