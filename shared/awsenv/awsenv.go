// Package awsenv builds the AWS SDK configuration from the environment a
// Lambda function runs in, without the SDK's config package.
//
// config.LoadDefaultConfig links shared-config files, SSO, STS, IMDS and
// the process credential provider, none of which a Lambda function uses: a
// bootstrap with DynamoDB and SES clients (infra/size/testdata/awsenvclients)
// is 1.70× a hello-world aws-lambda-go bootstrap with it (9.90 MB) and 1.39×
// with this package (8.13 MB, of which the container credentials provider is
// 65 KB and AWS_CA_BUNDLE support nothing measurable).
//
// What Config reads:
//
//   - region: AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1;
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//     AWS_SESSION_TOKEN (what Lambda sets), else a container credentials
//     endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI: ECS,
//     EKS Pod Identity, Lambda SnapStart), else an error;
//   - endpoints: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, unless
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true, with the SDK's precedence
//     (the service-specific variable wins);
//   - retries: the SDK's standard retry mode with each service's own
//     defaults (DynamoDB: 4 attempts, 25 ms base backoff), AWS_MAX_ATTEMPTS
//     and AWS_RETRY_MODE if set;
//   - AWS_CA_BUNDLE if set (Lambda does not set it): the PEM file becomes
//     the only trusted roots, as with LoadDefaultConfig; parsing a system
//     bundle adds a few milliseconds to INIT.
//
// Every service client is then built the usual way and needs nothing more:
//
//	cfg, err := awsenv.Config()
//	db := dynamodb.NewFromConfig(cfg)
//
// The service endpoint variables reach NewFromConfig through
// cfg.ConfigSources, the hook the SDK's own config package uses; this
// package imports no service package, so a function links only the
// services it builds clients for.
package awsenv

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// DefaultRegion is the region when neither AWS_REGION nor
// AWS_DEFAULT_REGION is set.
const DefaultRegion = "us-east-1"

// Config returns an SDK configuration from the environment (see the package
// comment). It reads AWS_CA_BUNDLE's file when that is set, and nothing
// else outside the environment.
func Config() (aws.Config, error) {
	creds, err := Credentials()
	if err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:        Region(),
		Credentials:   creds,
		BaseEndpoint:  BaseEndpoint(""),
		ConfigSources: []any{endpointSource{}},
	}
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return aws.Config{}, fmt.Errorf("AWS_MAX_ATTEMPTS must be a positive integer, got %q", v)
		}
		cfg.RetryMaxAttempts = n
	}
	if v := os.Getenv("AWS_RETRY_MODE"); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return aws.Config{}, fmt.Errorf("AWS_RETRY_MODE: %w", err)
		}
		cfg.RetryMode = mode
	}
	if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		client, err := caBundleClient(path)
		if err != nil {
			return aws.Config{}, err
		}
		cfg.HTTPClient = client
	}
	return cfg, nil
}

// Region returns AWS_REGION, else AWS_DEFAULT_REGION, else DefaultRegion.
func Region() string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultRegion
}

// Credentials returns the credentials the environment names, in the SDK's
// order: static ones from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (with AWS_ACCOUNT_ID if set), which is what Lambda sets;
// else the container credentials endpoint of
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI (Lambda SnapStart, EKS Pod Identity),
// with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
// AWS_CONTAINER_AUTHORIZATION_TOKEN, fetched on first use and cached; else an
// error naming the variables.
func Credentials() (aws.CredentialsProvider, error) {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id != "" && secret != "" {
		return credentials.StaticCredentialsProvider{
			Value: aws.Credentials{
				AccessKeyID:     id,
				SecretAccessKey: secret,
				SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
				AccountID:       os.Getenv("AWS_ACCOUNT_ID"),
				Source:          "EnvConfigCredentials",
			},
			Source: []aws.CredentialSource{aws.CredentialSourceEnvVars},
		}, nil
	}
	if id != "" || secret != "" {
		return nil, errors.New("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
	}
	if p := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); p != "" {
		return containerCredentials("http://169.254.170.2" + p), nil
	}
	if u := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); u != "" {
		if err := checkContainerURL(u); err != nil {
			return nil, err
		}
		return containerCredentials(u), nil
	}
	return nil, errors.New("awsenv: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
		"(Lambda sets them from the function's role; for an emulator any values do, e.g. test/test) " +
		"or AWS_CONTAINER_CREDENTIALS_FULL_URI")
}

