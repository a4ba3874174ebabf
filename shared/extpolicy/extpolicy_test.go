package extpolicy

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Function-field fakes: each case sets only what its path calls; each
// field set becomes the one port it fakes (one method each), and a port
// left unset is nil in the service, so leaving one nil proves it is not
// reached.

type fakeStore struct {
	LoadFn   func(orgID, callerID string, ids []string) (domain.Scope, map[string]domain.User, error)
	UsersFn  func(org domain.Org, cursor string, limit int) ([]domain.User, string, error)
	ChangeFn func(ch domain.PolicyChange) error
	ResetFn  func(r domain.UserSessionReset) error
}

type loadFn func(orgID, callerID string, ids []string) (domain.Scope, map[string]domain.User, error)

func (f loadFn) LoadPolicyScope(_ context.Context, orgID, callerID string, ids []string) (domain.Scope, map[string]domain.User, error) {
	return f(orgID, callerID, ids)
}

type usersFn func(org domain.Org, cursor string, limit int) ([]domain.User, string, error)

func (f usersFn) ExternalUsers(_ context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error) {
	return f(org, cursor, limit)
}

type changeFn func(ch domain.PolicyChange) error

func (f changeFn) ChangePolicy(_ context.Context, ch domain.PolicyChange) error { return f(ch) }

type resetFn func(r domain.UserSessionReset) error

func (f resetFn) ResetUserSession(_ context.Context, r domain.UserSessionReset) error { return f(r) }

// ports wires the functions set, each as its port.
func (f *fakeStore) ports() Ports {
	var p Ports
	if f.LoadFn != nil {
		p.Scopes = loadFn(f.LoadFn)
	}
	if f.UsersFn != nil {
		p.External = usersFn(f.UsersFn)
	}
	if f.ChangeFn != nil {
		p.Changes = changeFn(f.ChangeFn)
	}
	if f.ResetFn != nil {
		p.Resets = resetFn(f.ResetFn)
	}
	return p
}

var (
	now    = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	caller = domain.Caller{AccountID: "admin", RequestID: "req-1"}
	admin  = domain.User{OrgID: "o", AccountID: "admin", Email: "admin@acme.example", Status: domain.UserActive, OrgAdmin: true}

	on7  = domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}
	on30 = domain.PolicySettings{TwoStep: true, VerifyEveryDays: 30}
)

func service(st *fakeStore) *Service {
	return &Service{Ports: st.ports(), Now: func() time.Time { return now }}
}

// baseOrg is org "o" (acme.example verified) at policy version 4, two-step
// on every 7 days, no test policy.
func baseOrg() domain.Org {
	return domain.Org{ID: "o", Name: "Acme", VerifiedDomains: []string{"acme.example"}, Policy: on7, PolicyVersion: 4}
}

// ext is an external user verified a day ago.
func ext(id string) domain.User {
	return domain.User{OrgID: "o", AccountID: id, Email: id + "@ext.example", Status: domain.UserActive, VerifiedAt: now.Add(-24 * time.Hour)}
}

// directory is every profile of org "o" the fake knows.
func directory() map[string]domain.User {
	return map[string]domain.User{
		"g1": ext("g1"), "g2": ext("g2"), "g3": ext("g3"), "g4": ext("g4"), "g5": ext("g5"), "g6": ext("g6"),
		"staff": {OrgID: "o", AccountID: "staff", Email: "staff@acme.example", Status: domain.UserActive},
	}
}

// loader answers the org (a fresh copy of *org each read), the caller and
// the profiles named that exist, recording each read's ids.
func loader(org *domain.Org, c *domain.User, reads *[][]string) func(string, string, []string) (domain.Scope, map[string]domain.User, error) {
	return func(orgID, callerID string, ids []string) (domain.Scope, map[string]domain.User, error) {
		if reads != nil {
			*reads = append(*reads, slices.Clone(ids))
		}
		users := map[string]domain.User{}
		for _, id := range ids {
			if u, ok := directory()[id]; ok {
				users[id] = u
			}
		}
		sc := domain.Scope{Caller: c}
		if org != nil {
			o := *org
			o.TestPolicy = org.WithTestPolicy(org.TestPolicy).TestPolicy
			sc.Org = &o
		}
		return sc, users, nil
	}
}

