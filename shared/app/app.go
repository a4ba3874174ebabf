// Package app is the composition shared by the functions' mains and the dev
// stack: configuration from the Lambda environment, and one constructor per
// function that wires the store, the service and the API adapter. Each
// function's main builds only what its constructor needs, so it links only
// the AWS services it uses.
package app

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/audit"
	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/decision"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/email"
	"github.com/guestaccess/guestaccess/shared/emailq"
	"github.com/guestaccess/guestaccess/shared/extpolicy"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/fanout"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invites"
	"github.com/guestaccess/guestaccess/shared/platform/awsenv"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/publicurl"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/roles"
	"github.com/guestaccess/guestaccess/shared/spaces"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppress"
	"github.com/guestaccess/guestaccess/shared/users"
	"github.com/guestaccess/guestaccess/shared/verify"
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
	// the template's SesMaxSendRate: EmailSenderFunction's pacer).
	SendRate int
	Log      *slog.Logger
	// Now overrides the clock (tests); nil is time.Now.
	Now func() time.Time
	// Metrics receives EMF counts; nil in the dev stack.
	Metrics *metrics.Recorder
	// DynamoDBOptions are applied to the DynamoDB client (the dev stack's
	// endpoint, tests' call counters and fault injection).
	DynamoDBOptions []func(*dynamodb.Options)
	// ExportLimits bound the external users' list and export (zero: the defaults).
	ExportLimits extusers.Limits
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
	// (verify.Service.AnswerFloor): 0 is verify.DefaultAnswerFloor, a
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
		SendRate:      emailq.DefaultRate,
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

// Store returns the table's store over a DynamoDB client built from env.
func Store(env Env) *store.Store {
	return store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
}

// cors gives every answer of an API function the CORS headers of env's
// allowed origins.
func (env Env) cors(h httpapi.Handler) httpapi.Handler { return httpapi.WithCORS(env.Origins, h) }

// CorsPreflight is CorsPreflightFunction's handler, for the dev stack (the
// function itself is built without this package's AWS clients: see
// functions/cors-preflight).
func CorsPreflight(env Env) httpapi.Handler { return httpapi.Preflight(env.Origins, env.Log) }

func (env Env) invites() invites.Config {
	return invites.Config{AcceptURL: env.PublicBaseURL + "/invitations/accept", Lifetime: env.Lifetime}
}

// links gives each request of an API function that emails links the API's
// public base URL as that request reached it (PublicBaseUrl when set, else
// the request context's API, stage and the function's region:
// shared/platform/publicurl). The template cannot give these functions the API's URL
// (a circular dependency: the API names them). A request whose URL cannot
// be told is answered 500 before anything is read or written.
func (env Env) links(h httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		base, err := publicurl.Base(env.PublicBaseURL, req.RequestContext, env.AWS.Region)
		if err != nil {
			return httpapi.Error(ctx, env.Log, err, req), nil
		}
		return h(publicurl.With(ctx, base), req)
	}
}

