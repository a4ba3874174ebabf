package devstack_test

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// lossyQueue refuses every message while down (the function dies between
// its commit and the hand-off, or SQS refuses), and sends each message
// twice when doubled (SQS's at-least-once delivery).
type lossyQueue struct {
	queue.Sender
	down, doubled *atomic.Bool
}

func (q lossyQueue) Send(ctx context.Context, msgs ...queue.Message) error {
	if q.down.Load() {
		return errors.New("hand-off lost")
	}
	if q.doubled.Load() {
		if err := q.Sender.Send(ctx, msgs...); err != nil {
			return err
		}
	}
	return q.Sender.Send(ctx, msgs...)
}

// TestEmailHandOffLostIsSentBySweep: the invite commits, its hand-off to
// the email queue is lost; the answer says invited (nothing queued), no
// email leaves, and once the hand-off is overdue (SendGrace) the sweep
// queues it and the sender sends a link that works. Guard: the sweep's
// hand-off in invitations.Retrier.retryDeliveries.
func TestEmailHandOffLostIsSentBySweep(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			down, doubled := &atomic.Bool{}, &atomic.Bool{}
			e := start(t, b, func(o *devstack.Options) {
				o.WrapQueue = func(s queue.Sender) queue.Sender { return lossyQueue{Sender: s, down: down, doubled: doubled} }
			})
			ctx := context.Background()
			admin := e.token(t, demo.AdminID)
			addr := unique("lost")
			down.Store(true)
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
			sum := r.json(t)["summary"].(map[string]any)
			if r.status != 200 || sum["invited"] != 1.0 || sum["emailsQueued"] != 0.0 || results(t, r)[0]["emailDelivery"] != "pending" {
				t.Fatalf("invite with the hand-off lost: %d %s", r.status, r.body)
			}
			down.Store(false)
			if n := len(e.mailTo(t, addr)); n != 0 {
				t.Fatalf("%d emails before the sweep", n)
			}
			// Within the hand-off's grace the sweep leaves it alone.
			if rep, err := e.RetryEmails(ctx); err != nil || rep.Due != 0 {
				t.Fatalf("sweep within the grace: %+v %v", rep, err)
			}
			e.clock.Add(6 * 60)
			if rep, err := e.RetryEmails(ctx); err != nil || rep.Due != 1 || rep.Queued != 1 {
				t.Fatalf("sweep after the grace: %+v %v", rep, err)
			}
			mails := e.mailTo(t, addr)
			if len(mails) != 1 {
				t.Fatalf("%d emails after the sweep, want 1", len(mails))
			}
			link, ok := mailbox.FindLink(mails[0].Text+mails[0].HTML, e.URL+"/invitations/accept?token=")
			if !ok {
				t.Fatal("no link in the swept email")
			}
			u, _ := url.Parse(link)
			if p := e.accept(t, u.Query().Get("token")); p.status != 200 {
				t.Fatalf("accept the swept link: %d %s", p.status, p.body)
			}
			if rep, _ := e.RetryEmails(ctx); rep.Due != 0 {
				t.Errorf("due after delivery: %+v", rep)
			}
		})
	}
}

// TestEmailDeliveredTwiceSentOnce: every message of the email queue is
// delivered twice (at least once: a duplicate, also while the first is in
// flight): each invitee gets one email. Guard: the claim's due condition
// (emailsdb.Store.ClaimInvitationEmail).
func TestEmailDeliveredTwiceSentOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			down, doubled := &atomic.Bool{}, &atomic.Bool{}
			doubled.Store(true)
			e := start(t, b, func(o *devstack.Options) {
				o.WrapQueue = func(s queue.Sender) queue.Sender { return lossyQueue{Sender: s, down: down, doubled: doubled} }
			})
			admin := e.token(t, demo.AdminID)
			addrs := []string{unique("twice"), unique("twice"), unique("twice")}
			if r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addrs...)); r.status != 200 {
				t.Fatalf("invite: %d %s", r.status, r.body)
			}
			for _, a := range addrs {
				if n := len(e.mailTo(t, a)); n != 1 {
					t.Errorf("%s: %d emails for a message delivered twice, want 1", a, n)
				}
			}
			if st := e.Emails.Stats(); st.Sent != 2*len(addrs) {
				t.Errorf("queue stats %+v, want each message sent twice", st)
			}
		})
	}
}
