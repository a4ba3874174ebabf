package store_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/passcode"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/store"
)

// inbox is a mailer that keeps the codes (and link keys) it was asked to
// send, by address.
type inbox struct {
	mu    sync.Mutex
	codes map[string][]string
	links map[string][]string
}

var (
	codeRE = regexp.MustCompile(`\n    ([0-9]{6})\n`)
	linkRE = regexp.MustCompile(`[?&]key=([A-Za-z0-9_-]{43})\n`)
)

func (b *inbox) Send(_ context.Context, m emails.Message) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.codes == nil {
		b.codes = map[string][]string{}
	}
	c := codeRE.FindStringSubmatch(m.Text)
	if c == nil {
		return "", fmt.Errorf("no code in %q", m.Text)
	}
	b.codes[m.To] = append(b.codes[m.To], c[1])
	if b.links == nil {
		b.links = map[string][]string{}
	}
	if l := linkRE.FindStringSubmatch(m.Text); l != nil {
		b.links[m.To] = append(b.links[m.To], l[1])
	}
	return "m", nil
}

// link is the link key of the latest email to an address ("" when none).
func (b *inbox) link(to string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.links[to]; len(l) > 0 {
		return l[len(l)-1]
	}
	return ""
}

func (b *inbox) sent(to string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.codes[to]...)
}

func (b *inbox) total() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.codes {
		n += len(c)
	}
	return n
}

// reset forgets the emails sent so far.
func (b *inbox) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes, b.links = nil, nil
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// otpFixture is an org with two-step on (every 7 days), a site and n
// external users g0..g(n-1)@partner.example, plus an internal one.
type otpFixture struct {
	fixture
	svc   *passcode.Service
	mail  *inbox
	clock *clock
	q     *senderQueue
}

const otpOrg = "otp"

func newOTPFixture(t *testing.T, fx fixture, n int) otpFixture {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	org := domain.Org{ID: otpOrg, Name: "OTP Org", VerifiedDomains: []string{"otp.example"}, CreatedAt: now,
		Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}}
	if err := fx.st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.CreateSite(ctx, domain.Site{OrgID: otpOrg, ID: "wiki", Name: "Wiki", Host: "wiki.example", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	users := []domain.User{{OrgID: otpOrg, AccountID: "staff", Email: "staff@otp.example", Status: domain.UserActive, CreatedAt: now}}
	for i := range n {
		users = append(users, domain.User{OrgID: otpOrg, AccountID: fmt.Sprintf("g%d", i), Email: fmt.Sprintf("g%d@partner.example", i),
			Status: domain.UserActive, External: true, CreatedAt: now})
	}
	for _, u := range users {
		if err := fx.st.CreateUser(ctx, u, "wiki", nil); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t: now}
	mail := &inbox{}
	q := &senderQueue{sender: &emails.Sender{Passcodes: fx.st, Mailer: mail, Now: c.Now,
		Pacer: &emails.Pacer{Window: emailsdb.SendWindow{Store: emailsdb.New(fx.st)}, Rate: 10000, Now: c.Now}}}
	fx.c.Skip = func(ctx context.Context) bool { return ctx.Value(senderCtx{}) != nil }
	svc := &passcode.Service{Store: fx.st, Emails: q, Now: c.Now, PageURL: func(_ context.Context, o string) string { return "http://pages.example/orgs/" + o + "/verify" }}
	fx.c.Reset()
	return otpFixture{fixture: fx, svc: svc, mail: mail, clock: c, q: q}
}

// senderCtx marks the email sender's calls, which the fixture's counter
// leaves out (they are EmailSenderFunction's, not the page's).
type senderCtx struct{}

// senderQueue is the email queue with its sender attached: each message
// handed off is delivered at once (the email sender's Process, with the
// store and the inbox) and kept, so a test can deliver it again.
type senderQueue struct {
	sender *emails.Sender
	mu     sync.Mutex
	msgs   []queue.Message
	outs   []emails.Outcome
}

func (q *senderQueue) Send(ctx context.Context, msgs ...queue.Message) error {
	for _, m := range msgs {
		q.mu.Lock()
		q.msgs = append(q.msgs, m)
		q.mu.Unlock()
		if _, err := q.deliver(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// deliver runs the email sender on one message.
func (q *senderQueue) deliver(ctx context.Context, m queue.Message) (emails.Outcome, error) {
	out, err := q.sender.Process(context.WithValue(ctx, senderCtx{}, true), m.Body)
	q.mu.Lock()
	q.outs = append(q.outs, out)
	q.mu.Unlock()
	return out, err
}

// handedOff is the messages handed off so far.
func (q *senderQueue) handedOff() []queue.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queue.Message(nil), q.msgs...)
}

func (f otpFixture) profile(t *testing.T, acct string) (domain.User, map[string]types.AttributeValue) {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.st.Table()), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + otpOrg + "#USER#" + acct}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("profile %s: %v", acct, err)
	}
	sc, err := f.st.LoadVerification(context.Background(), otpOrg, acct+"@partner.example")
	if err != nil || sc.User == nil {
		t.Fatalf("load %s: %v", acct, err)
	}
	return *sc.User, out.Item
}

