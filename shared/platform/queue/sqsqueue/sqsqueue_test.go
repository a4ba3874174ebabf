package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/awsenv"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

func init() { retryBase = time.Millisecond }

// --- against moto

// motoClient returns an SQS client for this test binary's moto, counting
// calls into c.
func motoClient(t *testing.T, c *testenv.Counter) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(testenv.AWSConfig(testenv.Moto(t)), func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, c.Add)
	})
}

// createQueues creates a queue and its dead-letter queue the way
// template.yaml does (a RedrivePolicy with maxReceiveCount, a 256 KiB
// MaximumMessageSize), under fresh names, and returns the queue's URL and
// the dead-letter queue's URL.
func createQueues(t *testing.T, client *sqs.Client, maxReceiveCount int) (string, string) {
	t.Helper()
	ctx := context.Background()
	name := "jobs-" + domain.NewID()[:12]
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name + queue.DeadLetterSuffix),
		Attributes: map[string]string{"MessageRetentionPeriod": "1209600"},
	})
	if err != nil {
		t.Fatalf("create dead-letter queue: %v", err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("dead-letter queue ARN: %v", err)
	}
	dlqARN := attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	if !queue.IsDeadLetterARN(dlqARN) {
		t.Fatalf("moto's dead-letter queue ARN %q does not follow the -dlq convention", dlqARN)
	}
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			"VisibilityTimeout":  "60",
			"MaximumMessageSize": strconv.Itoa(queue.MaxBatchBytes),
			"RedrivePolicy":      fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqARN, maxReceiveCount),
		},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
		_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: dlq.QueueUrl})
	})
	return *q.QueueUrl, *dlq.QueueUrl
}

