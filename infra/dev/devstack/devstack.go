// Package devstack runs the whole API on one machine with no Docker and no AWS
// account: an embedded DynamoDB-compatible server (minidyn) or any endpoint
// given, an SES emulator, the table created from template.yaml, demo data, a
// local JWT issuer, and every route of template.yaml served through the real
// authorizer and the real handlers. `make dev` and the end-to-end tests use it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"
	miniserver "github.com/truora/minidyn/server"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devdns"
	"github.com/guestaccess/guestaccess/infra/dev/localqueue"
	"github.com/guestaccess/guestaccess/infra/dev/tablesetup"
	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/shared/apidoc"
	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/authorizer"
	"github.com/guestaccess/guestaccess/shared/console"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/emails/emailsapi"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/extusers/extusersapi"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsapi"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
	"github.com/guestaccess/guestaccess/shared/platform/jwtverify"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/sesmailer"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/suppressions/suppressionsapi"
)

// Audience is the `aud` of the dev issuer's tokens.
const Audience = "guestaccess-dev"

// Options configure a stack. The zero value is the embedded default.
type Options struct {
	// Addr is the API's listen address; default 127.0.0.1:0 (any free port).
	Addr string
	// DynamoEndpoint is a DynamoDB endpoint to use; empty starts minidyn in-process.
	DynamoEndpoint string
	// SESEndpoint is an SES v1 endpoint to use; empty starts aws-ses-v2-local
	// from SESDevDir (listening on SESAddr).
	SESEndpoint string
	SESDevDir   string
	SESAddr     string
	// VerifySender calls SES VerifyEmailIdentity for the sender (moto, real SES sandbox).
	VerifySender bool
	// Table is the table name; default "guestaccess-dev".
	Table string
	// Template is the path of template.yaml; default found from the working directory.
	Template string
	// Sender is the From address of invitation emails.
	Sender string
	// PaidUsers adds that many paid users to the demo site (each allows 5 guests).
	PaidUsers int
	// UserLimit is the demo site's user limit (paid users plus guests);
	// 0 for domain.DefaultUserLimit.
	UserLimit int64
	// Schedules runs the template's Schedule events on their rates (make
	// dev); they run on demand either way (POST /dev/schedules/{function}).
	Schedules bool
	// Personas adds demo.SeedPersonas: spaces, a product admin, space admins
	// and an assigned guest (make dev and the authorisation tests).
	Personas bool
	// Lifetime of invitations; default 7 days.
	Lifetime time.Duration
	// Now overrides the clock of the handlers (tests of expiry).
	Now func() time.Time
	// DynamoAPIOptions are added to the DynamoDB client (tests count calls with them).
	DynamoAPIOptions []func(*middleware.Stack) error
	// JobsVisibility is the jobs queue's visibility timeout (default 5 s:
	// a failed page comes back soon); JobsInlineMembers the largest group
	// changed within the request (default fanout.DefaultInlineMembers; -1
	// sends every job through the queue).
	JobsVisibility    time.Duration
	JobsInlineMembers int
	// ExportLimits bound the external users' list and export (zero: the
	// defaults; tests make jobs of small directories with them).
	ExportLimits extusers.Limits
	// SESAPIOptions are added to the SES client (tests trace calls with them).
	SESAPIOptions []func(*middleware.Stack) error
	// WrapQueue, if set, wraps the sender of each in-process queue (the
	// jobs and the exports queue), as DynamoAPIOptions wrap the DynamoDB
	// client's calls: tests count or fail sends with it.
	WrapQueue func(queue.Sender) queue.Sender
	Log       *slog.Logger
	// RequestLog, if set, gets one short line per request (method, path,
	// status, duration).
	RequestLog io.Writer
	// ConsoleAddr is the admin console's listen address, its own origin;
	// default 127.0.0.1:0.
	ConsoleAddr string
	// DNSAddr is the loopback DNS server's address (UDP and TCP), the
	// resolver the functions look up domain challenges at; default
	// 127.0.0.1:0.
	DNSAddr string
	// PasscodeAnswerFloor is the least time a passcode send answers in
	// (config.Env.PasscodeAnswerFloor: 0 the deployment's default, negative
	// none); floods in tests lower it.
	PasscodeAnswerFloor time.Duration
	// AllowedOrigins are browser origins allowed to call the API besides the
	// template's AllowedOrigins default and the console's own, as a
	// deployment would list them in the parameter.
	AllowedOrigins []string
}

