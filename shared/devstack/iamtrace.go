package devstack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/shared/queue"
	"github.com/guestaccess/guestaccess/shared/samtemplate"
)

// The emulators do not enforce IAM, so the stack records which function
// made each AWS call, as the IAM action and resource it needs, and a test
// holds the calls against each function's policy in template.yaml.

// Logical ids of the template resources the stack stands in for.
const (
	tableID     = "Table"
	jobsQueueID = "GroupJobsQueue"
	// exportsQueueID is the external users' exports queue.
	exportsQueueID = "ExportsQueue"
	// emailQueueID and emailDeadLetterQueueID are the email queue and its
	// dead-letter queue.
	emailQueueID           = "EmailQueue"
	emailDeadLetterQueueID = "EmailDeadLetterQueue"
	// EmailSenderFunctionID sends the email queue's emails, in process.
	EmailSenderFunctionID = "EmailSenderFunction"
	// ExportWorkerFunctionID writes export jobs, in process.
	ExportWorkerFunctionID = "ExportWorkerFunction"
	// WorkerFunctionID and RetryFunctionID run in process, outside the gateway.
	WorkerFunctionID = "GroupJobsWorkerFunction"
	RetryFunctionID  = "RetryInvitationEmailsFunction"
	// AuthorizerFunctionID is the API's Lambda authorizer.
	AuthorizerFunctionID = "AuthorizerFunction"
)

type functionKey struct{}

// WithFunction returns ctx marked as running inside the function with that
// logical id: the AWS calls made with it are recorded against the function.
func WithFunction(ctx context.Context, logicalID string) context.Context {
	return context.WithValue(ctx, functionKey{}, logicalID)
}

// FunctionOf returns the logical id WithFunction put in ctx, or "".
func FunctionOf(ctx context.Context) string {
	id, _ := ctx.Value(functionKey{}).(string)
	return id
}

// Call is what IAM authorises for one AWS call, or one item of a
// transaction: an action such as "dynamodb:ConditionCheckItem" on a
// resource in template form ("${Table.Arn}", "${Table.Arn}/index/GSI2",
// "${GroupJobsQueue.Arn}"; see [samtemplate.PolicyStatement.Resources]).
type Call struct {
	Function string
	Action   string
	Resource string
}

func (c Call) String() string { return c.Function + ": " + c.Action + " on " + c.Resource }

// CallLog is the set of calls made by functions (calls with no function in
// their context, such as test setup and seeding, are not recorded). It is
// safe for concurrent use; recording a call already seen takes one
// sync.Map lookup.
type CallLog struct{ seen sync.Map } // Call -> struct{}

// NewCallLog returns an empty log.
func NewCallLog() *CallLog { return &CallLog{} }

func (l *CallLog) add(c Call) {
	if _, ok := l.seen.Load(c); !ok {
		l.seen.LoadOrStore(c, struct{}{})
	}
}

// Calls returns the calls recorded, sorted.
func (l *CallLog) Calls() []Call {
	var out []Call
	l.seen.Range(func(k, _ any) bool { out = append(out, k.(Call)); return true })
	slices.SortFunc(out, func(a, b Call) int {
		return strings.Compare(a.Function+"\x00"+a.Action+"\x00"+a.Resource, b.Function+"\x00"+b.Action+"\x00"+b.Resource)
	})
	return out
}

// Ungranted returns the recorded calls that the calling function's policy
// in tpl does not allow (see [samtemplate.Template.Allows]; conditions are
// not evaluated).
func (l *CallLog) Ungranted(tpl *samtemplate.Template) []Call {
	var out []Call
	for _, c := range l.Calls() {
		if !tpl.Allows(c.Function, c.Action, c.Resource) {
			out = append(out, c)
		}
	}
	return out
}

// tracer records the calls of one stack into a log.
type tracer struct {
	log   *CallLog
	table string // the stack's table name, which stands for ${Table.Arn}
}

