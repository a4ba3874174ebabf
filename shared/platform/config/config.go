// Package config is a function's configuration from its Lambda environment
// (template.yaml's Environment), and the wrappers every API function puts
// around its handler: CORS headers and the public base URL of its links.
package config

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/awsenv"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/publicurl"
)

// Env is a function's configuration (see template.yaml's Environment).
type Env struct {
	// AWS is the SDK configuration the clients are built from.
	AWS    aws.Config
	Table  string
	Sender string
	// PublicBaseURL is PUBLIC_BASE_URL: the template's PublicBaseUrl for
	// the API functions (empty: each request's own, see shared/platform/publicurl),
	// the API's execute-api URL or PublicBaseUrl for the scheduled jobs.
	PublicBaseURL string
	Lifetime      time.Duration
	// SendRate caps emails per second account-wide (SES's sending rate,
	// the template's SesMaxSendRate: EmailSenderFunction's pacer; 0 is the
	// pacer's default, SES's default rate).
	SendRate int
	Log      *slog.Logger
	// Now overrides the clock (tests); nil is time.Now.
	Now func() time.Time
	// Metrics receives EMF counts; nil in the dev stack.
	Metrics *metrics.Recorder
	// DynamoDBOptions are applied to the DynamoDB client (the dev stack's
	// endpoint, tests' call counters and fault injection).
	DynamoDBOptions []func(*dynamodb.Options)
	// DNSResolver is the resolver (host:port) domain proofs are looked up
	// at (DNS_RESOLVER; empty: the system's, as in Lambda).
	DNSResolver string
	// DomainChecks is the schedule of domain proof checks (the grace period
	// from DOMAIN_GRACE_HOURS; zero fields: the defaults).
	DomainChecks domain.DomainChecks
	// Origins are the browser origins allowed to call the API (ALLOWED_ORIGINS,
	// from the template's AllowedOrigins): every API answer carries their
	// CORS headers.
	Origins cors.Policy
	// PasscodeAnswerFloor is the least time a passcode send answers in
	// (passcode.Service.AnswerFloor): 0 is passcode.DefaultAnswerFloor, a
	// negative value none.
	PasscodeAnswerFloor time.Duration
	// ConfigurationSet is the SES configuration set every send names
	// (SES_CONFIGURATION_SET): it publishes bounces and complaints back.
	ConfigurationSet string
}

// MustLoad reads the environment, or exits: a function that cannot start
// should fail its init, loudly.
func MustLoad() Env {
	env, err := Load(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return env
}

// Load reads the function's configuration from its environment.
func Load(ctx context.Context) (Env, error) {
	cfg, err := AWSConfig(ctx)
	if err != nil {
		return Env{}, fmt.Errorf("aws config: %w", err)
	}
	env := Env{
		AWS:           cfg,
		Table:         os.Getenv("TABLE_NAME"),
		Sender:        os.Getenv("SENDER_ADDRESS"),
		PublicBaseURL: strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/"),
		Lifetime:      7 * 24 * time.Hour,
		Log:           Logger(),
		Metrics:       &metrics.Recorder{Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME")},
	}
	if env.Table == "" {
		return Env{}, errors.New("TABLE_NAME is not set")
	}
	if env.Origins, err = cors.Parse(os.Getenv("ALLOWED_ORIGINS")); err != nil {
		return Env{}, fmt.Errorf("ALLOWED_ORIGINS: %w", err)
	}
	if h := os.Getenv("INVITATION_LIFETIME_HOURS"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 720 {
			return Env{}, fmt.Errorf("INVITATION_LIFETIME_HOURS must be 1 to 720, got %q", h)
		}
		env.Lifetime = time.Duration(n) * time.Hour
	}
	env.DNSResolver = os.Getenv("DNS_RESOLVER")
	env.ConfigurationSet = os.Getenv("SES_CONFIGURATION_SET")
	if h := os.Getenv("DOMAIN_GRACE_HOURS"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 720 {
			return Env{}, fmt.Errorf("DOMAIN_GRACE_HOURS must be 1 to 720, got %q", h)
		}
		env.DomainChecks.Grace = time.Duration(n) * time.Hour
	}
	if r := os.Getenv("SES_MAX_SEND_RATE"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 10000 {
			return Env{}, fmt.Errorf("SES_MAX_SEND_RATE must be 1 to 10000 emails per second, got %q", r)
		}
		env.SendRate = n
	}
	return env, nil
}

// AWSConfig is the SDK configuration from the Lambda environment, built
// explicitly (shared/platform/awsenv) rather than with the SDK's config package, whose
// shared-config, SSO and STS support Lambda never uses and which would put
// the bootstraps over their size budget. Clients built from it honour
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so the same binary talks
// to AWS, LocalStack or a local emulator; the region defaults to us-east-1.
func AWSConfig(context.Context) (aws.Config, error) { return awsenv.Config() }

// CORS gives every answer of an API function the CORS headers of env's
// allowed origins.
func (env Env) CORS(h httpapi.Handler) httpapi.Handler { return httpapi.WithCORS(env.Origins, h) }

// Links gives each request of an API function that emails links the API's
// public base URL as that request reached it (PublicBaseUrl when set, else
// the request context's API, stage and the function's region:
// shared/platform/publicurl). The template cannot give these functions the API's URL
// (a circular dependency: the API names them). A request whose URL cannot
// be told is answered 500 before anything is read or written.
func (env Env) Links(h httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		base, err := publicurl.Base(env.PublicBaseURL, req.RequestContext, env.AWS.Region)
		if err != nil {
			return httpapi.Error(ctx, env.Log, err, req), nil
		}
		return h(publicurl.With(ctx, base), req)
	}
}
