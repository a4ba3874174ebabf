package emails

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// fakeClock is a clock that moves only when a sleeper waits on it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// fakeWindow counts takes per second under the condition count < rate.
type fakeWindow struct {
	mu     sync.Mutex
	counts map[int64]int
	// unguarded drops the condition (to see a test fail without it).
	unguarded bool
}

func (w *fakeWindow) TakeSlot(_ context.Context, sec int64, rate int) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counts == nil {
		w.counts = map[int64]int{}
	}
	if w.counts[sec] >= rate && !w.unguarded {
		return false, nil
	}
	w.counts[sec]++
	return true, nil
}

// fakeStore holds invitations and claims them by their due time as the
// store does: claimable when due <= now+grace; a claim moves it to
// now+lease+grace.
type fakeStore struct {
	mu    sync.Mutex
	invs  map[string]domain.Invitation
	due   map[string]time.Time
	saved []domain.Delivery
}

const grace = 5 * time.Minute

func (f *fakeStore) InvitationForEmail(_ context.Context, _, _, id string) (*domain.Invitation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ok := f.invs[id]
	if !ok {
		return nil, nil
	}
	return &inv, nil
}

func (f *fakeStore) ClaimInvitationEmail(_ context.Context, inv domain.Invitation, hash string, now time.Time, lease time.Duration) (domain.Invitation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.invs[inv.ID]
	// As the store's condition: the version read, and due within the grace
	// (a claim moves it past: a duplicate read after the claim finds the
	// new version, or, read before it, the old one refused).
	if cur.Version != inv.Version || f.due[inv.ID].After(now.Add(grace)) {
		return inv, domain.Errorf(domain.ECONFLICT, "claimed")
	}
	cur.TokenHash, cur.Version = hash, cur.Version+1
	f.invs[inv.ID], f.due[inv.ID] = cur, now.Add(lease+grace)
	return cur, nil
}

func (f *fakeStore) SaveDeliveries(_ context.Context, ds []domain.Delivery) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range ds {
		d.Invitation.Version++
		f.invs[d.Invitation.ID], f.due[d.Invitation.ID] = d.Invitation, d.RetryAt
		f.saved = append(f.saved, d)
	}
	return nil, nil
}

type fakeQueue struct {
	mu   sync.Mutex
	msgs []queue.Message
}

func (q *fakeQueue) Send(_ context.Context, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return nil
}

type mailer struct {
	mu   sync.Mutex
	sent []Message
	err  func(n int) error
}

func (m *mailer) Send(_ context.Context, msg Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.sent)
	if m.err != nil {
		if err := m.err(n); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, msg)
	return "ses-id", nil
}

// apiError is an error with an SES code, as smithy's APIError has.
type apiError string

func (e apiError) Error() string     { return "api error " + string(e) }
func (e apiError) ErrorCode() string { return string(e) }

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

type rig struct {
	s      *Sender
	st     *fakeStore
	mail   *mailer
	clock  *fakeClock
	q, dlq *fakeQueue
	body   string
}

func newRig() *rig {
	clock := &fakeClock{now: t0}
	inv := domain.Invitation{OrgID: "14west", ID: domain.NewID(), AccountID: domain.NewID(), Email: "pat@agency.example",
		Status: domain.InvitationPending, Delivery: domain.DeliveryPending, CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour), Version: 1}
	st := &fakeStore{invs: map[string]domain.Invitation{inv.ID: inv}, due: map[string]time.Time{inv.ID: t0.Add(grace)}}
	r := &rig{st: st, mail: &mailer{}, clock: clock, q: &fakeQueue{}, dlq: &fakeQueue{}, body: InvitationJob(inv).Message(0).Body}
	r.s = &Sender{Store: st, Mailer: r.mail, Pacer: &Pacer{Window: &fakeWindow{}, Now: clock.Now, Sleep: clock.Sleep},
		Render: func(inv domain.Invitation, token string) (Message, error) {
			return Message{To: inv.Email, Subject: "Invitation", Text: "https://x.example/accept?token=" + token}, nil
		}, Retries: r.q, DeadLetters: r.dlq, Now: clock.Now}
	return r
}

func (r *rig) inv() domain.Invitation {
	for _, inv := range r.st.invs {
		return inv
	}
	return domain.Invitation{}
}

func TestSenderSendsAndRecords(t *testing.T) {
	r := newRig()
	out, err := r.s.Process(context.Background(), r.body)
	if err != nil || out != Sent || len(r.mail.sent) != 1 {
		t.Fatalf("process: %v %v, %d sent", out, err, len(r.mail.sent))
	}
	inv := r.inv()
	if inv.Delivery != domain.DeliverySent || inv.MessageID != "ses-id" || inv.Attempts != 1 {
		t.Fatalf("recorded %+v", inv)
	}
	// The link in the email is the claimed token's: its hash is stored.
	tok := r.mail.sent[0].Text[strings.Index(r.mail.sent[0].Text, "token=")+6:]
	if domain.HashToken(tok) != inv.TokenHash {
		t.Fatal("the email's link is not the stored token's")
	}
}

// SQS delivers a message twice (at once, or while the first send is in
// flight): one email. Guard: ClaimInvitationEmail's due condition (the
// fake's, as the store's: TestClaimInvitationEmailOnce).
func TestSenderDuplicateDeliverySendsOnce(t *testing.T) {
	r := newRig()
	gate := make(chan struct{})
	r.mail.err = func(n int) error { <-gate; return nil }
	var wg sync.WaitGroup
	outs := make([]Outcome, 3)
	for i := range outs {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], _ = r.s.Process(context.Background(), r.body) }()
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	// And once more after it was sent.
	again, _ := r.s.Process(context.Background(), r.body)
	if len(r.mail.sent) != 1 || again != Dropped {
		t.Fatalf("%d emails for one message delivered 4 times (outcomes %v, then %v)", len(r.mail.sent), outs, again)
	}
}

