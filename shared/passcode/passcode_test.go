package passcode

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// Port fakes: each is a function implementing one port, and a fakeStore
// is made of the ports a case's path calls; a port left nil is one the path
// must not reach (calling it fails the test with a nil dereference).

type loadScope func(orgID, email string) (domain.VerifyScope, error)

func (f loadScope) LoadVerification(_ context.Context, orgID, email string) (domain.VerifyScope, error) {
	return f(orgID, email)
}

type saveSend func(send domain.OTPSend, orgLimit int) error

func (f saveSend) SaveOTPSend(_ context.Context, send domain.OTPSend, orgLimit int) error {
	return f(send, orgLimit)
}

type countAttempt func(o domain.OTP) (bool, error)

func (f countAttempt) CountOTPAttempt(_ context.Context, o domain.OTP) (bool, error) { return f(o) }

type complete func(v domain.Verified) error

func (f complete) CompleteVerification(_ context.Context, v domain.Verified) error { return f(v) }

// fakeStore is the service's Store made of port fakes.
type fakeStore struct {
	ScopeLoader
	SendSaver
	AttemptCounter
	Completer
}

// fakeSender is the email queue: each message handed off goes to SendFn.
type fakeSender struct {
	t      *testing.T
	SendFn func(m queue.Message) error
}

func (f fakeSender) Send(_ context.Context, msgs ...queue.Message) error {
	if f.SendFn == nil {
		f.t.Fatalf("unexpected hand-off %v", msgs)
	}
	for _, m := range msgs {
		if err := f.SendFn(m); err != nil {
			return err
		}
	}
	return nil
}

var (
	now   = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

const (
	orgID = "acme"
	guest = "guest@ext.example"
)

func service(st *fakeStore, mail fakeSender) *Service {
	return &Service{Store: st, Emails: mail, PageURL: func(_ context.Context, id string) string { return "https://x.example/orgs/" + id + "/verify" },
		Now: func() time.Time { return now }, Log: quiet}
}

// org is "acme" (domain acme.example verified) with two-step on, every 7 days.
func org() *domain.Org {
	return &domain.Org{ID: orgID, Name: "Acme", VerifiedDomains: []string{"acme.example"},
		Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}}
}

// testPolicyOrg has the org's policy off and a test policy (two-step on,
// every 3 days) naming account "t1" only.
func testPolicyOrg() *domain.Org {
	o := org()
	o.Policy = domain.PolicySettings{}
	o.TestPolicy = &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 3}, Users: []string{"t1"}}
	return o
}

func user(id, addr string, status domain.UserStatus) *domain.User {
	return &domain.User{OrgID: orgID, AccountID: id, Email: addr, Status: status}
}

// otp is a code "123456" sent to guest for account (empty: nobody) at sent.
func otp(account string, sent time.Time, attempts int) *domain.OTP {
	salt := []byte("0123456789abcdef")
	return &domain.OTP{OrgID: orgID, Email: guest, AccountID: account, Salt: salt, Hash: domain.HashOTP(salt, "123456"),
		SentAt: sent, ExpiresAt: sent.Add(domain.OTPLifetime), Attempts: attempts, WindowStart: sent, Sends: 1}
}

func code(t *testing.T, err error) string {
	t.Helper()
	return domain.ErrorCode(err)
}

