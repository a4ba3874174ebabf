package emails

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fakePasscodes holds passcode states and claims them under the store's
// conditions (store.ClaimPasscodeEmail, tested on both backends by
// TestPasscodeClaim*): the request's state, an account's, not mailed, live.
type fakePasscodes struct {
	mu       sync.Mutex
	otps     map[string]domain.OTP
	mailed   map[string]bool
	claims   int
	released int
}

func (f *fakePasscodes) ClaimPasscodeEmail(_ context.Context, o domain.OTP, now time.Time) (domain.OTP, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	cur, ok := f.otps[o.Email]
	if !ok || !cur.SentAt.Equal(o.SentAt) || cur.AccountID == "" || f.mailed[o.Email] || !now.Before(cur.ExpiresAt) {
		return o, domain.Errorf(domain.ECONFLICT, "no")
	}
	cur.Salt, cur.Hash, cur.LinkHash, cur.Attempts = o.Salt, o.Hash, o.LinkHash, 0
	f.otps[o.Email], f.mailed[o.Email] = cur, true
	return cur, nil
}

func (f *fakePasscodes) ReleasePasscodeEmail(_ context.Context, o domain.OTP) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released++
	f.mailed[o.Email] = false
	return nil
}

var (
	passcodeLine = regexp.MustCompile(`(?m)^    (\d{6})$`)
	passcodeLink = regexp.MustCompile(`https://x\.example/orgs/acme/verify\?email=([^&\s]+)&key=([A-Za-z0-9_-]{43})`)
)

// passcodeRig is a sender with two passcode states written by send
// requests a second ago: pat's (an account that must verify) and nobody's
// (an address without one).
func passcodeRig() (*rig, *fakePasscodes, *fakeWindow) {
	r := newRig()
	st := &fakePasscodes{otps: map[string]domain.OTP{}, mailed: map[string]bool{}}
	sent := t0.Add(-time.Second)
	for addr, acct := range map[string]string{"pat@agency.example": "a1", "nobody@agency.example": ""} {
		o := domain.OTP{OrgID: "acme", Email: addr, AccountID: acct, SentAt: sent, ExpiresAt: sent.Add(domain.OTPLifetime), WindowStart: sent, Sends: 1}
		domain.MintOTP(&o) // the request's code, which nobody is sent
		st.otps[addr] = o
	}
	w := &fakeWindow{}
	r.s.Passcodes, r.s.Pacer.Window = st, w
	return r, st, w
}

func passcodeBody(st *fakePasscodes, addr string) string {
	return PasscodeJob(st.otps[addr], "Acme", "https://x.example/orgs/acme/verify").Message(0).Body
}

// TestPasscodeSentWithTheClaimedCode: the sender mints the code at its
// claim; the email carries the code and the link key whose hashes the
// claim stored (the request's code is replaced: nobody ever had it).
func TestPasscodeSentWithTheClaimedCode(t *testing.T) {
	r, st, _ := passcodeRig()
	before := st.otps["pat@agency.example"]
	out, err := r.s.Process(context.Background(), passcodeBody(st, "pat@agency.example"))
	if err != nil || out != Sent || len(r.mail.sent) != 1 {
		t.Fatalf("process: %v %v, %d sent", out, err, len(r.mail.sent))
	}
	m := r.mail.sent[0]
	o := st.otps["pat@agency.example"]
	c := passcodeLine.FindStringSubmatch(m.Text)
	l := passcodeLink.FindStringSubmatch(m.Text)
	if m.To != "pat@agency.example" || c == nil || l == nil || l[1] != "pat%40agency.example" {
		t.Fatalf("email %+v", m)
	}
	if !o.Matches(c[1]) || !o.MatchesLink(l[2]) || before.Matches(c[1]) || string(o.Hash) == string(before.Hash) {
		t.Fatal("the email's code and link are not the claimed ones")
	}
}

// A duplicate delivery (at once, or after the send) sends one email; a job
// for an address nobody is emailed (a stranger's request) sends nothing and
// takes no send slot. Guard: the claim's conditions (the fake's, as the
// store's: TestPasscodeClaimOnce, TestPasscodeClaimNobody).
func TestPasscodeDuplicateAndNobody(t *testing.T) {
	r, st, w := passcodeRig()
	body := passcodeBody(st, "pat@agency.example")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = r.s.Process(context.Background(), body) })
	}
	wg.Wait()
	if out, _ := r.s.Process(context.Background(), body); out != Dropped || len(r.mail.sent) != 1 {
		t.Fatalf("duplicate: %v, %d sent, want dropped and 1", out, len(r.mail.sent))
	}
	out, err := r.s.Process(context.Background(), passcodeBody(st, "nobody@agency.example"))
	if err != nil || out != Dropped || len(r.mail.sent) != 1 || w.counts[t0.Unix()] != 1 {
		t.Fatalf("nobody's job: %v %v, %d sent, %d slots", out, err, len(r.mail.sent), w.counts[t0.Unix()])
	}
	// A job of an earlier send (the state replaced since) sends nothing.
	old := PasscodeJob(domain.OTP{OrgID: "acme", Email: "pat@agency.example", SentAt: t0.Add(-2 * time.Minute)}, "Acme", "https://x.example/orgs/acme/verify")
	st.mailed["pat@agency.example"] = false
	if out, _ := r.s.Process(context.Background(), old.Message(0).Body); out != Dropped || len(r.mail.sent) != 1 {
		t.Fatalf("an earlier send's job: %v, %d sent", out, len(r.mail.sent))
	}
}

