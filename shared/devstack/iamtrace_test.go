package devstack

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/queue"
	"github.com/guestaccess/guestaccess/shared/samtemplate"
)

// The recorder needs no emulator: its middleware runs before a request is
// sent, so calls to a closed port are recorded all the same.
func TestCallLogRecordsIAMActions(t *testing.T) {
	log := NewCallLog()
	tr := tracer{log: log, table: "tbl"}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.APIOptions = append(o.APIOptions, tr.middleware("dynamodb"))
	})
	mail := ses.NewFromConfig(cfg, func(o *ses.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.APIOptions = append(o.APIOptions, tr.middleware("ses"))
	})
	tbl, key := aws.String("tbl"), map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}}

	// No function in the context (test setup, seeding): nothing recorded.
	_, _ = db.Query(context.Background(), &dynamodb.QueryInput{TableName: tbl})
	if c := log.Calls(); len(c) != 0 {
		t.Fatalf("calls with no function recorded: %v", c)
	}
	ctx := WithFunction(context.Background(), "Fn")
	var wg sync.WaitGroup // concurrent calls, for -race
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: tbl, Item: key}},
				{Update: &types.Update{TableName: tbl, Key: key, UpdateExpression: aws.String("SET a = :a")}},
				{Delete: &types.Delete{TableName: tbl, Key: key}},
				{ConditionCheck: &types.ConditionCheck{TableName: tbl, Key: key, ConditionExpression: aws.String("attribute_exists(PK)")}},
			}})
			_, _ = db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"tbl": {Keys: []map[string]types.AttributeValue{key}}}})
			_, _ = db.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("GSI2")})
			_, _ = db.Query(WithFunction(ctx, "Other"), &dynamodb.QueryInput{TableName: tbl})
			_, _ = db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("elsewhere")})
			_, _ = mail.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("a@b.example"), Destination: &sestypes.Destination{ToAddresses: []string{"c@d.example"}},
				Message: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("t")}}}})
			_ = tracedQueue{Sender: nopSender{}, log: log}.Send(ctx, queue.Message{Body: "x"})
		}()
	}
	wg.Wait()
	var got []string
	for _, c := range log.Calls() {
		got = append(got, c.String())
	}
	want := []string{
		"Fn: dynamodb:BatchGetItem on ${Table.Arn}",
		"Fn: dynamodb:ConditionCheckItem on ${Table.Arn}",
		"Fn: dynamodb:DeleteItem on ${Table.Arn}",
		"Fn: dynamodb:PutItem on ${Table.Arn}",
		"Fn: dynamodb:Query on ${Table.Arn}/index/GSI2",
		"Fn: dynamodb:Scan on table/elsewhere",
		"Fn: dynamodb:UpdateItem on ${Table.Arn}",
		"Fn: ses:SendEmail on arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/a@b.example",
		"Fn: sqs:SendMessage on ${GroupJobsQueue.Arn}",
		"Other: dynamodb:Query on ${Table.Arn}",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Against the real template, under a real function's name: what it is
	// not granted is reported, what it is granted is not.
	log = NewCallLog()
	for _, c := range []Call{
		{"RolesFunction", "dynamodb:ConditionCheckItem", "${Table.Arn}"},
		{"RolesFunction", "dynamodb:Query", "${Table.Arn}/index/GSI1"}, // the table's Query grant does not cover an index
		{"GroupsFunction", "dynamodb:Query", "${Table.Arn}/index/GSI1"},
		{"GroupsFunction", "dynamodb:Query", "${Table.Arn}/index/GSI2"},
		{"EmailSenderFunction", "ses:SendEmail", "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/a@b.example"},
		{"InviteGuestsFunction", "ses:SendEmail", "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/a@b.example"}, // it queues its emails
		{"InviteGuestsFunction", "sqs:SendMessage", "${EmailQueue.Arn}"},
		{"AccessDecisionFunction", "sqs:SendMessage", "${GroupJobsQueue.Arn}"},
	} {
		log.add(c)
	}
	got = nil
	for _, c := range log.Ungranted(repoTemplate(t)) {
		got = append(got, c.String())
	}
	want = []string{
		"AccessDecisionFunction: sqs:SendMessage on ${GroupJobsQueue.Arn}",
		"GroupsFunction: dynamodb:Query on ${Table.Arn}/index/GSI2",
		"InviteGuestsFunction: ses:SendEmail on arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/a@b.example",
		"RolesFunction: dynamodb:Query on ${Table.Arn}/index/GSI1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ungranted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, ...queue.Message) error { return nil }

// The gateway runs the authorizer as AuthorizerFunction and each handler as
// its route's function.
func TestGatewayPutsTheFunctionInTheContext(t *testing.T) {
	routes := []samtemplate.Route{{FunctionID: "PublicFn", Method: "GET", Path: "/p", Public: true}, {FunctionID: "GuardedFn", Method: "GET", Path: "/g"}}
	var seen []string
	var mu sync.Mutex
	record := func(ctx context.Context) { mu.Lock(); seen = append(seen, FunctionOf(ctx)); mu.Unlock() }
	handler := func(ctx context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		record(ctx)
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	g := &Gateway{Routes: routes, Handlers: map[string]httpapi.Handler{"PublicFn": handler, "GuardedFn": handler},
		Authorizer: func(ctx context.Context, _ events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			record(ctx)
			return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "p", PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Statement: []events.IAMPolicyStatement{{Effect: "Allow"}}}}, nil
		}, Stage: "local"}
	for _, p := range []string{"/p", "/g"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	if want := []string{"PublicFn", AuthorizerFunctionID, "GuardedFn"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("functions in context: %v, want %v", seen, want)
	}
}
