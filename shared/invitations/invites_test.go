package invitations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// Function-field fakes, one per port: each implements exactly its port's
// methods, and a test sets only the fields its path calls (a call to an
// unset one panics, which fails the test).

// fakeInviteStore is InviteStore.
type fakeInviteStore struct {
	LoadInviteFn func(orgID, siteID, callerID string, groups, emails []string) (InviteScope, error)
	CreateFn     func(siteID string, batch []domain.NewInvitation, whole bool) (CreateResult, error)
}

func (f *fakeInviteStore) LoadInvite(_ context.Context, orgID, siteID, callerID string, groups, emails []string) (InviteScope, error) {
	return f.LoadInviteFn(orgID, siteID, callerID, groups, emails)
}

func (f *fakeInviteStore) CreateInvitations(_ context.Context, siteID string, batch []domain.NewInvitation, whole bool) (CreateResult, error) {
	return f.CreateFn(siteID, batch, whole)
}

// fakeAcceptStore is AcceptStore.
type fakeAcceptStore struct {
	ByTokenFn func(hash string) (domain.Invitation, error)
	AcceptFn  func(inv domain.Invitation, at time.Time, audit domain.AuditEntry) error
}

func (f *fakeAcceptStore) InvitationByToken(_ context.Context, hash string) (domain.Invitation, error) {
	return f.ByTokenFn(hash)
}

func (f *fakeAcceptStore) AcceptInvitation(_ context.Context, inv domain.Invitation, at time.Time, audit domain.AuditEntry) error {
	return f.AcceptFn(inv, at, audit)
}

// fakeRetryStore is RetryStore.
type fakeRetryStore struct {
	DueFn         func(now time.Time, limit int) ([]domain.Invitation, error)
	DueExpiriesFn func(now time.Time, limit int) ([]domain.Invitation, error)
	LoadInviteeFn func(orgID, accountID string) (*domain.UserRecord, error)
	ExpireFn      func(rv domain.Revocation, now time.Time) error
}

func (f *fakeRetryStore) DueInvitations(_ context.Context, now time.Time, limit int) ([]domain.Invitation, error) {
	return f.DueFn(now, limit)
}

func (f *fakeRetryStore) DueExpiries(_ context.Context, now time.Time, limit int) ([]domain.Invitation, error) {
	return f.DueExpiriesFn(now, limit)
}

func (f *fakeRetryStore) LoadInvitee(_ context.Context, orgID, accountID string) (*domain.UserRecord, error) {
	return f.LoadInviteeFn(orgID, accountID)
}

func (f *fakeRetryStore) ExpireInvitation(_ context.Context, rv domain.Revocation, now time.Time) error {
	return f.ExpireFn(rv, now)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func scope() InviteScope {
	return InviteScope{
		Scope: domain.Scope{
			Org:    &domain.Org{ID: "o", Name: "Org", VerifiedDomains: []string{"org.example"}},
			Site:   &domain.Site{OrgID: "o", ID: "s", Name: "Site", Host: "s.example", PaidUsers: 2, GuestSlots: 10},
			Caller: &domain.User{OrgID: "o", AccountID: "admin", Status: domain.UserActive, OrgAdmin: true, DisplayName: "Ada"},
		},
		Groups:   map[string]domain.Group{},
		Accounts: map[string]domain.ExistingAccount{},
	}
}

// fakeQueue is the email queue: it keeps the messages, or fails them all.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []queue.Message
	err  error
}

func (q *fakeQueue) Send(_ context.Context, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// jobs are the ids of the invitations queued.
func (q *fakeQueue) jobs(t *testing.T) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []string
	for _, m := range q.msgs {
		var j emails.Job
		if err := json.Unmarshal([]byte(m.Body), &j); err != nil || j.Kind != emails.KindInvitation {
			t.Fatalf("%s: %v", m.Body, err)
		}
		ids = append(ids, j.ID)
	}
	return ids
}

func inviter(st InviteStore, q *fakeQueue) *Inviter {
	return &Inviter{Store: st, Emails: q, Config: Config{AcceptURL: "https://x.example/invitations/accept", Lifetime: time.Hour},
		Now: func() time.Time { return now }, Log: quiet}
}

func guests(emails ...string) domain.InviteInput {
	return domain.InviteInput{Emails: emails, Products: map[string]domain.ProductInput{"confluence": {Role: "guest"}}}
}

