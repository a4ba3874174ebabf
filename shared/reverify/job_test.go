package reverify

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
)

// Fast unit tests of the job's per-entry decisions against function-field
// fakes (reverify_test.go runs the job against the store on both backends).
// Each case sets only what its path calls; a call to an unset field fails
// the test, so leaving one nil proves it is not reached.

type fakeStore struct {
	DueFn     func(sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error)
	OrgsFn    func(ids []string) (map[string]domain.Org, error)
	MoveFn    func(u domain.User, entry string, dueAt time.Time) error
	ClaimFn   func(u domain.User, entry string, until time.Time) (string, error)
	MarkFn    func(ctx context.Context, u domain.User, claim string, audit domain.AuditEntry) error
	UsersFn   func(org domain.Org, cursor string, limit int) ([]domain.User, string, error)
	RescanFn  func(u domain.User, dueAt time.Time, state domain.VerifyState) error
	SaveFn    func(sc domain.VerifyScan, cursor string) error
	DeleteFn  func(sc domain.VerifyScan) error
	dueShards []int
}

// Each port's fake is a function; fakeStore.ports wires those set.

type dueFn func(sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error)

func (f dueFn) DueVerifications(_ context.Context, sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
	return f(sh, now, start, limit)
}

type orgsFn func(ids []string) (map[string]domain.Org, error)

func (f orgsFn) Orgs(_ context.Context, ids []string) (map[string]domain.Org, error) { return f(ids) }

type moveFn func(u domain.User, entry string, dueAt time.Time) error

func (f moveFn) MoveVerifyDue(_ context.Context, u domain.User, entry string, dueAt time.Time) error {
	return f(u, entry, dueAt)
}

type claimFn func(u domain.User, entry string, until time.Time) (string, error)

func (f claimFn) ClaimVerification(_ context.Context, u domain.User, entry string, until time.Time) (string, error) {
	return f(u, entry, until)
}

type markFn func(ctx context.Context, u domain.User, claim string, audit domain.AuditEntry) error

func (f markFn) MarkVerificationRequired(ctx context.Context, u domain.User, claim string, audit domain.AuditEntry) error {
	return f(ctx, u, claim, audit)
}

type usersFn func(org domain.Org, cursor string, limit int) ([]domain.User, string, error)

func (f usersFn) ExternalUsers(_ context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error) {
	return f(org, cursor, limit)
}

type rescanFn func(u domain.User, dueAt time.Time, state domain.VerifyState) error

func (f rescanFn) RescanVerification(_ context.Context, u domain.User, dueAt time.Time, state domain.VerifyState) error {
	return f(u, dueAt, state)
}

type saveFn func(sc domain.VerifyScan, cursor string) error

func (f saveFn) SaveVerifyScan(_ context.Context, sc domain.VerifyScan, cursor string) error {
	return f(sc, cursor)
}

type deleteFn func(sc domain.VerifyScan) error

func (f deleteFn) DeleteVerifyScan(_ context.Context, sc domain.VerifyScan) error { return f(sc) }

// ports wires the functions set, each as its port; a port left unset is
// nil in the job, so leaving one nil proves it is not reached. The due
// reader records the shards read.
func (f *fakeStore) ports() Ports {
	var p Ports
	if f.DueFn != nil {
		p.Due = dueFn(func(sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
			f.dueShards = append(f.dueShards, sh)
			return f.DueFn(sh, now, start, limit)
		})
	}
	if f.OrgsFn != nil {
		p.Orgs = orgsFn(f.OrgsFn)
	}
	if f.MoveFn != nil {
		p.Moves = moveFn(f.MoveFn)
	}
	if f.ClaimFn != nil {
		p.Claims = claimFn(f.ClaimFn)
	}
	if f.MarkFn != nil {
		p.Marks = markFn(f.MarkFn)
	}
	if f.UsersFn != nil {
		p.External = usersFn(f.UsersFn)
	}
	if f.RescanFn != nil {
		p.Rescans = rescanFn(f.RescanFn)
	}
	if f.SaveFn != nil {
		p.ScanSaves = saveFn(f.SaveFn)
	}
	if f.DeleteFn != nil {
		p.ScanDeletes = deleteFn(f.DeleteFn)
	}
	return p
}

