// Package sqsqueue sends messages to an Amazon SQS queue: a queue.Sender
// on SendMessageBatch.
//
// Build the client from awsenv, which honours AWS_ENDPOINT_URL_SQS (and
// AWS_ENDPOINT_URL) the way the SDK's own config package does:
//
//	cfg, err := awsenv.Config()
//	s := sqsqueue.New(sqs.NewFromConfig(cfg), os.Getenv("JOBS_QUEUE_URL"))
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// API is the part of *sqs.Client a Sender uses.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Attempts is how many times a Sender sends an entry that SQS reports as
// failed through no fault of the sender (SenderFault false) before it gives
// up on it. Whole-call failures (throttling, 5xx, network) are the SDK's to
// retry, with its own backoff.
const Attempts = 4

// retryBase is the wait before the first resend of failed entries; it
// doubles each time. A variable so that tests can shorten it.
var retryBase = 50 * time.Millisecond

// Sender sends messages to one SQS queue. It is safe for concurrent use.
type Sender struct {
	client API
	url    string
}

var _ queue.Sender = (*Sender)(nil)

// New returns a Sender to the queue at queueURL. client is usually an
// *sqs.Client.
func New(client API, queueURL string) *Sender {
	return &Sender{client: client, url: queueURL}
}

// Send sends msgs in SendMessageBatch calls of at most queue.MaxBatchEntries
// messages and queue.MaxBatchBytes, in order. It checks every message
// first and sends none if one is invalid. Entries that SQS reports as
// failed are sent again, up to Attempts times in all, unless SQS blames the
// sender; a call that fails as a whole stops Send. What was not sent comes
// back as a *queue.SendError naming the messages.
func (s *Sender) Send(ctx context.Context, msgs ...queue.Message) error {
	if err := queue.Validate(msgs); err != nil {
		return err
	}
	var failed []int
	var last error
	batches := queue.Batches(msgs)
	for b, batch := range batches {
		left, err := s.sendBatch(ctx, msgs, batch)
		if err != nil {
			last = err
			failed = append(failed, left...)
		}
		var callErr *callError
		if errors.As(err, &callErr) {
			for _, rest := range batches[b+1:] {
				failed = append(failed, rest...)
			}
			break
		}
	}
	if len(failed) > 0 {
		return &queue.SendError{Failed: failed, Total: len(msgs), Err: last}
	}
	return nil
}

// callError is a SendMessageBatch call that failed as a whole.
type callError struct{ err error }

func (e *callError) Error() string { return "SendMessageBatch: " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// entryError is an entry SQS refused.
type entryError struct{ code, message string }

func (e *entryError) Error() string { return "SendMessageBatch entry: " + e.code + ": " + e.message }

// sendBatch sends one batch, resending the entries that fail through no
// fault of the sender. It returns the indexes of the messages not sent, in
// order, and why.
func (s *Sender) sendBatch(ctx context.Context, msgs []queue.Message, batch []int) ([]int, error) {
	pending := batch
	var refused []int // entries SQS blamed on the sender: never resent
	var last error
	wait := retryBase
	for attempt := 1; ; attempt++ {
		out, err := s.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &s.url, Entries: entries(msgs, pending)})
		if err != nil {
			return sorted(append(refused, pending...)), &callError{err}
		}
		var retry []int
		for _, f := range out.Failed {
			idx, err := strconv.Atoi(aws.ToString(f.Id))
			if err != nil || !slices.Contains(pending, idx) {
				return sorted(append(refused, pending...)), &callError{fmt.Errorf("the answer names entry %q, which was not sent", aws.ToString(f.Id))}
			}
			last = &entryError{code: aws.ToString(f.Code), message: aws.ToString(f.Message)}
			if f.SenderFault {
				refused = append(refused, idx)
			} else {
				retry = append(retry, idx)
			}
		}
		if len(retry) == 0 || attempt == Attempts {
			if left := append(refused, retry...); len(left) > 0 {
				return sorted(left), last
			}
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return sorted(append(refused, retry...)), &callError{ctx.Err()}
		case <-time.After(wait):
		}
		wait *= 2
		pending = retry
	}
}

// entries returns the request entries of the messages at idxs; each
// entry's id is its message's index in msgs.
func entries(msgs []queue.Message, idxs []int) []types.SendMessageBatchRequestEntry {
	out := make([]types.SendMessageBatchRequestEntry, len(idxs))
	for i, idx := range idxs {
		out[i] = types.SendMessageBatchRequestEntry{
			Id:           aws.String(strconv.Itoa(idx)),
			MessageBody:  aws.String(msgs[idx].Body),
			DelaySeconds: msgs[idx].DelaySeconds,
		}
	}
	return out
}

func sorted(idxs []int) []int { slices.Sort(idxs); return idxs }