// TestSendAnswersEveryAddressAlike: every valid address of an org that asks
// for two-step verification gets the same answer and the same passcode
// state written, under the same limits, and the same hand-off to the email
// queue (one passcode job naming the address and the send); only the state
// of an address that must verify (active, external, under a policy with
// two-step on, the test policy's included) names its account, which the
// email sender alone reads (emailq: it mints and mails the code).
func TestSendAnswersEveryAddressAlike(t *testing.T) {
	cases := []struct {
		name    string
		org     *domain.Org
		user    *domain.User
		account string // the account the code is for; "" nobody is emailed
	}{
		{"external active user", org(), user("g1", guest, domain.UserActive), "g1"},
		{"unknown address", org(), nil, ""},
		{"internal user", org(), user("i1", "guest@acme.example", domain.UserActive), ""},
		{"suspended user", org(), user("s1", guest, domain.UserSuspended), ""},
		{"invited user", org(), user("n1", guest, domain.UserInvited), ""},
		{"named by a test policy with two-step on", testPolicyOrg(), user("t1", guest, domain.UserActive), "t1"},
		{"under the org's policy, off, while a test policy is on", testPolicyOrg(), user("g1", guest, domain.UserActive), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := guest
			if tc.user != nil {
				addr = tc.user.Email
			}
			var saved []domain.OTPSend
			var sent []queue.Message
			st := &fakeStore{
				ScopeLoader: loadScope(func(o, e string) (domain.VerifyScope, error) {
					if o != orgID || e != addr {
						t.Errorf("load %q %q, want %q %q", o, e, orgID, addr)
					}
					return domain.VerifyScope{Org: tc.org, User: tc.user}, nil
				}),
				SendSaver: saveSend(func(s domain.OTPSend, limit int) error {
					if limit != OrgSendsPerMinute {
						t.Errorf("org limit %d, want the default %d", limit, OrgSendsPerMinute)
					}
					saved = append(saved, s)
					return nil
				}),
			}
			mail := fakeSender{t: t, SendFn: func(m queue.Message) error { sent = append(sent, m); return nil }}
			v, err := service(st, mail).Send(context.Background(), orgID, "  "+addr+" ")
			want := View{OrgID: orgID, OrgName: tc.org.Name, Email: addr, ExpiresAt: now.Add(domain.OTPLifetime)}
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Fatalf("Send = %+v, %v; want %+v (the same for every address)", v, err, want)
			}
			if len(saved) != 1 {
				t.Fatalf("%d sends saved, want 1", len(saved))
			}
			n := saved[0].Next
			if n.OrgID != orgID || n.Email != addr || n.AccountID != tc.account || !n.SentAt.Equal(now) ||
				!n.ExpiresAt.Equal(now.Add(domain.OTPLifetime)) || n.Attempts != 0 || n.Sends != 1 || len(n.Salt) == 0 || len(n.Hash) == 0 || saved[0].Prev != nil {
				t.Errorf("saved %+v, want a fresh code for account %q, no previous state", saved[0], tc.account)
			}
			if len(sent) != 1 || sent[0].DelaySeconds != 0 {
				t.Fatalf("handed off %+v, want one message", sent)
			}
			j, err := emails.ParseJob(sent[0].Body)
			wantJob := emails.Job{Kind: emails.KindPasscode, OrgID: orgID, Email: addr, SentMs: now.UnixMilli(), OrgName: tc.org.Name,
				PageURL: "https://x.example/orgs/acme/verify"}
			if err != nil || j != wantJob {
				t.Errorf("job %+v, %v; want %+v (the same for every address)", j, err, wantJob)
			}
		})
	}
}