func (tr tracer) tableARN(name *string) string {
	if name != nil && *name == tr.table {
		return "${" + tableID + ".Arn}"
	}
	if name == nil {
		return "${" + tableID + ".Arn}" // not named in the input: the stack has one table
	}
	return "table/" + *name // another table: no policy names it
}

func (tr tracer) index(table, index *string) string {
	arn := tr.tableARN(table)
	if index != nil {
		arn += "/index/" + *index
	}
	return arn
}

// middleware returns an APIOptions entry that records each call of a
// client, service being the IAM prefix ("dynamodb", "ses"). It runs once
// per operation (at Initialize, before retries).
func (tr tracer) middleware(service string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("devstack.iamTrace", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if fn := FunctionOf(ctx); fn != "" {
				op := awsmiddleware.GetOperationName(ctx)
				switch service {
				case "dynamodb":
					tr.dynamo(fn, op, in.Parameters)
				case "ses":
					tr.ses(fn, op, in.Parameters)
				default:
					tr.log.add(Call{fn, service + ":" + op, "*"})
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
}

// dynamo records a DynamoDB call as IAM authorises it: a transaction by its
// items' own actions (IAM has no TransactWriteItems action), a batch on
// every table it names, Query and Scan on the index they read.
func (tr tracer) dynamo(fn, op string, params any) {
	add := func(action, resource string) { tr.log.add(Call{fn, "dynamodb:" + action, resource}) }
	switch in := params.(type) {
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				add("PutItem", tr.tableARN(it.Put.TableName))
			case it.Update != nil:
				add("UpdateItem", tr.tableARN(it.Update.TableName))
			case it.Delete != nil:
				add("DeleteItem", tr.tableARN(it.Delete.TableName))
			case it.ConditionCheck != nil:
				add("ConditionCheckItem", tr.tableARN(it.ConditionCheck.TableName))
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				add("GetItem", tr.tableARN(it.Get.TableName))
			}
		}
	case *dynamodb.BatchGetItemInput:
		for name := range in.RequestItems {
			add(op, tr.tableARN(&name))
		}
	case *dynamodb.BatchWriteItemInput:
		for name := range in.RequestItems {
			add(op, tr.tableARN(&name))
		}
	case *dynamodb.QueryInput:
		add(op, tr.index(in.TableName, in.IndexName))
	case *dynamodb.ScanInput:
		add(op, tr.index(in.TableName, in.IndexName))
	case *dynamodb.GetItemInput:
		add(op, tr.tableARN(in.TableName))
	case *dynamodb.PutItemInput:
		add(op, tr.tableARN(in.TableName))
	case *dynamodb.UpdateItemInput:
		add(op, tr.tableARN(in.TableName))
	case *dynamodb.DeleteItemInput:
		add(op, tr.tableARN(in.TableName))
	default:
		add(op, tr.tableARN(nil))
	}
}

// ses records an SES call on the identity it sends from. A policy on "*"
// covers it; the statements' ses:FromAddress conditions are not evaluated.
func (tr tracer) ses(fn, op string, params any) {
	identity := "*"
	switch in := params.(type) {
	case *ses.SendEmailInput:
		identity = fromIdentity(in.Source)
	case *ses.SendRawEmailInput:
		identity = fromIdentity(in.Source)
	}
	tr.log.add(Call{fn, "ses:" + op, identity})
}

func fromIdentity(source *string) string {
	if source == nil {
		return "*"
	}
	return "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/" + *source
}

// tracedQueue records every send to the jobs queue as sqs:SendMessage (the
// action that also authorises SendMessageBatch): the stack's queue is in
// process, with no SDK client to add middleware to.
type tracedQueue struct {
	queue.Sender
	log *CallLog
	// id is the queue's logical id in the template (default the jobs queue).
	id string
}

func (q tracedQueue) Send(ctx context.Context, msgs ...queue.Message) error {
	if fn := FunctionOf(ctx); fn != "" {
		id := q.id
		if id == "" {
			id = jobsQueueID
		}
		q.log.add(Call{fn, "sqs:SendMessage", fmt.Sprintf("${%s.Arn}", id)})
	}
	return q.Sender.Send(ctx, msgs...)
}
