package devstack_test

import (
	"context"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
)

// handedToSES records when each recipient's SendEmail call starts: the
// email's hand-off to SES.
type handedToSES struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (h *handedToSES) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("latency.handoff", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if se, ok := in.Parameters.(*ses.SendEmailInput); ok && se.Destination != nil && len(se.Destination.ToAddresses) == 1 {
			h.mu.Lock()
			if _, seen := h.at[se.Destination.ToAddresses[0]]; !seen {
				h.at[se.Destination.ToAddresses[0]] = time.Now()
			}
			h.mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

func (h *handedToSES) wait(to string, within time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		at, ok := h.at[to]
		h.mu.Unlock()
		if ok {
			return at, true
		}
		time.Sleep(time.Millisecond)
	}
	return time.Time{}, false
}

// TestEmailHandOffLatency measures, on the dev stack's embedded backend,
// the time from a request that needs an email to that email's SendEmail
// call: an invitation and a passcode, both through the email queue and its
// sender (the passcode's code minted at the sender's claim). A
// measurement, not a check: it runs only with EMAIL_LATENCY_RUNS=<n> and
// logs the median and the worst of n.
func TestEmailHandOffLatency(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("EMAIL_LATENCY_RUNS"))
	if runs <= 0 {
		t.Skip("a measurement: EMAIL_LATENCY_RUNS=100 runs it")
	}
	h := &handedToSES{at: map[string]time.Time{}}
	e := start(t, "embedded", func(o *devstack.Options) {
		o.SESAPIOptions = append(o.SESAPIOptions, h.add)
		o.PaidUsers = runs + 10
	})
	admin := e.token(t, demo.AdminID)
	report := func(what string, d []time.Duration) {
		slices.Sort(d)
		t.Logf("%s: median %v, worst %v of %d", what, d[len(d)/2].Round(100*time.Microsecond), d[len(d)-1].Round(100*time.Microsecond), len(d))
	}
	var invites []time.Duration
	for range runs {
		addr := strings.ToLower(unique("lat"))
		start := time.Now()
		if r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr)); r.status != 200 {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		at, ok := h.wait(addr, 10*time.Second)
		if !ok {
			t.Fatalf("no SendEmail for %s", addr)
		}
		invites = append(invites, at.Sub(start))
	}
	report("invite request -> its email's SendEmail (email queue)", invites)

	org, _, ext := e.verifyOrg(t)
	var codes []time.Duration
	for i := range runs {
		h.mu.Lock()
		delete(h.at, ext)
		h.mu.Unlock()
		e.clock.Add(3600) // a fresh hour of the address's budget each time
		start := time.Now()
		if r := e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {ext}}); r.status != 200 {
			t.Fatalf("send %d: %d %s", i, r.status, r.body)
		}
		at, ok := h.wait(ext, 10*time.Second)
		if !ok {
			t.Fatalf("no SendEmail for the passcode %d", i)
		}
		codes = append(codes, at.Sub(start))
	}
	report("\"send me a code\" -> the code's SendEmail (email queue)", codes)
}
