package localqueue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// delivery is one record as a handler saw it.
type delivery struct {
	rec events.SQSMessage
	at  time.Time
}

// recorder is a handler that records every record and fails those fail
// picks (nil: none).
type recorder struct {
	mu      sync.Mutex
	got     []delivery
	batches []int
	fail    func(r events.SQSMessage, nth int) bool // nth: 1 for the first delivery of this body
}

func (h *recorder) handle(_ context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = append(h.batches, len(e.Records))
	var resp events.SQSEventResponse
	for _, r := range e.Records {
		h.got = append(h.got, delivery{r, time.Now()})
		if h.fail != nil && h.fail(r, h.countLocked(r.Body)) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func (h *recorder) countLocked(body string) int {
	n := 0
	for _, d := range h.got {
		if d.rec.Body == body {
			n++
		}
	}
	return n
}

func (h *recorder) of(body string) []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []delivery
	for _, d := range h.got {
		if d.rec.Body == body {
			out = append(out, d)
		}
	}
	return out
}

func (h *recorder) all() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// run starts q and closes it when the test ends.
func run(t *testing.T, q *Queue) *Queue {
	t.Helper()
	q.Start(context.Background())
	t.Cleanup(q.Close)
	return q
}

func send(t *testing.T, q *Queue, bodies ...string) {
	t.Helper()
	msgs := make([]queue.Message, len(bodies))
	for i, b := range bodies {
		msgs[i] = queue.Message{Body: b}
	}
	if err := q.Send(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func waitIdle(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDeliversSQSEventRecords(t *testing.T) {
	h := &recorder{}
	q := New(Options{Name: "jobs", Handler: h.handle, MaxReceiveCount: 5})
	before := time.Now().UnixMilli()
	send(t, q, "one", "two")
	run(t, q)
	waitIdle(t, q)
	got := h.all()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	if q.ARN() != "arn:aws:sqs:us-east-1:000000000000:jobs" || q.DeadLetterARN() != q.ARN()+"-dlq" {
		t.Errorf("ARNs %q, %q", q.ARN(), q.DeadLetterARN())
	}
	for _, d := range got {
		r := d.rec
		sum := md5.Sum([]byte(r.Body))
		sent, _ := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
		first, _ := strconv.ParseInt(r.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64)
		switch {
		case !uuidRE.MatchString(r.MessageId):
			t.Errorf("MessageId %q is not a UUID", r.MessageId)
		case r.ReceiptHandle == "" || r.ReceiptHandle == r.MessageId:
			t.Errorf("ReceiptHandle %q", r.ReceiptHandle)
		case r.Md5OfBody != hex.EncodeToString(sum[:]):
			t.Errorf("Md5OfBody %q", r.Md5OfBody)
		case r.Attributes["ApproximateReceiveCount"] != "1":
			t.Errorf("ApproximateReceiveCount %q, want 1", r.Attributes["ApproximateReceiveCount"])
		case sent < before || first < sent:
			t.Errorf("SentTimestamp %d, ApproximateFirstReceiveTimestamp %d, sent after %d", sent, first, before)
		case r.Attributes["SenderId"] == "":
			t.Error("no SenderId")
		case r.EventSource != "aws:sqs" || r.EventSourceARN != q.ARN() || r.AWSRegion != "us-east-1":
			t.Errorf("source %q %q %q", r.EventSource, r.EventSourceARN, r.AWSRegion)
		case queue.IsDeadLetterARN(r.EventSourceARN):
			t.Errorf("a main-queue record looks like a dead letter")
		}
	}
	if got[0].rec.MessageId == got[1].rec.MessageId {
		t.Error("two messages share an id")
	}
	if s := q.Stats(); s != (Stats{Sent: 2, Received: 2, Deleted: 2}) {
		t.Errorf("stats %+v", s)
	}
}

func TestBatchesOfBatchSize(t *testing.T) {
	h := &recorder{}
	q := New(Options{Handler: h.handle, BatchSize: 3})
	send(t, q, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	run(t, q)
	waitIdle(t, q)
	if !slices.Equal(h.batches, []int{3, 3, 3, 1}) {
		t.Errorf("batch sizes %v, want [3 3 3 1]", h.batches)
	}
}

func TestPartialBatchFailureRedeliversOnlyFailedAfterVisibilityTimeout(t *testing.T) {
	const vt = 300 * time.Millisecond
	h := &recorder{fail: func(r events.SQSMessage, nth int) bool { return r.Body == "b" && nth == 1 }}
	q := New(Options{Handler: h.handle, VisibilityTimeout: vt, PollInterval: 10 * time.Millisecond})
	send(t, q, "a", "b", "c")
	run(t, q)
	time.Sleep(vt / 2)
	if s := q.Stats(); s.InFlight != 1 || s.Deleted != 2 || s.Visible != 0 {
		t.Errorf("within the visibility timeout: %+v, want b in flight and a, c deleted", s)
	}
	waitIdle(t, q)
	for _, body := range []string{"a", "c"} {
		if n := len(h.of(body)); n != 1 {
			t.Errorf("%s delivered %d times, want once", body, n)
		}
	}
	b := h.of("b")
	if len(b) != 2 {
		t.Fatalf("b delivered %d times, want twice", len(b))
	}
	if gap := b[1].at.Sub(b[0].at); gap < vt {
		t.Errorf("b came back after %s, before the visibility timeout %s", gap, vt)
	}
	if b[1].rec.MessageId != b[0].rec.MessageId || b[1].rec.ReceiptHandle == b[0].rec.ReceiptHandle {
		t.Error("a redelivery keeps its MessageId and gets a new ReceiptHandle")
	}
	if n := b[1].rec.Attributes["ApproximateReceiveCount"]; n != "2" {
		t.Errorf("ApproximateReceiveCount %s on the redelivery, want 2", n)
	}
	if b[1].rec.Attributes["ApproximateFirstReceiveTimestamp"] != b[0].rec.Attributes["ApproximateFirstReceiveTimestamp"] {
		t.Error("ApproximateFirstReceiveTimestamp changed")
	}
	if s := q.Stats(); s.Received != 4 || s.Deleted != 3 || s.Dead != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestWholeBatchFails(t *testing.T) {
	cases := map[string]Handler{
		"error": func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("boom")
		},
		"panic": func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) { panic("boom") },
		"unknown item identifier": func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-a-record"}}}, nil
		},
		"empty item identifier": func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{}}}, nil
		},
	}
	for name, failing := range cases {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			h := &recorder{}
			handler := func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
				if calls.Add(1) == 1 {
					_, _ = h.handle(ctx, e)
					return failing(ctx, e)
				}
				return h.handle(ctx, e)
			}
			q := New(Options{Handler: handler, VisibilityTimeout: 50 * time.Millisecond, PollInterval: 5 * time.Millisecond})
			send(t, q, "a", "b", "c")
			run(t, q)
			waitIdle(t, q)
			for _, body := range []string{"a", "b", "c"} {
				if n := len(h.of(body)); n != 2 {
					t.Errorf("%s delivered %d times, want twice", body, n)
				}
			}
		})
	}
}

