package devstack

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/reverify"
	"github.com/guestaccess/guestaccess/shared/reverify/reverifyapi"
)

// ReverifyFunctionID is the re-verification job's logical id; it runs in
// process, outside the gateway.
const ReverifyFunctionID = "ReverifyFunction"

// reverifyTimeout is the deadline the stack gives a run, as the template's
// Timeout gives the Lambda invocation (the job stops a margin before it).
const reverifyTimeout = 300 * time.Second

// Reverify runs the scheduled re-verification job once, as its schedule
// would, with the invocation's deadline.
func (st *Stack) Reverify(ctx context.Context) (reverify.Report, error) {
	ctx, cancel := context.WithTimeout(WithFunction(ctx, ReverifyFunctionID), reverifyTimeout)
	defer cancel()
	return reverifyapi.Reverify(st.Env, st.Store, st.Mailer)(ctx, events.EventBridgeEvent{ID: "dev-" + time.Now().UTC().Format("20060102T150405.000")})
}
