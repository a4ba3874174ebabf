package faultstest_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// A faultFlow is one write flow driven through the stack's real routes,
// handlers, services and store, with every AWS call it makes (DynamoDB, SES,
// the queue's SendMessageBatch) counted by one testenv.Faults.
type faultFlow struct {
	name string
	// opts adjust the stack (personas, queued jobs).
	opts func(*devstack.Options)
	// once, if set, prepares the stack for every case.
	once func(t *testing.T, e *faultEnv)
	// setup prepares what one case acts on, unfaulted, and returns its state.
	setup func(t *testing.T, e *faultEnv) *flowState
	// act makes the flow's request(s) and waits for any queued work; it
	// tolerates error answers (the fault's). A retry is act again: the same
	// requests with the same Idempotency-Key, or the message redelivered.
	act func(t *testing.T, e *faultEnv, s *flowState)
	// settle, if set, runs after the retry: the scheduled work that
	// completes the flow in production (e.g. the email retry run).
	settle func(t *testing.T, e *faultEnv, s *flowState)
	// done checks that the flow completed, with the end state of a clean
	// run.
	done func(t *testing.T, e *faultEnv, s *flowState)
	// mails bounds the emails each address may get over the whole case
	// (setup included): at least min, at most max (the documented
	// at-least-once window).
	mails func(s *flowState) map[string][2]int
}

// flowState is what a flow's steps share within one case.
type flowState struct {
	addr, acct, inv, key, token, org, loc string
	vals                                  map[string]string
}

type faultEnv struct {
	*env
	faults *testenv.Faults
	vals   map[string]string
	sent   *sentMail
	// reader reads the table through a client of its own (uncounted).
	reader *store.Store
}

// sentMail records every email SES accepted (the emails a person gets),
// read from the sender's side: moto's mailbox dump holds every table of
// the emulator too, and grows with the cases.
type sentMail struct {
	mu   sync.Mutex
	mail []mailbox.Mail
}

// add is SES client middleware, below the faults: an email the server
// accepted is recorded even when its answer is then lost.
func (m *sentMail) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("faults.sent", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if se, ok := in.Parameters.(*ses.SendEmailInput); ok && err == nil {
			mail := mailbox.Mail{To: se.Destination.ToAddresses}
			if b := se.Message.Body; b != nil {
				if b.Text != nil {
					mail.Text = aws.ToString(b.Text.Data)
				}
				if b.Html != nil {
					mail.HTML = aws.ToString(b.Html.Data)
				}
			}
			m.mu.Lock()
			m.mail = append(m.mail, mail)
			m.mu.Unlock()
		}
		return out, md, err
	}), middleware.After)
}