// Stack is a running local API.
type Stack struct {
	URL      string // the API's base URL, e.g. http://127.0.0.1:8080
	SESURL   string // the SES emulator's base URL
	DB       *dynamodb.Client
	SES      *ses.Client
	Store    *store.Store
	Issuer   *jwttest.Issuer
	Template *samtemplate.Template
	Routes   []samtemplate.Route
	// Env is what the handlers run on (tests run the scheduled job with it).
	Env config.Env
	// Mailer sends the invitation emails through the stack's SES (naming
	// ConfigurationSet), playing SES's mailbox simulator (SimulatorDomain).
	Mailer emails.Mailer
	// SESEvents is the SES events queue (in process), fed to
	// SesEventsFunction's handler.
	SESEvents *localqueue.Queue
	// Jobs is the group jobs queue (in process), fed to the jobs worker.
	Jobs *localqueue.Queue
	// Exports is the external users' exports queue (in process), fed to
	// the export worker.
	Exports *localqueue.Queue
	// Emails is the email queue (in process), fed to the email sender
	// (EmailSenderFunction's handler); EmailDeadLetters stands in for its
	// dead-letter queue as the sender sends to it (not consumed: the
	// deployment's alarm watches it).
	Emails, EmailDeadLetters *localqueue.Queue
	// emailsQ is the email queue as the functions send to it.
	emailsQ queue.Sender
	// ConsoleURL is the admin console's origin (shared/console), served by
	// its own listener: its calls to the API are cross-origin.
	ConsoleURL string
	// Origins are the browser origins allowed to call the API: the
	// template's AllowedOrigins default, Options.AllowedOrigins and
	// ConsoleURL, as the AllowedOrigins parameter of a deployment.
	Origins cors.Policy
	// DNS is the loopback DNS server the functions resolve domain
	// challenges at (DNS_RESOLVER); /dev and tests publish records in it.
	DNS *devdns.Server

	server    *http.Server
	closers   []func()
	schedules *scheduler
}