func ptr[T any](v T) *T { return &v }

func fields(err error) map[string]string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Fields
	}
	return nil
}

// ops runs every operation of the service as caller on org orgID.
var ops = map[string]func(s *Service, orgID string) error{
	"get": func(s *Service, orgID string) error { _, err := s.Get(context.Background(), caller, orgID); return err },
	"set": func(s *Service, orgID string) error {
		_, err := s.SetPolicy(context.Background(), caller, orgID, on30, nil)
		return err
	},
	"set test": func(s *Service, orgID string) error {
		_, err := s.SetTestPolicy(context.Background(), caller, orgID, on30, []string{"g1"}, nil)
		return err
	},
	"clear test": func(s *Service, orgID string) error {
		_, err := s.ClearTestPolicy(context.Background(), caller, orgID, nil)
		return err
	},
	"reset": func(s *Service, orgID string) error {
		_, err := s.ResetSessions(context.Background(), caller, orgID)
		return err
	},
	"reset user": func(s *Service, orgID string) error {
		_, err := s.ResetUserSession(context.Background(), caller, orgID, "g1")
		return err
	},
	"preview": func(s *Service, orgID string) error {
		_, err := s.Preview(context.Background(), caller, orgID, Proposal{Policy: on30, Limit: 10})
		return err
	},
	"preview test": func(s *Service, orgID string) error {
		_, err := s.Preview(context.Background(), caller, orgID, Proposal{Policy: on30, Test: true, Users: []string{"g1"}})
		return err
	},
}

// TestOnlyOrgAdmins: every operation is for active org admins only; an
// unknown org or a caller outside it is 404, a malformed org id is 404
// before any read; a refusal writes nothing.
func TestOnlyOrgAdmins(t *testing.T) {
	o := baseOrg()
	o.TestPolicy = &domain.TestPolicy{Settings: on7, Users: []string{"g2"}}
	cases := []struct {
		name   string
		orgID  string
		org    *domain.Org
		caller *domain.User
		want   string
	}{
		{"plain user", "o", &o, &domain.User{AccountID: "admin", Status: domain.UserActive}, domain.EFORBIDDEN},
		{"site admin", "o", &o, &domain.User{AccountID: "admin", Status: domain.UserActive, SiteAdmin: []string{"wiki"}}, domain.EFORBIDDEN},
		{"suspended org admin", "o", &o, &domain.User{AccountID: "admin", Status: domain.UserSuspended, OrgAdmin: true}, domain.EFORBIDDEN},
		{"invited org admin", "o", &o, &domain.User{AccountID: "admin", Status: domain.UserInvited, OrgAdmin: true}, domain.EFORBIDDEN},
		{"not in the org", "o", &o, nil, domain.ENOTFOUND},
		{"no such org", "o", nil, &admin, domain.ENOTFOUND},
		{"malformed org id", "O/../x", &o, &admin, domain.ENOTFOUND},
	}
	for _, tc := range cases {
		for name, op := range ops {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				st := &fakeStore{}
				if tc.orgID == "o" {
					st.LoadFn = loader(tc.org, tc.caller, nil)
				}
				if err := op(service(st), tc.orgID); domain.ErrorCode(err) != tc.want {
					t.Errorf("%v, want %q", err, tc.want)
				}
			})
		}
	}
	t.Run("read fails", func(t *testing.T) {
		boom := errors.New("boom")
		for name, op := range ops {
			st := &fakeStore{LoadFn: func(string, string, []string) (domain.Scope, map[string]domain.User, error) {
				return domain.Scope{}, nil, boom
			}}
			if err := op(service(st), "o"); !errors.Is(err, boom) {
				t.Errorf("%s: %v, want the read's error", name, err)
			}
		}
	})
}