type fakeSender struct {
	t      *testing.T
	SendFn func(ctx context.Context, msg emails.Message) (string, error)
}

func (f fakeSender) Send(ctx context.Context, msg emails.Message) (string, error) {
	if f.SendFn == nil {
		f.t.Fatalf("unexpected email to %s", msg.To)
	}
	return f.SendFn(ctx, msg)
}

var now = time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func job(st *fakeStore, mail fakeSender) *Job {
	return &Job{Ports: st.ports(), Mailer: mail, BaseURL: "https://ga.example", Now: func() time.Time { return now }}
}

// org "o" verifies acme.example; two-step on every 30 days.
func org() domain.Org {
	return domain.Org{ID: "o", Name: "Acme", VerifiedDomains: []string{"acme.example"}, Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 30}}
}

// guest is an active external user of "o" verified ago.
func guest(id string, ago time.Duration) domain.User {
	return domain.User{OrgID: "o", AccountID: id, Email: id + "@ext.example", Status: domain.UserActive,
		VerifiedAt: now.Add(-ago), VerifyState: domain.VerifyVerified}
}

// entries is one page of shard 0 holding the users' entries ("e-<id>");
// the other shards are empty.
func entries(us ...domain.User) func(int, time.Time, string, int) ([]domain.DueVerification, string, error) {
	return func(sh int, _ time.Time, start string, _ int) ([]domain.DueVerification, string, error) {
		if sh != 0 || start != "" {
			return nil, "", nil
		}
		var page []domain.DueVerification
		for _, u := range us {
			page = append(page, domain.DueVerification{Entry: "e-" + u.AccountID, User: &u})
		}
		return page, "", nil
	}
}

func orgs(os ...domain.Org) func([]string) (map[string]domain.Org, error) {
	return func([]string) (map[string]domain.Org, error) {
		m := map[string]domain.Org{}
		for _, o := range os {
			m[o.ID] = o
		}
		return m, nil
	}
}