func TestPoisonMessageReachesDeadLetterQueue(t *testing.T) {
	h := &recorder{fail: func(r events.SQSMessage, _ int) bool { return r.Body == "poison" }}
	dlq := &recorder{}
	q := New(Options{Name: "jobs", Handler: h.handle, DLQHandler: dlq.handle, MaxReceiveCount: 3,
		VisibilityTimeout: 20 * time.Millisecond, PollInterval: 5 * time.Millisecond})
	send(t, q, "fine", "poison")
	run(t, q)
	waitIdle(t, q)
	poison := h.of("poison")
	if len(poison) != 3 {
		t.Fatalf("poison delivered %d times, want MaxReceiveCount = 3", len(poison))
	}
	for i, d := range poison {
		if n := d.rec.Attributes["ApproximateReceiveCount"]; n != strconv.Itoa(i+1) {
			t.Errorf("delivery %d: ApproximateReceiveCount %s", i+1, n)
		}
	}
	dead := dlq.all()
	if len(dead) != 1 || dead[0].rec.Body != "poison" || dead[0].rec.MessageId != poison[0].rec.MessageId {
		t.Fatalf("dead-letter handler got %+v, want the poison message under its id", dead)
	}
	if r := dead[0].rec; r.EventSourceARN != q.DeadLetterARN() || !queue.IsDeadLetterARN(r.EventSourceARN) ||
		r.Attributes["SentTimestamp"] != poison[0].rec.Attributes["SentTimestamp"] {
		t.Errorf("dead letter's source %q, SentTimestamp %s", r.EventSourceARN, r.Attributes["SentTimestamp"])
	}
	letters := q.DeadLetters()
	if len(letters) != 1 || letters[0].Body != "poison" || letters[0].Receives != 3 || letters[0].MessageID != poison[0].rec.MessageId {
		t.Errorf("DeadLetters %+v", letters)
	}
	if s := q.Stats(); s.Dead != 1 || s.DeadWaiting != 0 || s.Deleted != 1 || s.Visible+s.InFlight+s.Delayed != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestDeadLettersWaitWithoutDLQHandler(t *testing.T) {
	h := &recorder{fail: func(events.SQSMessage, int) bool { return true }}
	q := New(Options{Handler: h.handle, MaxReceiveCount: 1, VisibilityTimeout: 10 * time.Millisecond, PollInterval: 5 * time.Millisecond})
	send(t, q, "x")
	run(t, q)
	waitIdle(t, q)
	if s := q.Stats(); s.Dead != 1 || s.DeadWaiting != 1 || len(h.all()) != 1 {
		t.Errorf("stats %+v after %d deliveries, want one delivery and one dead letter waiting", s, len(h.all()))
	}
}

func TestNoDeadLetterQueueRetriesForever(t *testing.T) {
	h := &recorder{fail: func(_ events.SQSMessage, nth int) bool { return nth < 8 }}
	q := New(Options{Handler: h.handle, VisibilityTimeout: 5 * time.Millisecond, PollInterval: time.Millisecond})
	send(t, q, "x")
	run(t, q)
	waitIdle(t, q)
	if n := len(h.of("x")); n != 8 || q.DeadLetterARN() != "" || len(q.DeadLetters()) != 0 {
		t.Errorf("%d deliveries, dead letters %v; want 8 and none", n, q.DeadLetters())
	}
}

func TestDelaySeconds(t *testing.T) {
	h := &recorder{}
	q := run(t, New(Options{Handler: h.handle, PollInterval: 10 * time.Millisecond}))
	sent := time.Now()
	if err := q.Send(context.Background(), queue.Message{Body: "later", DelaySeconds: 1}, queue.Message{Body: "now"}); err != nil {
		t.Fatal(err)
	}
	if s := q.Stats(); s.Delayed != 1 {
		t.Errorf("stats %+v, want one delayed", s)
	}
	waitIdle(t, q)
	now, later := h.of("now"), h.of("later")
	if len(now) != 1 || len(later) != 1 {
		t.Fatalf("deliveries now %d, later %d", len(now), len(later))
	}
	if d := later[0].at.Sub(sent); d < time.Second {
		t.Errorf("delayed message delivered after %s", d)
	}
	if d := now[0].at.Sub(sent); d > 500*time.Millisecond {
		t.Errorf("undelayed message waited %s", d)
	}
}

func TestConcurrentSendsAndHandlers(t *testing.T) {
	const senders, each, concurrency = 16, 40, 4
	var running, most atomic.Int32
	var mu sync.Mutex
	done := map[string]int{}
	attempts := map[string]int{}
	handler := func(_ context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		var resp events.SQSEventResponse
		mu.Lock()
		defer mu.Unlock()
		for _, r := range e.Records {
			attempts[r.Body]++
			if attempts[r.Body] == 1 && len(r.Body)%3 == 0 { // some fail once
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				continue
			}
			done[r.Body]++
		}
		return resp, nil
	}
	q := run(t, New(Options{Handler: handler, Concurrency: concurrency, BatchSize: 5, MaxReceiveCount: 3,
		VisibilityTimeout: 30 * time.Millisecond, PollInterval: time.Millisecond}))
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf("s%d-m%d%s", s, i, strings.Repeat("x", i%3))
				if err := q.Send(context.Background(), queue.Message{Body: body}); err != nil {
					t.Error(err)
				}
				_ = q.Stats()
			}
		}()
	}
	wg.Wait()
	waitIdle(t, q)
	mu.Lock()
	defer mu.Unlock()
	if len(done) != senders*each {
		t.Errorf("%d messages handled, want %d", len(done), senders*each)
	}
	for body, n := range done {
		if n != 1 {
			t.Errorf("%s handled %d times", body, n)
		}
	}
	if m := most.Load(); m > concurrency || m < 2 {
		t.Errorf("at most %d handlers ran at once, want 2 to %d", m, concurrency)
	}
	if s := q.Stats(); s.Sent != senders*each || s.Deleted != senders*each || s.Dead != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestSlowHandlerSeesRedelivery: a handler that outlives the visibility
