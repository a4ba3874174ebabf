package devstack_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/demo"
	"github.com/guestaccess/guestaccess/shared/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store/storetest"
	"github.com/guestaccess/guestaccess/shared/testenv"
)

// A faultFlow is one write flow driven through the stack's real routes,
// handlers, services and store, with every AWS call it makes (DynamoDB, SES,
// the queue's SendMessageBatch) counted by one testenv.Faults.
type faultFlow struct {
	name string
	// opts adjust the stack (personas, queued jobs).
	opts func(*devstack.Options)
	// setup prepares what the flow acts on, unfaulted, and returns its state.
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
}

// startFaulty starts a moto stack whose DynamoDB and SES clients and
// queues count into one Faults.
func startFaulty(t *testing.T, fl faultFlow) *faultEnv {
	t.Helper()
	f := &testenv.Faults{}
	e := start(t, "moto", func(o *devstack.Options) {
		o.DynamoAPIOptions = append(o.DynamoAPIOptions, f.Add)
		o.SESAPIOptions = append(o.SESAPIOptions, f.Add)
		o.WrapQueue = f.Sender
		o.JobsVisibility = 300 * time.Millisecond
		if fl.opts != nil {
			fl.opts(o)
		}
	})
	return &faultEnv{env: e, faults: f}
}

// runFaultFlow runs fl clean once to count its calls N, then for every call
// k in 1..N and both modes on a fresh stack: setup, act with call k failed,
// check the invariants, act again (the retry), settle, check the
// invariants, the end state and the emails. It returns the calls of the
// clean run and how many cases ran.
func runFaultFlow(t *testing.T, fl faultFlow) {
	t.Helper()
	var calls []string
	t.Run("clean", func(t *testing.T) {
		e := startFaulty(t, fl)
		s := fl.setup(t, e)
		e.faults.Arm(0, 0)
		fl.act(t, e, s)
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
	for k := 1; k <= len(calls); k++ {
		for _, mode := range []testenv.FaultMode{testenv.FaultError, testenv.FaultAfterEffect} {
			t.Run(fmt.Sprintf("call%02d-%s", k, mode), func(t *testing.T) {
				e := startFaulty(t, fl)
				s := fl.setup(t, e)
				e.faults.Arm(k, mode)
				fl.act(t, e, s)
				e.faults.Disarm()
				f := e.faults.Fired()
				if f == nil {
					t.Logf("call %d was not made in this run (%d calls: %s)", k, len(e.faults.Calls()), strings.Join(e.faults.Calls(), " "))
				} else {
					fired[fmt.Sprintf("%s/%s", f.Op, mode)]++
				}
				e.checkInvariants(t) // the state the fault left holds them too
				fl.act(t, e, s)      // the retry
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
	t.Logf("FAULTS %s: %d calls × 2 modes; faults fired: %s", fl.name, len(calls), strings.Join(ops, ", "))
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
	storetest.AssertNoDrift(t, e.Store, demo.OrgID, demo.SiteID)
	e.countersMatchItems(t)
	checkNoOrphans(t, e.items(t))
}

// checkNoOrphans checks, item by item, that what each item refers to exists.
func checkNoOrphans(t *testing.T, items []map[string]types.AttributeValue) {
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
	ts := e.tokens(t, addr)
	if len(ts) == 0 {
		t.Fatalf("no email to %s", addr)
	}
	return ts[len(ts)-1]
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
	// failed, so the retry run sends it again (README, DATA_MODEL "No email
	// is lost").
	mails: func(s *flowState) map[string][2]int { return map[string][2]int{s.addr: {1, 2}} },
}

// TestFaultEveryCallInvite fails each AWS call of an invite in turn.
func TestFaultEveryCallInvite(t *testing.T) { runFaultFlow(t, inviteFlow) }