// TestSetPolicy: settings are validated before any read (the bad field
// named); a change that changes nothing writes nothing; a change writes
// the org at the next version from the version read, with the audit entry
// (before and after, versions) and the rescan request exactly when the
// verification settings (two-step, frequency) changed.
func TestSetPolicy(t *testing.T) {
	cases := []struct {
		name       string
		p          domain.PolicySettings
		wantFields map[string]string
		write      bool
		rescan     bool
	}{
		{name: "frequency over 30 days", p: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 31},
			wantFields: map[string]string{"verifyEveryDays": "from 1 to 30 days, or 0 for once"}},
		{name: "negative frequency", p: domain.PolicySettings{TwoStep: true, VerifyEveryDays: -1},
			wantFields: map[string]string{"verifyEveryDays": "from 1 to 30 days, or 0 for once"}},
		{name: "the same", p: on7},
		{name: "longer frequency", p: on30, write: true, rescan: true},
		{name: "once", p: domain.PolicySettings{TwoStep: true}, write: true, rescan: true},
		{name: "two-step off", p: domain.PolicySettings{VerifyEveryDays: 7}, write: true, rescan: true},
		{name: "API tokens blocked only", p: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7, BlockAPITokens: true}, write: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := baseOrg()
			st := &fakeStore{}
			if tc.wantFields == nil {
				st.LoadFn = loader(&o, &admin, nil)
			}
			var got []domain.PolicyChange
			if tc.write {
				st.ChangeFn = func(ch domain.PolicyChange) error { got = append(got, ch); return nil }
			}
			v, err := service(st).SetPolicy(context.Background(), caller, "o", tc.p, nil)
			if tc.wantFields != nil {
				if domain.ErrorCode(err) != domain.EINVALID || !reflect.DeepEqual(fields(err), tc.wantFields) {
					t.Fatalf("SetPolicy: %v %v, want EINVALID on %v", err, fields(err), tc.wantFields)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.write {
				if v.Changed || !reflect.DeepEqual(v.Org, o) {
					t.Errorf("view %+v, want the org unchanged", v)
				}
				return
			}
			want := o
			want.Policy, want.PolicyVersion = tc.p, 5
			if len(got) != 1 {
				t.Fatalf("%d writes, want 1", len(got))
			}
			ch := got[0]
			if !reflect.DeepEqual(ch.Org, want) || ch.FromVersion != 4 || ch.CallerID != "admin" || ch.Rescan != tc.rescan {
				t.Errorf("change %+v, want org %+v from version 4, rescan %v", ch, want, tc.rescan)
			}
			a := ch.Audit
			if a.OrgID != "o" || a.Actor != "admin" || a.Action != domain.ActionPolicyUpdate || a.Target != domain.OrgTarget("o") ||
				a.RequestID != "req-1" || !a.At.Equal(now) ||
				!reflect.DeepEqual(a.Before, map[string]any{"policy": SettingsMap(on7), "version": 4}) ||
				!reflect.DeepEqual(a.After, map[string]any{"policy": SettingsMap(tc.p), "version": 5}) {
				t.Errorf("audit %+v", a)
			}
			if !v.Changed || !reflect.DeepEqual(v.Org, want) {
				t.Errorf("view %+v, want the org written", v)
			}
		})
	}
}

