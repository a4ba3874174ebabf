package reverify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/reverify"
	"github.com/guestaccess/guestaccess/shared/store"
)

// reads sums what DynamoDB returned: the items each Query read (by index)
// and the org items BatchGetItem read. Counted, never timed.
type reads struct {
	mu      sync.Mutex
	query   map[string]int
	queries int
	orgs    int
}

func (r *reads) reset() {
	r.mu.Lock()
	r.query, r.queries, r.orgs = map[string]int{}, 0, 0
	r.mu.Unlock()
}

func (r *reads) snapshot() (map[string]int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for k, v := range r.query {
		m[k] = v
	}
	return m, r.queries, r.orgs
}

func (r *reads) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countItemsRead", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return out, md, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		switch o := out.Result.(type) {
		case *dynamodb.QueryOutput:
			q := in.Parameters.(*dynamodb.QueryInput)
			r.query[aws.ToString(q.IndexName)] += max(int(o.Count), int(o.ScannedCount), len(o.Items))
			r.queries++
		case *dynamodb.BatchGetItemOutput:
			// Org items only: the due users are read by BatchGetItem too
			// (GSI3 holds keys only).
			for _, its := range o.Responses {
				for _, it := range its {
					if v, _ := it["type"].(*types.AttributeValueMemberS); v != nil && v.Value == "org" {
						r.orgs++
					}
				}
			}
		}
		return out, md, err
	}), middleware.After)
}

// fx is a store over a fresh table on one backend, with its counters.
type fx struct {
	name string
	st   *store.Store
	db   *dynamodb.Client
	r    *reads
	c    *testenv.Counter
}

type backend struct {
	name string
	db   func(t *testing.T, c *testenv.Counter, r *reads) *dynamodb.Client
}

var backends = []backend{
	{"moto", func(t *testing.T, c *testenv.Counter, r *reads) *dynamodb.Client {
		return dynamodb.NewFromConfig(testenv.AWSConfig(testenv.Endpoint(t, testenv.EnvMoto)), func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, c.Add, r.add)
		})
	}},
	{"embedded", func(t *testing.T, c *testenv.Counter, r *reads) *dynamodb.Client {
		return testenv.Minidyn(t, c, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, r.add) })
	}},
}

func each(t *testing.T, f func(t *testing.T, x fx)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c, r := &testenv.Counter{}, &reads{}
			r.reset()
			db := b.db(t, c, r)
			st := store.New(db, testenv.Table(t, db))
			st.Retry.Base, st.Retry.Max = time.Millisecond, 5*time.Millisecond
			f(t, fx{b.name, st, db, r, c})
		})
	}
}

// mailbox is a Sender that records every email by recipient; it can fail
// every send after failAfter sends, and call onSend after each.
type mailbox struct {
	mu        sync.Mutex
	sent      map[string]int
	msgs      []emails.Message
	failAfter int // < 0: never
	onSend    func(n int)
}

func newMailbox() *mailbox { return &mailbox{sent: map[string]int{}, failAfter: -1} }

func (m *mailbox) Send(_ context.Context, msg emails.Message) (string, error) {
	m.mu.Lock()
	if m.failAfter >= 0 && len(m.msgs) >= m.failAfter {
		m.mu.Unlock()
		return "", errors.New("ses: service unavailable")
	}
	m.sent[msg.To]++
	m.msgs = append(m.msgs, msg)
	n, on := len(m.msgs), m.onSend
	m.mu.Unlock()
	if on != nil {
		on(n)
	}
	return fmt.Sprintf("msg-%d", n), nil
}

// check reports a due user emailed other than once, and anyone else emailed.
func (m *mailbox) check(t *testing.T, due []string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]bool{}
	for _, a := range due {
		want[a] = true
		if m.sent[a] != 1 {
			t.Errorf("%s emailed %d times, want once", a, m.sent[a])
		}
	}
	for a, n := range m.sent {
		if !want[a] {
			t.Errorf("%s emailed %d times, was not due", a, n)
		}
	}
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const baseURL = "https://guest.example/v1"