// TestSendRefusals: a bad address is refused before anything is read; an
// unknown org is 404; an org that asks for two-step nowhere writes nothing;
// the per-address limits (one send a minute, five an hour) refuse before
// any write; the org's limit and the store's refusal are the store's
// answer, with no hand-off; a failed hand-off is 503 after the state was
// written (the person asks again after the gap).
func TestSendRefusals(t *testing.T) {
	loadErr := errors.New("dynamodb down")
	ext := user("g1", guest, domain.UserActive)
	cases := []struct {
		name     string
		raw      string
		scope    domain.VerifyScope
		loadErr  error
		save     bool  // SaveOTPSend is reached
		saveErr  error // its answer
		mail     bool  // the state is handed to the email queue
		mailErr  error
		wantCode string
		want     View
	}{
		{name: "bad address", raw: "not an address", wantCode: domain.EINVALID, want: View{OrgID: orgID, Email: "not an address"}},
		{name: "read fails", raw: guest, loadErr: loadErr, wantCode: domain.EINTERNAL},
		{name: "no such org", raw: guest, scope: domain.VerifyScope{User: ext}, wantCode: domain.ENOTFOUND},
		{name: "two-step nowhere", raw: guest, scope: domain.VerifyScope{Org: &domain.Org{ID: orgID, Name: "Acme"}, User: ext},
			want: View{OrgID: orgID, OrgName: "Acme", NotRequired: true}},
		{name: "sent less than a minute ago", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now.Add(-59*time.Second), 0)},
			wantCode: domain.ETOOMANY, want: View{OrgID: orgID, OrgName: "Acme", Email: guest}},
		{name: "unknown address sent less than a minute ago", raw: guest, scope: domain.VerifyScope{Org: org(), OTP: otp("", now.Add(-time.Second), 0)},
			wantCode: domain.ETOOMANY, want: View{OrgID: orgID, OrgName: "Acme", Email: guest}},
		// Beyond the hourly budget a live code is kept: "sent", nothing written or emailed.
		{name: "five sends this hour, the last code live", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext, OTP: func() *domain.OTP {
			o := otp("g1", now.Add(-2*time.Minute), 0)
			o.WindowStart, o.Sends = now.Add(-50*time.Minute), domain.OTPSendsPerHour
			return o
		}()}, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, ExpiresAt: now.Add(8 * time.Minute)}},
		{name: "five sends this hour, the last code typed wrong 5 times", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext, OTP: func() *domain.OTP {
			o := otp("g1", now.Add(-2*time.Minute), domain.OTPMaxAttempts)
			o.WindowStart, o.Sends = now.Add(-50*time.Minute), domain.OTPSendsPerHour
			return o
		}()}, wantCode: domain.ETOOMANY, want: View{OrgID: orgID, OrgName: "Acme", Email: guest}},
		{name: "org limit reached", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext}, save: true,
			saveErr: &domain.Error{Code: domain.ETOOMANY, RetryAfter: time.Second}, wantCode: domain.ETOOMANY, want: View{OrgID: orgID, OrgName: "Acme", Email: guest}},
		{name: "raced by another send", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext}, save: true,
			saveErr: domain.Errorf(domain.ECONFLICT, "changed"), wantCode: domain.ECONFLICT, want: View{OrgID: orgID, OrgName: "Acme", Email: guest}},
		{name: "hand-off fails", raw: guest, scope: domain.VerifyScope{Org: org(), User: ext}, save: true, mail: true, mailErr: errors.New("ses down"),
			wantCode: domain.EUNAVAILABLE, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, ExpiresAt: now.Add(domain.OTPLifetime)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			if tc.raw == guest {
				st.ScopeLoader = loadScope(func(string, string) (domain.VerifyScope, error) { return tc.scope, tc.loadErr })
			}
			if tc.save {
				st.SendSaver = saveSend(func(domain.OTPSend, int) error { return tc.saveErr })
			}
			mail := fakeSender{t: t}
			if tc.mail {
				mail.SendFn = func(queue.Message) error { return tc.mailErr }
			}
			v, err := service(st, mail).Send(context.Background(), orgID, tc.raw)
			if code(t, err) != tc.wantCode {
				t.Fatalf("Send: %v, want code %q", err, tc.wantCode)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Errorf("view %+v, want %+v", v, tc.want)
			}
			var de *domain.Error
			if (tc.wantCode == domain.ETOOMANY || tc.wantCode == domain.EUNAVAILABLE) && (!errors.As(err, &de) || de.RetryAfter <= 0) {
				t.Errorf("%v: want a RetryAfter", err)
			}
		})
	}
}

// TestSendPassesTheStateAndLimit: a send after the gap replaces the state
// read (Prev, so two racing sends cannot both pass), counts in the window
// it started, and the org limit set is what the store enforces.
func TestSendPassesTheStateAndLimit(t *testing.T) {
	prev := otp("g1", now.Add(-2*time.Minute), 3)
	prev.WindowStart, prev.Sends = now.Add(-30*time.Minute), 2
	var got domain.OTPSend
	var limit int
	st := &fakeStore{
		ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
			return domain.VerifyScope{Org: org(), User: user("g1", guest, domain.UserActive), OTP: prev}, nil
		}),
		SendSaver: saveSend(func(s domain.OTPSend, l int) error { got, limit = s, l; return nil }),
	}
	s := service(st, fakeSender{t: t, SendFn: func(queue.Message) error { return nil }})
	s.OrgLimit = 7
	if _, err := s.Send(context.Background(), orgID, guest); err != nil {
		t.Fatal(err)
	}
	if got.Prev != prev || limit != 7 {
		t.Errorf("saved prev %p limit %d, want the state read %p and 7", got.Prev, limit, prev)
	}
	if got.Next.Attempts != 0 || got.Next.Sends != 3 || !got.Next.WindowStart.Equal(prev.WindowStart) {
		t.Errorf("next %+v: want attempts reset, the third send of the window started %v", got.Next, prev.WindowStart)
	}
}