// containerCredentials fetches credentials from a container credentials
// endpoint, as the SDK's config package does: cached, refreshed five minutes
// before they expire, the token file read on every fetch (it rotates).
func containerCredentials(endpoint string) aws.CredentialsProvider {
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if path := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); path != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(path)
				return strings.TrimSpace(string(b)), err
			})
		}
		o.CredentialSources = []aws.CredentialSource{aws.CredentialSourceHTTP}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
}

// checkContainerURL allows, as the SDK does, https to any host and plain
// http only to loopback or the ECS and EKS credential addresses, so
// credentials are never fetched over an open network.
func checkContainerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("awsenv: AWS_CONTAINER_CREDENTIALS_FULL_URI %q is not a URL with a host", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	addrs := []string{u.Hostname()}
	if net.ParseIP(u.Hostname()) == nil {
		if addrs, err = net.LookupHost(u.Hostname()); err != nil {
			return fmt.Errorf("awsenv: AWS_CONTAINER_CREDENTIALS_FULL_URI: %w", err)
		}
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || !(ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
			return fmt.Errorf("awsenv: AWS_CONTAINER_CREDENTIALS_FULL_URI %q: plain http only to loopback or the ECS/EKS credential hosts", raw)
		}
	}
	return nil
}

// Endpoint returns the endpoint configured for a service:
// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else "" (the SDK's
// own AWS endpoint). service is the variable's suffix ("DYNAMODB", "SES",
// "SQS") or the SDK's service id ("DynamoDB", "Secrets Manager"): it is
// upper-cased and its spaces become underscores, as the SDK does. An empty
// service reads AWS_ENDPOINT_URL alone. With
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true it always returns "".
func Endpoint(service string) string {
	if ignoreEndpoints() {
		return ""
	}
	if service != "" {
		if v := os.Getenv("AWS_ENDPOINT_URL_" + envSuffix(service)); v != "" {
			return v
		}
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// BaseEndpoint returns Endpoint(service) as a client option's BaseEndpoint:
// nil when no endpoint is configured. Clients built by NewFromConfig from
// Config's result already have it; this is for clients built otherwise.
func BaseEndpoint(service string) *string {
	if v := Endpoint(service); v != "" {
		return &v
	}
	return nil
}

func envSuffix(service string) string {
	return strings.ReplaceAll(strings.ToUpper(service), " ", "_")
}

// ignoreEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, which the
// SDK parses as a boolean (case-insensitive "true").
func ignoreEndpoints() bool {
	return strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}

// endpointSource gives each service client its AWS_ENDPOINT_URL_<SERVICE>
// through aws.Config.ConfigSources: every generated client's
// NewFromConfig asks the sources for GetServiceBaseEndpoint (with its SDK
// id, e.g. "DynamoDB") and GetIgnoreConfiguredEndpoints, the methods the
// SDK's config.EnvConfig has. The global AWS_ENDPOINT_URL travels in
// aws.Config.BaseEndpoint. A test pins this contract against the SDK.
type endpointSource struct{}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SERVICE> for an SDK id.
func (endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if ignoreEndpoints() {
		return "", false, nil
	}
	v := os.Getenv("AWS_ENDPOINT_URL_" + envSuffix(sdkID))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (endpointSource) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return ignoreEndpoints(), true, nil
}

// caBundleClient returns the SDK's HTTP client trusting only the
// certificates in the PEM file at path.
func caBundleClient(path string) (*awshttp.BuildableClient, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("AWS_CA_BUNDLE: " + path + " holds no PEM certificate")
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = pool
	}), nil
}
