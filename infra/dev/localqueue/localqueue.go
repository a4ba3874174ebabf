// Package localqueue is an in-process queue with the semantics of Amazon SQS
// feeding a Lambda function through an SQS event source mapping with
// ReportBatchItemFailures, for `make dev` and the end-to-end tests: no
// Docker, no emulator.
//
// What it keeps from SQS and Lambda:
//
//   - at-least-once delivery in batches of up to BatchSize records, each a
//     real events.SQSMessage (MessageId, ReceiptHandle, Body, Md5OfBody,
//     Attributes with ApproximateReceiveCount, SentTimestamp, SenderId and
//     ApproximateFirstReceiveTimestamp, EventSource "aws:sqs",
//     EventSourceARN, AWSRegion);
//   - a received message is invisible for VisibilityTimeout, counted from
//     the receive: the records the handler lists in BatchItemFailures, and
//     every record when it returns an error or panics, are delivered again
//     once that has passed; the others are deleted. An identifier that
//     names no record of the batch fails the whole batch, as Lambda does;
//   - a handler that runs past the visibility timeout may see its messages
//     delivered again meanwhile, and deleting them with the old receipt
//     handle then does nothing;
//   - DelaySeconds keeps a message invisible after it is sent;
//   - a message about to be received for the (MaxReceiveCount+1)th time
//     goes to the dead-letter queue instead, keeping its MessageId and
//     SentTimestamp; the dead-letter queue is a queue of its own, consumed
//     by DLQHandler when set, and never redrives further;
//   - order is best-effort (send order), as on a standard queue.
//
// Names follow the convention of package queue: the queue's ARN ends with
// its Name, the dead-letter queue's with Name+"-dlq", so a worker that
// consumes both tells them apart by EventSourceARN (queue.IsDeadLetterARN).
package localqueue

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// Region and AccountID are those of every local queue's ARN.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// Defaults for unset Options.
const (
	DefaultName              = "local-queue"
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultPollInterval      = 50 * time.Millisecond
)

// Handler handles one batch the way a Lambda function with an SQS event
// does: it returns the records it failed in BatchItemFailures (by
// MessageId), or an error to fail them all.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Options configure a Queue.
type Options struct {
	// Name is the queue's name, the last part of its ARN; its dead-letter
	// queue is Name+"-dlq". Default DefaultName.
	Name string
	// VisibilityTimeout is how long a received message stays invisible.
	// Default DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// MaxReceiveCount is how many times a message is delivered before it
	// goes to the dead-letter queue (a redrive policy's maxReceiveCount).
	// 0 means no dead-letter queue: a failing message comes back forever.
	MaxReceiveCount int
	// BatchSize is the most records in one event, 1 to 10. Default 10.
	BatchSize int
	// Concurrency is how many batches are handled at once. Default 1.
	Concurrency int
	// PollInterval is the longest a visible message waits for the poller
	// (a Send wakes it at once). Default DefaultPollInterval.
	PollInterval time.Duration
	// Handler handles the queue's batches. Required.
	Handler Handler
	// DLQHandler, if set, consumes the dead-letter queue like a second
	// event source mapping, with the same visibility timeout and batch
	// size; its failed records come back after the visibility timeout.
	DLQHandler Handler
	// Log receives the queue's warnings (dead letters, failed batches).
	// Default: discarded.
	Log *slog.Logger
}

// Queue is an in-process SQS queue with a poller that calls a Handler. It
// is safe for concurrent use.
type Queue struct {
	opts Options
	arn  string
	log  *slog.Logger
	dlq  *Queue // nil without MaxReceiveCount

	mu       sync.Mutex
	msgs     []*message // in send order
	dead     []DeadLetter
	handling int
	counts   counts
	started  bool
	closed   bool

	wake     chan struct{} // cap 1: a Send or a finished batch
	stop     context.CancelFunc
	done     chan struct{} // closed when the poller has returned
	handlers sync.WaitGroup
}

type message struct {
	id, body, md5 string
	sent          time.Time
	visibleAt     time.Time
	firstReceive  time.Time
	receives      int
	receipt       string // of the latest receive
}

type counts struct{ sent, received, deleted int }

var _ queue.Sender = (*Queue)(nil)

// ErrClosed is returned by Send on a closed queue.
var ErrClosed = errors.New("localqueue: closed")