// Start builds and starts a stack; Close stops everything it started.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Table == "" {
		o.Table = "guestaccess-dev"
	}
	if o.Sender == "" {
		o.Sender = "invitations@14west.example"
	}
	if o.JobsVisibility == 0 {
		o.JobsVisibility = 5 * time.Second
	}
	if o.Lifetime == 0 {
		o.Lifetime = 7 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.Template == "" {
		if o.Template, err = FindTemplate(); err != nil {
			return nil, err
		}
	}
	st = &Stack{}
	started := st // named results are nil on error returns; close what was started
	defer func() {
		if err != nil {
			started.Close()
		}
	}()
	if st.Template, err = samtemplate.Load(o.Template); err != nil {
		return nil, err
	}
	st.Routes = st.Template.Routes()

	if o.DynamoEndpoint == "" {
		o.DynamoEndpoint, err = st.serve("127.0.0.1:0", miniserver.NewServer())
		if err != nil {
			return nil, fmt.Errorf("start minidyn: %w", err)
		}
	}
	if o.SESEndpoint == "" {
		if o.SESEndpoint, err = st.startSESLocal(ctx, o.SESDevDir, o.SESAddr); err != nil {
			return nil, err
		}
	}
	st.SESURL = o.SESEndpoint
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	st.DB = dynamodb.NewFromConfig(cfg, func(op *dynamodb.Options) {
		op.BaseEndpoint = aws.String(o.DynamoEndpoint)
		op.DisableValidateResponseChecksum = true // minidyn sends none
		op.APIOptions = append(op.APIOptions, o.DynamoAPIOptions...)
	})
	st.SES = ses.NewFromConfig(cfg, func(op *ses.Options) {
		op.BaseEndpoint = aws.String(o.SESEndpoint)
		op.APIOptions = append(op.APIOptions, o.SESAPIOptions...)
	})
	if err := tablesetup.Create(ctx, st.DB, st.Template, o.Table); err != nil {
		return nil, fmt.Errorf("create table %s: %w", o.Table, err)
	}
	st.Store = store.New(st.DB, o.Table)
	if err := demo.SeedLimited(ctx, st.Store, o.PaidUsers, o.UserLimit); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	if o.Personas {
		if err := demo.SeedPersonas(ctx, st.Store); err != nil {
			return nil, fmt.Errorf("seed demo personas: %w", err)
		}
	}
	if o.VerifySender {
		if _, err := st.SES.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: &o.Sender}); err != nil {
			return nil, fmt.Errorf("verify sender: %w", err)
		}
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	st.URL = "http://" + ln.Addr().String()
	if o.ConsoleAddr == "" {
		o.ConsoleAddr = "127.0.0.1:0"
	}
	consoleLn, err := net.Listen("tcp", o.ConsoleAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("console listener: %w", err)
	}
	st.ConsoleURL = "http://" + consoleLn.Addr().String()
	origins := append([]string{st.Template.ParameterDefaults()[AllowedOriginsParameter]}, o.AllowedOrigins...)
	if st.Origins, err = cors.Parse(strings.Join(append(origins, st.ConsoleURL), ",")); err != nil {
		ln.Close()
		consoleLn.Close()
		return nil, err
	}
	consoleSrv := &http.Server{Handler: console.Handler(console.Config{APIBaseURL: st.URL, AuthorizeURL: st.URL + "/dev/authorize",
		TokenURL: st.URL + "/dev/oauth/token", ClientID: ConsoleClientID, OrgID: demo.OrgID, SiteID: demo.SiteID}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = consoleSrv.Serve(consoleLn) }()
	st.closers = append(st.closers, func() { _ = consoleSrv.Close() })
	if st.Issuer, err = jwttest.NewIssuer(st.URL, Audience); err != nil {
		return nil, err
	}
	// The authorizer fetches the keys over loopback (plain http is refused
	// to any other host), even when the stack listens on every address.
	jwksURL := st.URL + "/.well-known/jwks.json"
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		jwksURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port)) + "/.well-known/jwks.json"
	}
	verifier, err := jwtverify.New(jwtverify.Config{Issuer: st.URL, Audience: Audience, JWKSURL: jwksURL})
	if err != nil {
		return nil, err
	}
	if o.DNSAddr == "" {
		o.DNSAddr = "127.0.0.1:0"
	}
	if st.DNS, err = devdns.Start(o.DNSAddr); err != nil {
		return nil, err
	}
	st.closers = append(st.closers, func() { _ = st.DNS.Close() })
	st.Env = config.Env{Table: o.Table, Sender: o.Sender, PublicBaseURL: st.URL, Lifetime: o.Lifetime, SendRate: emails.DefaultRate, Log: o.Log, Now: o.Now,
		Origins: st.Origins, DNSResolver: st.DNS.Addr(), PasscodeAnswerFloor: o.PasscodeAnswerFloor}
	st.Mailer = st.startSESEvents(o, sesmailer.New(st.SES, o.Sender).WithConfigurationSet(ConfigurationSet), suppressionsapi.SesEvents(st.Env, st.Store))
	responses, err := gatewayResponses(st.Template, st.Routes)
	if err != nil {
		return nil, err
	}
	// The jobs queue: SQS semantics in process (visibility timeout,
	// partial batch failures, a dead-letter queue with its own consumer),
	// feeding the real worker handler, whose calls are
	// GroupJobsWorkerFunction's.
	var worker localqueue.Handler
	asWorker := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return worker(WithFunction(ctx, WorkerFunctionID), ev)
	}
	st.Jobs = localqueue.New(localqueue.Options{Name: "group-jobs", MaxReceiveCount: 5, BatchSize: 5, VisibilityTimeout: o.JobsVisibility,
		Handler: asWorker, DLQHandler: asWorker, Log: o.Log})
	wrap := func(s queue.Sender) queue.Sender {
		if o.WrapQueue != nil {
			return o.WrapQueue(s)
		}
		return s
	}
	jobs := app.Jobs(st.Env, st.Store, wrap(st.Jobs))
	jobs.InlineMembers, jobs.FinishDelay = o.JobsInlineMembers, time.Second
	worker = app.GroupJobsWorker(st.Env, jobs)
	st.Jobs.Start(context.Background())
	st.closers = append(st.closers, st.Jobs.Close)
	// The exports queue, the same way: ExportWorkerFunction's calls.
	var exportWorker localqueue.Handler
	asExportWorker := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return exportWorker(WithFunction(ctx, ExportWorkerFunctionID), ev)
	}
	st.Exports = localqueue.New(localqueue.Options{Name: "external-exports", MaxReceiveCount: 5, BatchSize: 5, VisibilityTimeout: o.JobsVisibility,
		Handler: asExportWorker, DLQHandler: asExportWorker, Log: o.Log})
	exportsQ := wrap(st.Exports)
	exportWorker = extusersapi.ExportWorker(st.Env, extusersapi.Exports(st.Env, st.Store, exportsQ, o.ExportLimits))
	st.Exports.Start(context.Background())
	st.closers = append(st.closers, st.Exports.Close)
	// The email queue, the same way: EmailSenderFunction's calls. Its
	// visibility timeout is the jobs queue's: a message whose send failed
	// before the claim lapsed comes back after it.
	var emailWorker localqueue.Handler
	asEmailSender := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return emailWorker(WithFunction(ctx, EmailSenderFunctionID), ev)
	}
	st.Emails = localqueue.New(localqueue.Options{Name: "emails", MaxReceiveCount: 5, BatchSize: 10, VisibilityTimeout: o.JobsVisibility,
		Handler: asEmailSender, Log: o.Log})
	// Never started: its messages stay for /dev and the tests to count
	// (Stats().Sent), as the deployment's alarm counts them.
	st.EmailDeadLetters = localqueue.New(localqueue.Options{Name: "emails" + queue.DeadLetterSuffix, Log: o.Log,
		Handler: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("the email dead-letter queue is not consumed")
		}})
	st.emailsQ = wrap(st.Emails)
	emailWorker = emailsapi.EmailWorker(st.Env, emailsapi.EmailSender(st.Env, st.Store, emailsdb.New(st.Store), st.Mailer, st.emailsQ, st.EmailDeadLetters))
	st.Emails.Start(context.Background())
	st.closers = append(st.closers, st.Emails.Close, st.EmailDeadLetters.Close)
	throttles, err := st.Template.MethodThrottles(st.Routes[0].RestAPIID)
	if err != nil {
		return nil, err
	}
	// The API functions get the template's PublicBaseUrl default (empty),
	// as deployed: their links come from each request's context, which the
	// gateway fills from its own listener address (DomainName). The
	// scheduled jobs keep st.URL, as the template gives them the API's URL.
	apiEnv := st.Env
	apiEnv.PublicBaseURL = st.Template.ParameterDefaults()["PublicBaseUrl"]
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		apiEnv.PublicBaseURL = st.URL // not loopback (DEV_ADDR=0.0.0.0:…): links are not derived from it
	}
	gw := &Gateway{Routes: st.Routes, Throttles: throttles, Handlers: apiHandlers(apiEnv, st.Store, st.emailsQ, jobs, exportsQ, o.ExportLimits), Authorizer: authorizer.Handler{Verifier: verifier, Logger: o.Log}.Handle,
		Responses: responses, Stage: "local", DomainName: ln.Addr().String(), Log: o.Log,
		Origins: st.Origins, SelfOrigin: st.URL, Conditions: map[string]bool{HasOriginsCondition: st.Origins.Enabled()}}
	for _, r := range st.Routes {
		if _, ok := gw.Handlers[r.FunctionID]; !ok {
			return nil, fmt.Errorf("template route %s %s: no handler for %s in apiHandlers", r.Method, r.Path, r.FunctionID)
		}
	}
	if st.schedules, err = newScheduler(st.Template, st.scheduledJobs(), o.Log); err != nil {
		return nil, err
	}
	if o.Schedules {
		ctx, cancel := context.WithCancel(context.Background())
		st.schedules.start(ctx)
		st.closers = append(st.closers, cancel)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /dev/schedules/{function}", st.schedules.runHandler)
	mux.Handle("GET /.well-known/jwks.json", st.Issuer)
	mux.HandleFunc("GET /dev/token", st.tokenHandler)
	signin := &signIn{st: st, codes: map[string]authCode{}}
	mux.HandleFunc("GET /dev/authorize", signin.authorize)
	mux.HandleFunc("POST /dev/authorize", signin.authorize)
	mux.HandleFunc("POST /dev/oauth/token", signin.token)
	mux.HandleFunc("OPTIONS /dev/oauth/token", signin.token)
	mux.HandleFunc("GET /dev", st.indexHandler)
	mux.HandleFunc("GET /dev/dns", st.dnsHandler)
	mux.HandleFunc("POST /dev/dns", st.dnsHandler)
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(apidoc.YAML)
	})
	mux.Handle("/", gw)
	var handler http.Handler = mux
	if o.RequestLog != nil {
		handler = requestLines(o.RequestLog, mux)
	}
	st.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = st.server.Serve(ln) }()
	st.closers = append(st.closers, func() { _ = st.server.Close() })
	return st, nil
}