// TestVersions: a change naming a stale version is 409 with the current
// version, nothing written; naming the current one writes. Without a
// version, a change that lost a race (ErrPolicyChanged) is read again and
// applied to the new version, a bounded number of times; with one, it is
// answered at once.
func TestVersions(t *testing.T) {
	t.Run("stale", func(t *testing.T) {
		o := baseOrg()
		st := &fakeStore{LoadFn: loader(&o, &admin, nil)}
		_, err := service(st).SetPolicy(context.Background(), caller, "o", on30, ptr(3))
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.ECONFLICT || de.Extra["version"] != 4 {
			t.Errorf("SetPolicy from version 3: %+v, want ECONFLICT naming version 4", err)
		}
		// Stale even when the change would change nothing.
		if _, err := service(st).SetPolicy(context.Background(), caller, "o", on7, ptr(5)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("SetPolicy of the same from version 5: %v, want ECONFLICT", err)
		}
		for name, f := range map[string]func() error{
			"set test": func() error {
				_, err := service(st).SetTestPolicy(context.Background(), caller, "o", on30, []string{"g1"}, ptr(0))
				return err
			},
			"clear test": func() error {
				_, err := service(st).ClearTestPolicy(context.Background(), caller, "o", ptr(0))
				return err
			},
		} {
			if err := f(); domain.ErrorCode(err) != domain.ECONFLICT {
				t.Errorf("%s from version 0: %v, want ECONFLICT", name, err)
			}
		}
	})
	t.Run("current", func(t *testing.T) {
		o := baseOrg()
		writes := 0
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(domain.PolicyChange) error { writes++; return nil }}
		if v, err := service(st).SetPolicy(context.Background(), caller, "o", on30, ptr(4)); err != nil || !v.Changed || writes != 1 {
			t.Errorf("SetPolicy from version 4: %+v, %v, %d writes", v, err, writes)
		}
	})
	t.Run("retried without a version", func(t *testing.T) {
		o := baseOrg()
		var from []int
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(ch domain.PolicyChange) error {
			from = append(from, ch.FromVersion)
			if len(from) == 1 {
				o.PolicyVersion = 9 // another change landed
				return domain.ErrPolicyChanged
			}
			return nil
		}}
		v, err := service(st).SetPolicy(context.Background(), caller, "o", on30, nil)
		if err != nil || !slices.Equal(from, []int{4, 9}) || v.Org.PolicyVersion != 10 {
			t.Errorf("SetPolicy: %+v, %v, writes from %v; want a retry from version 9", v, err, from)
		}
	})
	t.Run("retries are bounded", func(t *testing.T) {
		o := baseOrg()
		writes := 0
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(domain.PolicyChange) error {
			if writes++; writes > 10*maxAttempts {
				t.Fatalf("%d writes: the retries are not bounded", writes)
			}
			return domain.ErrPolicyChanged
		}}
		if _, err := service(st).SetPolicy(context.Background(), caller, "o", on30, nil); !errors.Is(err, domain.ErrPolicyChanged) || writes != maxAttempts {
			t.Errorf("SetPolicy: %v after %d writes, want ErrPolicyChanged after %d", err, writes, maxAttempts)
		}
	})
	t.Run("not retried with a version", func(t *testing.T) {
		o := baseOrg()
		writes := 0
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(domain.PolicyChange) error { writes++; return domain.ErrPolicyChanged }}
		if _, err := service(st).SetPolicy(context.Background(), caller, "o", on30, ptr(4)); domain.ErrorCode(err) != domain.ECONFLICT || writes != 1 {
			t.Errorf("SetPolicy: %v after %d writes, want ECONFLICT after 1", err, writes)
		}
	})
	t.Run("other write errors are answered", func(t *testing.T) {
		o := baseOrg()
		boom := errors.New("boom")
		writes := 0
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(domain.PolicyChange) error { writes++; return boom }}
		if _, err := service(st).SetPolicy(context.Background(), caller, "o", on30, nil); !errors.Is(err, boom) || writes != 1 {
			t.Errorf("SetPolicy: %v after %d writes", err, writes)
		}
	})
}