// timeout lets the message be delivered again, and its late delete, with
// the old receipt handle, leaves the message to the newer delivery.
func TestSlowHandlerSeesRedelivery(t *testing.T) {
	var calls atomic.Int32
	release := []chan struct{}{make(chan struct{}), make(chan struct{})}
	handler := func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		if n := calls.Add(1); n <= 2 {
			<-release[n-1] // both deliveries outlive the visibility timeout
		}
		return events.SQSEventResponse{}, nil
	}
	q := run(t, New(Options{Handler: handler, Concurrency: 2, VisibilityTimeout: 30 * time.Millisecond, PollInterval: 5 * time.Millisecond}))
	send(t, q, "slow")
	waitFor(t, func() bool { return calls.Load() == 2 })
	close(release[0])
	waitFor(t, func() bool { return q.Stats().Handling == 1 })
	if s := q.Stats(); s.Deleted != 0 || s.Visible+s.InFlight != 1 {
		t.Errorf("after the first, stale delete: %+v, want the message still there", s)
	}
	close(release[1])
	waitIdle(t, q)
	if s := q.Stats(); s.Deleted != 1 || s.Received != int(calls.Load()) {
		t.Errorf("stats %+v after %d calls", s, calls.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
	}
}

func TestCloseStopsThePoller(t *testing.T) {
	entered := make(chan struct{})
	var calls atomic.Int32
	var cancelled atomic.Bool
	handler := func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		calls.Add(1)
		close(entered)
		<-ctx.Done()
		cancelled.Store(true)
		return events.SQSEventResponse{}, ctx.Err()
	}
	q := New(Options{Handler: handler, PollInterval: time.Millisecond})
	q.Start(context.Background())
	send(t, q, "a")
	<-entered
	q.Close()
	if !cancelled.Load() {
		t.Error("Close returned before the running handler did")
	}
	select {
	case <-q.done:
	default:
		t.Error("poller still running after Close")
	}
	if err := q.Send(context.Background(), queue.Message{Body: "b"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("%d handler calls, want 1", n)
	}
	q.Close() // a second Close is harmless
	q.Start(context.Background())
	select {
	case <-q.done:
	default:
		t.Error("Start after Close restarted the poller")
	}
}