// TestVerifyRefusals: a malformed address or code is refused before any
// read; no code, a dead code (five wrong answers) and an expired one are
// refused without counting; a wrong code is counted and says how many
// tries are left; the fifth wrong one kills the code. A right code is
// wrong all the same when nobody was sent it (unknown address), when the
// account no longer must verify, or when the address now belongs to
// another account.
func TestVerifyRefusals(t *testing.T) {
	ext := user("g1", guest, domain.UserActive)
	view := View{OrgID: orgID, OrgName: "Acme", Email: guest}
	cases := []struct {
		name      string
		raw, code string
		scope     domain.VerifyScope
		count     bool // CountOTPAttempt is reached
		wantCode  string
		wantLeft  int
		want      View
	}{
		{name: "bad address", raw: "nope", code: "123456", wantCode: domain.EINVALID, want: View{OrgID: orgID, Email: "nope"}},
		{name: "code not 6 digits", raw: guest, code: "12345", wantCode: domain.EINVALID, want: View{OrgID: orgID, Email: guest}},
		{name: "code with a letter", raw: guest, code: "12345a", wantCode: domain.EINVALID, want: View{OrgID: orgID, Email: guest}},
		{name: "no such org", raw: guest, code: "123456", scope: domain.VerifyScope{}, wantCode: domain.ENOTFOUND},
		{name: "two-step nowhere", raw: guest, code: "123456", scope: domain.VerifyScope{Org: &domain.Org{ID: orgID, Name: "Acme"}, User: ext, OTP: otp("g1", now, 0)},
			want: View{OrgID: orgID, OrgName: "Acme", NotRequired: true}},
		{name: "no code sent", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: ext}, wantCode: domain.EINVALID, want: view},
		{name: "dead code, right digits", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now.Add(-time.Minute), domain.OTPMaxAttempts)},
			wantCode: domain.ETOOMANY, want: view},
		{name: "expired code, right digits", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now.Add(-domain.OTPLifetime), 0)},
			wantCode: domain.EGONE, want: view},
		{name: "wrong code", raw: guest, code: "654321", scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, 1)},
			count: true, wantCode: domain.EINVALID, wantLeft: 3, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 3}},
		{name: "fifth wrong code", raw: guest, code: "654321", scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, domain.OTPMaxAttempts-1)},
			count: true, wantCode: domain.ETOOMANY, want: view},
		{name: "unknown address, the digits of its hash", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), OTP: otp("", now, 0)},
			count: true, wantCode: domain.EINVALID, wantLeft: 4, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 4}},
		{name: "sent before the address had an account", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: ext, OTP: otp("", now, 0)},
			count: true, wantCode: domain.EINVALID, wantLeft: 4, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 4}},
		{name: "suspended since the send", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: user("g1", guest, domain.UserSuspended), OTP: otp("g1", now, 0)},
			count: true, wantCode: domain.EINVALID, wantLeft: 4, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 4}},
		{name: "two-step turned off for the user since the send", raw: guest, code: "123456",
			scope: domain.VerifyScope{Org: testPolicyOrg(), User: user("g1", guest, domain.UserActive), OTP: otp("g1", now, 0)},
			count: true, wantCode: domain.EINVALID, wantLeft: 4, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 4}},
		{name: "address now another account's", raw: guest, code: "123456", scope: domain.VerifyScope{Org: org(), User: user("g2", guest, domain.UserActive), OTP: otp("g1", now, 0)},
			count: true, wantCode: domain.EINVALID, wantLeft: 4, want: View{OrgID: orgID, OrgName: "Acme", Email: guest, TriesLeft: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			if tc.raw == guest && ValidCode(tc.code) {
				st.ScopeLoader = loadScope(func(string, string) (domain.VerifyScope, error) { return tc.scope, nil })
			}
			var counted []domain.OTP
			if tc.count {
				st.AttemptCounter = countAttempt(func(o domain.OTP) (bool, error) { counted = append(counted, o); return true, nil })
			}
			v, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, tc.raw, tc.code, "req-1")
			if code(t, err) != tc.wantCode {
				t.Fatalf("Verify: %v, want code %q", err, tc.wantCode)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Errorf("view %+v, want %+v", v, tc.want)
			}
			if tc.count && (len(counted) != 1 || !reflect.DeepEqual(counted[0], *tc.scope.OTP)) {
				t.Errorf("counted %+v, want the code read once", counted)
			}
			var de *domain.Error
			errors.As(err, &de)
			if tc.wantLeft > 0 && (de == nil || de.Extra["triesLeft"] != tc.wantLeft) {
				t.Errorf("%+v: want triesLeft %d", de, tc.wantLeft)
			}
			if tc.wantCode == domain.ETOOMANY && (de == nil || de.RetryAfter < time.Second) {
				t.Errorf("%+v: want a RetryAfter of at least a second", de)
			}
		})
	}
}