func TestInviteRefusesBeforeWriting(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*InviteScope)
		in     domain.InviteInput
		code   string
	}{
		{"unknown org", func(s *InviteScope) { s.Org = nil }, guests("a@x.example"), domain.ENOTFOUND},
		{"caller of another org", func(s *InviteScope) { s.Caller = nil }, guests("a@x.example"), domain.ENOTFOUND},
		{"unknown site", func(s *InviteScope) { s.Site = nil }, guests("a@x.example"), domain.ENOTFOUND},
		{"plain user", func(s *InviteScope) { s.Caller.OrgAdmin = false }, guests("a@x.example"), domain.EFORBIDDEN},
		{"unknown group", func(*InviteScope) {}, domain.InviteInput{Emails: []string{"a@x.example"}, Groups: []string{"nope"}}, domain.ENOTFOUND},
		{"all or nothing with a member", func(s *InviteScope) { s.Accounts["b@x.example"] = domain.ExistingAccount{AccountID: "b"} },
			domain.InviteInput{Emails: []string{"a@x.example", "b@x.example"}, Products: map[string]domain.ProductInput{"confluence": {Role: "guest"}}, AllOrNothing: true}, domain.EREFUSED},
		// No valid address is answered per address, but only to those who
		// may invite here, and all or nothing still refuses.
		{"no valid address, plain user", func(s *InviteScope) { s.Caller.OrgAdmin = false }, guests(""), domain.EFORBIDDEN},
		{"no valid address, unknown org", func(s *InviteScope) { s.Org = nil }, guests("nope"), domain.ENOTFOUND},
		{"no valid address, unknown group", func(*InviteScope) {}, domain.InviteInput{Emails: []string{""}, Groups: []string{"nope"}}, domain.ENOTFOUND},
		{"no valid address, all or nothing", func(*InviteScope) {},
			domain.InviteInput{Emails: []string{""}, Products: map[string]domain.ProductInput{"confluence": {Role: "guest"}}, AllOrNothing: true}, domain.EREFUSED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &fakeInviteStore{LoadInviteFn: func(_, _, _ string, _, _ []string) (InviteScope, error) {
				sc := scope()
				c.mutate(&sc)
				return sc, nil
			}}
			_, err := inviter(st, nil).Invite(context.Background(), Caller{AccountID: "admin"}, "o", "s", c.in)
			if domain.ErrorCode(err) != c.code {
				t.Errorf("err = %v, want %s", err, c.code)
			}
		})
	}
}

// TestInviteNoValidAddress: a request whose addresses are all invalid
// (rules §3: per address the response says what happened, invalid included) is
// answered per address like any other, after the one read that checks the
// caller's power; nothing is written and no email is sent (the fakes fail
// the test on a write or a send).
func TestInviteNoValidAddress(t *testing.T) {
	var asked []string
	st := &fakeInviteStore{LoadInviteFn: func(_, _, _ string, _, emails []string) (InviteScope, error) {
		asked = emails
		return scope(), nil
	}}
	res, err := inviter(st, nil).Invite(context.Background(), Caller{AccountID: "admin"}, "o", "s", guests("", "not-an-address", "x@y.example\r\nBcc: z@y.example"))
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Errorf("read the guards of %q", asked)
	}
	if len(res.Results) != 3 || res.Summary != (Summary{Invalid: 3}) || res.Kind != domain.KindGuest || res.Billing != scope().Site.Billing() {
		t.Errorf("result %+v", res)
	}
	for _, r := range res.Results {
		if r.Status != domain.OutcomeInvalid || r.Reason == "" || r.InvitationID != "" {
			t.Errorf("address %q: %+v", r.Email, r)
		}
	}
}