func job(x fx, mb *mailbox, now time.Time) *reverify.Job {
	return &reverify.Job{Ports: reverify.PortsOf(x.st), Mailer: mb, BaseURL: baseURL, Now: func() time.Time { return now }}
}

// seedOrg writes an org whose policy asks two-step verification every
// `days` days (corp.example is its verified domain).
func seedOrg(t *testing.T, x fx, id string, days int) domain.Org {
	t.Helper()
	org := domain.Org{ID: id, Name: "Org " + id, VerifiedDomains: []string{"corp.example"}, CreatedAt: t0.Add(-400 * 24 * time.Hour),
		Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: days}, PolicyVersion: 1}
	if err := x.st.CreateOrg(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org
}

// verified is an active external user who last verified at v under a
// frequency of days (their entry at v+days).
func verified(org, acct, addr string, v time.Time, days int) domain.User {
	return domain.User{OrgID: org, AccountID: acct, Email: addr, Status: domain.UserActive, External: true, CreatedAt: v.Add(-time.Hour),
		VerifiedAt: v, VerifyDueAt: v.Add(time.Duration(days) * 24 * time.Hour), VerifyState: domain.VerifyVerified}
}

// seedDirectory bulk-loads n external users of org (30-day frequency), one
// in every `every` lapsed a day before t0, the others verified a day before
// t0; it returns the lapsed users' addresses.
func seedDirectory(t *testing.T, x fx, org string, n, every int) []string {
	t.Helper()
	var us []domain.User
	var due []string
	for i := range n {
		addr := fmt.Sprintf("u%05d@partner%d.example", i, i%17)
		v := t0.Add(-24 * time.Hour)
		if i%every == 0 {
			v = t0.Add(-31 * 24 * time.Hour)
			due = append(due, addr)
		}
		us = append(us, verified(org, fmt.Sprintf("acct-%05d", i), addr, v, 30))
	}
	if err := x.st.BulkLoadProfiles(context.Background(), us); err != nil {
		t.Fatal(err)
	}
	return due
}

// TestRunReadsOnlyTheDue: over a directory of external users of whom 1 % are
// due, one run reads (Query items) at most the users due plus the shards,
// reads the org once, emails exactly the due users once and marks them; a
// second run reads at most the shards' worth and sends nothing. 10,000 users
// on the embedded backend; moto (slow to load) takes 2,000 unless
// REVERIFY_MOTO_USERS says otherwise.
func TestRunReadsOnlyTheDue(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		n := 10000
		if x.name == "moto" {
			n = 2000
			if v := os.Getenv("REVERIFY_MOTO_USERS"); v != "" {
				fmt.Sscan(v, &n)
			}
		}
		seedOrg(t, x, "ext", 30)
		due := seedDirectory(t, x, "ext", n, 100)
		x.r.reset()
		x.c.Reset()
		mb := newMailbox()
		rep, err := job(x, mb, t0).Run(ctx, "run-1")
		if err != nil {
			t.Fatal(err)
		}
		q, queries, orgs := x.r.snapshot()
		t.Logf("%s: %d external users, %d due: run 1 read %d items by Query (%v) in %d Queries, %d org items; calls %v; report %+v",
			x.name, n, len(due), q[store.GSI3], q, queries, orgs, x.c.Counts(), rep)
		if q[store.GSI3] > len(due)+store.DueShards || len(q) != 1 {
			t.Errorf("run 1 read %v items by Query, want ≤ %d due + %d shards on GSI3 alone", q, len(due), store.DueShards)
		}
		if orgs != 1 || rep.OrgsRead != 1 {
			t.Errorf("run 1 read %d org items, want 1", orgs)
		}
		if rep.Due != len(due) || rep.Emailed != len(due) || rep.Stopped || rep.Skipped+rep.Failed+rep.Moved+rep.Parked != 0 {
			t.Errorf("run 1 report %+v", rep)
		}
		mb.check(t, due)
		if msg := mb.msgs[0]; !strings.Contains(msg.Text, baseURL+"/orgs/ext/verify") || !strings.Contains(msg.HTML, `href="`+baseURL+`/orgs/ext/verify"`) {
			t.Errorf("email without the verification link:\n%s\n%s", msg.Text, msg.HTML)
		}
		// The users are marked required, with an audit entry each.
		if got := scanCount(t, x, func(it map[string]types.AttributeValue) bool {
			return attr(it, "type") == "user" && attr(it, "verifyState") == string(domain.VerifyRequired) && strings.HasPrefix(attr(it, "GSI3SK"), "9999-12-31")
		}); got != len(due) {
			t.Errorf("%d users marked required and parked, want %d", got, len(due))
		}
		if got := scanCount(t, x, func(it map[string]types.AttributeValue) bool {
			return attr(it, "action") == domain.ActionVerificationLapse && attr(it, "actor") == domain.ActorSystem
		}); got != len(due) {
			t.Errorf("%d audit entries, want %d", got, len(due))
		}

		x.r.reset()
		rep, err = job(x, mb, t0.Add(time.Minute)).Run(ctx, "run-2")
		q, queries, orgs = x.r.snapshot()
		t.Logf("%s: run 2 read %d items by Query in %d Queries, %d org items; report %+v", x.name, q[store.GSI3], queries, orgs, rep)
		if err != nil || rep.Due != 0 || rep.Emailed != 0 || q[store.GSI3] > store.DueShards || orgs != 0 {
			t.Errorf("run 2: %+v %v, read %v, %d orgs", rep, err, q, orgs)
		}
		mb.check(t, due)
	})
}