// AllowedOriginsParameter is the template parameter listing the browser
// origins allowed to call the API; HasOriginsCondition the condition that
// holds when it lists any (the gateway responses' CORS headers depend on
// it).
const (
	AllowedOriginsParameter = "AllowedOrigins"
	HasOriginsCondition     = "HasAllowedOrigins"
)

// gatewayResponses returns the GatewayResponses of the one API that serves
// the routes.
func gatewayResponses(tpl *samtemplate.Template, routes []samtemplate.Route) (map[string]samtemplate.GatewayResponse, error) {
	api := ""
	for _, r := range routes {
		if api != "" && r.RestAPIID != api {
			return nil, fmt.Errorf("routes belong to two APIs, %s and %s; the local gateway serves one", api, r.RestAPIID)
		}
		api = r.RestAPIID
	}
	return tpl.GatewayResponses(api)
}

// Token returns a dev admin token for an account id, valid for an hour.
func (st *Stack) Token(sub string) (string, error) { return st.Issuer.Token(sub, time.Hour, nil) }

// ProductToken returns a product's token valid for an hour, what Confluence
// or Jira would present to ask access decisions: the product's name as
// client id (sub), scope httpapi.DecisionScope, and bound (product and orgs
// claims) to that product and the orgs given, the demo org when none is.
func (st *Stack) ProductToken(product string, orgs ...string) (string, error) {
	if len(orgs) == 0 {
		orgs = []string{demo.OrgID}
	}
	return st.BoundProductToken(product, product, orgs, nil)
}