func (f otpFixture) otp(t *testing.T, addr string) *domain.OTP {
	t.Helper()
	sc, err := f.st.LoadVerification(context.Background(), otpOrg, addr)
	if err != nil {
		t.Fatal(err)
	}
	return sc.OTP
}

func code(err error) string { return domain.ErrorCode(err) }

// TestPasscodeFlow: a code is emailed, stored only hashed; a wrong code is
// counted; the right one completes the verification in one transaction
// (code deleted, profile verified with its due entry, audit entry); the
// calls are counted.
func TestPasscodeFlow(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		v, err := f.svc.Send(ctx, otpOrg, "G0@Partner.example")
		if err != nil || v.Email != "g0@partner.example" || v.ExpiresAt != f.clock.Now().Add(10*time.Minute) {
			t.Fatalf("send: %+v %v", v, err)
		}
		sends := fx.c.Counts()
		if sends["BatchGetItem"] != 2 || sends["TransactWriteItems"] != 1 || fx.c.Total() != 3 {
			t.Fatalf("a send costs 2 BatchGetItem + 1 TransactWriteItems, got %v", sends)
		}
		codes := f.mail.sent("g0@partner.example")
		if len(codes) != 1 {
			t.Fatalf("codes %v", codes)
		}
		right := codes[0]
		o := f.otp(t, "g0@partner.example")
		if o == nil || o.AccountID != "g0" || len(o.Hash) != 32 || len(o.Salt) != 16 || o.Attempts != 0 || o.Sends != 1 {
			t.Fatalf("stored %+v", o)
		}
		if string(o.Hash) == right || !o.Matches(right) {
			t.Fatal("the code is stored as its salted hash")
		}
		wrong := fmt.Sprintf("%06d", (mustAtoi(right)+1)%1000000)
		fx.c.Reset()
		if _, err := f.svc.Verify(ctx, otpOrg, "g0@partner.example", wrong, "r1"); code(err) != domain.EINVALID {
			t.Fatalf("wrong code: %v", err)
		}
		if got := fx.c.Counts(); got["BatchGetItem"] != 2 || got["UpdateItem"] != 1 || fx.c.Total() != 3 {
			t.Fatalf("a wrong code costs 2 BatchGetItem + 1 UpdateItem, got %v", got)
		}
		if f.otp(t, "g0@partner.example").Attempts != 1 {
			t.Fatal("a wrong code is counted")
		}
		f.clock.add(time.Minute)
		fx.c.Reset()
		v, err = f.svc.Verify(ctx, otpOrg, "g0@partner.example", right, "r2")
		now := f.clock.Now()
		if err != nil || !v.VerifiedAt.Equal(now) || !v.DueAt.Equal(now.Add(7*24*time.Hour)) {
			t.Fatalf("verify: %+v %v", v, err)
		}
		if got := fx.c.Counts(); got["BatchGetItem"] != 2 || got["TransactWriteItems"] != 1 || fx.c.Total() != 3 {
			t.Fatalf("a verification costs 2 BatchGetItem + 1 TransactWriteItems, got %v", got)
		}
		u, raw := f.profile(t, "g0")
		if !u.VerifiedAt.Equal(now) || !u.VerifyDueAt.Equal(now.Add(7*24*time.Hour)) || u.VerifyState != domain.VerifyVerified {
			t.Fatalf("profile %+v", u)
		}
		pk, sk := raw["GSI3PK"].(*types.AttributeValueMemberS), raw["GSI3SK"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil || sk.Value != now.Add(7*24*time.Hour).Format(time.RFC3339)+"#"+otpOrg+"#g0" {
			t.Fatalf("due entry %v %v", pk, sk)
		}
		if f.otp(t, "g0@partner.example") != nil {
			t.Fatal("the code is consumed")
		}
		log, err := auditdb.New(fx.st).AuditLog(ctx, otpOrg, domain.AuditQuery{Target: domain.UserTarget("g0"), From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 10})
		if err != nil || len(log.Items) != 2 || log.Items[0].Action != domain.ActionUserVerify || log.Items[0].Actor != "g0" || log.Items[0].RequestID != "r2" {
			t.Fatalf("audit %+v %v", log.Items, err)
		}
		// The code is spent: using it again is "no code".
		if _, err := f.svc.Verify(ctx, otpOrg, "g0@partner.example", right, "r3"); code(err) != domain.EINVALID {
			t.Fatalf("reuse: %v", err)
		}
		// The access decision now allows.
		sc, err := accessdb.New(fx.st).LoadDecision(ctx, otpOrg, "wiki", "g0", domain.Confluence, "", "")
		if err != nil {
			t.Fatal(err)
		}
		in := domain.DecisionInputOf(sc, domain.ClientWeb, "", now)
		if in.Policy.TwoStep != true || !in.VerifiedAt.Equal(now) {
			t.Fatalf("decision input %+v", in)
		}
	})
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestPasscodeExpires: a code works until 10 minutes after it was sent,
// then answers 410 (and the profile is not touched).
func TestPasscodeExpires(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 2)
		for i, wait := range []time.Duration{10*time.Minute - time.Second, 10 * time.Minute} {
			addr := fmt.Sprintf("g%d@partner.example", i)
			if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
				t.Fatal(err)
			}
			f.clock.add(wait)
			_, err := f.svc.Verify(ctx, otpOrg, addr, f.mail.sent(addr)[0], "r")
			if wait < 10*time.Minute && err != nil {
				t.Fatalf("just in time: %v", err)
			}
			if wait == 10*time.Minute {
				if code(err) != domain.EGONE {
					t.Fatalf("expired: %v", err)
				}
				if u, _ := f.profile(t, fmt.Sprintf("g%d", i)); !u.VerifiedAt.IsZero() {
					t.Fatal("an expired code verified")
				}
			}
		}
	})
}