// TestVerifyCompletes: the right code completes the verification of the
// account it was sent to: the code read is consumed, the user verified now
// until now plus the frequency of the policy that applies to them (the
// test policy's when it names them; none for "once"), with the audit entry
// (the user is the actor; before is the previous verification).
func TestVerifyCompletes(t *testing.T) {
	earlier := now.Add(-40 * 24 * time.Hour)
	once := org()
	once.Policy.VerifyEveryDays = 0
	cases := []struct {
		name   string
		org    *domain.Org
		user   *domain.User
		due    time.Time
		before map[string]any
		after  map[string]any
	}{
		{"every 7 days, first verification", org(), user("g1", guest, domain.UserActive), now.Add(7 * 24 * time.Hour), nil,
			map[string]any{"verifiedAt": now.Format(time.RFC3339), "verifyDueAt": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}},
		{"once, verified before", once, func() *domain.User { u := user("g1", guest, domain.UserActive); u.VerifiedAt = earlier; return u }(), time.Time{},
			map[string]any{"verifiedAt": earlier.Format(time.RFC3339)}, map[string]any{"verifiedAt": now.Format(time.RFC3339)}},
		{"test policy, every 3 days", testPolicyOrg(), user("t1", guest, domain.UserActive), now.Add(3 * 24 * time.Hour), nil,
			map[string]any{"verifiedAt": now.Format(time.RFC3339), "verifyDueAt": now.Add(3 * 24 * time.Hour).Format(time.RFC3339)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := otp(tc.user.AccountID, now.Add(-time.Minute), 2)
			var got []domain.Verified
			st := &fakeStore{
				ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
					return domain.VerifyScope{Org: tc.org, User: tc.user, OTP: o}, nil
				}),
				Completer: complete(func(v domain.Verified) error { got = append(got, v); return nil }),
			}
			v, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "123456", "req-1")
			if err != nil {
				t.Fatal(err)
			}
			want := View{OrgID: orgID, OrgName: "Acme", Email: guest, VerifiedAt: now, DueAt: tc.due}
			if !reflect.DeepEqual(v, want) {
				t.Errorf("view %+v, want %+v", v, want)
			}
			if len(got) != 1 {
				t.Fatalf("%d completions, want 1", len(got))
			}
			c := got[0]
			if !reflect.DeepEqual(c.Code, *o) || !reflect.DeepEqual(c.User, *tc.user) || !c.At.Equal(now) || !c.DueAt.Equal(tc.due) {
				t.Errorf("completed %+v, want code read, user read, at %v due %v", c, now, tc.due)
			}
			a := c.Audit
			if a.OrgID != orgID || a.Actor != tc.user.AccountID || a.Action != domain.ActionUserVerify || a.Target != domain.UserTarget(tc.user.AccountID) ||
				a.RequestID != "req-1" || !a.At.Equal(now) || a.ID == "" {
				t.Errorf("audit %+v", a)
			}
			if !reflect.DeepEqual(a.Before, tc.before) || !reflect.DeepEqual(a.After, tc.after) {
				t.Errorf("audit before %v after %v, want %v %v", a.Before, a.After, tc.before, tc.after)
			}
		})
	}
}

