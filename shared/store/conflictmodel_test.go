package store_test

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/fanout"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/store"
)

// The conflict model of a site's counter item (docs/data-model.md, "Capacity").
//
// Every invite, accept, role change and group-job page updates its site's
// counter item in a TransactWriteItems, and real DynamoDB cancels a
// transaction that meets another in flight on one of its items
// (TransactionConflict); no emulator produces that. Here the store's real
// code (CreateInvitations → transact, with the real Retry policy and its
// full-jitter backoff) runs against an SDK client whose middleware plays
// DynamoDB's part on a virtual clock: each transaction holds its items for
// its service time, one that arrives while any of its items is held is
// cancelled with TransactionConflict after a shorter rejection time. Only
// one simulated caller runs at a time and every random draw comes from one
// seeded source, so a run is deterministic and costs no wall-clock waits.

// simEvent is a wake-up on the virtual clock: a sleeper's, or a new
// caller's start.
type simEvent struct {
	at    time.Duration
	seq   int
	wake  chan struct{}
	start func()
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simClock is a cooperative scheduler: run wakes the earliest event and
// waits until that goroutine sleeps again or ends, so exactly one runs at a
// time and the order of events is the same on every run.
type simClock struct {
	now   time.Duration
	seq   int
	q     simQueue
	yield chan struct{}
}

func (c *simClock) push(at time.Duration, start func()) *simEvent {
	c.seq++
	e := &simEvent{at: at, seq: c.seq, start: start}
	if start == nil {
		e.wake = make(chan struct{})
	}
	heap.Push(&c.q, e)
	return e
}

// Sleep blocks the running caller for d of virtual time.
func (c *simClock) Sleep(_ context.Context, d time.Duration) error {
	e := c.push(c.now+d, nil)
	c.yield <- struct{}{}
	<-e.wake
	return nil
}

func (c *simClock) run() {
	for c.q.Len() > 0 {
		e := heap.Pop(&c.q).(*simEvent)
		c.now = e.at
		if e.start != nil {
			go func() { e.start(); c.yield <- struct{}{} }()
		} else {
			close(e.wake)
		}
		<-c.yield
	}
}

// simTable answers TransactWriteItems as DynamoDB does under contention.
type simTable struct {
	clock           *simClock
	held            map[string]time.Duration // item → end of the transaction holding it
	service, reject func() time.Duration
	calls, conflict int
}

func txKeys(tx *dynamodb.TransactWriteItemsInput) []string {
	var out []string
	for _, it := range tx.TransactItems {
		var k map[string]types.AttributeValue
		switch {
		case it.Put != nil:
			k = it.Put.Item
		case it.Update != nil:
			k = it.Update.Key
		case it.Delete != nil:
			k = it.Delete.Key
		case it.ConditionCheck != nil:
			k = it.ConditionCheck.Key
		}
		pk, _ := k["PK"].(*types.AttributeValueMemberS)
		sk, _ := k["SK"].(*types.AttributeValueMemberS)
		out = append(out, pk.Value+"\x00"+sk.Value)
	}
	return out
}

func (t *simTable) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("conflictmodel", func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput)
		if !ok {
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("conflict model: %T is not modelled", in.Parameters)
		}
		t.calls++
		keys := txKeys(tx)
		now := t.clock.now
		for i, k := range keys {
			if t.held[k] > now {
				t.conflict++
				_ = t.clock.Sleep(ctx, t.reject())
				reasons := make([]types.CancellationReason, len(keys))
				for j := range reasons {
					reasons[j] = types.CancellationReason{Code: aws.String("None")}
				}
				reasons[i] = types.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
				return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
					Message: aws.String("Transaction cancelled [TransactionConflict]"), CancellationReasons: reasons}
			}
		}
		d := t.service()
		for _, k := range keys {
			t.held[k] = now + d
		}
		_ = t.clock.Sleep(ctx, d)
		return middleware.InitializeOutput{Result: &dynamodb.TransactWriteItemsOutput{}}, middleware.Metadata{}, nil
	}), middleware.After)
}

// conflictRun is what one rate of arrivals on one site gave.
type conflictRun struct {
	rate               float64 // offered transactions a second
	n, unavailable     int     // transactions offered, answered EUNAVAILABLE (503)
	calls, conflicts   int     // TransactWriteItems sent, cancelled by a conflict
	p50, p99, worstOK  time.Duration
	committedPerSecond float64
}

func (r conflictRun) share503() float64 { return float64(r.unavailable) / float64(r.n) }

