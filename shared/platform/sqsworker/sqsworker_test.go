package sqsworker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
)

// TestWorkerCountsFailedJobPages: a queue worker counts, in one EMF record
// an invocation, the dead-letter records it handled (each a page whose job
// it marked failed: template.yaml's GroupJobFailedAlarm and
// ExportFailedAlarm read metrics.JobPagesFailed); neither a page of the
// main queue nor a dead letter whose handling failed (it comes back) is
// counted, and an invocation with none emits nothing.
func TestWorkerCountsFailedJobPages(t *testing.T) {
	var out bytes.Buffer
	env := config.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: &metrics.Recorder{Function: "GroupJobsWorkerFunction", Out: &out}}
	ok := func(context.Context, string) error { return nil }
	dead := func(_ context.Context, body string) error {
		if body == "broken" {
			return errors.New("table unavailable")
		}
		return nil
	}
	h := Handler(env, "jobs worker", ok, dead)
	const main, dlq = "arn:aws:sqs:eu-west-1:1:stack-group-jobs", "arn:aws:sqs:eu-west-1:1:stack-group-jobs-dlq"
	resp, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", EventSourceARN: main, Body: "page"},
		{MessageId: "2", EventSourceARN: dlq, Body: "page"},
		{MessageId: "3", EventSourceARN: dlq, Body: "broken"},
		{MessageId: "4", EventSourceARN: dlq, Body: "page"},
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "3" {
		t.Fatalf("resp %+v, %v: want only record 3 failed", resp, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("EMF output %q: want one record", out.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec[metrics.JobPagesFailed] != float64(2) || rec["Function"] != "GroupJobsWorkerFunction" {
		t.Errorf("record %v: want %s = 2 for the function", rec, metrics.JobPagesFailed)
	}
	out.Reset()
	if _, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "5", EventSourceARN: main, Body: "page"}}}); err != nil || out.Len() != 0 {
		t.Errorf("a batch of the main queue: %v, EMF %q; want none", err, out.String())
	}
}