func attr(it map[string]types.AttributeValue, k string) string {
	if s, ok := it[k].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func scanCount(t *testing.T, x fx, keep func(map[string]types.AttributeValue) bool) int {
	t.Helper()
	n := 0
	for _, it := range testenv.ScanAll(t, x.db, tableOf(x)) {
		if keep(it) {
			n++
		}
	}
	return n
}

func tableOf(x fx) string { return x.st.Table() }

// barrier makes the first Query of each of n runs wait for the others', so
// that they all read the same due entries before any of them claims one.
type barrier struct {
	reverify.Store
	wg   sync.WaitGroup
	once sync.Map
}

func (b *barrier) DueVerifications(ctx context.Context, sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
	page, next, err := b.Store.DueVerifications(ctx, sh, now, start, limit)
	if sh == 0 && start == "" {
		if _, done := b.once.LoadOrStore(ctx.Value(runKey{}), true); !done {
			b.wg.Done()
			b.wg.Wait()
		}
	}
	return page, next, err
}

type runKey struct{}

// TestConcurrentRunsSendNoDuplicate: two runs that read the same due
// entries at once each email only the users they claimed: every due user
// gets exactly one email (without the claim's condition on the entry read,
// both runs email everyone).
func TestConcurrentRunsSendNoDuplicate(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		seedOrg(t, x, "ext", 30)
		due := seedDirectory(t, x, "ext", 400, 10)
		mb := newMailbox()
		b := &barrier{Store: x.st}
		b.wg.Add(2)
		var wg sync.WaitGroup
		reps := make([]reverify.Report, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j := job(x, mb, t0)
				j.Due = b
				reps[i], errs[i] = j.Run(context.WithValue(context.Background(), runKey{}, i), fmt.Sprintf("run-%d", i))
			}()
		}
		wg.Wait()
		t.Logf("%s: %d due; reports %+v, %+v", x.name, len(due), reps[0], reps[1])
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		if reps[0].Emailed+reps[1].Emailed != len(due) || reps[0].Due < len(due)/store.DueShards || reps[1].Due < len(due)/store.DueShards {
			t.Errorf("reports %+v %+v: want %d emailed between them, both runs reading", reps[0], reps[1], len(due))
		}
		mb.check(t, due)
	})
}