// BoundProductToken returns a product's token for client id sub, valid for
// an hour, bound to product and to orgs and sites (org/site): the claims an
// identity provider issues a product's client (see domain.ProductGrant).
// Empty values leave their claim out, which makes the token bind less.
func (st *Stack) BoundProductToken(sub, product string, orgs, sites []string) (string, error) {
	claims := map[string]any{"scope": httpapi.DecisionScope}
	if product != "" {
		claims["product"] = product
	}
	if len(orgs) > 0 {
		claims["orgs"] = orgs
	}
	if len(sites) > 0 {
		claims["sites"] = sites
	}
	return st.Issuer.Token(sub, time.Hour, claims)
}

// RetryEmails runs the scheduled invitation job once, as its schedule
// would: it queues the emails whose hand-off is overdue (the email queue's
// sender sends them: WaitEmails) and releases lapsed invitations.
func (st *Stack) RetryEmails(ctx context.Context) (invitations.RetryReport, error) {
	return invitationsapi.RetryInvitationEmails(st.Env, invitationsdb.New(st.Store), st.emailsQ)(WithFunction(ctx, RetryFunctionID), events.EventBridgeEvent{})
}

// WaitEmails waits until the email queue holds no message (delayed
// retries included) and its sender is idle: every email handed off so far
// was sent, refused for good, or dead-lettered; or until ctx ends.
func (st *Stack) WaitEmails(ctx context.Context) error { return st.Emails.WaitIdle(ctx) }

// Close stops what the stack started.
func (st *Stack) Close() {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
	st.closers = nil
}

func (st *Stack) serve(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	st.closers = append(st.closers, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// startSESLocal runs aws-ses-v2-local (npm) as a child process.
func (st *Stack) startSESLocal(ctx context.Context, dir, addr string) (string, error) {
	if dir == "" {
		dir = os.Getenv("SESDEV_DIR")
	}
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "infra", "dev", "sesdev")
	}
	cli := filepath.Join(dir, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", fmt.Errorf("aws-ses-v2-local is not installed in %s (run `make node`): %w", dir, err)
	}
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("node", cli, "--host", host, "--port", port)
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.SysProcAttr = childAttr() // the inbox dies with the stack, however the stack ends
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start aws-ses-v2-local: %w", err)
	}
	st.closers = append(st.closers, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/store"); err == nil {
			resp.Body.Close()
			return url, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return "", errors.New("aws-ses-v2-local did not start on " + addr)
}

// FindTemplate looks for template.yaml from the working directory upwards.
func FindTemplate() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "template.yaml"), nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template.yaml not found above " + strings.TrimSpace(dir))
		}
		dir = parent
	}
}