// InviteGuests is InviteGuestsFunction's handler: POST
// /orgs/{orgId}/sites/{siteId}/invitations, with idempotency keys. The
// emails go to the email queue emails.
func InviteGuests(env Env, st *store.Store, emails queue.Sender) httpapi.Handler {
	svc := &invites.Inviter{Store: st, Emails: emails, Config: env.invites(), Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return env.cors(httpapi.Endpoint{Handler: httpapi.InviteHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// AcceptInvitation is AcceptInvitationFunction's handler: the page behind
// the email link.
func AcceptInvitation(env Env, st *store.Store) httpapi.Handler {
	svc := &invites.Acceptor{Store: st, Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return env.cors(httpapi.Endpoint{Handler: httpapi.AcceptHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// VerifyPage is VerifyFunction's handler: the guest-facing two-step
// verification page (GET shows, POST sends a code or checks one). No
// idempotency keys: it is a public page, like the accept page.
func VerifyPage(env Env, st *store.Store, emails queue.Sender) httpapi.Handler {
	svc := &verify.Service{Store: st, Emails: emails, Now: env.Now, Log: env.Log, AnswerFloor: max(0, env.PasscodeAnswerFloor),
		PageURL: func(ctx context.Context, orgID string) string {
			return publicurl.From(ctx, env.PublicBaseURL) + "/orgs/" + url.PathEscape(orgID) + "/verify"
		}}
	if env.PasscodeAnswerFloor == 0 {
		svc.AnswerFloor = verify.DefaultAnswerFloor
	}
	return env.cors(env.links(httpapi.Endpoint{Handler: httpapi.VerifyHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle))
}

// Groups is GroupsFunction's handler: an organisation's groups (create,
// list, get, rename) and memberships (add, remove, list; a user's groups),
// with idempotency keys on the changes.
func Groups(env Env, st *store.Store, jobs *fanout.Service) httpapi.Handler {
	svc := &groups.Service{Store: st, Now: env.Now, Log: env.Log}
	return env.cors(httpapi.Endpoint{Handler: httpapi.GroupsHandler{Service: svc, Jobs: jobs, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Roles is RolesFunction's handler: a user's direct role on a site's
// product and their effective roles with why, with idempotency keys on the
// changes.
func Roles(env Env, st *store.Store) httpapi.Handler {
	svc := &roles.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.RolesHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// AccessDecision is AccessDecisionFunction's handler: GET
// /orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}, asked
// by products (tokens with the scope access:decide), one BatchGetItem a
// decision (the API token presented included) and at most one UpdateItem a
// user a day (last active). No idempotency keys: it changes nothing an
// admin made.
func AccessDecision(env Env, st *store.Store) httpapi.Handler {
	return env.cors(httpapi.Endpoint{Handler: httpapi.DecisionHandler{Service: &decision.Service{Store: st, Now: env.Now, Log: env.Log}, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// Spaces is SpacesFunction's handler: a site's spaces (register, list,
// read, change), their admins and guests, and each guest's one space
// (assign, move, unassign), with idempotency keys on the changes.
func Spaces(env Env, st *store.Store) httpapi.Handler {
	svc := &spaces.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.SpacesHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Invitations is InvitationsFunction's handler: a site's invitations
// (list) and resend, with idempotency keys on resends; a resent
// invitation's email goes to the email queue emails.
func Invitations(env Env, st *store.Store, emails queue.Sender) httpapi.Handler {
	svc := &invites.Manager{Store: st, Emails: emails, Config: env.invites(), Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	sup := suppress.Admin{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.InvitationsHandler{Service: svc, Suppressions: sup, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Users is UsersFunction's handler: an account's life in its org (remove,
// suspend or restore) and revoking a site's pending invitation, with
// idempotency keys on the changes.
func Users(env Env, st *store.Store) httpapi.Handler {
	svc := &users.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.UsersHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Billing is BillingFunction's handler: a site's guest list, its billing
// summary and the recount of its counters (idempotency keys on the
// recount, a POST).
func Billing(env Env, st *store.Store) httpapi.Handler {
	svc := &billing.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.BillingHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Audit is AuditFunction's handler: an organisation's audit log.
func Audit(env Env, st *store.Store) httpapi.Handler {
	svc := &audit.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.AuditHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// ExternalPolicy is ExternalPolicyFunction's handler: the org's external
// user policy and test policy (read, change, preview a change) and the
// resets of sessions, with idempotency keys on the changes.
func ExternalPolicy(env Env, st *store.Store) httpapi.Handler {
	svc := &extpolicy.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.PolicyHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// APITokens is ApiTokensFunction's handler: a user's API tokens (create,
// with the secret shown once; list; revoke). No idempotency keys: a stored
// reply would keep the secret for a day, and only its hash may be stored; a
// retried create makes another token (the user revokes the one unseen).
func APITokens(env Env, st *store.Store) httpapi.Handler {
	svc := &apitokens.Service{Store: st, Now: env.Now}
	return env.cors(httpapi.Endpoint{Handler: httpapi.APITokensHandler{Service: svc, Log: env.Log, Now: env.Now}.Handle, Log: env.Log}.Handle)
}

// RetryBatch is how many due invitations one run of the retry job queues
// (the sender sends them at the account's rate); the rest wait for the next
// run.
const RetryBatch = 1000

// ReleaseBatch is how many lapsed invitations one run of the job releases
// (each one Query and one transaction); the rest wait for the next run.
const ReleaseBatch = 100

// RetryInvitationEmails is RetryInvitationEmailsFunction's handler: one run
// of the scheduled invitation job (EventBridge rule): it queues the emails
// whose hand-off is overdue (at most RetryBatch) on the email queue emails,
// then releases the invitations that lapsed (at most ReleaseBatch), whose
// audit entries carry the event's id.
func RetryInvitationEmails(env Env, st *store.Store, emails queue.Sender) func(context.Context, events.EventBridgeEvent) (invites.RetryReport, error) {
	svc := &invites.Retrier{Store: st, Emails: emails, Now: env.Now, Log: env.Log, Metrics: env.Metrics}
	return func(ctx context.Context, ev events.EventBridgeEvent) (invites.RetryReport, error) {
		return svc.Run(ctx, ev.ID, RetryBatch, ReleaseBatch)
	}
}

// APIHandlers maps the logical id of every API function in template.yaml to
// its handler, for the dev stack; a test checks that every Api event in the
// template has an entry here. emails is the email queue, exports the
// external users' exports queue.
func APIHandlers(env Env, st *store.Store, mailer email.Sender, emails queue.Sender, jobs *fanout.Service, exports queue.Sender) map[string]httpapi.Handler {
	return map[string]httpapi.Handler{
		"InviteGuestsFunction":     InviteGuests(env, st, emails),
		"AcceptInvitationFunction": AcceptInvitation(env, st),
		"GroupsFunction":           Groups(env, st, jobs),
		"RolesFunction":            Roles(env, st),
		"AccessDecisionFunction":   AccessDecision(env, st),
		"SpacesFunction":           Spaces(env, st),
		"InvitationsFunction":      Invitations(env, st, emails),
		"UsersFunction":            Users(env, st),
		"BillingFunction":          Billing(env, st),
		"AuditFunction":            Audit(env, st),
		"ExternalPolicyFunction":   ExternalPolicy(env, st),
		"ExternalUsersFunction":    ExternalUsers(env, st, exports),
		"VerifyFunction":           VerifyPage(env, st, emails),
		"ApiTokensFunction":        APITokens(env, st),
		"CorsPreflightFunction":    CorsPreflight(env),
	}
}