// TestKilledRunResumes: a run whose context is cancelled after k emails, a
// run stopped by its budget, and a run during which SES fails after k sends
// each leave the rest due; the next runs finish: every due user emailed
// once.
func TestKilledRunResumes(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		seedOrg(t, x, "ext", 30)
		due := seedDirectory(t, x, "ext", 300, 6) // 50 due
		mb := newMailbox()

		// Killed mid-page: the context ends after the 7th email.
		kctx, cancel := context.WithCancel(ctx)
		mb.onSend = func(n int) {
			if n == 7 {
				cancel()
			}
		}
		rep, err := paged(x, mb, t0).Run(kctx, "killed")
		mb.onSend = nil
		if !errors.Is(err, context.Canceled) || rep.Emailed != 7 || !rep.Stopped {
			t.Fatalf("killed run: %+v, %v", rep, err)
		}

		// A budget of 10 entries a run.
		j := paged(x, mb, t0)
		j.Budget = 10
		if rep, err = j.Run(ctx, "budget"); err != nil || rep.Emailed != 10 || !rep.Stopped {
			t.Fatalf("budget run: %+v, %v", rep, err)
		}

		// SES fails after 5 more sends: the run stops after MaxSendFailures
		// refusals, their claims held until the lease ends.
		mb.failAfter = 22
		rep, err = paged(x, mb, t0).Run(ctx, "ses-down")
		if err != nil || rep.Emailed != 5 || rep.Failed != reverify.MaxSendFailures || !rep.Stopped {
			t.Fatalf("SES run: %+v, %v", rep, err)
		}
		mb.failAfter = -1
		// Before the lease ends the refused users are not due; the rest are.
		rep, err = paged(x, mb, t0.Add(time.Minute)).Run(ctx, "resume")
		if err != nil || rep.Emailed != len(due)-22-reverify.MaxSendFailures || rep.Stopped {
			t.Fatalf("resumed run: %+v, %v", rep, err)
		}
		// After the lease, they are due again and emailed.
		rep, err = paged(x, mb, t0.Add(reverify.DefaultLease+time.Minute)).Run(ctx, "after-lease")
		if err != nil || rep.Emailed != reverify.MaxSendFailures || rep.Due != reverify.MaxSendFailures {
			t.Fatalf("run after the lease: %+v, %v", rep, err)
		}
		mb.check(t, due)
		if rep, err = paged(x, mb, t0.Add(time.Hour)).Run(ctx, "done"); err != nil || rep.Due != 0 {
			t.Errorf("last run: %+v, %v", rep, err)
		}
	})
}

// paged is job with pages of 8 entries: runs stop and resume mid-page.
func paged(x fx, mb *mailbox, now time.Time) *reverify.Job {
	j := job(x, mb, now)
	j.PageSize = 8
	return j
}

// crashing is a mark that fails as a run dying after the email would.
type crashing struct{}

func (crashing) MarkVerificationRequired(context.Context, domain.User, string, domain.AuditEntry) error {
	return errors.New("killed")
}

// TestCrashBetweenClaimAndMark: the documented window: a run that dies
// after emailing and before marking leaves the user claimed; they are due
// again when the lease ends and the next run emails them again (at least
// once), then marks them.
func TestCrashBetweenClaimAndMark(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		seedOrg(t, x, "ext", 30)
		u := verified("ext", "pat", "pat@agency.example", t0.Add(-31*24*time.Hour), 30)
		if err := x.st.BulkLoadProfiles(ctx, []domain.User{u}); err != nil {
			t.Fatal(err)
		}
		mb := newMailbox()
		j := job(x, mb, t0)
		j.Marks = crashing{}
		if _, err := j.Run(ctx, "crash"); err == nil {
			t.Fatal("the crashing run succeeded")
		}
		if rep, err := job(x, mb, t0.Add(reverify.DefaultLease-time.Second)).Run(ctx, "in-lease"); err != nil || rep.Due != 0 {
			t.Fatalf("within the lease: %+v, %v", rep, err)
		}
		rep, err := job(x, mb, t0.Add(reverify.DefaultLease)).Run(ctx, "after-lease")
		if err != nil || rep.Emailed != 1 || mb.sent[u.Email] != 2 {
			t.Fatalf("after the lease: %+v, %v, %d emails", rep, err, mb.sent[u.Email])
		}
	})
}