// New returns a queue that delivers nothing until Start. It panics on
// options no queue can have (no Handler, BatchSize outside 1 to 10,
// negative durations or counts): they are a program's constants.
func New(opts Options) *Queue {
	switch {
	case opts.Handler == nil:
		panic("localqueue: Options.Handler is required")
	case opts.BatchSize < 0 || opts.BatchSize > queue.MaxBatchEntries:
		panic(fmt.Sprintf("localqueue: BatchSize %d, outside 1 to %d", opts.BatchSize, queue.MaxBatchEntries))
	case opts.VisibilityTimeout < 0 || opts.PollInterval < 0 || opts.MaxReceiveCount < 0 || opts.Concurrency < 0:
		panic("localqueue: negative VisibilityTimeout, PollInterval, MaxReceiveCount or Concurrency")
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.VisibilityTimeout == 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = queue.MaxBatchEntries
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 1
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	q := newQueue(opts)
	if opts.MaxReceiveCount > 0 {
		d := opts
		d.Name += queue.DeadLetterSuffix
		d.MaxReceiveCount = 0
		d.Concurrency = 1
		d.Handler, d.DLQHandler = opts.DLQHandler, nil
		q.dlq = newQueue(d)
	}
	return q
}

func newQueue(opts Options) *Queue {
	arn := "arn:aws:sqs:" + Region + ":" + AccountID + ":" + opts.Name
	return &Queue{opts: opts, arn: arn, log: opts.Log.With("queue", opts.Name), wake: make(chan struct{}, 1)}
}

// ARN returns the queue's ARN, the EventSourceARN of its records.
func (q *Queue) ARN() string { return q.arn }

// DeadLetterARN returns the dead-letter queue's ARN, the EventSourceARN of
// the records DLQHandler gets, or "" without MaxReceiveCount.
func (q *Queue) DeadLetterARN() string {
	if q.dlq == nil {
		return ""
	}
	return q.dlq.arn
}

// Start starts delivering messages, and the dead-letter queue's when
// DLQHandler is set, until ctx ends or Close. Handlers get contexts derived
// from ctx. A second Start does nothing.
func (q *Queue) Start(ctx context.Context) {
	q.start(ctx)
	if q.dlq != nil && q.dlq.opts.Handler != nil {
		q.dlq.start(ctx)
	}
}

func (q *Queue) start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	q.started = true
	ctx, q.stop = context.WithCancel(ctx)
	q.done = make(chan struct{})
	go q.poll(ctx)
}

// Close stops the pollers, cancels the handlers' contexts and waits for
// them to return. Messages not yet handled are dropped; Send fails from
// then on.
func (q *Queue) Close() {
	q.close()
	if q.dlq != nil {
		q.dlq.close()
	}
}

func (q *Queue) close() {
	q.mu.Lock()
	q.closed = true
	stop, done := q.stop, q.done
	q.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	q.handlers.Wait()
}

// Send enqueues msgs, each visible after its DelaySeconds. It checks every
// message first and enqueues none if one is invalid.
func (q *Queue) Send(_ context.Context, msgs ...queue.Message) error {
	if err := queue.Validate(msgs); err != nil {
		return err
	}
	now := time.Now()
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	for _, m := range msgs {
		sum := md5.Sum([]byte(m.Body))
		q.msgs = append(q.msgs, &message{
			id: newUUID(), body: m.Body, md5: hex.EncodeToString(sum[:]),
			sent: now, visibleAt: now.Add(time.Duration(m.DelaySeconds) * time.Second),
		})
	}
	q.counts.sent += len(msgs)
	q.mu.Unlock()
	q.signal()
	return nil
}

// signal wakes the poller.
func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// poll receives batches while a handler slot is free, and otherwise waits
// for a Send, a finished batch or PollInterval.
func (q *Queue) poll(ctx context.Context) {
	defer close(q.done)
	slots := make(chan struct{}, q.opts.Concurrency)
	idle := time.NewTimer(q.opts.PollInterval)
	defer idle.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if batch := q.receive(time.Now()); len(batch) > 0 {
			q.handlers.Add(1)
			go func() {
				defer q.handlers.Done()
				q.deliver(ctx, batch)
				<-slots
				q.signal()
			}()
			continue
		}
		<-slots
		idle.Reset(q.opts.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-idle.C:
		}
	}
}

// receive takes up to BatchSize visible messages, moving those received
// MaxReceiveCount times already to the dead-letter queue, and returns the
// records of the rest.
func (q *Queue) receive(now time.Time) []events.SQSMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch []events.SQSMessage
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		switch {
		case len(batch) == q.opts.BatchSize || m.visibleAt.After(now):
			kept = append(kept, m)
		case q.dlq != nil && m.receives >= q.opts.MaxReceiveCount:
			q.dead = append(q.dead, DeadLetter{MessageID: m.id, Body: m.body, Receives: m.receives, At: now})
			q.dlq.enqueue(m)
			q.log.Warn("message moved to the dead-letter queue", "messageId", m.id, "receives", m.receives)
		default:
			m.receives++
			m.receipt = newReceipt()
			m.visibleAt = now.Add(q.opts.VisibilityTimeout)
			if m.firstReceive.IsZero() {
				m.firstReceive = now
			}
			batch = append(batch, q.record(m))
			kept = append(kept, m)
		}
	}
	clear(q.msgs[len(kept):])
	q.msgs = kept
	if len(batch) > 0 {
		q.handling++
		q.counts.received += len(batch)
	}
	return batch
}

// enqueue adds a dead letter to this (dead-letter) queue, visible at once.
func (q *Queue) enqueue(m *message) {
	q.mu.Lock()
	q.msgs = append(q.msgs, &message{id: m.id, body: m.body, md5: m.md5, sent: m.sent, visibleAt: time.Now()})
	q.counts.sent++
	q.mu.Unlock()
	q.signal()
}