// TestTestPolicyUsers: a test policy names 1 to 5 distinct well-formed
// account ids (checked before any read, the bad one named), each an
// existing external user of the org (404 naming the unknown, 400 naming an
// internal one); the same for a test policy's preview.
func TestTestPolicyUsers(t *testing.T) {
	cases := []struct {
		name       string
		ids        []string
		read       bool
		wantCode   string
		wantFields map[string]string
		wantIDs    []string // ENOTFOUND's accountIds
	}{
		{name: "none", ids: nil, wantCode: domain.EINVALID, wantFields: map[string]string{"users": "name 1 to 5 external users by account id (DELETE clears the test policy)"}},
		{name: "six", ids: []string{"g1", "g2", "g3", "g4", "g5", "g6"}, wantCode: domain.EINVALID,
			wantFields: map[string]string{"users": "a test policy names at most 5 users; 6 given"}},
		{name: "malformed", ids: []string{"g1", "a#b"}, wantCode: domain.EINVALID, wantFields: map[string]string{"users[1]": "not an account id"}},
		{name: "twice", ids: []string{"g1", "g2", "g1"}, wantCode: domain.EINVALID, wantFields: map[string]string{"users[2]": "g1 is named twice"}},
		{name: "unknown", ids: []string{"g1", "nobody", "ghost"}, read: true, wantCode: domain.ENOTFOUND, wantIDs: []string{"nobody", "ghost"}},
		{name: "internal", ids: []string{"g1", "staff"}, read: true, wantCode: domain.EINVALID,
			wantFields: map[string]string{"users[1]": "staff@acme.example is not an external user: its domain is verified"}},
		{name: "five external", ids: []string{"g1", "g2", "g3", "g4", "g5"}, read: true},
	}
	for _, tc := range cases {
		for _, preview := range []bool{false, true} {
			name := tc.name
			if preview {
				name += "/preview"
			}
			t.Run(name, func(t *testing.T) {
				o := baseOrg()
				var reads [][]string
				st := &fakeStore{}
				if tc.read {
					st.LoadFn = loader(&o, &admin, &reads)
					st.ChangeFn = func(domain.PolicyChange) error { return nil }
				}
				var err error
				if preview {
					_, err = service(st).Preview(context.Background(), caller, "o", Proposal{Policy: on30, Test: true, Users: tc.ids})
				} else {
					_, err = service(st).SetTestPolicy(context.Background(), caller, "o", on30, tc.ids, nil)
				}
				if domain.ErrorCode(err) != tc.wantCode {
					t.Fatalf("%v, want code %q", err, tc.wantCode)
				}
				if tc.wantFields != nil && !reflect.DeepEqual(fields(err), tc.wantFields) {
					t.Errorf("fields %v, want %v", fields(err), tc.wantFields)
				}
				var de *domain.Error
				if tc.wantIDs != nil && (!errors.As(err, &de) || !reflect.DeepEqual(de.Extra["accountIds"], tc.wantIDs)) {
					t.Errorf("%+v, want accountIds %v", de, tc.wantIDs)
				}
				if tc.read && (len(reads) == 0 || !slices.Equal(reads[0], tc.ids)) {
					t.Errorf("reads %v, want the named users read first", reads)
				}
			})
		}
	}
}

