package queue

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := []Message{
		{Body: "x"},
		{Body: strings.Repeat("a", MaxBatchBytes)},
		{Body: "tab\tcr\rlf\n é ✓ 𝄞 \uFFFD", DelaySeconds: MaxDelaySeconds},
	}
	for _, m := range ok {
		if err := m.Validate(); err != nil {
			t.Errorf("%.20q: %v", m.Body, err)
		}
	}
	bad := map[string]Message{
		"empty":           {},
		"too long":        {Body: strings.Repeat("a", MaxBatchBytes+1)},
		"negative delay":  {Body: "x", DelaySeconds: -1},
		"delay over 900":  {Body: "x", DelaySeconds: MaxDelaySeconds + 1},
		"NUL":             {Body: "a\x00b"},
		"escape":          {Body: "\x1b[0m"},
		"invalid UTF-8":   {Body: "a\xffb"},
		"noncharacter":    {Body: "\uFFFE"},
		"lone surrogates": {Body: "\xed\xa0\x80"},
	}
	for name, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := Validate([]Message{{Body: "a"}, {Body: "b"}, {}}); err == nil || !strings.HasPrefix(err.Error(), "message 2:") {
		t.Errorf("Validate named %v, want message 2", err)
	}
}

func TestBatches(t *testing.T) {
	sized := func(sizes ...int) []Message {
		out := make([]Message, len(sizes))
		for i, n := range sizes {
			out[i] = Message{Body: strings.Repeat("a", n)}
		}
		return out
	}
	const k = 1 << 10
	cases := []struct {
		name string
		msgs []Message
		want string
	}{
		{"none", nil, "[]"},
		{"one", sized(1), "[[0]]"},
		{"ten", sized(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "[[0 1 2 3 4 5 6 7 8 9]]"},
		{"eleven", sized(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "[[0 1 2 3 4 5 6 7 8 9] [10]]"},
		{"bytes exactly at the limit", sized(128*k, 128*k, 1), "[[0 1] [2]]"},
		{"one byte over", sized(128*k, 128*k+1), "[[0] [1]]"},
		{"full-size message alone", sized(1, MaxBatchBytes, 1), "[[0] [1] [2]]"},
		{"order kept", sized(200*k, 10, 100*k, 10), "[[0 1] [2 3]]"},
	}
	for _, c := range cases {
		got := Batches(c.msgs)
		if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && got == nil) {
			t.Errorf("%s: %s, want %s", c.name, s, c.want)
		}
		var all []int
		for _, b := range got {
			size := 0
			for _, i := range b {
				size += len(c.msgs[i].Body)
			}
			if len(b) > MaxBatchEntries || size > MaxBatchBytes {
				t.Errorf("%s: batch %v of %d entries, %d bytes", c.name, b, len(b), size)
			}
			all = append(all, b...)
		}
		if !slices.IsSorted(all) || len(all) != len(c.msgs) {
			t.Errorf("%s: batches %v do not hold every message once, in order", c.name, got)
		}
	}
}

func TestDeadLetterConvention(t *testing.T) {
	cases := map[string]bool{
		"arn:aws:sqs:eu-west-1:123456789012:prod-group-jobs":     false,
		"arn:aws:sqs:eu-west-1:123456789012:prod-group-jobs-dlq": true,
		"https://sqs.eu-west-1.amazonaws.com/1/prod-jobs-dlq":    true,
		"arn:aws:sqs:eu-west-1:123456789012:dlq-of-nothing":      false,
	}
	for arn, want := range cases {
		if got := IsDeadLetterARN(arn); got != want {
			t.Errorf("IsDeadLetterARN(%q) = %v", arn, got)
		}
	}
	if got := QueueName("arn:aws:sqs:us-east-1:000000000000:jobs"); got != "jobs" {
		t.Errorf("QueueName = %q", got)
	}
}

func TestSendError(t *testing.T) {
	cause := errors.New("InternalError: try again")
	err := error(&SendError{Failed: []int{1, 4}, Total: 9, Err: cause})
	if !errors.Is(err, cause) || err.Error() != "queue: 2 of 9 messages not sent: InternalError: try again" {
		t.Errorf("%v", err)
	}
}