func (q *Queue) record(m *message) events.SQSMessage {
	return events.SQSMessage{
		MessageId:     m.id,
		ReceiptHandle: m.receipt,
		Body:          m.body,
		Md5OfBody:     m.md5,
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.receives),
			"SentTimestamp":                    millis(m.sent),
			"SenderId":                         AccountID,
			"ApproximateFirstReceiveTimestamp": millis(m.firstReceive),
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    q.arn,
		AWSRegion:         Region,
	}
}

// deliver runs the handler on a batch and deletes the records it did not
// fail.
func (q *Queue) deliver(ctx context.Context, batch []events.SQSMessage) {
	start := time.Now()
	resp, err := q.call(ctx, batch)
	if d := time.Since(start); d > q.opts.VisibilityTimeout {
		q.log.Warn("handler ran past the visibility timeout: its messages may have been delivered again meanwhile",
			"took", d, "visibilityTimeout", q.opts.VisibilityTimeout)
	}
	failed := map[string]bool{}
	switch {
	case err != nil:
		q.log.Warn("batch failed: every record comes back after the visibility timeout", "records", len(batch), "err", err)
		for _, r := range batch {
			failed[r.MessageId] = true
		}
	default:
		inBatch := map[string]bool{}
		for _, r := range batch {
			inBatch[r.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				q.log.Warn("batchItemFailures names no record of the batch: the whole batch failed", "itemIdentifier", f.ItemIdentifier)
				failed = inBatch
				break
			}
			failed[f.ItemIdentifier] = true
		}
		if len(failed) > 0 && len(failed) < len(batch) {
			q.log.Info("records failed: they come back after the visibility timeout", "failed", len(failed), "records", len(batch))
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handling--
	for _, r := range batch {
		if !failed[r.MessageId] {
			q.delete(r.MessageId, r.ReceiptHandle)
		}
	}
}

// call runs the handler, turning a panic into an error.
func (q *Queue) call(ctx context.Context, batch []events.SQSMessage) (resp events.SQSEventResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return q.opts.Handler(ctx, events.SQSEvent{Records: batch})
}

// delete removes a message if receipt is its latest receipt handle.
func (q *Queue) delete(id, receipt string) {
	for i, m := range q.msgs {
		if m.id == id {
			if m.receipt != receipt {
				q.log.Warn("delete with a stale receipt handle ignored: the message was received again", "messageId", id)
				return
			}
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			q.counts.deleted++
			return
		}
	}
}

// DeadLetter is a message that went to the dead-letter queue.
type DeadLetter struct {
	// MessageID is the message's id, the same in both queues.
	MessageID string
	// Body is the message's body.
	Body string
	// Receives is how many times the queue delivered it.
	Receives int
	// At is when it moved.
	At time.Time
}

// DeadLetters returns every message that went to the dead-letter queue, in
// the order they went, whether or not DLQHandler has consumed them since.
func (q *Queue) DeadLetters() []DeadLetter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]DeadLetter(nil), q.dead...)
}

// Stats is a snapshot of a queue, with the meanings of SQS's approximate
// counts.
type Stats struct {
	// Visible messages wait to be delivered.
	Visible int
	// Delayed messages wait for their DelaySeconds.
	Delayed int
	// InFlight messages were delivered and not deleted: being handled, or
	// failed and waiting for the visibility timeout.
	InFlight int
	// Handling is the number of batches whose handler is running.
	Handling int
	// Dead is the number of messages that went to the dead-letter queue.
	Dead int
	// DeadWaiting is the number of messages in the dead-letter queue not
	// yet consumed (all of them without DLQHandler).
	DeadWaiting int
	// Sent, Received and Deleted count messages sent, deliveries (a
	// redelivery counts again) and deletions since New.
	Sent, Received, Deleted int
}

// Stats returns the queue's counts now.
func (q *Queue) Stats() Stats {
	s := q.stats(time.Now())
	if q.dlq != nil {
		d := q.dlq.stats(time.Now())
		s.DeadWaiting = d.Visible + d.InFlight
	}
	return s
}

func (q *Queue) stats(now time.Time) Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := Stats{Handling: q.handling, Dead: len(q.dead), Sent: q.counts.sent, Received: q.counts.received, Deleted: q.counts.deleted}
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			s.Visible++
		case m.receives == 0:
			s.Delayed++
		default:
			s.InFlight++
		}
	}
	return s
}

// WaitIdle waits until the queue holds no message and no handler runs, nor
// in the dead-letter queue when DLQHandler consumes it; or until ctx ends.
func (q *Queue) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !q.idle() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("localqueue: not idle: %+v: %w", q.Stats(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func (q *Queue) idle() bool {
	empty := func(q *Queue) bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.msgs) == 0 && q.handling == 0
	}
	if !empty(q) {
		return false
	}
	return q.dlq == nil || q.dlq.opts.Handler == nil || empty(q.dlq)
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// newUUID returns a random (version 4) UUID, the form of SQS message ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newReceipt returns an opaque receipt handle, different at every receive.
func newReceipt() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