// TestSetAndClearTestPolicy: setting writes the test policy (the audit
// entry with before and after, users included; the rescan when it changes
// a named user's verification); the same users in another order with the
// same settings write nothing; clearing writes only when there is one.
func TestSetAndClearTestPolicy(t *testing.T) {
	withTest := func(p domain.PolicySettings, ids ...string) domain.Org {
		o := baseOrg()
		o.TestPolicy = &domain.TestPolicy{Settings: p, Users: ids}
		return o
	}
	cases := []struct {
		name   string
		org    domain.Org
		clear  bool
		p      domain.PolicySettings
		ids    []string
		action string // "" writes nothing
		before any
		after  any
		rescan bool
	}{
		{name: "new, verification changes", org: baseOrg(), p: on30, ids: []string{"g2", "g1"}, action: domain.ActionTestPolicyUpdate,
			before: nil, after: map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 30}, "apiTokens": "allowed", "users": []string{"g2", "g1"}},
			rescan: true},
		{name: "new, API tokens only", org: baseOrg(), p: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7, BlockAPITokens: true}, ids: []string{"g1"},
			action: domain.ActionTestPolicyUpdate, before: nil,
			after: map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 7}, "apiTokens": "blocked", "users": []string{"g1"}}},
		{name: "same users in another order", org: withTest(on30, "g1", "g2"), p: on30, ids: []string{"g2", "g1"}},
		{name: "another user", org: withTest(on30, "g1"), p: on30, ids: []string{"g1", "g2"}, action: domain.ActionTestPolicyUpdate,
			before: map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 30}, "apiTokens": "allowed", "users": []string{"g1"}},
			after:  map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 30}, "apiTokens": "allowed", "users": []string{"g1", "g2"}},
			rescan: true},
		{name: "clear", org: withTest(domain.PolicySettings{}, "g1"), clear: true, action: domain.ActionTestPolicyClear,
			before: map[string]any{"twoStepVerification": "off", "verifyEvery": "once", "apiTokens": "allowed", "users": []string{"g1"}}, after: nil, rescan: true},
		{name: "clear, API tokens only", org: withTest(domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7, BlockAPITokens: true}, "g1"), clear: true,
			action: domain.ActionTestPolicyClear,
			before: map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 7}, "apiTokens": "blocked", "users": []string{"g1"}}, after: nil},
		{name: "clear none", org: baseOrg(), clear: true},
		{name: "clear one naming nobody", org: withTest(on30), clear: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.org
			st := &fakeStore{LoadFn: loader(&o, &admin, nil)}
			var got []domain.PolicyChange
			if tc.action != "" {
				st.ChangeFn = func(ch domain.PolicyChange) error { got = append(got, ch); return nil }
			}
			var v View
			var err error
			if tc.clear {
				v, err = service(st).ClearTestPolicy(context.Background(), caller, "o", nil)
			} else {
				v, err = service(st).SetTestPolicy(context.Background(), caller, "o", tc.p, tc.ids, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.action == "" {
				if v.Changed || !reflect.DeepEqual(v.Org, tc.org) {
					t.Errorf("view %+v, want the org unchanged", v)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d writes, want 1", len(got))
			}
			ch := got[0]
			var wantTP *domain.TestPolicy
			if !tc.clear {
				wantTP = &domain.TestPolicy{Settings: tc.p, Users: tc.ids}
			}
			if !reflect.DeepEqual(ch.Org.TestPolicy, wantTP) || ch.Org.Policy != tc.org.Policy || ch.Org.PolicyVersion != 5 || ch.FromVersion != 4 || ch.Rescan != tc.rescan {
				t.Errorf("change %+v (test policy %+v), want test policy %+v at version 5, rescan %v", ch, ch.Org.TestPolicy, wantTP, tc.rescan)
			}
			a := ch.Audit
			if a.Action != tc.action || a.Actor != "admin" || a.Target != domain.OrgTarget("o") ||
				!reflect.DeepEqual(a.Before, map[string]any{"testPolicy": tc.before, "version": 4}) ||
				!reflect.DeepEqual(a.After, map[string]any{"testPolicy": tc.after, "version": 5}) {
				t.Errorf("audit %s before %#v after %#v", a.Action, a.Before, a.After)
			}
			if !v.Changed || v.Org.PolicyVersion != 5 {
				t.Errorf("view %+v", v)
			}
		})
	}
}

// TestViewReadsTestUsers: the view answers the test policy's users'
// profiles, reading those not read already in one more read (a gone one
// is absent).
func TestViewReadsTestUsers(t *testing.T) {
	o := baseOrg()
	o.TestPolicy = &domain.TestPolicy{Settings: on30, Users: []string{"g1", "gone", "g2"}}
	var reads [][]string
	st := &fakeStore{LoadFn: loader(&o, &admin, &reads)}
	v, err := service(st).Get(context.Background(), caller, "o")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]domain.User{"g1": ext("g1"), "g2": ext("g2")}
	if !reflect.DeepEqual(v.TestUsers, want) || v.Changed || !reflect.DeepEqual(reads, [][]string{nil, {"g1", "gone", "g2"}}) {
		t.Errorf("view users %v changed %v after reads %v", v.TestUsers, v.Changed, reads)
	}
	// Setting the test policy reads its users once: the view reuses them.
	reads = nil
	st.ChangeFn = func(domain.PolicyChange) error { return nil }
	if _, err := service(st).SetTestPolicy(context.Background(), caller, "o", on7, []string{"g3"}, nil); err != nil || len(reads) != 1 {
		t.Errorf("SetTestPolicy: %v after reads %v, want one", err, reads)
	}
}