// TestUserDecisions: a due user is parked without an email when their org
// is gone, they are not active, no longer external, under two-step off or
// "once"; moved to their new due time when the frequency got longer (the
// test policy's when it names them); otherwise claimed (until now plus the
// lease), emailed the org's verification page and marked required with
// the audit entry (by system, the run's id), conditioned on the claim.
func TestUserDecisions(t *testing.T) {
	off := org()
	off.Policy.TwoStep = false
	once := org()
	once.Policy.VerifyEveryDays = 0
	verified := org()
	verified.VerifiedDomains = append(verified.VerifiedDomains, "ext.example")
	test := org()
	test.TestPolicy = &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 3}, Users: []string{"g1"}}
	reset := org()
	reset.SessionsResetAt = now.Add(-day)
	suspended := guest("g1", 40*day)
	suspended.Status = domain.UserSuspended

	cases := []struct {
		name    string
		org     *domain.Org // nil: gone
		user    domain.User
		move    bool      // the entry is moved, to dueAt
		dueAt   time.Time // zero: parked
		lapsed  time.Time // notified: the lapse the email and audit name (zero: a reset)
		wantRep Report
	}{
		{name: "org gone", user: guest("g1", 40*day), move: true, wantRep: Report{Due: 1, Parked: 1}},
		{name: "suspended", org: ptr(org()), user: suspended, move: true, wantRep: Report{Due: 1, OrgsRead: 1, Parked: 1}},
		{name: "no longer external", org: &verified, user: guest("g1", 40*day), move: true, wantRep: Report{Due: 1, OrgsRead: 1, Parked: 1}},
		{name: "two-step off", org: &off, user: guest("g1", 40*day), move: true, wantRep: Report{Due: 1, OrgsRead: 1, Parked: 1}},
		{name: "once", org: &once, user: guest("g1", 40*day), move: true, wantRep: Report{Due: 1, OrgsRead: 1, Parked: 1}},
		{name: "frequency got longer", org: ptr(org()), user: guest("g1", 10*day), move: true, dueAt: now.Add(20 * day),
			wantRep: Report{Due: 1, OrgsRead: 1, Moved: 1}},
		{name: "lapsed", org: ptr(org()), user: guest("g1", 31*day), lapsed: now.Add(-day), wantRep: Report{Due: 1, OrgsRead: 1, Emailed: 1}},
		{name: "lapsed under the test policy", org: &test, user: guest("g1", 4*day), lapsed: now.Add(-day), wantRep: Report{Due: 1, OrgsRead: 1, Emailed: 1}},
		{name: "not lapsed: not named by the test policy", org: &test, user: guest("g2", 4*day), move: true, dueAt: now.Add(26 * day),
			wantRep: Report{Due: 1, OrgsRead: 1, Moved: 1}},
		{name: "lapsed by a reset of sessions", org: &reset, user: guest("g1", 2*day), wantRep: Report{Due: 1, OrgsRead: 1, Emailed: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.user
			st := &fakeStore{DueFn: entries(u), OrgsFn: func(ids []string) (map[string]domain.Org, error) {
				if !slices.Equal(ids, []string{"o"}) {
					t.Errorf("orgs read %v", ids)
				}
				if tc.org == nil {
					return map[string]domain.Org{}, nil
				}
				return map[string]domain.Org{"o": *tc.org}, nil
			}}
			var moved []time.Time
			var mails []emails.Message
			var marks []domain.AuditEntry
			mail := fakeSender{t: t}
			if tc.move {
				st.MoveFn = func(got domain.User, entry string, dueAt time.Time) error {
					if !reflect.DeepEqual(got, u) || entry != "e-"+u.AccountID {
						t.Errorf("moved %+v %q", got, entry)
					}
					moved = append(moved, dueAt)
					return nil
				}
			} else {
				st.ClaimFn = func(got domain.User, entry string, until time.Time) (string, error) {
					if !reflect.DeepEqual(got, u) || entry != "e-"+u.AccountID || !until.Equal(now.Add(DefaultLease)) {
						t.Errorf("claimed %+v %q until %v", got, entry, until)
					}
					return "claim-1", nil
				}
				mail.SendFn = func(_ context.Context, m emails.Message) (string, error) { mails = append(mails, m); return "id", nil }
				st.MarkFn = func(_ context.Context, got domain.User, claim string, a domain.AuditEntry) error {
					if !reflect.DeepEqual(got, u) || claim != "claim-1" {
						t.Errorf("marked %+v with claim %q, want the claim", got, claim)
					}
					if len(mails) != 1 {
						t.Errorf("marked before the email")
					}
					marks = append(marks, a)
					return nil
				}
			}
			rep, err := job(st, mail).Run(context.Background(), "run-1")
			if err != nil || rep != tc.wantRep {
				t.Fatalf("Run = %+v, %v; want %+v", rep, err, tc.wantRep)
			}
			if !slices.Equal(st.dueShards, []int{0, 1, 2, 3}) {
				t.Errorf("shards read %v, want each once", st.dueShards)
			}
			if tc.move {
				if len(moved) != 1 || !moved[0].Equal(tc.dueAt) {
					t.Errorf("moved to %v, want %v", moved, tc.dueAt)
				}
				return
			}
			if len(mails) != 1 || mails[0].To != u.Email || !strings.Contains(mails[0].Text, "https://ga.example/orgs/o/verify") {
				t.Fatalf("emails %+v, want one to %s linking the verification page", mails, u.Email)
			}
			if len(marks) != 1 {
				t.Fatalf("%d marks, want 1", len(marks))
			}
			a := marks[0]
			after := map[string]any{"verification": domain.VerificationRequired, "emailed": true}
			if !tc.lapsed.IsZero() {
				after["lapsedAt"] = tc.lapsed.Format(time.RFC3339)
			}
			before := map[string]any{"verification": domain.VerificationVerified, "verifiedAt": u.VerifiedAt.Format(time.RFC3339)}
			if a.OrgID != "o" || a.Actor != domain.ActorSystem || a.Action != domain.ActionVerificationLapse || a.Target != domain.UserTarget(u.AccountID) ||
				a.RequestID != "run-1" || !a.At.Equal(now) || !reflect.DeepEqual(a.Before, before) || !reflect.DeepEqual(a.After, after) {
				t.Errorf("audit %+v, want before %v after %v", a, before, after)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRaces: an entry that changed since it was read (verified meanwhile,
// claimed by another run, a newer claim) is skipped: no email when the
// claim fails; the mark is written even when the run's context ends after
// the email went; a store error ends the run.
func TestRaces(t *testing.T) {
	conflict := domain.Errorf(domain.ECONFLICT, "changed")
	t.Run("move conflicts", func(t *testing.T) {
		st := &fakeStore{DueFn: entries(guest("g1", 10*day)), OrgsFn: orgs(org()), MoveFn: func(domain.User, string, time.Time) error { return conflict }}
		if rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r"); err != nil || rep.Skipped != 1 || rep.Moved != 0 {
			t.Errorf("Run = %+v, %v", rep, err)
		}
	})
	t.Run("claim conflicts", func(t *testing.T) {
		st := &fakeStore{DueFn: entries(guest("g1", 40*day)), OrgsFn: orgs(org()),
			ClaimFn: func(domain.User, string, time.Time) (string, error) { return "", conflict }}
		if rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r"); err != nil || rep.Skipped != 1 || rep.Emailed != 0 {
			t.Errorf("Run = %+v, %v", rep, err)
		}
	})
	t.Run("mark conflicts", func(t *testing.T) {
		st := &fakeStore{DueFn: entries(guest("g1", 40*day)), OrgsFn: orgs(org()),
			ClaimFn: func(domain.User, string, time.Time) (string, error) { return "c", nil },
			MarkFn:  func(context.Context, domain.User, string, domain.AuditEntry) error { return conflict }}
		mail := fakeSender{t: t, SendFn: func(context.Context, emails.Message) (string, error) { return "id", nil }}
		if rep, err := job(st, mail).Run(context.Background(), "r"); err != nil || rep.Skipped != 1 || rep.Emailed != 0 {
			t.Errorf("Run = %+v, %v", rep, err)
		}
	})
	t.Run("cancelled after the email", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		marked := false
		st := &fakeStore{DueFn: entries(guest("g1", 40*day)), OrgsFn: orgs(org()),
			ClaimFn: func(domain.User, string, time.Time) (string, error) { return "c", nil },
			MarkFn: func(ctx context.Context, _ domain.User, _ string, _ domain.AuditEntry) error {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				marked = true
				return nil
			}}
		mail := fakeSender{t: t, SendFn: func(context.Context, emails.Message) (string, error) { cancel(); return "id", nil }}
		rep, err := job(st, mail).Run(ctx, "r")
		if !marked || rep.Emailed != 1 || !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %+v, %v, marked %v; want the mark written, then the run stopped", rep, err, marked)
		}
	})
	boom := errors.New("boom")
	for name, st := range map[string]*fakeStore{
		"due read": {DueFn: func(int, time.Time, string, int) ([]domain.DueVerification, string, error) { return nil, "", boom }},
		"org read": {DueFn: entries(guest("g1", day)), OrgsFn: func([]string) (map[string]domain.Org, error) { return nil, boom }},
		"move":     {DueFn: entries(guest("g1", day)), OrgsFn: orgs(org()), MoveFn: func(domain.User, string, time.Time) error { return boom }},
		"claim": {DueFn: entries(guest("g1", 40*day)), OrgsFn: orgs(org()),
			ClaimFn: func(domain.User, string, time.Time) (string, error) { return "", boom }},
	} {
		t.Run(name+" fails", func(t *testing.T) {
			if _, err := job(st, fakeSender{t: t}).Run(context.Background(), "r"); !errors.Is(err, boom) {
				t.Errorf("Run: %v, want the store's error", err)
			}
		})
	}
}

// TestEmailFailures: an email SES refuses leaves the claim to lapse (no
// mark: a later run retries); MaxSendFailures refusals in a row stop the
// run (the rest stays due), a success between them resets the count; an
// address no email can be rendered for is marked without an email.
func TestEmailFailures(t *testing.T) {
	var us []domain.User
	for i := range 6 {
		us = append(us, guest(fmt.Sprintf("g%d", i), 40*day))
	}
	cases := []struct {
		name    string
		fail    []bool // per send: refused
		wantRep Report
		marked  []string
	}{
		{"all refused: stops after three", []bool{true, true, true, true, true, true},
			Report{Due: 3, OrgsRead: 1, Failed: 3, Stopped: true}, nil},
		{"a success resets the count", []bool{true, true, false, true, true, false},
			Report{Due: 6, OrgsRead: 1, Failed: 4, Emailed: 2}, []string{"g2", "g5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var marked []string
			sends := 0
			st := &fakeStore{DueFn: entries(us...), OrgsFn: orgs(org()),
				ClaimFn: func(domain.User, string, time.Time) (string, error) { return "c", nil },
				MarkFn: func(_ context.Context, u domain.User, _ string, _ domain.AuditEntry) error {
					marked = append(marked, u.AccountID)
					return nil
				}}
			mail := fakeSender{t: t, SendFn: func(context.Context, emails.Message) (string, error) {
				sends++
				if tc.fail[sends-1] {
					return "", errors.New("ses throttled")
				}
				return "id", nil
			}}
			rep, err := job(st, mail).Run(context.Background(), "r")
			if err != nil || rep != tc.wantRep || !slices.Equal(marked, tc.marked) {
				t.Errorf("Run = %+v, %v, marked %v; want %+v, marked %v", rep, err, marked, tc.wantRep, tc.marked)
			}
		})
	}
	t.Run("undeliverable address", func(t *testing.T) {
		u := guest("g1", 40*day)
		u.Email = "g1\u2028@ext.example"
		var after map[string]any
		st := &fakeStore{DueFn: entries(u), OrgsFn: orgs(org()),
			ClaimFn: func(domain.User, string, time.Time) (string, error) { return "c", nil },
			MarkFn: func(_ context.Context, _ domain.User, _ string, a domain.AuditEntry) error {
				after = a.After
				return nil
			}}
		rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r")
		if err != nil || rep != (Report{Due: 1, OrgsRead: 1, Undeliverable: 1}) || after["emailed"] != false {
			t.Errorf("Run = %+v, %v, audit after %v; want marked, not emailed", rep, err, after)
		}
	})
}

// TestStops: a run stops before its deadline less the margin (reading
// nothing) and after its budget of entries; the lease and page size set
// are used; orgs are read once per run, only those not read yet.
func TestStops(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		j := job(&fakeStore{}, fakeSender{t: t})
		j.Margin = 2 * time.Minute
		rep, err := j.Run(ctx, "r")
		if err != nil || !rep.Stopped || rep != (Report{Stopped: true}) {
			t.Errorf("Run within the margin = %+v, %v; want stopped, nothing read", rep, err)
		}
	})
	t.Run("budget, lease, page size, orgs once", func(t *testing.T) {
		other := org()
		other.ID = "p"
		in := func(u domain.User, o string) domain.User { u.OrgID = o; return u }
		pages := map[string][]domain.DueVerification{
			"": {{Entry: "a", User: ptr(in(guest("a", day), "o"))}, {Entry: "b", User: ptr(in(guest("b", day), "p"))}},
			"2": {{Entry: "c", User: ptr(in(guest("c", day), "o"))}, {Entry: "d", User: ptr(in(guest("d", 40*day), "o"))},
				{Entry: "e", User: ptr(in(guest("e", day), "o"))}},
		}
		var orgReads [][]string
		var claims []time.Time
		st := &fakeStore{
			DueFn: func(sh int, at time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
				if sh != 0 || !at.Equal(now) || limit != 7 {
					t.Errorf("due read shard %d at %v limit %d", sh, at, limit)
				}
				if start == "" {
					return pages[""], "2", nil
				}
				return pages[start], "", nil
			},
			OrgsFn: func(ids []string) (map[string]domain.Org, error) {
				orgReads = append(orgReads, slices.Clone(ids))
				return map[string]domain.Org{"o": org(), "p": other}, nil
			},
			MoveFn: func(domain.User, string, time.Time) error { return nil },
			ClaimFn: func(_ domain.User, _ string, until time.Time) (string, error) {
				claims = append(claims, until)
				return "", domain.Errorf(domain.ECONFLICT, "x")
			},
		}
		j := job(st, fakeSender{t: t})
		j.Budget, j.PageSize, j.Lease = 4, 7, time.Hour
		rep, err := j.Run(context.Background(), "r")
		if err != nil || rep != (Report{Due: 4, OrgsRead: 2, Moved: 3, Skipped: 1, Stopped: true}) {
			t.Errorf("Run = %+v, %v; want four entries handled, then stopped", rep, err)
		}
		if !reflect.DeepEqual(orgReads, [][]string{{"o", "p"}}) {
			t.Errorf("org reads %v, want o and p once", orgReads)
		}
		if len(claims) != 1 || !claims[0].Equal(now.Add(time.Hour)) {
			t.Errorf("claims until %v, want now plus the lease", claims)
		}
	})
}