// SES throttles: the email is queued again with a doubling delay, and
// after MaxAttempts its message goes to the dead-letter queue. Guard: the
// transient path (Retries.Send with RetryDelay).
func TestSenderThrottledRetriesWithBackoffThenDeadLetters(t *testing.T) {
	r := newRig()
	r.mail.err = func(int) error { return apiError("Throttling") }
	body := r.body
	var delays []int32
	for attempt := range DefaultMaxAttempts {
		out, err := r.s.Process(context.Background(), body)
		if err != nil {
			t.Fatal(err)
		}
		if attempt < DefaultMaxAttempts-1 {
			if out != Retrying || len(r.q.msgs) != attempt+1 {
				t.Fatalf("attempt %d: %v, %d queued", attempt, out, len(r.q.msgs))
			}
			m := r.q.msgs[attempt]
			delays, body = append(delays, m.DelaySeconds), m.Body
			// The retry arrives after its delay.
			_ = r.clock.Sleep(context.Background(), time.Duration(m.DelaySeconds)*time.Second)
		} else if out != DeadLettered || len(r.dlq.msgs) != 1 {
			t.Fatalf("last attempt: %v, %d dead letters", out, len(r.dlq.msgs))
		}
	}
	if want := []int32{30, 60, 120, 240}; len(delays) != 4 || delays[0] != want[0] || delays[3] != want[3] {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	if inv := r.inv(); inv.Delivery != domain.DeliveryFailed || inv.Attempts != DefaultMaxAttempts || !strings.Contains(inv.DeliveryNote, "Throttling") {
		t.Fatalf("recorded %+v", inv)
	}
	if due := r.st.due[r.inv().ID]; !due.Equal(r.clock.Now().Add(SlowRetry)) {
		t.Fatalf("due again at %v, want the sweep's slow retry", due)
	}
}

// SES refuses for good: recorded failed, due only at the link's expiry,
// never queued again. Guard: the Permanent case in Process.
func TestSenderPermanentRefusalRecordedNotRetried(t *testing.T) {
	for _, cause := range []error{apiError("MessageRejected"), ErrBadRecipient, errors.Join(ErrPermanent, errors.New("suppressed"))} {
		r := newRig()
		r.mail.err = func(int) error { return cause }
		out, err := r.s.Process(context.Background(), r.body)
		if err != nil || out != Refused || len(r.q.msgs)+len(r.dlq.msgs) != 0 {
			t.Fatalf("%v: %v %v, %d queued", cause, out, err, len(r.q.msgs)+len(r.dlq.msgs))
		}
		inv := r.inv()
		if inv.Delivery != domain.DeliveryFailed || !r.st.due[inv.ID].Equal(inv.ExpiresAt) {
			t.Fatalf("%v: recorded %+v due %v", cause, inv, r.st.due[inv.ID])
		}
	}
}

func TestSenderDropsWhatHasNothingToSend(t *testing.T) {
	r := newRig()
	for _, body := range []string{"{", `{"k":"other"}`, InvitationJob(domain.Invitation{OrgID: "14west", AccountID: domain.NewID(), ID: domain.NewID()}).Message(0).Body} {
		if out, err := r.s.Process(context.Background(), body); err != nil || out != Dropped {
			t.Fatalf("%s: %v %v", body, out, err)
		}
	}
	if len(r.mail.sent) != 0 {
		t.Fatal("sent")
	}
}

func TestJobMessageDelayCapped(t *testing.T) {
	j := Job{Kind: KindInvitation, OrgID: "o", AccountID: domain.NewID(), ID: domain.NewID(), Attempt: 2}
	m := j.Message(time.Hour)
	if m.DelaySeconds != queue.MaxDelaySeconds {
		t.Fatal(m.DelaySeconds)
	}
	back, err := ParseJob(m.Body)
	if err != nil || back != j {
		t.Fatalf("%+v %v", back, err)
	}
}

// The suppression check refuses the address (it bounced or complained for
// the org): the invitation is recorded bounced or complained, due only at
// its expiry, never queued again, and not counted a failure; the email
// carried the rendered tags. Guard: the SuppressedError case in Process
// (without it the refusal is a transient failure, queued again).
func TestSenderSuppressedAddressIsRecordedNotRetried(t *testing.T) {
	for _, reason := range []domain.SuppressionReason{domain.SuppressedBounce, domain.SuppressedComplaint} {
		r := newRig()
		r.mail.err = func(int) error { return &SuppressedError{Reason: reason} }
		out, err := r.s.Process(context.Background(), r.body)
		if err != nil || out != Suppressed || len(r.q.msgs)+len(r.dlq.msgs) != 0 {
			t.Fatalf("%s: %v %v, %d queued", reason, out, err, len(r.q.msgs)+len(r.dlq.msgs))
		}
		inv := r.inv()
		if inv.Delivery != reason.Delivery() || !inv.Delivery.Settled() || !r.st.due[inv.ID].Equal(inv.ExpiresAt) {
			t.Fatalf("%s: recorded %+v due %v", reason, inv, r.st.due[inv.ID])
		}
	}
}
