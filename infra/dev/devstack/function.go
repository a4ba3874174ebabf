package devstack

import "context"

// Logical ids of the template functions the stack runs outside the
// gateway's routes.
const (
	// ExportWorkerFunctionID writes export jobs, in process.
	ExportWorkerFunctionID = "ExportWorkerFunction"
	// WorkerFunctionID and RetryFunctionID run in process, outside the gateway.
	WorkerFunctionID = "GroupJobsWorkerFunction"
	RetryFunctionID  = "RetryInvitationEmailsFunction"
	// EmailSenderFunctionID sends the email queue's emails, in process.
	EmailSenderFunctionID = "EmailSenderFunction"
	// AuthorizerFunctionID is the API's Lambda authorizer.
	AuthorizerFunctionID = "AuthorizerFunction"
)

type functionKey struct{}

// WithFunction returns ctx marked as running inside the function with that
// logical id (the gateway marks each handler's and the authorizer's
// context, the queues their workers', the schedules their jobs'). What each
// function may call on AWS is checked from its own code, not from these
// runs: see infra/samtemplate/iamstatic.
func WithFunction(ctx context.Context, logicalID string) context.Context {
	return context.WithValue(ctx, functionKey{}, logicalID)
}

// FunctionOf returns the logical id WithFunction put in ctx, or "".
func FunctionOf(ctx context.Context) string {
	id, _ := ctx.Value(functionKey{}).(string)
	return id
}