// TestStopsBeforeDeadline: a run whose deadline is within its margin reads
// nothing and says it stopped; with room it works.
func TestStopsBeforeDeadline(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		seedOrg(t, x, "ext", 30)
		due := seedDirectory(t, x, "ext", 20, 4)
		mb := newMailbox()
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		j := job(x, mb, t0)
		j.Margin = 2 * time.Hour
		x.r.reset()
		rep, err := j.Run(ctx, "late")
		if _, queries, _ := x.r.snapshot(); err != nil || !rep.Stopped || rep.Due != 0 || queries != 0 {
			t.Fatalf("run within its margin: %+v, %v, %d queries", rep, err, queries)
		}
		j.Margin = time.Minute
		if rep, err = j.Run(ctx, "in-time"); err != nil || rep.Stopped || rep.Emailed != len(due) {
			t.Fatalf("run in time: %+v, %v", rep, err)
		}
		mb.check(t, due)
	})
}

// TestDecidesWithTheCurrentSettings: a due entry is parked without an email
// when the user is no longer external (their domain verified since), when
// the org turned two-step off, under "once" and for a suspended account; it
// moves to the new due time when the frequency got longer; a reset of
// sessions lapses a verification still in force when its entry is met.
func TestDecidesWithTheCurrentSettings(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		long := t0.Add(-31 * 24 * time.Hour)
		mk := func(id string, days int, edit func(*domain.Org)) {
			o := domain.Org{ID: id, Name: id, VerifiedDomains: []string{"corp.example"}, Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: days}}
			if edit != nil {
				edit(&o)
			}
			if err := x.st.CreateOrg(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		mk("nowinternal", 30, func(o *domain.Org) { o.VerifiedDomains = append(o.VerifiedDomains, "agency.example") })
		mk("off", 30, func(o *domain.Org) { o.Policy.TwoStep = false })
		mk("once", 0, nil)
		mk("longer", 30, nil) // entries written under 20 days
		mk("suspended", 30, nil)
		mk("tested", 30, func(o *domain.Org) {
			o.TestPolicy = &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}, Users: []string{"a"}}
		})
		sus := verified("suspended", "a", "a@agency.example", long, 30)
		sus.Status = domain.UserSuspended
		users := []domain.User{
			verified("nowinternal", "a", "a@agency.example", long, 30),
			verified("off", "a", "a@agency.example", long, 30),
			verified("once", "a", "a@agency.example", long, 30),
			verified("longer", "a", "a@agency.example", t0.Add(-21*24*time.Hour), 20),
			sus,
			verified("tested", "a", "a@agency.example", t0.Add(-8*24*time.Hour), 30), // its entry says t0+22d …
			verified("gone", "a", "a@agency.example", long, 30),                      // an org that does not exist
		}
		users[5].VerifyDueAt = t0.Add(-time.Hour) // … but its due entry came up (test policy: 7 days)
		if err := x.st.BulkLoadProfiles(ctx, users); err != nil {
			t.Fatal(err)
		}
		mb := newMailbox()
		rep, err := job(x, mb, t0).Run(ctx, "run")
		if err != nil || rep.Due != 7 || rep.Parked != 5 || rep.Moved != 1 || rep.Emailed != 1 {
			t.Fatalf("report %+v, %v", rep, err)
		}
		mb.check(t, []string{"a@agency.example"}) // the tested user only
		if len(mb.msgs) != 1 || !strings.Contains(mb.msgs[0].Text, "/orgs/tested/verify") {
			t.Errorf("emails %+v", mb.msgs)
		}
		// The longer frequency's entry is at verifiedAt + 30 days; the rest are parked.
		want := map[string]string{"longer": t0.Add(9 * 24 * time.Hour).Format(time.RFC3339)}
		for _, it := range testenv.ScanAll(t, x.db, tableOf(x)) {
			if attr(it, "type") != "user" {
				continue
			}
			org, sk := attr(it, "orgId"), attr(it, "GSI3SK")
			if w, ok := want[org]; ok && !strings.HasPrefix(sk, w+"#") || !ok && !strings.HasPrefix(sk, "9999-12-31") {
				t.Errorf("%s: entry %s", org, sk)
			}
		}
		if rep, err := job(x, mb, t0.Add(time.Minute)).Run(ctx, "again"); err != nil || rep.Due != 0 {
			t.Errorf("second run %+v, %v", rep, err)
		}
		// A reset of sessions after "longer"'s verification: met when due, it lapses.
		if _, err := x.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tableOf(x)),
			Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#longer"}, "SK": &types.AttributeValueMemberS{Value: "ORG"}},
			UpdateExpression: aws.String("SET sessionsResetAt = :r"), ExpressionAttributeValues: map[string]types.AttributeValue{
				":r": &types.AttributeValueMemberS{Value: t0.Add(-time.Hour).Format(time.RFC3339Nano)}}}); err != nil {
			t.Fatal(err)
		}
		rep, err = job(x, mb, t0.Add(10*24*time.Hour)).Run(ctx, "reset")
		if err != nil || rep.Emailed != 1 {
			t.Errorf("after the reset: %+v, %v", rep, err)
		}
	})
}