// A transient SES failure releases the claim and queues the job again with
// the backoff's delay; the retry mints a new code and sends it. A
// permanent refusal is not retried. A retry that would land after the
// code lapses is not queued (the person asks again).
func TestPasscodeRetries(t *testing.T) {
	r, st, _ := passcodeRig()
	r.mail.err = func(n int) error {
		if n == 0 && len(r.q.msgs) == 0 {
			return apiError("Throttling")
		}
		return nil
	}
	body := passcodeBody(st, "pat@agency.example")
	if out, err := r.s.Process(context.Background(), body); err != nil || out != Retrying || st.released != 1 || len(r.q.msgs) != 1 {
		t.Fatalf("transient: %v %v, released %d, queued %d", out, err, st.released, len(r.q.msgs))
	}
	if r.q.msgs[0].DelaySeconds != int32(DefaultRetryBase/time.Second) {
		t.Errorf("retry delay %ds", r.q.msgs[0].DelaySeconds)
	}
	if out, err := r.s.Process(context.Background(), r.q.msgs[0].Body); err != nil || out != Sent || len(r.mail.sent) != 1 {
		t.Fatalf("retry: %v %v, %d sent", out, err, len(r.mail.sent))
	}
	if c := passcodeLine.FindStringSubmatch(r.mail.sent[0].Text); c == nil || !st.otps["pat@agency.example"].Matches(c[1]) {
		t.Fatal("the retry's code is not the stored one")
	}

	r, st, _ = passcodeRig()
	r.mail.err = func(int) error { return apiError("MessageRejected") }
	if out, _ := r.s.Process(context.Background(), passcodeBody(st, "pat@agency.example")); out != Refused || len(r.q.msgs) != 0 {
		t.Fatalf("permanent: %v, %d queued", out, len(r.q.msgs))
	}

	r, st, _ = passcodeRig()
	r.mail.err = func(int) error { return apiError("Throttling") }
	j := PasscodeJob(st.otps["pat@agency.example"], "Acme", "https://x.example/orgs/acme/verify")
	j.Attempt = DefaultMaxAttempts - 1 // the last transient failure allowed
	if out, _ := r.s.Process(context.Background(), j.Message(0).Body); out != DeadLettered || len(r.dlq.msgs) != 1 {
		t.Fatalf("last attempt: %v, %d dead letters", out, len(r.dlq.msgs))
	}
	r, st, _ = passcodeRig()
	r.mail.err = func(int) error { return apiError("Throttling") }
	r.s.RetryBase = 20 * time.Minute
	if out, _ := r.s.Process(context.Background(), passcodeBody(st, "pat@agency.example")); out != Dropped || len(r.q.msgs) != 0 {
		t.Fatalf("a retry after the code lapses: %v, %d queued", out, len(r.q.msgs))
	}
}

// A passcode job names its address, its send and the page; one that does
// not is dropped as unreadable (no retry can help), and it never carries a
// code.
func TestParsePasscodeJob(t *testing.T) {
	o := domain.OTP{OrgID: "acme", Email: "pat@agency.example", SentAt: t0}
	good := PasscodeJob(o, "Acme", "https://x.example/orgs/acme/verify")
	if j, err := ParseJob(good.Message(0).Body); err != nil || j != good {
		t.Fatalf("round trip: %+v %v", j, err)
	}
	for name, j := range map[string]Job{
		"no address": {Kind: KindPasscode, OrgID: "acme", SentMs: 1, PageURL: "https://x.example/"},
		"no send":    {Kind: KindPasscode, OrgID: "acme", Email: "pat@agency.example", PageURL: "https://x.example/"},
		"no page":    {Kind: KindPasscode, OrgID: "acme", Email: "pat@agency.example", SentMs: 1},
		"bad org":    {Kind: KindPasscode, OrgID: "Not An Org", Email: "pat@agency.example", SentMs: 1, PageURL: "https://x.example/"},
	} {
		if _, err := ParseJob(j.Message(0).Body); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(good.Message(0).Body), &fields); err != nil {
		t.Fatal(err)
	}
	for k := range fields {
		if !strings.Contains(" k o e t on u ", " "+k+" ") {
			t.Errorf("the job carries %q: %v", k, fields)
		}
	}
}