// TestResets: resetting every external user's sessions writes the org's
// reset time (now) with the audit entry, never a rescan request;
// resetting one user's writes their profile's (any existing user of the
// org), 404 for an unknown or malformed account with nothing written.
func TestResets(t *testing.T) {
	earlier := now.Add(-time.Hour)
	o := baseOrg()
	o.SessionsResetAt = earlier
	var got []domain.PolicyChange
	st := &fakeStore{LoadFn: loader(&o, &admin, nil), ChangeFn: func(ch domain.PolicyChange) error { got = append(got, ch); return nil }}
	v, err := service(st).ResetSessions(context.Background(), caller, "o")
	if err != nil || len(got) != 1 {
		t.Fatalf("ResetSessions: %v, %d writes", err, len(got))
	}
	want := o
	want.SessionsResetAt, want.PolicyVersion = now, 5
	ch := got[0]
	if !reflect.DeepEqual(ch.Org, want) || ch.Rescan || ch.Audit.Action != domain.ActionSessionsReset ||
		!reflect.DeepEqual(ch.Audit.Before, map[string]any{"sessionsResetAt": earlier.Format(time.RFC3339Nano), "version": 4}) ||
		!reflect.DeepEqual(ch.Audit.After, map[string]any{"sessionsResetAt": now.Format(time.RFC3339Nano), "version": 5}) || !v.Changed {
		t.Errorf("change %+v", ch)
	}

	for _, id := range []string{"g1", "staff"} {
		var resets []domain.UserSessionReset
		st := &fakeStore{LoadFn: loader(&o, &admin, nil), ResetFn: func(r domain.UserSessionReset) error { resets = append(resets, r); return nil }}
		u, err := service(st).ResetUserSession(context.Background(), caller, "o", id)
		if err != nil || len(resets) != 1 {
			t.Fatalf("ResetUserSession %s: %v, %d writes", id, err, len(resets))
		}
		r := resets[0]
		if r.OrgID != "o" || r.AccountID != id || r.CallerID != "admin" || !r.At.Equal(now) || r.Audit.Action != domain.ActionUserSessionReset ||
			r.Audit.Target != domain.UserTarget(id) || !reflect.DeepEqual(r.Audit.Before, map[string]any{"sessionsResetAt": nil}) ||
			!reflect.DeepEqual(r.Audit.After, map[string]any{"sessionsResetAt": now.Format(time.RFC3339Nano)}) {
			t.Errorf("reset %+v", r)
		}
		if !u.SessionsResetAt.Equal(now) || u.External != (id == "g1") {
			t.Errorf("answered %+v, want reset now, external %v", u, id == "g1")
		}
	}
	for _, id := range []string{"nobody", "a#b"} {
		st := &fakeStore{}
		if id == "nobody" {
			st.LoadFn = loader(&o, &admin, nil)
		}
		if _, err := service(st).ResetUserSession(context.Background(), caller, "o", id); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("ResetUserSession %q: %v, want ENOTFOUND", id, err)
		}
	}
}