// TestInviteOutcomes: existing accounts, refusals by the store and the new
// invitations each get their outcome; one read, one write, and the new
// invitation's email handed to the queue after the write.
func TestInviteOutcomes(t *testing.T) {
	var reads, writes int
	var written []string
	st := &fakeInviteStore{
		LoadInviteFn: func(org, site, caller string, groups, emails []string) (InviteScope, error) {
			reads++
			if fmt.Sprint(emails) != "[new@x.example pending@x.example member@x.example raced@x.example full@x.example]" {
				t.Errorf("emails read = %v", emails)
			}
			sc := scope()
			sc.Accounts["pending@x.example"] = domain.ExistingAccount{AccountID: "p", InvitationID: "inv-p", ExpiresAt: now.Add(time.Hour), Status: domain.InvitationPending}
			sc.Accounts["member@x.example"] = domain.ExistingAccount{AccountID: "m", InvitationID: "inv-m", ExpiresAt: now.Add(time.Hour), Status: domain.InvitationAccepted}
			return sc, nil
		},
		CreateFn: func(site string, batch []domain.NewInvitation, whole bool) (CreateResult, error) {
			writes++
			for _, n := range batch {
				written = append(written, n.Invitation.ID)
			}
			if len(batch) != 3 || whole {
				t.Fatalf("batch of %d (whole %v), want the 3 new addresses", len(batch), whole)
			}
			full := domain.Site{PaidUsers: 2, Guests: 10, GuestSlots: 0}
			return CreateResult{Site: &full, Refused: []InviteRefused{
				{Index: 1, Outcome: domain.OutcomeAlreadyMember, Existing: &domain.ExistingAccount{AccountID: "r"}},
				{Index: 2, Outcome: domain.OutcomeGuestLimit},
			}}, nil
		},
	}
	q := &fakeQueue{}
	res, err := inviter(st, q).Invite(context.Background(), Caller{AccountID: "admin", RequestID: "r1"}, "o", "s",
		guests("new@x.example", "Pending@X.example", "member@x.example", "raced@x.example", "full@x.example", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Outcome{domain.OutcomeInvited, domain.OutcomeAlreadyInvited, domain.OutcomeAlreadyMember, domain.OutcomeAlreadyMember, domain.OutcomeGuestLimit, domain.OutcomeInvalid}
	for i, w := range want {
		if res.Results[i].Status != w {
			t.Errorf("result %d = %+v, want %s", i, res.Results[i], w)
		}
	}
	if r := res.Results[1]; r.InvitationID != "inv-p" || !r.ExpiresAt.Equal(now.Add(time.Hour)) || r.AccountID != "p" {
		t.Errorf("already_invited = %+v", r)
	}
	if !strings.Contains(res.Results[4].Reason, "2 paid") {
		t.Errorf("guest limit reason = %q", res.Results[4].Reason)
	}
	if jobs := q.jobs(t); reads != 1 || writes != 1 || len(jobs) != 1 || jobs[0] != written[0] || res.Results[0].EmailDelivery != domain.DeliveryPending {
		t.Errorf("reads %d writes %d queued %v (written %v) delivery %s", reads, writes, jobs, written, res.Results[0].EmailDelivery)
	}
	if res.Billing.Guests != 11 || res.Billing.FreeGuestSlots != 0 {
		t.Errorf("billing = %+v (the store's fresh counters plus the one invited)", res.Billing)
	}
	if s := res.Summary; s.Invited != 1 || s.AlreadyInvited != 1 || s.AlreadyMember != 2 || s.GuestLimit != 1 || s.Invalid != 1 || s.EmailsQueued != 1 || s.EmailsSent != 0 {
		t.Errorf("summary = %+v", s)
	}
}

// TestInviteHandOffFailureLosesNothing: the queue refuses the hand-off
// after the commit (or the function dies before it): the invite still
// answers, its invitations written and pending, due in the index for the
// sweep (TestRetryDeliveries queues what is due).
func TestInviteHandOffFailureLosesNothing(t *testing.T) {
	writes := 0
	st := &fakeInviteStore{
		LoadInviteFn: func(_, _, _ string, _, _ []string) (InviteScope, error) { return scope(), nil },
		CreateFn: func(string, []domain.NewInvitation, bool) (CreateResult, error) {
			writes++
			return CreateResult{}, nil
		},
	}
	res, err := inviter(st, &fakeQueue{err: errors.New("sqs down")}).
		Invite(context.Background(), Caller{AccountID: "admin"}, "o", "s", guests("a@x.example", "b@x.example"))
	if err != nil || writes != 1 || res.Summary.Invited != 2 || res.Summary.EmailsQueued != 0 || res.Results[0].EmailDelivery != domain.DeliveryPending {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRetryDeliveries(t *testing.T) {
	due := []domain.Invitation{
		{ID: "old", OrgID: "o", AccountID: "a-old", Email: "old@x.example", ExpiresAt: now.Add(-time.Minute), Status: domain.InvitationPending},
		{ID: "raced", Email: "raced@x.example", ExpiresAt: now.Add(time.Hour), Status: domain.InvitationPending},
		{ID: "ok", Email: "ok@x.example", ExpiresAt: now.Add(time.Hour), Status: domain.InvitationPending},
	}
	lapsed := []domain.Invitation{
		{ID: "gone", OrgID: "o", AccountID: "a-gone", ExpiresAt: now.Add(-time.Hour), Status: domain.InvitationPending},
		{ID: "busy", OrgID: "o", AccountID: "a-busy", ExpiresAt: now.Add(-time.Hour), Status: domain.InvitationPending},
		{ID: "renewed", OrgID: "o", AccountID: "a-renewed", ExpiresAt: now.Add(-time.Hour), Status: domain.InvitationPending},
	}
	var expired []string
	st := &fakeRetryStore{
		DueFn:         func(time.Time, int) ([]domain.Invitation, error) { return due, nil },
		DueExpiriesFn: func(time.Time, int) ([]domain.Invitation, error) { return lapsed, nil },
		LoadInviteeFn: func(org, acct string) (*domain.UserRecord, error) {
			inv := domain.Invitation{OrgID: org, AccountID: acct, ID: acct[2:], ExpiresAt: now.Add(-time.Hour), Status: domain.InvitationPending}
			if acct == "a-renewed" { // the index lagged behind a resend
				inv.ExpiresAt = now.Add(time.Hour)
			}
			return &domain.UserRecord{User: domain.User{OrgID: org, AccountID: acct, Status: domain.UserInvited}, Invitations: []domain.Invitation{inv}}, nil
		},
		ExpireFn: func(rv domain.Revocation, at time.Time) error {
			a := rv.Audit
			if a.Actor != domain.ActorSystem || a.Action != domain.ActionInvitationExpire || a.Target != domain.InvitationTarget(rv.Invitation.ID) || a.RequestID != "run-1" || !at.Equal(now) {
				t.Errorf("audit = %+v", a)
			}
			if rv.Invitation.ID == "busy" {
				return &domain.Error{Code: domain.ECONFLICT, Message: "busy", Extra: map[string]any{"groups": []string{"g"}}}
			}
			expired = append(expired, rv.Invitation.ID)
			return nil
		},
	}
	q := &fakeQueue{}
	r := &Retrier{Store: st, Emails: q, Now: func() time.Time { return now }, Log: quiet}
	rep, err := r.Run(context.Background(), "run-1", 10, 10)
	if err != nil || rep != (RetryReport{Due: 3, Queued: 2, Lapsed: 3, Expired: 2, Busy: 1, Skipped: 1}) {
		t.Errorf("report = %+v %v", rep, err)
	}
	// The sweep queues what is due and not lapsed; the sender claims each
	// (a raced one is dropped there).
	if fmt.Sprint(q.jobs(t)) != "[raced ok]" {
		t.Errorf("queued %v", q.jobs(t))
	}
	if fmt.Sprint(expired) != "[old gone]" {
		t.Errorf("expired = %v", expired)
	}
}

func TestAcceptStates(t *testing.T) {
	token, hash := domain.NewToken()
	for _, c := range []struct {
		status  domain.InvitationStatus
		expires time.Time
		code    string
	}{
		{domain.InvitationPending, now.Add(time.Hour), ""},
		{domain.InvitationAccepted, now.Add(time.Hour), domain.ECONFLICT},
		{domain.InvitationRevoked, now.Add(time.Hour), domain.EGONE},
		{domain.InvitationPending, now, domain.EGONE},
	} {
		accepted := false
		st := &fakeAcceptStore{
			ByTokenFn: func(h string) (domain.Invitation, error) {
				if h != hash {
					return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "no")
				}
				return domain.Invitation{ID: "i", AccountID: "a", OrgID: "o", Status: c.status, ExpiresAt: c.expires, Kind: domain.KindGuest}, nil
			},
			AcceptFn: func(inv domain.Invitation, at time.Time, audit domain.AuditEntry) error {
				accepted = true
				if audit.Action != domain.ActionInvitationAccept || audit.Actor != "a" || audit.RequestID != "req" {
					t.Errorf("audit = %+v", audit)
				}
				return nil
			},
		}
		a := &Acceptor{Store: st, Now: func() time.Time { return now }, Log: quiet}
		if _, err := a.Show(context.Background(), token); domain.ErrorCode(err) != c.code {
			t.Errorf("%s: show = %v, want %q", c.status, err, c.code)
		}
		if accepted {
			t.Errorf("%s: showing accepted", c.status)
		}
		_, err := a.Accept(context.Background(), token, "req")
		if domain.ErrorCode(err) != c.code || accepted != (c.code == "") {
			t.Errorf("%s: accept = %v (accepted %v)", c.status, err, accepted)
		}
	}
	a := &Acceptor{Store: &fakeAcceptStore{}, Now: func() time.Time { return now }}
	if _, err := a.Show(context.Background(), "short"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("malformed token reached the store or passed: %v", err)
	}
}