func TestStartContextStopsThePoller(t *testing.T) {
	var calls atomic.Int32
	q := New(Options{Handler: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		calls.Add(1)
		return events.SQSEventResponse{}, nil
	}, PollInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	q.Start(ctx)
	cancel()
	<-q.done
	send(t, q, "after")
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != 0 {
		t.Error("delivered after the Start context ended")
	}
	q.Close()
}

func TestSendChecksEveryMessageFirst(t *testing.T) {
	q := New(Options{Handler: (&recorder{}).handle})
	if err := q.Send(context.Background(), queue.Message{Body: "ok"}, queue.Message{Body: ""}); err == nil {
		t.Fatal("empty body accepted")
	}
	if s := q.Stats(); s.Sent != 0 || s.Visible != 0 {
		t.Errorf("stats %+v, want nothing enqueued", s)
	}
}

func TestInvalidOptionsPanic(t *testing.T) {
	h := (&recorder{}).handle
	for name, o := range map[string]Options{
		"no handler":         {},
		"batch over 10":      {Handler: h, BatchSize: 11},
		"negative batch":     {Handler: h, BatchSize: -1},
		"negative timeout":   {Handler: h, VisibilityTimeout: -time.Second},
		"negative receives":  {Handler: h, MaxReceiveCount: -1},
		"negative interval":  {Handler: h, PollInterval: -1},
		"negative consumers": {Handler: h, Concurrency: -1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			New(o)
		}()
	}
}