// TestRescanAfterShorterFrequency: a frequency shortened from 30 to 7 days
// asks a rescan; the next run moves the org's entries to the new due times
// (those verified more than 7 days ago due at once) and deletes the
// request, paging its cursor; the newly lapsed are emailed by that run's
// later shards or by the run after, once.
func TestRescanAfterShorterFrequency(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		seedOrg(t, x, "ext", 30)
		var us, lapsed []string
		var users []domain.User
		for i := range 12 {
			addr := fmt.Sprintf("g%02d@agency.example", i)
			days := 2 + i*2 // verified 2 to 24 days ago: under 7 days those ≥ 7 lapse
			users = append(users, verified("ext", fmt.Sprintf("g%02d", i), addr, t0.Add(-time.Duration(days)*24*time.Hour), 30))
			us = append(us, addr)
			if days >= 7 {
				lapsed = append(lapsed, addr)
			}
		}
		// Never verified: no entry, left alone; an internal user: not read.
		users = append(users, domain.User{OrgID: "ext", AccountID: "new", Email: "new@agency.example", Status: domain.UserActive, External: true, CreatedAt: t0},
			verified("ext", "in", "in@corp.example", t0.Add(-20*24*time.Hour), 30))
		if err := x.st.BulkLoadProfiles(ctx, users); err != nil {
			t.Fatal(err)
		}
		mb := newMailbox()
		if rep, err := job(x, mb, t0).Run(ctx, "before"); err != nil || rep.Due != 0 {
			t.Fatalf("before the change: %+v, %v", rep, err)
		}
		// The admin shortens the frequency (the policy route's write, here raw) and asks a rescan.
		if _, err := x.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tableOf(x)),
			Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#ext"}, "SK": &types.AttributeValueMemberS{Value: "ORG"}},
			UpdateExpression: aws.String("SET verifyEveryDays = :d, policyVersion = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{
				":d": &types.AttributeValueMemberN{Value: "7"}, ":v": &types.AttributeValueMemberN{Value: "2"}}}); err != nil {
			t.Fatal(err)
		}
		if err := x.st.RequestVerifyScan(ctx, "ext", t0, 2); err != nil {
			t.Fatal(err)
		}
		j := job(x, mb, t0.Add(time.Minute))
		j.PageSize = 5 // the scan pages, saving its cursor
		x.c.Reset()
		rep, err := j.Run(ctx, "rescan")
		if err != nil || rep.Scans != 1 || rep.ScansDone != 1 || rep.Rescanned != 12 {
			t.Fatalf("rescan run: %+v, %v", rep, err)
		}
		if n := x.c.Counts()["DeleteItem"]; n != 1 {
			t.Errorf("%d DeleteItem, want the request deleted once", n)
		}
		// The entries moved to now are met by this run's later shards or
		// pages, or by the next run.
		emailed := rep.Emailed
		rep, err = job(x, mb, t0.Add(2*time.Minute)).Run(ctx, "emails")
		if err != nil || emailed+rep.Emailed != len(lapsed) || rep.Scans != 0 {
			t.Fatalf("next run: %+v, %v (%d emailed by the rescan run)", rep, err, emailed)
		}
		mb.check(t, lapsed)
		// The others are due at verifiedAt + 7 days, and emailed then.
		rep, err = job(x, mb, t0.Add(8*24*time.Hour)).Run(ctx, "later")
		if err != nil || rep.Emailed != len(us)-len(lapsed) {
			t.Fatalf("a week later: %+v, %v", rep, err)
		}
		mb.check(t, us)
	})
}