// TestPreviewOrgPolicy: settings are validated and users refused before
// any read; a page reads the external users from the cursor given, skips
// and counts the users the test policy names, lists only the affected
// ones with their effects, counts them by effect and answers the next
// cursor and the version previewed against. Nothing is written.
func TestPreviewOrgPolicy(t *testing.T) {
	if _, err := service(&fakeStore{}).Preview(context.Background(), caller, "o", Proposal{Policy: domain.PolicySettings{VerifyEveryDays: 99}}); fields(err)["verifyEveryDays"] == "" {
		t.Errorf("bad settings: %v", err)
	}
	if _, err := service(&fakeStore{}).Preview(context.Background(), caller, "o", Proposal{Policy: on30, Users: []string{"g1"}}); fields(err)["users"] == "" {
		t.Errorf("users without test: %v", err)
	}

	o := baseOrg()
	o.TestPolicy = &domain.TestPolicy{Settings: on30, Users: []string{"g2"}}
	old := ext("g3")
	old.VerifiedAt = now.Add(-6 * 24 * time.Hour) // due in a day under 7 days, lapsed under 5; g1 due 2 days earlier
	never := ext("g4")
	never.VerifiedAt = time.Time{}
	st := &fakeStore{LoadFn: loader(&o, &admin, nil), UsersFn: func(org domain.Org, cursor string, limit int) ([]domain.User, string, error) {
		if org.ID != "o" || cursor != "c1" || limit != 50 {
			t.Errorf("ExternalUsers %s %q %d", org.ID, cursor, limit)
		}
		return []domain.User{ext("g1"), ext("g2"), old, never}, "c2", nil
	}}
	p := domain.PolicySettings{TwoStep: true, VerifyEveryDays: 5, BlockAPITokens: true}
	page, err := service(st).Preview(context.Background(), caller, "o", Proposal{Policy: p, Limit: 50, Cursor: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	want := PreviewPage{
		Users: []Affected{
			{User: ext("g1"), Effects: []PolicyEffect{{Kind: EffectMustVerify, By: now.Add(4 * 24 * time.Hour)}, {Kind: EffectAPITokensBlocked}}},
			{User: old, Effects: []PolicyEffect{{Kind: EffectMustVerify, By: now}, {Kind: EffectAPITokensBlocked}}},
			{User: never, Effects: []PolicyEffect{{Kind: EffectAPITokensBlocked}}},
		},
		Examined: 4, UnderTestPolicy: 1,
		ByEffect: map[EffectKind]int{EffectAPITokensBlocked: 3, EffectMustVerify: 2},
		Next:     "c2", Version: 4,
	}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("page\n%+v\nwant\n%+v", page, want)
	}
}

// TestPreviewTestPolicy: a test policy's preview covers the users it would
// name and those the current one names (read in one more read), compares
// each user's settings before and after, skips users no longer external,
// and writes nothing.
func TestPreviewTestPolicy(t *testing.T) {
	o := baseOrg()
	o.Policy = domain.PolicySettings{}
	o.VerifiedDomains = []string{"acme.example"}
	o.TestPolicy = &domain.TestPolicy{Settings: domain.PolicySettings{BlockAPITokens: true}, Users: []string{"g1", "g2", "staff"}}
	var reads [][]string
	st := &fakeStore{LoadFn: loader(&o, &admin, &reads)}
	page, err := service(st).Preview(context.Background(), caller, "o", Proposal{Policy: domain.PolicySettings{BlockAPITokens: true}, Test: true, Users: []string{"g3", "g1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reads, [][]string{{"g3", "g1"}, {"g2", "staff"}}) {
		t.Errorf("reads %v, want the proposed users, then the current test policy's others", reads)
	}
	g3, g2 := ext("g3"), ext("g2")
	g3.External, g2.External = true, true
	want := PreviewPage{
		Users: []Affected{
			{User: g3, Effects: []PolicyEffect{{Kind: EffectAPITokensBlocked}}},
			{User: g2, Effects: []PolicyEffect{{Kind: EffectAPITokensAllowed}}},
		},
		Examined: 3,
		ByEffect: map[EffectKind]int{EffectAPITokensBlocked: 1, EffectAPITokensAllowed: 1},
		Version:  4,
	}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("page\n%+v\nwant\n%+v", page, want)
	}
}

// TestSettingsMap: how settings read in the audit log and the API.
func TestSettingsMap(t *testing.T) {
	cases := []struct {
		p    domain.PolicySettings
		want map[string]any
	}{
		{domain.PolicySettings{}, map[string]any{"twoStepVerification": "off", "verifyEvery": "once", "apiTokens": "allowed"}},
		{domain.PolicySettings{TwoStep: true}, map[string]any{"twoStepVerification": "on", "verifyEvery": "once", "apiTokens": "allowed"}},
		{domain.PolicySettings{TwoStep: true, VerifyEveryDays: 1, BlockAPITokens: true},
			map[string]any{"twoStepVerification": "on", "verifyEvery": map[string]any{"days": 1}, "apiTokens": "blocked"}},
		{domain.PolicySettings{VerifyEveryDays: 30}, map[string]any{"twoStepVerification": "off", "verifyEvery": map[string]any{"days": 30}, "apiTokens": "allowed"}},
	}
	for _, tc := range cases {
		if got := SettingsMap(tc.p); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SettingsMap(%+v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
