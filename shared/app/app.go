// Package app wires the adapters to the services for each Lambda function and
// for the local dev server: configuration from the environment, AWS clients
// that honour AWS_ENDPOINT_URL(_<SERVICE>), and the handler of every function
// by its logical id in template.yaml.
package app

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
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invites"
	"github.com/guestaccess/guestaccess/shared/metrics"
	"github.com/guestaccess/guestaccess/shared/sesmailer"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Deps is what the API handlers run on.
type Deps struct {
	DB            *dynamodb.Client
	SES           *ses.Client
	Table         string
	Sender        string
	PublicBaseURL string
	Lifetime      time.Duration
	Log           *slog.Logger
	Now           func() time.Time
	// Metrics receives EMF counts; nil in the dev stack.
	Metrics *metrics.Recorder
}

// AWSConfig loads the SDK configuration. The SDK itself honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so the same binary talks to
// AWS, LocalStack or a local emulator; the region defaults to us-east-1.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// FromEnv builds Deps from the function's environment (see template.yaml).
func FromEnv(ctx context.Context) (Deps, error) {
	cfg, err := AWSConfig(ctx)
	if err != nil {
		return Deps{}, fmt.Errorf("aws config: %w", err)
	}
	d := Deps{
		DB:            dynamodb.NewFromConfig(cfg),
		SES:           ses.NewFromConfig(cfg),
		Table:         os.Getenv("TABLE_NAME"),
		Sender:        os.Getenv("SENDER_ADDRESS"),
		PublicBaseURL: strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/"),
		Lifetime:      7 * 24 * time.Hour,
		Log:           Logger(),
		Metrics:       &metrics.Recorder{Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME")},
	}
	if d.Table == "" {
		return Deps{}, errors.New("TABLE_NAME is not set")
	}
	if h := os.Getenv("INVITATION_LIFETIME_HOURS"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 720 {
			return Deps{}, fmt.Errorf("INVITATION_LIFETIME_HOURS must be 1 to 720, got %q", h)
		}
		d.Lifetime = time.Duration(n) * time.Hour
	}
	return d, nil
}

// Main is every function's main: configuration from the environment, then
// the Lambda loop with the handler that pick chooses.
func Main(pick func(Deps) any) {
	deps, err := FromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(pick(deps))
}

// Store returns the table's store.
func (d Deps) Store() *store.Store { return store.New(d.DB, d.Table) }

// Invites returns the invitation service.
func (d Deps) Invites() *invites.Service {
	return &invites.Service{
		Store:   d.Store(),
		Mailer:  sesmailer.New(d.SES, d.Sender),
		Config:  invites.Config{AcceptURL: d.PublicBaseURL + "/invitations/accept", Lifetime: d.Lifetime, RetryAfter: 15 * time.Minute},
		Now:     d.Now,
		Log:     d.Log,
		Metrics: d.Metrics,
	}
}

// APIHandler is the signature of every API Gateway (REST, payload 1.0) function.
type APIHandler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// InviteHandler is InviteGuestsFunction's handler.
func (d Deps) InviteHandler() APIHandler {
	if d.Sender == "" {
		d.Log.Warn("SENDER_ADDRESS is not set; invitation emails will fail")
	}
	return httpapi.InviteHandler{Service: d.Invites(), Log: d.Log}.Handle
}

// AcceptHandler is AcceptInvitationFunction's handler.
func (d Deps) AcceptHandler() APIHandler {
	return httpapi.AcceptHandler{Service: d.Invites(), Log: d.Log}.Handle
}

// RetryHandler is RetryInvitationEmailsFunction's handler: one run of the
// scheduled email retry job (EventBridge rule).
func (d Deps) RetryHandler() func(context.Context, events.EventBridgeEvent) (invites.RetryReport, error) {
	svc := d.Invites()
	return func(ctx context.Context, _ events.EventBridgeEvent) (invites.RetryReport, error) {
		return svc.RetryDeliveries(ctx, RetryBatch)
	}
}

// RetryBatch is how many due invitations one run of the retry job handles;
// the rest wait for the next run.
const RetryBatch = 200

// APIHandlers maps the logical id of every API function in template.yaml to
// its handler. The dev server serves the template's routes through it; a
// test checks that every Api event in the template has an entry here.
func (d Deps) APIHandlers() map[string]APIHandler {
	return map[string]APIHandler{
		"InviteGuestsFunction":     d.InviteHandler(),
		"AcceptInvitationFunction": d.AcceptHandler(),
	}
}