// TestRescan: a rescan request pages the org's external users from its
// cursor, moves each verified user's entry to what the current settings
// make it (never-verified and claimed users untouched), saves the cursor
// after each page and deletes the request when done; a newer request (a
// conflict on the save) stops it; a cursor that no longer reads restarts
// it; a request of a gone org is deleted.
func TestRescan(t *testing.T) {
	scan := domain.VerifyScan{OrgID: "o", RequestedAt: now.Add(-time.Hour), PolicyVersion: 3, Cursor: "k1"}
	scanEntries := func(int, time.Time, string, int) ([]domain.DueVerification, string, error) { return nil, "", nil }
	due := func(sc domain.VerifyScan) func(int, time.Time, string, int) ([]domain.DueVerification, string, error) {
		return func(sh int, at time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
			if sh == 1 {
				return []domain.DueVerification{{Entry: "s", Scan: &sc}}, "", nil
			}
			return scanEntries(sh, at, start, limit)
		}
	}
	never := guest("n", 0)
	never.VerifiedAt, never.VerifyState = time.Time{}, domain.VerifyNone
	claimed := guest("c", 40*day)
	claimed.VerifyState = domain.VerifyNotifying
	marked := guest("m", 40*day)
	marked.VerifyState = domain.VerifyRequired
	pages := map[string]struct {
		users []domain.User
		next  string
	}{
		"k1": {[]domain.User{guest("v", 10*day), never, claimed}, "k2"},
		"k2": {[]domain.User{guest("l", 40*day), marked}, ""},
	}
	type moved struct {
		id    string
		due   time.Time
		state domain.VerifyState
	}

	t.Run("pages to the end", func(t *testing.T) {
		var got []moved
		var saved, deleted []string
		st := &fakeStore{DueFn: due(scan), OrgsFn: orgs(org()),
			UsersFn: func(o domain.Org, cursor string, limit int) ([]domain.User, string, error) {
				if o.ID != "o" || limit != DefaultPageSize {
					t.Errorf("users of %s limit %d", o.ID, limit)
				}
				p := pages[cursor]
				return p.users, p.next, nil
			},
			RescanFn: func(u domain.User, dueAt time.Time, state domain.VerifyState) error {
				got = append(got, moved{u.AccountID, dueAt, state})
				return nil
			},
			SaveFn:   func(sc domain.VerifyScan, cursor string) error { saved = append(saved, cursor); return nil },
			DeleteFn: func(sc domain.VerifyScan) error { deleted = append(deleted, sc.OrgID); return nil },
		}
		rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r")
		want := []moved{
			{"v", now.Add(20 * day), domain.VerifyVerified},
			{"l", now.Add(-10 * day), domain.VerifyVerified},
			{"m", time.Time{}, domain.VerifyRequired},
		}
		if err != nil || rep != (Report{Scans: 1, OrgsRead: 1, Rescanned: 3, ScansDone: 1}) || !reflect.DeepEqual(got, want) ||
			!slices.Equal(saved, []string{"k2"}) || !slices.Equal(deleted, []string{"o"}) {
			t.Errorf("Run = %+v, %v\nmoved %v\nwant  %v\nsaved %v deleted %v", rep, err, got, want, saved, deleted)
		}
	})
	t.Run("newer request", func(t *testing.T) {
		reads := 0
		st := &fakeStore{DueFn: due(scan), OrgsFn: orgs(org()),
			UsersFn: func(domain.Org, string, int) ([]domain.User, string, error) {
				if reads++; reads > 10 {
					t.Fatalf("%d pages: the scan goes on after a newer request", reads)
				}
				return nil, "k2", nil
			},
			SaveFn: func(domain.VerifyScan, string) error { return domain.Errorf(domain.ECONFLICT, "newer") },
		}
		rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r")
		if err != nil || reads != 1 || rep.ScansDone != 0 {
			t.Errorf("Run = %+v, %v after %d pages; want stopped after the first", rep, err, reads)
		}
	})
	t.Run("stale cursor", func(t *testing.T) {
		var cursors []string
		st := &fakeStore{DueFn: due(scan), OrgsFn: orgs(org()),
			UsersFn: func(_ domain.Org, cursor string, _ int) ([]domain.User, string, error) {
				cursors = append(cursors, cursor)
				if cursor != "" {
					return nil, "", domain.Errorf(domain.EINVALID, "bad cursor")
				}
				return nil, "", nil
			},
			DeleteFn: func(domain.VerifyScan) error { return nil },
		}
		rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r")
		if err != nil || !slices.Equal(cursors, []string{"k1", ""}) || rep.ScansDone != 1 {
			t.Errorf("Run = %+v, %v, cursors %q; want a restart from the start", rep, err, cursors)
		}
	})
	t.Run("org gone", func(t *testing.T) {
		deleted := 0
		st := &fakeStore{DueFn: due(scan), OrgsFn: orgs(), DeleteFn: func(domain.VerifyScan) error { deleted++; return domain.Errorf(domain.ECONFLICT, "newer") }}
		rep, err := job(st, fakeSender{t: t}).Run(context.Background(), "r")
		if err != nil || deleted != 1 || rep.ScansDone != 0 || rep.Scans != 1 {
			t.Errorf("Run = %+v, %v, %d deletes", rep, err, deleted)
		}
	})
}