// receiveAll receives and deletes messages until want have arrived or
// nothing more comes, and returns their bodies sorted.
func receiveAll(t *testing.T, client *sqs.Client, url string, want int) []string {
	t.Helper()
	ctx := context.Background()
	var bodies []string
	for empty := 0; len(bodies) < want && empty < 3; {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	slices.Sort(bodies)
	return bodies
}

func bodies(msgs []queue.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	slices.Sort(out)
	return out
}

func TestSendsTwentyFiveInBatchesOfTen(t *testing.T) {
	var calls testenv.Counter
	client := motoClient(t, &calls)
	url, _ := createQueues(t, client, 5)
	msgs := make([]queue.Message, 25)
	for i := range msgs {
		msgs[i] = queue.Message{Body: fmt.Sprintf(`{"page":%d,"note":"é ✓ 𝄞"}`, i)}
	}
	calls.Reset()
	if err := New(client, url).Send(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	if n := calls.Counts()["SendMessageBatch"]; n != 3 || calls.Total() != 3 {
		t.Errorf("calls %v, want 3 SendMessageBatch calls and nothing else", calls.Counts())
	}
	if got := receiveAll(t, client, url, 25); !slices.Equal(got, bodies(msgs)) {
		t.Errorf("received %d bodies %q, want %q", len(got), got, bodies(msgs))
	}
}

func TestOversizedBatchSplits(t *testing.T) {
	var calls testenv.Counter
	client := motoClient(t, &calls)
	url, _ := createQueues(t, client, 5)
	big := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	// 100 + 100 KiB fit one call; a third would pass 256 KiB. The full-size
	// message then needs a call of its own.
	msgs := []queue.Message{
		{Body: big('a', 100<<10)}, {Body: big('b', 100<<10)}, {Body: big('c', 100<<10)},
		{Body: big('d', queue.MaxBatchBytes)}, {Body: "e"},
	}
	calls.Reset()
	if err := New(client, url).Send(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	if n := calls.Counts()["SendMessageBatch"]; n != 4 {
		t.Errorf("%d SendMessageBatch calls, want 4 ([a b] [c] [d] [e])", n)
	}
	if got := receiveAll(t, client, url, len(msgs)); !slices.Equal(got, bodies(msgs)) {
		t.Errorf("received %d bodies, want %d intact", len(got), len(msgs))
	}
}

func TestDelayReachesSQS(t *testing.T) {
	client := motoClient(t, &testenv.Counter{})
	url, _ := createQueues(t, client, 5)
	if err := New(client, url).Send(context.Background(), queue.Message{Body: "later", DelaySeconds: 1}, queue.Message{Body: "now"}); err != nil {
		t.Fatal(err)
	}
	if got := receiveAll(t, client, url, 2); !slices.Equal(got, []string{"now"}) {
		t.Fatalf("at once received %q, want only the undelayed message", got)
	}
	time.Sleep(1100 * time.Millisecond)
	if got := receiveAll(t, client, url, 1); !slices.Equal(got, []string{"later"}) {
		t.Fatalf("after the delay received %q, want the delayed message", got)
	}
}

// TestRedrivePolicyAsTemplateWritesIt checks that the RedrivePolicy built
// like template.yaml's moves a message received maxReceiveCount times to
// the dead-letter queue.
func TestRedrivePolicyAsTemplateWritesIt(t *testing.T) {
	client := motoClient(t, &testenv.Counter{})
	url, dlqURL := createQueues(t, client, 2)
	ctx := context.Background()
	if err := New(client, url).Send(ctx, queue.Message{Body: "poison"}); err != nil {
		t.Fatal(err)
	}
	receives := 0
	for i := 0; i < 5; i++ {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		receives += len(out.Messages)
		for _, m := range out.Messages { // a failing worker: never deleted, visible again at once
			if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if receives != 2 {
		t.Errorf("received %d times from the queue, want maxReceiveCount = 2", receives)
	}
	if got := receiveAll(t, client, dlqURL, 1); !slices.Equal(got, []string{"poison"}) {
		t.Errorf("dead-letter queue holds %q, want the poison message", got)
	}
}

// TestClientFromAWSEnv checks the wiring a function uses: awsenv.Config
// gives sqs.NewFromConfig the endpoint in AWS_ENDPOINT_URL_SQS, which wins
// over AWS_ENDPOINT_URL (here a closed port).
func TestClientFromAWSEnv(t *testing.T) {
	endpoint := testenv.Moto(t)
	url, _ := createQueues(t, motoClient(t, &testenv.Counter{}), 5)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SQS", endpoint)
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	cfg, err := awsenv.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := New(sqs.NewFromConfig(cfg), url).Send(context.Background(), queue.Message{Body: "via awsenv"}); err != nil {
		t.Fatal(err)
	}
	if got := receiveAll(t, motoClient(t, &testenv.Counter{}), url, 1); !slices.Equal(got, []string{"via awsenv"}) {
		t.Errorf("received %q", got)
	}
}

// --- failed entries, against a scripted API

// fakeAPI records the entry ids of each call and answers with failures
// decided by fail (nil: none).
type fakeAPI struct {
	mu    sync.Mutex
	calls [][]string
	fail  func(call int, id string) *types.BatchResultErrorEntry
	err   func(call int) error
}

func (f *fakeAPI) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := len(f.calls)
	var ids []string
	for _, e := range in.Entries {
		ids = append(ids, aws.ToString(e.Id))
	}
	f.calls = append(f.calls, ids)
	if f.err != nil {
		if err := f.err(call); err != nil {
			return nil, err
		}
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, id := range ids {
		if f.fail != nil {
			if e := f.fail(call, id); e != nil {
				e.Id = aws.String(id)
				out.Failed = append(out.Failed, *e)
				continue
			}
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: aws.String(id), MessageId: aws.String("m" + id)})
	}
	return out, nil
}

func msgs(n int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		out[i] = queue.Message{Body: "body " + strconv.Itoa(i)}
	}
	return out
}

func internal() *types.BatchResultErrorEntry {
	return &types.BatchResultErrorEntry{Code: aws.String("InternalError"), Message: aws.String("try again")}
}

func TestResendsFailedEntriesOnly(t *testing.T) {
	f := &fakeAPI{fail: func(call int, id string) *types.BatchResultErrorEntry {
		if call < 2 && (id == "3" || id == "7") {
			return internal()
		}
		return nil
	}}
	if err := New(f, "q").Send(context.Background(), msgs(10)...); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, {"3", "7"}, {"3", "7"}}
	if !slices.EqualFunc(f.calls, want, slices.Equal) {
		t.Errorf("calls %v, want %v", f.calls, want)
	}
}

func TestGivesUpAfterAttemptsAndNamesTheFailed(t *testing.T) {
	f := &fakeAPI{fail: func(_ int, id string) *types.BatchResultErrorEntry {
		if id == "4" || id == "12" {
			return internal()
		}
		if id == "13" {
			return &types.BatchResultErrorEntry{Code: aws.String("InvalidParameterValue"), Message: aws.String("no"), SenderFault: true}
		}
		return nil
	}}
	err := New(f, "q").Send(context.Background(), msgs(15)...)
	var se *queue.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *queue.SendError", err)
	}
	if !slices.Equal(se.Failed, []int{4, 12, 13}) || se.Total != 15 {
		t.Errorf("failed %v of %d, want [4 12 13] of 15", se.Failed, se.Total)
	}
	if !strings.Contains(err.Error(), "3 of 15 messages not sent") {
		t.Errorf("error %q does not say how many failed", err)
	}
	// Batch one: 1 call + 3 resends of "4". Batch two: 1 call + 3 resends
	// of "12" alone; "13" is the sender's fault and never resent.
	if len(f.calls) != 2*Attempts {
		t.Errorf("%d calls, want %d: %v", len(f.calls), 2*Attempts, f.calls)
	}
	for _, c := range f.calls[Attempts+1:] {
		if !slices.Equal(c, []string{"12"}) {
			t.Errorf("resend %v, want [12] alone", c)
		}
	}
}

func TestWholeCallFailureStopsAndNamesTheRest(t *testing.T) {
	boom := errors.New("throttled for good")
	f := &fakeAPI{err: func(call int) error {
		if call == 1 {
			return boom
		}
		return nil
	}}
	err := New(f, "q").Send(context.Background(), msgs(25)...)
	var se *queue.SendError
	if !errors.As(err, &se) || !errors.Is(err, boom) {
		t.Fatalf("error %v, want a *queue.SendError wrapping the call's error", err)
	}
	if want := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}; !slices.Equal(se.Failed, want) {
		t.Errorf("failed %v, want %v", se.Failed, want)
	}
	if len(f.calls) != 2 {
		t.Errorf("%d calls, want 2 (no call after the failed one)", len(f.calls))
	}
}

func TestInvalidMessageSendsNothing(t *testing.T) {
	f := &fakeAPI{}
	bad := append(msgs(12), queue.Message{Body: "x", DelaySeconds: 901})
	if err := New(f, "q").Send(context.Background(), bad...); err == nil || !strings.Contains(err.Error(), "message 12") {
		t.Errorf("error %v, want one naming message 12", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("%d calls, want none", len(f.calls))
	}
}

func TestNothingToSend(t *testing.T) {
	f := &fakeAPI{}
	if err := New(f, "q").Send(context.Background()); err != nil || len(f.calls) != 0 {
		t.Errorf("error %v, %d calls; want nil and none", err, len(f.calls))
	}
}