// mailTo returns the emails SES accepted for addr, in the order sent.
func (e *faultEnv) mailTo(t *testing.T, addr string) []mailbox.Mail {
	e.waitEmails(t)
	e.sent.mu.Lock()
	defer e.sent.mu.Unlock()
	var out []mailbox.Mail
	for _, m := range e.sent.mail {
		for _, to := range m.To {
			if strings.EqualFold(strings.TrimSpace(to), addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// motoServers is how many moto servers the flows spread over (each serves
// one request at a time), and flowsAtOnce how many flows run side by side
// (much of a case is waiting: queue delays, polls, moto's turn).
const (
	motoServers = 2
	flowsAtOnce = 4
)

// nextMoto deals the flows' stacks out over the moto servers.
var nextMoto atomic.Int64

// TestMain runs flowsAtOnce flows at once unless -test.parallel says.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", fmt.Sprint(flowsAtOnce))
	}
	os.Exit(m.Run())
}

// startFaulty starts a moto stack whose DynamoDB and SES clients and
// queues count into one Faults.
func startFaulty(t *testing.T, fl faultFlow) *faultEnv {
	t.Helper()
	f, sent := &testenv.Faults{}, &sentMail{}
	ep := testenv.MotoN(t, int(nextMoto.Add(1)-1)%motoServers)
	e := start(t, ep, func(o *devstack.Options) {
		o.DynamoAPIOptions = append(o.DynamoAPIOptions, f.Add)
		o.SESAPIOptions = append(o.SESAPIOptions, f.Add, sent.add)
		o.WrapQueue = f.Sender
		o.JobsVisibility = 300 * time.Millisecond
		o.PaidUsers = 6 // room for every case's guest (5 a paid user)
		if fl.opts != nil {
			fl.opts(o)
		}
	})
	reader := store.New(testenv.DynamoDB(ep, nil), e.Store.Table())
	return &faultEnv{env: e, faults: f, vals: map[string]string{}, sent: sent, reader: reader}
}

// runFaultFlow runs fl clean once to count its calls N, then for every call
// k in 1..N and both modes: setup, act with call k failed, check the
// invariants, act again (the retry), settle, check the invariants, the end
// state and the emails. The cases share one stack (one moto table): each
// acts on state of its own (a new invitee, org, domain or token), and the
// invariants are checked over the whole table.
func runFaultFlow(t *testing.T, fl faultFlow) {
	t.Helper()
	// The flows run side by side, each on its own stack: much of a case is
	// waiting (queue delays, polls), and moto serves one request at a time.
	t.Parallel()
	e := startFaulty(t, fl)
	if fl.once != nil {
		fl.once(t, e)
	}
	var calls []string
	t.Run("clean", func(t *testing.T) {
		s := fl.setup(t, e)
		e.waitEmails(t)
		e.faults.Arm(0, 0)
		fl.act(t, e, s)
		e.waitEmails(t) // the email sender's calls are the flow's too
		e.faults.Disarm()
		calls = e.faults.Calls()
		if fl.settle != nil {
			fl.settle(t, e, s)
		}
		fl.done(t, e, s)
		e.checkInvariants(t)
		e.checkMails(t, fl, s)
	})
	if len(calls) == 0 {
		t.Fatalf("%s: the clean run made no AWS call", fl.name)
	}
	t.Logf("%s: %d calls: %s", fl.name, len(calls), strings.Join(calls, " "))
	fired := map[string]int{}
	cases := 0
	for k := 1; k <= len(calls); k++ {
		for _, mode := range []testenv.FaultMode{testenv.FaultError, testenv.FaultAfterEffect} {
			if mode == testenv.FaultAfterEffect && testenv.ReadOnly(calls[k-1]) {
				// A read that took effect and lost its answer leaves what
				// a read that failed leaves (nothing): the error mode
				// covers it.
				continue
			}
			cases++
			t.Run(fmt.Sprintf("call%02d-%s", k, mode), func(t *testing.T) {
				s := fl.setup(t, e)
				e.waitEmails(t)
				e.faults.Arm(k, mode)
				fl.act(t, e, s)
				e.waitEmails(t)
				e.faults.Disarm()
				f := e.faults.Fired()
				if f == nil {
					t.Logf("call %d was not made in this run (%d calls: %s)", k, len(e.faults.Calls()), strings.Join(e.faults.Calls(), " "))
				} else {
					fired[fmt.Sprintf("%s/%s", f.Op, mode)]++
				}
				e.checkInvariants(t) // the state the fault left holds them too
				fl.act(t, e, s)      // the retry
				e.waitEmails(t)
				if fl.settle != nil {
					fl.settle(t, e, s)
				}
				fl.done(t, e, s)
				e.checkInvariants(t)
				e.checkMails(t, fl, s)
			})
		}
	}
	var ops []string
	for op, n := range fired {
		ops = append(ops, fmt.Sprintf("%s×%d", op, n))
	}
	sort.Strings(ops)
	t.Logf("FAULTS %s: %d calls, %d cases (error at each, after-effect at each write); faults fired: %s", fl.name, len(calls), cases, strings.Join(ops, ", "))
}

func (e *faultEnv) checkMails(t *testing.T, fl faultFlow, s *flowState) {
	t.Helper()
	if fl.mails == nil {
		return
	}
	for addr, b := range fl.mails(s) {
		if n := len(e.mailTo(t, addr)); n < b[0] || n > b[1] {
			t.Errorf("%d emails to %s, want %d to %d", n, addr, b[0], b[1])
		}
	}
}

// checkInvariants holds the table to the data model's invariants: the
// demo site's counters equal a recount, every group's member count its
// member items, and no item is orphaned or half-written.
func (e *faultEnv) checkInvariants(t *testing.T) {
	t.Helper()
	if r, err := storetest.Recount(context.Background(), e.Store, demo.OrgID, demo.SiteID); err != nil || len(r.Drift) > 0 {
		t.Errorf("recount: counters drift in %v: stored %+v, counted %+v (%v)", r.Drift, r.Stored, r.Counted, err)
	}
	items := e.items(t)
	countersMatch(t, items)
	checkNoOrphans(t, items, e.vals["noGuard"])
	checkDomains(t, items)
}

// countersMatch holds every site's counters and every group's member count
// against the access and member items of one scan.
func countersMatch(t *testing.T, items []map[string]types.AttributeValue) {
	t.Helper()
	paid, guests, members := map[string]int{}, map[string]int{}, map[string]int{}
	for _, it := range items {
		switch attr(it, "type") {
		case "access":
			if attr(it, "product") == "confluence" {
				k := attr(it, "orgId") + "/" + attr(it, "siteId")
				switch attr(it, "effective") {
				case "guest":
					guests[k]++
				case "user", "admin":
					paid[k]++
				}
			}
		case "member":
			members[attr(it, "orgId")+"/"+attr(it, "group")]++
		}
	}
	for _, it := range items {
		switch attr(it, "type") {
		case "site":
			k := attr(it, "orgId") + "/" + attr(it, "siteId")
			if attr(it, "paidUsers") != fmt.Sprint(paid[k]) || attr(it, "guests") != fmt.Sprint(guests[k]) {
				t.Errorf("site %s: paid=%s guests=%s; items say paid=%d guests=%d", k, attr(it, "paidUsers"), attr(it, "guests"), paid[k], guests[k])
			}
		case "group":
			k := attr(it, "orgId") + "/" + attr(it, "groupId")
			if attr(it, "memberCount") != fmt.Sprint(members[k]) {
				t.Errorf("group %s: memberCount=%s, %d member items", k, attr(it, "memberCount"), members[k])
			}
		}
	}
}

// checkNoOrphans checks, item by item, that what each item refers to
// exists. Profiles whose account id begins with noGuard (bulk-loaded test
// directories, which have no email guards) are not held to their guard.
func checkNoOrphans(t *testing.T, items []map[string]types.AttributeValue, noGuard string) {
	t.Helper()
	key := func(pk, sk string) string { return pk + "|" + sk }
	by := map[string]map[string]types.AttributeValue{}
	for _, it := range items {
		by[key(attr(it, "PK"), attr(it, "SK"))] = it
	}
	has := func(pk, sk string) bool { _, ok := by[key(pk, sk)]; return ok }
	tokens := map[string]int{} // listing items per user partition
	for _, it := range items {
		pk, sk, o := attr(it, "PK"), attr(it, "SK"), attr(it, "orgId")
		user := "ORG#" + o + "#USER#" + attr(it, "accountId")
		switch attr(it, "type") {
		case "access":
			if !has(pk, "PROFILE") {
				t.Errorf("orphan access item %s %s: no profile", pk, sk)
			}
		case "member":
			if !has(pk, "PROFILE") {
				t.Errorf("orphan membership %s %s: no profile", pk, sk)
			}
			if !has("ORG#"+o, "GROUP#"+attr(it, "group")) {
				t.Errorf("orphan membership %s %s: no group", pk, sk)
			}
		case "user":
			if noGuard != "" && strings.HasPrefix(attr(it, "accountId"), noGuard) {
				break
			}
			if g := by[key("ORG#"+o+"#EMAIL#"+attr(it, "email"), "EMAIL")]; g == nil || attr(g, "accountId") != attr(it, "accountId") {
				t.Errorf("profile %s without its email guard", pk)
			}
		case "email":
			if !has(user, "PROFILE") {
				t.Errorf("email guard %s names %s, which has no profile", pk, attr(it, "accountId"))
			}
		case "invitation":
			st := attr(it, "status")
			if (st == "pending" || st == "accepted") && !has(pk, "PROFILE") {
				t.Errorf("%s invitation %s %s without its account", st, pk, sk)
			}
			if !has("ORG#"+o+"#INVITATION#"+strings.TrimPrefix(sk, "INVITE#"), "INVITATION") {
				t.Errorf("invitation %s %s without its reference", pk, sk)
			}
			if st != "pending" && attr(it, "GSI3PK") != "" {
				t.Errorf("%s invitation %s still due: %s", st, sk, attr(it, "GSI3PK"))
			}
		case "invitation-ref":
			if !has(user, "INVITE#"+attr(it, "invitationId")) {
				t.Errorf("invitation reference %s without its invitation", pk)
			}
		case "invite-token":
			if !has(user, "INVITE#"+attr(it, "invitationId")) {
				t.Errorf("invitation token %s without its invitation", pk)
			}
		case "api-token", "api-token-ref":
			if strings.HasPrefix(pk, "APITOKEN#") { // the use-time item
				if !has(user, "APITOKEN#"+attr(it, "tokenId")) {
					t.Errorf("API token %s without its listing", attr(it, "tokenId"))
				}
				break
			}
			tokens[pk]++
			if !has("APITOKEN#"+attr(it, "hash"), "APITOKEN") {
				t.Errorf("API token listing %s %s without its use-time item", pk, sk)
			}
		case "export-chunk":
			if !has(pk, "EXPORT") {
				t.Errorf("export chunk %s %s without its job", pk, sk)
			}
		case "job-page":
			if !has(pk, "JOB") {
				t.Errorf("job page %s %s without its job", pk, sk)
			}
		}
	}
	for _, it := range items {
		if attr(it, "type") == "user" {
			if n := attr(it, "apiTokens"); n != "" && n != "0" && n != fmt.Sprint(tokens[attr(it, "PK")]) {
				t.Errorf("profile %s counts %s API tokens, %d listed", attr(it, "PK"), n, tokens[attr(it, "PK")])
			}
		}
	}
}

// idem returns the Idempotency-Key header pair for a request of a case.
func idem(s *flowState) []string { return []string{"Idempotency-Key", s.key} }

func newState() *flowState {
	return &flowState{key: "fault-" + domain.NewID()[:12], vals: map[string]string{}}
}

// later moves the handlers' clock forward (the retry run's due times, the
// resend's minute).
func (e *faultEnv) later(d time.Duration) { e.clock.Add(int64(d / time.Second)) }

// retryRun runs the scheduled email retry job as its schedule would.
func (e *faultEnv) retryRun(t *testing.T) {
	t.Helper()
	if _, err := e.RetryEmails(context.Background()); err != nil {
		t.Logf("retry run: %v", err)
	}
	e.waitEmails(t) // the emails it queued are sent
}

// invitation reads an invitation by id.
func (e *faultEnv) invitation(t *testing.T, acct, id string) domain.Invitation {
	t.Helper()
	inv, err := e.Store.Invitation(context.Background(), demo.OrgID, acct, id)
	if err != nil {
		t.Fatalf("invitation %s: %v", id, err)
	}
	return inv
}

// lastToken is the token of the latest accept link emailed to addr.
func (e *faultEnv) lastToken(t *testing.T, addr string) string {
	t.Helper()
	mails := e.mailTo(t, addr)
	if len(mails) == 0 {
		t.Fatalf("no email to %s", addr)
	}
	m := mails[len(mails)-1]
	link, ok := mailbox.FindLink(m.Text+m.HTML, e.URL+"/invitations/accept?token=")
	if !ok {
		t.Fatalf("no accept link in the email to %s", addr)
	}
	u, _ := url.Parse(link)
	return u.Query().Get("token")
}

// passcode takes the code out of the latest email sent to addr.
func (e *faultEnv) passcode(t *testing.T, addr string) string {
	t.Helper()
	mails := e.mailTo(t, addr)
	if len(mails) == 0 {
		t.Fatalf("no email to %s", addr)
	}
	m := mails[len(mails)-1]
	if c := codeInHTML.FindStringSubmatch(m.HTML); c != nil {
		return c[1]
	}
	if c := codeInText.FindStringSubmatch(m.Text); c != nil {
		return c[1]
	}
	t.Fatalf("no code in the email to %s", addr)
	return ""
}

func acceptForm(token string) string { return "token=" + url.QueryEscape(token) }

// inviteFlow: POST …/invitations for one new guest, with an
// Idempotency-Key; the email retry run completes an undelivered email.
var inviteFlow = faultFlow{
	name: "invite",
	setup: func(t *testing.T, e *faultEnv) *flowState {
		s := newState()
		s.addr = unique("fault-inv")
		return s
	},
	act: func(t *testing.T, e *faultEnv, s *flowState) {
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), guestBody("", s.addr), idem(s)...)
		if r.status == 200 {
			res := results(t, r)
			s.acct, s.inv = fmt.Sprint(res[0]["accountId"]), fmt.Sprint(res[0]["invitationId"])
		}
	},
	settle: func(t *testing.T, e *faultEnv, s *flowState) {
		e.later(16 * time.Minute) // past the request's grace and the first retry's wait
		e.retryRun(t)
	},
	done: func(t *testing.T, e *faultEnv, s *flowState) {
		if s.inv == "" {
			t.Fatalf("the retried invite never answered 200")
		}
		inv := e.invitation(t, s.acct, s.inv)
		if inv.Status != domain.InvitationPending || inv.Delivery != domain.DeliverySent {
			t.Errorf("invitation %s: status %s delivery %s, want pending and sent", s.inv, inv.Status, inv.Delivery)
		}
		// The latest link emailed works.
		if r := e.do(t, "POST", "/invitations/accept", "", acceptForm(e.lastToken(t, s.addr)), "Content-Type", "application/x-www-form-urlencoded"); r.status != 200 {
			t.Errorf("accept the emailed link: %d %s", r.status, r.body)
		}
	},
	// At least once: SES accepted it and the write recording the delivery
	// failed, so the retry run sends it again (docs/architecture.md, docs/data-model.md "No email
	// is lost").
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 2}} },
}