// TestRescanRestartsOnNewerRequest: a rescan replaced by a newer request
// (a second change) while in progress does not save its cursor over it nor
// delete it: the newer request is done by a later page or run.
func TestRescanRestartsOnNewerRequest(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		seedOrg(t, x, "ext", 30)
		var users []domain.User
		for i := range 6 {
			users = append(users, verified("ext", fmt.Sprintf("g%d", i), fmt.Sprintf("g%d@agency.example", i), t0.Add(-2*24*time.Hour), 30))
		}
		if err := x.st.BulkLoadProfiles(ctx, users); err != nil {
			t.Fatal(err)
		}
		old := domain.VerifyScan{OrgID: "ext", RequestedAt: t0, PolicyVersion: 2}
		if err := x.st.RequestVerifyScan(ctx, "ext", t0.Add(time.Second), 3); err != nil {
			t.Fatal(err)
		}
		if err := x.st.SaveVerifyScan(ctx, old, "Zm9vI2Jhcg"); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("save over a newer request: %v", err)
		}
		if err := x.st.DeleteVerifyScan(ctx, old); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("delete of a newer request: %v", err)
		}
		rep, err := job(x, newMailbox(), t0.Add(time.Minute)).Run(ctx, "run")
		if err != nil || rep.ScansDone != 1 || rep.Rescanned != 6 {
			t.Errorf("run: %+v, %v", rep, err)
		}
	})
}

// TestLateMarkLosesToNewerClaim: a run so slow that its lease ended while
// it was emailing loses the user to the run that claimed them after the
// lease: its mark, conditioned on its claim, writes nothing (one mark, one
// audit entry; the user got both emails, the documented at-least-once).
func TestLateMarkLosesToNewerClaim(t *testing.T) {
	each(t, func(t *testing.T, x fx) {
		ctx := context.Background()
		seedOrg(t, x, "ext", 30)
		u := verified("ext", "pat", "pat@agency.example", t0.Add(-31*24*time.Hour), 30)
		if err := x.st.BulkLoadProfiles(ctx, []domain.User{u}); err != nil {
			t.Fatal(err)
		}
		slow, other := newMailbox(), newMailbox()
		var later reverify.Report
		var laterErr error
		slow.onSend = func(int) {
			// While the slow run emails, its lease ends and another run claims.
			later, laterErr = job(x, other, t0.Add(reverify.DefaultLease+time.Minute)).Run(ctx, "later")
		}
		rep, err := job(x, slow, t0).Run(ctx, "slow")
		if err != nil || laterErr != nil || rep.Skipped != 1 || rep.Emailed != 0 || later.Emailed != 1 {
			t.Fatalf("slow run %+v %v; later run %+v %v", rep, err, later, laterErr)
		}
		if got := scanCount(t, x, func(it map[string]types.AttributeValue) bool {
			return attr(it, "action") == domain.ActionVerificationLapse
		}); got != 1 {
			t.Errorf("%d audit entries, want the later run's one", got)
		}
	})
}