// TestPasscodeLocksAfterFiveWrong: the fifth wrong code kills the code
// (429): the right code after it is refused too, until a new code is sent.
func TestPasscodeLocksAfterFiveWrong(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		addr := "g0@partner.example"
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		right := f.mail.sent(addr)[0]
		wrong := fmt.Sprintf("%06d", (mustAtoi(right)+7)%1000000)
		for i := 1; i <= 5; i++ {
			v, err := f.svc.Verify(ctx, otpOrg, addr, wrong, "r")
			want := domain.EINVALID
			if i == 5 {
				want = domain.ETOOMANY
			}
			if code(err) != want || (i < 5 && v.TriesLeft != 5-i) {
				t.Fatalf("wrong #%d: %+v %v", i, v, err)
			}
		}
		if _, err := f.svc.Verify(ctx, otpOrg, addr, right, "r"); code(err) != domain.ETOOMANY {
			t.Fatalf("the right code after 5 wrong ones: %v", err)
		}
		if u, _ := f.profile(t, "g0"); !u.VerifiedAt.IsZero() {
			t.Fatal("a locked code verified")
		}
		f.clock.add(domain.OTPResendGap)
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Verify(ctx, otpOrg, addr, right, "r"); code(err) != domain.EINVALID && right != f.mail.sent(addr)[1] {
			t.Fatalf("a new code replaces the old: %v", err)
		}
		if _, err := f.svc.Verify(ctx, otpOrg, addr, f.mail.sent(addr)[1], "r"); err != nil {
			t.Fatalf("the new code: %v", err)
		}
	})
}