// TestRescanned: where a verified user's entry belongs under the org's
// current settings.
func TestRescanned(t *testing.T) {
	off := org()
	off.Policy.TwoStep = false
	once := org()
	once.Policy.VerifyEveryDays = 0
	reset := org()
	reset.SessionsResetAt = now.Add(-day)
	marked := guest("g", 40*day)
	marked.VerifyState = domain.VerifyRequired
	cases := []struct {
		name      string
		org       domain.Org
		user      domain.User
		due       time.Time
		wantState domain.VerifyState
	}{
		{"in force", org(), guest("g", 10*day), now.Add(20 * day), domain.VerifyVerified},
		{"two-step off", off, guest("g", 40*day), time.Time{}, domain.VerifyVerified},
		{"once", once, guest("g", 40*day), time.Time{}, domain.VerifyVerified},
		{"lapsed, not marked: due at the lapse", org(), guest("g", 40*day), now.Add(-10 * day), domain.VerifyVerified},
		{"lapsed by a reset: due now", reset, guest("g", 2*day), now, domain.VerifyVerified},
		{"lapsed by a reset under once: due now", func() domain.Org { o := once; o.SessionsResetAt = now.Add(-day); return o }(), guest("g", 2*day), now, domain.VerifyVerified},
		{"lapsed, marked already: parked", org(), marked, time.Time{}, domain.VerifyRequired},
	}
	for _, tc := range cases {
		due, state := rescanned(tc.org, tc.user, now)
		if !due.Equal(tc.due) || state != tc.wantState {
			t.Errorf("%s: %v %q, want %v %q", tc.name, due, state, tc.due, tc.wantState)
		}
	}
}
