package groupsapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/platform/queue/sqsqueue"
	"github.com/guestaccess/guestaccess/shared/store"
)

// TestWorkerOverSQS runs a group role job through moto's SQS wire protocol:
// the plan and pages are sent with SendMessageBatch, received with
// ReceiveMessage, handed to the worker as a Lambda SQS event (as the event
// source mapping does), deleted when handled and left to come back when
// reported as failed.
func TestWorkerOverSQS(t *testing.T) {
	moto := testenv.Moto(t)
	ctx := context.Background()
	db := testenv.DynamoDB(moto, nil)
	st := store.New(db, testenv.Table(t, db))
	if err := demo.Seed(ctx, st, 1); err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(testenv.AWSConfig(moto))
	name := "jobs-" + domain.NewID()[:10]
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + queue.DeadLetterSuffix)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, attrs.Attributes["QueueArn"]),
	}})
	if err != nil {
		t.Fatal(err)
	}
	qattrs, _ := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	arn := qattrs.Attributes["QueueArn"]

	env := config.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	jobs := groupsapi.Jobs(env, st, sqsqueue.New(client, *q.QueueUrl))
	jobs.InlineMembers, jobs.PageMembers, jobs.FinishDelay = -1, 2, time.Second
	worker := groupsapi.GroupJobsWorker(env, jobs)

	gs := groups.New(st)
	admin := domain.Caller{AccountID: demo.AdminID}
	if _, err := gs.Create(ctx, admin, demo.OrgID, "agency", "Agency", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id := fmt.Sprintf("s%d", i)
		if err := st.CreateUser(ctx, domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@agency.example", Status: domain.UserActive}, demo.SiteID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := gs.AddMember(ctx, admin, demo.OrgID, "agency", id); err != nil {
			t.Fatal(err)
		}
	}
	j, err := jobs.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "guest")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	batches, failed := 0, 0
	for time.Now().Before(deadline) {
		got, _ := st.Job(ctx, demo.OrgID, j.ID)
		if got.State.Finished() {
			j = got
			break
		}
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 5, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		ev := events.SQSEvent{}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1"})
		}
		batches++
		resp, err := worker(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		bad := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			bad[f.ItemIdentifier] = true
			failed++
		}
		for _, m := range out.Messages {
			if !bad[aws.ToString(m.MessageId)] {
				if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	t.Logf("job %s over SQS: %d events, %d records reported failed and redelivered; %d pages", j.State, batches, failed, j.Pages)
	if j.State != domain.JobDone || j.Done != 5 || j.Pages != 3 {
		t.Fatalf("job = %+v", j)
	}
	site, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
	if site.Guests != 5 {
		t.Errorf("guests = %d", site.Guests)
	}
}
