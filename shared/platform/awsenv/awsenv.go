// Package awsenv builds the AWS SDK configuration from the environment a
// Lambda function runs in, without the SDK's config package.
//
// config.LoadDefaultConfig links shared-config files, SSO, STS, IMDS and
// the process credential provider, none of which a Lambda function uses: a
// bootstrap with DynamoDB and SES clients (infra/size/testdata/sdkfloor)
// is 1.70× a hello-world aws-lambda-go bootstrap with it (9.90 MB) and 1.38×
// with this package (AWS_CA_BUNDLE support costs nothing measurable).
//
// What Config reads:
//
//   - region: AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1;
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//     AWS_SESSION_TOKEN, which is what Lambda sets for a function on the
//     provided.al2023 runtime, else an error. Container credential
//     endpoints (ECS, EKS Pod Identity, SnapStart) are not read: no function
//     here runs where they are the only source, and the provider costs
//     65 KB, a whole page of the invite function's binary budget;
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
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
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
// else an error naming the variables.
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
	return nil, errors.New("awsenv: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
		"(Lambda sets them from the function's role; for an emulator any values do, e.g. test/test)")
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