// TestPasscodeAttemptsCountUnderConcurrency: 12 wrong answers at once all
// count, by conditional writes on the attempts read: exactly 4 are told
// "wrong" with tries left, the rest that the code is dead, and the stored
// attempts are 5. (Without the "attempts = :read" condition, answers read
// the same count and overwrite each other: more than 4 are told "wrong".)
func TestPasscodeAttemptsCountUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		addr := "g0@partner.example"
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatal(err)
		}
		wrong := fmt.Sprintf("%06d", (mustAtoi(f.mail.sent(addr)[0])+3)%1000000)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for range 12 {
			wg.Go(func() {
				_, err := f.svc.Verify(ctx, otpOrg, addr, wrong, "r")
				mu.Lock()
				got[code(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if got[domain.EINVALID] != 4 || got[domain.ETOOMANY] != 8 {
			t.Fatalf("answers %v", got)
		}
		if o := f.otp(t, addr); o.Attempts != 5 {
			t.Fatalf("attempts %d", o.Attempts)
		}
	})
}

// TestPasscodeSendLimits: 20 sends at once for one address send exactly
// one email (the others 429: the state is put only over the one read);
// then one send a minute, at most 5 fresh codes an hour (the sixth keeps
// the live fifth).
func TestPasscodeSendLimits(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		addr := "g0@partner.example"
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for range 20 {
			wg.Go(func() {
				_, err := f.svc.Send(ctx, otpOrg, addr)
				mu.Lock()
				got[code(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := len(f.mail.sent(addr)); n != 1 || got[""] != 1 || got[domain.ETOOMANY] != 19 {
			t.Fatalf("20 concurrent sends: %d emails, answers %v", n, got)
		}
		f.clock.add(30 * time.Second)
		if _, err := f.svc.Send(ctx, otpOrg, addr); code(err) != domain.ETOOMANY {
			t.Fatalf("within a minute: %v", err)
		}
		for i := 2; i <= 6; i++ {
			f.clock.add(domain.OTPResendGap)
			v, err := f.svc.Send(ctx, otpOrg, addr)
			// The sixth: the budget is spent and the fifth code is live, so
			// it is kept: "sent", no email (issue 16).
			if err != nil || i == 6 && !v.ExpiresAt.Equal(f.clock.Now().Add(domain.OTPLifetime-domain.OTPResendGap)) {
				t.Fatalf("send #%d in the hour: %+v %v", i, v, err)
			}
		}
		if n := len(f.mail.sent(addr)); n != 5 {
			t.Fatalf("%d emails in the hour", n)
		}
		f.clock.add(time.Hour)
		if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
			t.Fatalf("after the hour: %v", err)
		}
	})
}

// TestPasscodeOrgLimit: sends of many addresses at once that would replace
// their live codes stop exactly at the org's limit a minute (a conditional
// ADD on the minute's counter); their first codes, the minute before, were
// not held to it (OTPSend.Capped).
func TestPasscodeOrgLimit(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 12)
		f.svc.OrgLimit = 5
		// Keep inside one minute of the fake clock.
		f.clock.mu.Lock()
		f.clock.t = f.clock.t.Truncate(time.Minute).Add(5 * time.Second)
		f.clock.mu.Unlock()
		for i := range 12 {
			if _, err := f.svc.Send(ctx, otpOrg, fmt.Sprintf("g%d@partner.example", i)); err != nil {
				t.Fatalf("g%d's first code: %v", i, err)
			}
		}
		f.clock.add(time.Minute + 5*time.Second)
		f.mail.reset()
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for i := range 12 {
			wg.Go(func() {
				_, err := f.svc.Send(ctx, otpOrg, fmt.Sprintf("g%d@partner.example", i))
				mu.Lock()
				got[code(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if f.mail.total() != 5 || got[""] != 5 || got[domain.ETOOMANY] != 7 {
			t.Fatalf("org limit 5: %d emails, answers %v", f.mail.total(), got)
		}
		f.clock.add(time.Minute)
		if _, err := f.svc.Send(ctx, otpOrg, "g11@partner.example"); err != nil && f.otp(t, "g11@partner.example") == nil {
			t.Fatalf("next minute: %v", err)
		}
	})
}

// TestPasscodeUnknownAddressAnswersAlike: an unknown address and an
// internal one get the same answers as an external user's (the same page,
// the same limits, a wrong code counted) but no email.
func TestPasscodeUnknownAddressAnswersAlike(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		for _, addr := range []string{"nobody@partner.example", "staff@otp.example", "g0@partner.example"} {
			v, err := f.svc.Send(ctx, otpOrg, addr)
			if err != nil || v.Email != addr || v.ExpiresAt.IsZero() {
				t.Fatalf("%s: %+v %v", addr, v, err)
			}
			if _, err := f.svc.Send(ctx, otpOrg, addr); code(err) != domain.ETOOMANY {
				t.Fatalf("%s again: %v", addr, err)
			}
			v, err = f.svc.Verify(ctx, otpOrg, addr, "123456", "r")
			if code(err) != domain.EINVALID && addr != "g0@partner.example" || v.TriesLeft != 4 && code(err) == domain.EINVALID {
				t.Fatalf("%s wrong: %+v %v", addr, v, err)
			}
		}
		if f.mail.total() != 1 || len(f.mail.sent("g0@partner.example")) != 1 {
			t.Fatalf("only the external user is emailed: %v", f.mail.codes)
		}
		if _, err := f.svc.Send(ctx, otpOrg, "not an address"); code(err) != domain.EINVALID {
			t.Fatalf("bad address: %v", err)
		}
		if _, err := f.svc.Send(ctx, "no-such-org", "g0@partner.example"); code(err) != domain.ENOTFOUND {
			t.Fatalf("unknown org: %v", err)
		}
	})
}

// TestPasscodeOnceAndOff: with "once" the verification does not lapse (no
// due time, the entry parked); with two-step off the page says so and sends
// nothing.
func TestPasscodeOnceAndOff(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 1)
		now := f.clock.Now()
		for _, o := range []domain.Org{{ID: "once", Name: "Once", Policy: domain.PolicySettings{TwoStep: true}}, {ID: "off", Name: "Off"}} {
			o.CreatedAt = now
			if err := fx.st.CreateOrg(ctx, o); err != nil {
				t.Fatal(err)
			}
			if err := fx.st.CreateSite(ctx, domain.Site{OrgID: o.ID, ID: "wiki", Name: "Wiki", Host: "w.example", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := fx.st.CreateUser(ctx, domain.User{OrgID: o.ID, AccountID: "x", Email: "x@partner.example", Status: domain.UserActive, External: true, CreatedAt: now}, "wiki", nil); err != nil {
				t.Fatal(err)
			}
		}
		v, err := f.svc.Send(ctx, "off", "x@partner.example")
		if err != nil || !v.NotRequired || f.mail.total() != 0 {
			t.Fatalf("off: %+v %v", v, err)
		}
		if _, err := f.svc.Send(ctx, "once", "x@partner.example"); err != nil {
			t.Fatal(err)
		}
		v, err = f.svc.Verify(ctx, "once", "x@partner.example", f.mail.sent("x@partner.example")[0], "r")
		if err != nil || !v.DueAt.IsZero() {
			t.Fatalf("once: %+v %v", v, err)
		}
		sc, err := fx.st.LoadVerification(ctx, "once", "x@partner.example")
		if err != nil || sc.User == nil || !sc.User.VerifyDueAt.IsZero() || !sc.User.VerifiedAt.Equal(now) || sc.User.VerifyState != domain.VerifyVerified {
			t.Fatalf("once profile: %+v %v", sc.User, err)
		}
	})
}

// TestFirstVerificationKeepsOtherDueEntries: a user's first verification
// moves their due entry (made parked with the profile) and leaves every
// other due entry where it was: the org's rescan request is still found by
// the job's Query. On the embedded backend a profile made without an entry
// and given one by the completion's UpdateItem evicted the rescan request
// from the index (minidyn's updateData; docs/data-model.md "Emulator notes").
func TestFirstVerificationKeepsOtherDueEntries(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		f := newOTPFixture(t, fx, 2)
		now := f.clock.Now()
		if err := fx.st.RequestVerifyScan(ctx, otpOrg, now.Add(-time.Second), 1); err != nil {
			t.Fatal(err)
		}
		due := func() (scans, users int) {
			for sh := range store.DueShards {
				ds, _, err := fx.st.DueVerifications(ctx, sh, now.Add(30*24*time.Hour), "", 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Scan != nil {
						scans++
					} else {
						users++
					}
				}
			}
			return scans, users
		}
		if s, u := due(); s != 1 || u != 0 {
			t.Fatalf("before: %d scans, %d users due in 30 days", s, u)
		}
		for _, g := range []string{"g0", "g1"} {
			addr := g + "@partner.example"
			if _, err := f.svc.Send(ctx, otpOrg, addr); err != nil {
				t.Fatal(err)
			}
			codes := f.mail.sent(addr)
			if _, err := f.svc.Verify(ctx, otpOrg, addr, codes[len(codes)-1], "r-"+g); err != nil {
				t.Fatal(err)
			}
		}
		if s, u := due(); s != 1 || u != 2 {
			t.Errorf("after two first verifications: %d scans, %d users due in 30 days; want 1 and 2", s, u)
		}
	})
}