// conflictModel offers n one-invitee invites to one site at rate a second
// (Poisson arrivals), each transaction holding its items for a service time
// drawn uniformly from [svcMin, svcMax] and a conflict answered after half
// of such a draw.
func conflictModel(t *testing.T, retry store.Retry, rate float64, n int, seed uint64, svcMin, svcMax time.Duration) conflictRun {
	t.Helper()
	clock := &simClock{yield: make(chan struct{})}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	draw := func() time.Duration { return svcMin + time.Duration(rng.Int64N(int64(svcMax-svcMin)+1)) }
	tbl := &simTable{clock: clock, held: map[string]time.Duration{}, service: draw, reject: func() time.Duration { return draw() / 2 }}
	db := dynamodb.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:9"), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, tbl.add)
	})
	st := store.New(db, "model")
	st.Retry = retry
	store.SetClock(st, clock.Sleep, func(d time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(d))) })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res := conflictRun{rate: rate, n: n}
	var lat []time.Duration
	var end time.Duration
	at := time.Duration(0)
	for i := 0; i < n; i++ {
		at += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
		inv, _ := newGuest("model", "wiki", fmt.Sprintf("g%06d@agency.example", i), domain.KindGuest, now)
		clock.push(at, func() {
			start := clock.now
			_, err := invitationsdb.New(st).CreateInvitations(context.Background(), "wiki", []domain.NewInvitation{inv}, false)
			switch {
			case err == nil:
				lat = append(lat, clock.now-start)
				end = max(end, clock.now)
			case domain.ErrorCode(err) == domain.EUNAVAILABLE:
				res.unavailable++
			default:
				t.Errorf("invite %d: %v", i, err)
			}
		})
	}
	clock.run()
	res.calls, res.conflicts = tbl.calls, tbl.conflict
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50, res.p99, res.worstOK = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
		res.committedPerSecond = float64(len(lat)) / end.Seconds()
	}
	return res
}

// Figures of the model with today's DefaultRetry (6 tries, full jitter from
// 25 ms doubling to 400 ms) and transactions of 10–25 ms, documented in
// docs/data-model.md ("Capacity") from the whole sweep (CONFLICT_MODEL_SWEEP=1),
// pinned here so that a change of the retry policy or of the store's
// transaction path that lowers them fails.
const (
	modelNo503Rate  = 5  // tx/s per site: no 503 in 10,000 transactions
	modelOver1pRate = 30 // tx/s per site: more than 1% answered 503
)

// TestSiteCounterConflictCeiling measures the per-site transaction ceiling
// of the counter item with the store's real retry loop (see above): at
// modelNo503Rate not one of 10,000 invites is answered 503; at
// modelOver1pRate more than 1% are. CONFLICT_MODEL_SWEEP=1 with -v prints
// the whole sweep of 20,000 invites a rate (about a minute).
func TestSiteCounterConflictCeiling(t *testing.T) {
	n := 10000
	svcMin, svcMax := 10*time.Millisecond, 25*time.Millisecond
	rates := []float64{modelNo503Rate, modelOver1pRate}
	if os.Getenv("CONFLICT_MODEL_SWEEP") != "" {
		n, rates = 20000, []float64{5, 7.5, 10, 15, 20, 25, 30, 35, 40, 50, 60}
	}
	t.Logf("service 10–25 ms, conflict answered after half a draw; %d one-invitee invites a rate; retry %+v", n, store.DefaultRetry)
	t.Logf("%8s %8s %8s %10s %10s %8s %8s %8s %10s", "offered", "503", "503 %", "tx sent", "conflicts", "p50", "p99", "worst", "committed")
	for _, rate := range rates {
		r := conflictModel(t, store.DefaultRetry, rate, n, 17, svcMin, svcMax)
		t.Logf("%8.1f %8d %8.2f %10d %10d %8v %8v %8v %10.1f", r.rate, r.unavailable, 100*r.share503(), r.calls, r.conflicts,
			r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.worstOK.Round(time.Millisecond), r.committedPerSecond)
		switch rate {
		case modelNo503Rate:
			if r.unavailable != 0 {
				t.Errorf("at %v tx/s: %d of %d answered 503, want none", rate, r.unavailable, n)
			}
		case modelOver1pRate:
			if r.share503() <= 0.01 {
				t.Errorf("at %v tx/s: %.2f%% answered 503, want more than 1%% (the documented figure moved: update docs/data-model.md)", rate, 100*r.share503())
			}
		}
	}
}

// jobRun is what a group job's pages met on a busy site.
type jobRun struct {
	pages, receives, dead int           // pages, deliveries in all, pages that reached the dead-letter queue
	done                  time.Duration // when the last page was settled
	invites, invites503   int
}