// TestVerifyRereadsOnChange: an answer not counted (the code changed under
// it) or a completion that lost a race (ECONFLICT) reads again and decides
// on what it reads; other store errors are answered; endless changes end
// in 503 with nothing written.
func TestVerifyRereadsOnChange(t *testing.T) {
	ext := user("g1", guest, domain.UserActive)
	t.Run("attempt not counted, then counted", func(t *testing.T) {
		reads, counts := 0, 0
		st := &fakeStore{
			ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
				reads++
				return domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, reads)}, nil
			}),
			AttemptCounter: countAttempt(func(o domain.OTP) (bool, error) { counts++; return counts > 1, nil }),
		}
		v, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "000000", "r")
		if code(t, err) != domain.EINVALID || reads != 2 || v.TriesLeft != domain.OTPMaxAttempts-3 {
			t.Errorf("Verify: %+v %v after %d reads; want EINVALID from the second read's attempts", v, err, reads)
		}
	})
	t.Run("completion conflicts, then the code is gone", func(t *testing.T) {
		reads := 0
		st := &fakeStore{
			ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
				reads++
				if reads == 1 {
					return domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, 0)}, nil
				}
				return domain.VerifyScope{Org: org(), User: ext}, nil
			}),
			Completer: complete(func(domain.Verified) error { return domain.Errorf(domain.ECONFLICT, "changed") }),
		}
		_, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "123456", "r")
		if code(t, err) != domain.EINVALID || reads != 2 {
			t.Errorf("Verify: %v after %d reads; want EINVALID (no code) from the second read", err, reads)
		}
	})
	t.Run("store errors", func(t *testing.T) {
		boom := errors.New("boom")
		st := &fakeStore{
			ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
				return domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, 0)}, nil
			}),
			AttemptCounter: countAttempt(func(domain.OTP) (bool, error) { return false, boom }),
		}
		if _, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "000000", "r"); !errors.Is(err, boom) {
			t.Errorf("count error: %v", err)
		}
		st.AttemptCounter, st.Completer = nil, complete(func(domain.Verified) error { return boom })
		if _, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "123456", "r"); !errors.Is(err, boom) {
			t.Errorf("complete error: %v", err)
		}
	})
	t.Run("endless changes", func(t *testing.T) {
		reads := 0
		st := &fakeStore{
			ScopeLoader: loadScope(func(string, string) (domain.VerifyScope, error) {
				reads++
				return domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, 0)}, nil
			}),
			AttemptCounter: countAttempt(func(domain.OTP) (bool, error) { return false, nil }),
		}
		v, err := service(st, fakeSender{t: t}).Verify(context.Background(), orgID, guest, "000000", "r")
		if code(t, err) != domain.EUNAVAILABLE || reads != maxRounds || !reflect.DeepEqual(v, View{}) {
			t.Errorf("Verify: %+v %v after %d reads; want EUNAVAILABLE after %d", v, err, reads, maxRounds)
		}
	})
}

// TestShow reads the org only (no address), never writes, and says when
// no policy asks for two-step verification.
func TestShow(t *testing.T) {
	cases := []struct {
		name     string
		org      *domain.Org
		raw      string
		want     View
		wantCode string
	}{
		{"two-step on", org(), " Guest@Ext.Example", View{OrgID: orgID, OrgName: "Acme", Email: guest}, ""},
		{"test policy only", testPolicyOrg(), "", View{OrgID: orgID, OrgName: "Acme"}, ""},
		{"off", &domain.Org{ID: orgID, Name: "Acme"}, "junk", View{OrgID: orgID, OrgName: "Acme", NotRequired: true}, ""},
		{"no org", nil, guest, View{}, domain.ENOTFOUND},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{ScopeLoader: loadScope(func(o, e string) (domain.VerifyScope, error) {
				if e != "" {
					t.Errorf("Show read the address %q", e)
				}
				return domain.VerifyScope{Org: tc.org}, nil
			})}
			v, err := service(st, fakeSender{t: t}).Show(context.Background(), orgID, tc.raw)
			if code(t, err) != tc.wantCode || !reflect.DeepEqual(v, tc.want) {
				t.Errorf("Show = %+v, %v; want %+v, %q", v, err, tc.want, tc.wantCode)
			}
		})
	}
}
