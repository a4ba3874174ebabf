// Package queue carries work between functions as messages on a queue with
// SQS semantics: at-least-once delivery, a visibility timeout, partial batch
// failures and a dead-letter queue. It knows nothing about what a message
// means.
//
// Two implementations send messages: sqsqueue (Amazon SQS, and moto in the
// tests) and localqueue (in process, for `make dev` and the end-to-end
// tests), which also delivers them to a handler the way Lambda's SQS event
// source does. README.md beside this file describes both and the
// dead-letter convention.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of one SendMessageBatch call, which every Sender respects.
const (
	// MaxBatchEntries is the most messages one SendMessageBatch call takes.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most message bytes one SendMessageBatch call
	// takes, and so the largest message. SQS has accepted 1 MiB since 2025,
	// but 256 KiB is the limit of queues whose MaximumMessageSize says so
	// (template.yaml sets it), and a page of work is far smaller.
	MaxBatchBytes = 256 << 10
	// MaxDelaySeconds is the longest delay SQS allows (15 minutes).
	MaxDelaySeconds = 900
)

// DeadLetterSuffix ends the name, and so the ARN, of a dead-letter queue:
// queue "x" has its dead letters in "x-dlq". A worker that consumes both
// queues tells a dead letter from a first delivery by the record's
// EventSourceARN (see IsDeadLetterARN).
const DeadLetterSuffix = "-dlq"

// Message is one message to send.
type Message struct {
	// Body is the message text: 1 byte to MaxBatchBytes of UTF-8 in the
	// characters SQS allows (no control characters but tab, CR and LF).
	Body string
	// DelaySeconds keeps the message invisible for that long after it is
	// sent: 0 to MaxDelaySeconds.
	DelaySeconds int32
}

// Sender sends messages to one queue.
type Sender interface {
	// Send sends msgs, any number of them, in batches. It checks every
	// message before it sends any. When some are not sent, it returns a
	// *SendError naming them; the others were sent.
	Send(ctx context.Context, msgs ...Message) error
}

// Validate reports why SQS would refuse m, or nil.
func (m Message) Validate() error {
	switch {
	case m.Body == "":
		return errors.New("queue: empty message body")
	case len(m.Body) > MaxBatchBytes:
		return fmt.Errorf("queue: message body of %d bytes, over %d", len(m.Body), MaxBatchBytes)
	case m.DelaySeconds < 0 || m.DelaySeconds > MaxDelaySeconds:
		return fmt.Errorf("queue: delay of %d s, outside 0 to %d", m.DelaySeconds, MaxDelaySeconds)
	}
	for i, r := range m.Body {
		if !allowed(r) || (r == utf8.RuneError && !validAt(m.Body, i)) {
			return fmt.Errorf("queue: message body holds %U at byte %d, which SQS refuses", r, i)
		}
	}
	return nil
}

// allowed reports whether SQS accepts r in a message body:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func allowed(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// validAt reports whether the U+FFFD at byte i of s is really there rather
// than an invalid byte that ranging over s decoded as U+FFFD.
func validAt(s string, i int) bool { return strings.HasPrefix(s[i:], "\uFFFD") }

// Validate checks every message, naming the first bad one by its index.
func Validate(msgs []Message) error {
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// Batches splits msgs, in order, into batches of at most MaxBatchEntries
// messages and MaxBatchBytes body bytes, each given as the indexes of its
// messages in msgs. Every message must be valid (see Validate).
func Batches(msgs []Message) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for i, m := range msgs {
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+len(m.Body) > MaxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += len(m.Body)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// SendError reports messages that Send did not send. The messages not
// named were sent.
type SendError struct {
	// Failed holds the indexes, in the msgs given to Send, of the messages
	// not sent, in order.
	Failed []int
	// Total is the number of messages given to Send.
	Total int
	// Err is the last reason a message was refused.
	Err error
}

// Error says how many messages were not sent and why.
func (e *SendError) Error() string {
	return fmt.Sprintf("queue: %d of %d messages not sent: %v", len(e.Failed), e.Total, e.Err)
}

// Unwrap returns the reason.
func (e *SendError) Unwrap() error { return e.Err }

// QueueName returns the queue name at the end of an SQS ARN
// ("arn:aws:sqs:REGION:ACCOUNT:NAME") or queue URL.
func QueueName(arnOrURL string) string {
	if i := strings.LastIndexAny(arnOrURL, ":/"); i >= 0 {
		return arnOrURL[i+1:]
	}
	return arnOrURL
}

// IsDeadLetterARN reports whether the queue an SQS record came from (its
// EventSourceARN) is a dead-letter queue by this package's convention: its
// name ends with DeadLetterSuffix.
func IsDeadLetterARN(arn string) bool {
	return strings.HasSuffix(QueueName(arn), DeadLetterSuffix)
}