// pageContention runs a group job of pages page transactions (13 invitees
// a transaction: 92 items, as many as a page's ~97 members' access items
// and its marker, progress and counters) through workers concurrent
// consumers of the jobs queue, each applying pages one after the other,
// while invites arrive on the same site at inviteRate a second. A page
// whose transaction runs out of tries is failed back to the queue and
// delivered again after the visibility timeout (180 s); after 5 deliveries
// it goes to the dead-letter queue (its job ends failed). Service time: 10–
// 25 ms plus 0.25 ms an item (a page's 92 items: 33–48 ms).
func pageContention(t *testing.T, pageRetry store.Retry, workers, pages int, pause time.Duration, inviteRate float64, seed uint64) jobRun {
	t.Helper()
	clock := &simClock{yield: make(chan struct{})}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var items int
	draw := func() time.Duration {
		return 10*time.Millisecond + time.Duration(rng.Int64N(int64(15*time.Millisecond)+1)) + time.Duration(items)*250*time.Microsecond
	}
	tbl := &simTable{clock: clock, held: map[string]time.Duration{}, reject: func() time.Duration { return draw() / 2 }}
	tbl.service = draw
	counting := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("items", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
				items = len(tx.TransactItems)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	}
	db := dynamodb.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:9"), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, counting, tbl.add)
	})
	jitter := func(d time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(d))) }
	inviter, worker := store.New(db, "model"), store.New(db, "model")
	inviter.Retry, worker.Retry = store.DefaultRetry, pageRetry
	store.SetClock(inviter, clock.Sleep, jitter)
	store.SetClock(worker, clock.Sleep, jitter)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	guests := func(prefix string, n int) []domain.NewInvitation {
		out := make([]domain.NewInvitation, n)
		for i := range out {
			out[i], _ = newGuest("model", "wiki", fmt.Sprintf("%s-%d@agency.example", prefix, i), domain.KindGuest, now)
		}
		return out
	}
	type msg struct {
		visible  time.Duration
		receives int
	}
	queue := make([]msg, pages)
	run := jobRun{pages: pages}
	settled := 0
	for w := 0; w < workers; w++ {
		clock.push(0, func() {
			for {
				next := -1
				for i, m := range queue {
					if next < 0 || m.visible < queue[next].visible {
						next = i
					}
				}
				if next < 0 {
					return
				}
				if wait := queue[next].visible - clock.now; wait > 0 {
					_ = clock.Sleep(context.Background(), wait)
					continue // another worker may have taken it meanwhile
				}
				m := queue[next]
				queue = append(queue[:next], queue[next+1:]...)
				m.receives++
				run.receives++
				_, err := invitationsdb.New(worker).CreateInvitations(context.Background(), "wiki", guests("page", 13), false)
				switch {
				case err == nil:
					settled++
				case domain.ErrorCode(err) == domain.EUNAVAILABLE && m.receives < 5:
					m.visible = clock.now + 180*time.Second
					queue = append(queue, m)
				case domain.ErrorCode(err) == domain.EUNAVAILABLE:
					run.dead++
					settled++
				default:
					t.Errorf("page: %v", err)
					return
				}
				if settled == pages {
					run.done = clock.now
				}
				if pause > 0 {
					_ = clock.Sleep(context.Background(), pause)
				}
			}
		})
	}
	// Invites for as long as the pages take at best, and then some.
	at := time.Duration(0)
	horizon := time.Duration(pages) * (40*time.Millisecond + pause) / time.Duration(workers)
	for at < horizon && inviteRate > 0 {
		at += time.Duration(rng.ExpFloat64() / inviteRate * float64(time.Second))
		inv := guests("invite", 1)
		clock.push(at, func() {
			run.invites++
			if _, err := invitationsdb.New(inviter).CreateInvitations(context.Background(), "wiki", inv, false); domain.ErrorCode(err) == domain.EUNAVAILABLE {
				run.invites503++
			}
		})
	}
	clock.run()
	return run
}

// TestGroupJobPagesOnABusySite: a group job's pages all update their site's
// counter item. Applied back to back (no pause) they hold it nearly always:
// the site's invites meet it held on every try and most are answered 503
// for the whole job, and with DefaultRetry pages run out of tries too and
// wait out the queue's 180 s visibility timeout. As GroupJobsWorkerFunction
// runs them (two consumers, the store's JobRetry, fanout.DefaultPagePause
// after each page) invites at 5 a second on the same site meet at most 1%
// of 503s and every page is applied on its first delivery. 300 pages
// (~29,000 members).
func TestGroupJobPagesOnABusySite(t *testing.T) {
	const pages, workers, invites = 300, 2, 5
	for _, tc := range []struct {
		name  string
		retry store.Retry
		pause time.Duration
		paced bool
	}{{"back to back, DefaultRetry", store.DefaultRetry, 0, false}, {"paced, JobRetry", store.JobRetry, fanout.DefaultPagePause, true}} {
		r := pageContention(t, tc.retry, workers, pages, tc.pause, invites, 17)
		share := float64(r.invites503) / float64(max(1, r.invites))
		t.Logf("%-28s %d pages, %d consumers, invites %d/s: %d deliveries, %d to the dead-letter queue, settled after %v; invites %d, 503 %d (%.1f%%)",
			tc.name, pages, workers, invites, r.receives, r.dead, r.done.Round(time.Millisecond), r.invites, r.invites503, 100*share)
		if tc.paced && (r.dead != 0 || r.receives != pages || share > 0.01) {
			t.Errorf("paced: %d deliveries for %d pages, %d dead, %.1f%% of invites 503: want each page applied once and ≤ 1%% of invites refused", r.receives, pages, r.dead, 100*share)
		}
		if !tc.paced && share < 0.5 {
			t.Errorf("back to back: %.1f%% of invites 503; the model no longer shows the starvation it documents", 100*share)
		}
	}
}
