package users

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fake is the store as function fields; service wires a port only for a
// field that is set, so a call through an unset one fails the test (a nil
// port), and a case that leaves a field nil also proves it is never reached.
type fake struct {
	t          *testing.T
	load       func(orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error)
	invitation func(orgID, siteID, id string) (domain.Invitation, error)
	remove     func(domain.Removal) (int, error)
	setStatus  func(domain.StatusChange) error
	revoke     func(domain.Revocation) error
}

// The ports as function types: each implements exactly its one method.
type (
	loadFunc       func(orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error)
	invitationFunc func(orgID, siteID, id string) (domain.Invitation, error)
	removeFunc     func(domain.Removal) (int, error)
	setStatusFunc  func(domain.StatusChange) error
	revokeFunc     func(domain.Revocation) error
)

func (f loadFunc) LoadUserRecord(_ context.Context, orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error) {
	return f(orgID, callerID, accountID)
}
func (f invitationFunc) InvitationByID(_ context.Context, orgID, siteID, id string) (domain.Invitation, error) {
	return f(orgID, siteID, id)
}
func (f removeFunc) RemoveUser(_ context.Context, r domain.Removal) (int, error) { return f(r) }
func (f setStatusFunc) SetUserStatus(_ context.Context, ch domain.StatusChange) error {
	return f(ch)
}
func (f revokeFunc) RevokeInvitation(_ context.Context, rv domain.Revocation) error { return f(rv) }

var (
	now    = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	caller = domain.Caller{AccountID: "admin", RequestID: "req-1"}

	orgAdmin       = domain.User{AccountID: "admin", Status: domain.UserActive, OrgAdmin: true}
	siteAdmin      = domain.User{AccountID: "admin", Status: domain.UserActive, SiteAdmin: []string{"wiki"}}
	otherSiteAdmin = domain.User{AccountID: "admin", Status: domain.UserActive, SiteAdmin: []string{"other"}}
	plainUser      = domain.User{AccountID: "admin", Status: domain.UserActive}
	suspendedAdmin = domain.User{AccountID: "admin", Status: domain.UserSuspended, OrgAdmin: true, SiteAdmin: []string{"wiki"}}
	invitedAdmin   = domain.User{AccountID: "admin", Status: domain.UserInvited, OrgAdmin: true, SiteAdmin: []string{"wiki"}}
)

// service is the service over the fake's set fields only.
func service(f *fake) *Service {
	s := &Service{Now: func() time.Time { return now }}
	if f.load != nil {
		s.Records = loadFunc(f.load)
	}
	if f.invitation != nil {
		s.Invitations = invitationFunc(f.invitation)
	}
	if f.remove != nil {
		s.Removals = removeFunc(f.remove)
	}
	if f.setStatus != nil {
		s.Statuses = setStatusFunc(f.setStatus)
	}
	if f.revoke != nil {
		s.Revocations = revokeFunc(f.revoke)
	}
	return s
}

// scopeOf is the org "o" with the caller as given (nil: not in this org).
func scopeOf(c *domain.User) domain.Scope {
	return domain.Scope{Org: &domain.Org{ID: "o"}, Caller: c}
}

func ptr[T any](v T) *T { return &v }

// record is account u: a Confluence guest of wiki in space MKT (via its
// direct role and group partners), a Jira user of wiki, an emptied access
// item of docs (kept by the store, holding nothing), member of partners and
// of staff, with one invitation.
func record(status domain.UserStatus) *domain.UserRecord {
	return &domain.UserRecord{
		User: domain.User{OrgID: "o", AccountID: "u", Email: "u@x.example", Status: status},
		Access: map[string]domain.Access{
			"wiki/confluence": {Product: domain.Confluence, Direct: domain.RoleGuest, Groups: map[string]domain.Role{"partners": domain.RoleGuest}, Effective: domain.RoleGuest, Space: "MKT", Version: 3},
			"wiki/jira":       {Product: domain.Jira, Direct: domain.RoleUser, Effective: domain.RoleUser, Version: 1},
			"docs/confluence": {Product: domain.Confluence, Direct: domain.RoleNone, Effective: domain.RoleNone, Version: 7},
		},
		Groups:      []string{"partners", "staff"},
		Invitations: []domain.Invitation{{OrgID: "o", ID: "inv-1", SiteID: "wiki", AccountID: "u", Status: domain.InvitationAccepted}},
		GroupInfo:   map[string]domain.GroupState{"partners": {ID: "partners", Name: "Partners"}, "staff": {ID: "staff", Name: "Staff"}},
	}
}

// wantBefore is what the audit log keeps of record(status).
func wantBefore(status domain.UserStatus) map[string]any {
	return map[string]any{
		"email":  "u@x.example",
		"status": string(status),
		"roles":  map[string]any{"wiki/confluence": "guest", "wiki/jira": "user"},
		"groups": []string{"partners", "staff"},
		"spaces": map[string]any{"wiki/confluence": "MKT"},
	}
}

func checkAudit(t *testing.T, what string, a domain.AuditEntry, action, target string, before, after map[string]any) {
	t.Helper()
	if a.OrgID != "o" || a.Actor != "admin" || a.Action != action || a.Target != target || a.RequestID != "req-1" || !a.At.Equal(now) || a.ID == "" {
		t.Errorf("%s: audit %+v, want actor admin, action %s, target %s, request req-1 at %v", what, a, action, target, now)
	}
	if !reflect.DeepEqual(a.Before, before) {
		t.Errorf("%s: audit before %#v, want %#v", what, a.Before, before)
	}
	if !reflect.DeepEqual(a.After, after) {
		t.Errorf("%s: audit after %#v, want %#v", what, a.After, after)
	}
}

// lifecycle runs Remove or SetStatus, the two org-wide operations that share
// the same gate.
func lifecycle(s *Service, op string, c domain.Caller, orgID, accountID string) error {
	switch op {
	case "remove":
		_, err := s.Remove(context.Background(), c, orgID, accountID)
		return err
	case "suspend":
		_, err := s.SetStatus(context.Background(), c, orgID, accountID, "suspended")
		return err
	case "restore":
		_, err := s.SetStatus(context.Background(), c, orgID, accountID, "active")
		return err
	}
	panic(op)
}

// TestLifecycleGate: removal, suspension and restoring are for active org
// admins only, never on themselves; ids are checked before anything is read;
// a caller of another org gets 404; a refusal writes nothing.
func TestLifecycleGate(t *testing.T) {
	readErr := errors.New("dynamodb down")
	cases := []struct {
		name             string
		c                domain.Caller
		orgID, accountID string
		caller           *domain.User
		noOrg, noTarget  bool
		loadErr          error
		noRead           bool // refused before the store is asked
		code             string
	}{
		{name: "org admin", c: caller, orgID: "o", accountID: "u", caller: &orgAdmin},
		{name: "site admin", c: caller, orgID: "o", accountID: "u", caller: &siteAdmin, code: domain.EFORBIDDEN},
		{name: "plain user", c: caller, orgID: "o", accountID: "u", caller: &plainUser, code: domain.EFORBIDDEN},
		{name: "suspended org admin", c: caller, orgID: "o", accountID: "u", caller: &suspendedAdmin, code: domain.EFORBIDDEN},
		{name: "invited org admin", c: caller, orgID: "o", accountID: "u", caller: &invitedAdmin, code: domain.EFORBIDDEN},
		{name: "caller of another org", c: caller, orgID: "o", accountID: "u", caller: nil, code: domain.ENOTFOUND},
		{name: "no such org", c: caller, orgID: "o", accountID: "u", caller: &orgAdmin, noOrg: true, code: domain.ENOTFOUND},
		{name: "no such user", c: caller, orgID: "o", accountID: "u", caller: &orgAdmin, noTarget: true, code: domain.ENOTFOUND},
		{name: "non-admin, no such user", c: caller, orgID: "o", accountID: "u", caller: &plainUser, noTarget: true, code: domain.EFORBIDDEN},
		{name: "self", c: caller, orgID: "o", accountID: "admin", caller: &orgAdmin, code: domain.ECONFLICT},
		{name: "read fails", c: caller, orgID: "o", accountID: "u", caller: &orgAdmin, loadErr: readErr, code: domain.EINTERNAL},
		{name: "invalid org id", c: caller, orgID: "O#1", accountID: "u", noRead: true, code: domain.ENOTFOUND},
		{name: "empty org id", c: caller, orgID: "", accountID: "u", noRead: true, code: domain.ENOTFOUND},
		{name: "invalid caller id", c: domain.Caller{AccountID: "a b", RequestID: "req-1"}, orgID: "o", accountID: "u", noRead: true, code: domain.ENOTFOUND},
		{name: "empty caller id", c: domain.Caller{RequestID: "req-1"}, orgID: "o", accountID: "u", noRead: true, code: domain.ENOTFOUND},
		{name: "invalid account id", c: caller, orgID: "o", accountID: "u#PROFILE", noRead: true, code: domain.ENOTFOUND},
		{name: "empty account id", c: caller, orgID: "o", accountID: "", noRead: true, code: domain.ENOTFOUND},
	}
	for _, op := range []string{"remove", "suspend", "restore"} {
		status := domain.UserActive
		if op == "restore" {
			status = domain.UserSuspended
		}
		for _, tc := range cases {
			name := op + ": " + tc.name
			wrote := 0
			f := &fake{t: t}
			if !tc.noRead {
				f.load = func(orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error) {
					if orgID != tc.orgID || callerID != tc.c.AccountID || accountID != tc.accountID {
						t.Errorf("%s: read %s/%s/%s", name, orgID, callerID, accountID)
					}
					sc := scopeOf(tc.caller)
					if tc.noOrg {
						sc.Org = nil
					}
					rec := record(status)
					rec.User.AccountID = accountID
					if tc.noTarget {
						rec = nil
					}
					return sc, rec, tc.loadErr
				}
			}
			f.remove = func(domain.Removal) (int, error) { wrote++; return 1, nil }
			f.setStatus = func(domain.StatusChange) error { wrote++; return nil }
			err := lifecycle(service(f), op, tc.c, tc.orgID, tc.accountID)
			if domain.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %q", name, err, tc.code)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.code == ""]; wrote != want {
				t.Errorf("%s: %d writes, want %d", name, wrote, want)
			}
		}
	}
}

// TestRemove: the answer names what the account held, and the store gets
// the record as read, the caller (to condition the write on) and the audit
// entry of the removal.
func TestRemove(t *testing.T) {
	var got *domain.Removal
	f := &fake{t: t,
		load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
			return scopeOf(&orgAdmin), record(domain.UserActive), nil
		},
		remove: func(r domain.Removal) (int, error) { got = &r; return 1, nil },
	}
	res, err := service(f).Remove(context.Background(), caller, "o", "u")
	if err != nil {
		t.Fatal(err)
	}
	want := Removed{AccountID: "u", Email: "u@x.example",
		Roles:       map[string]domain.Role{"wiki/confluence": domain.RoleGuest, "wiki/jira": domain.RoleUser},
		Groups:      []string{"partners", "staff"},
		Invitations: []string{"inv-1"},
		Released:    map[string]domain.Seats{"wiki": {Guests: -1}},
		Stages:      1}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("removed %+v, want %+v", res, want)
	}
	if got == nil {
		t.Fatal("nothing written")
	}
	if !reflect.DeepEqual(got.Record, *record(domain.UserActive)) || got.CallerID != "admin" {
		t.Errorf("removal %+v", got)
	}
	checkAudit(t, "remove", got.Audit, domain.ActionUserRemove, "user/u", wantBefore(domain.UserActive), nil)

	// An org admin's removal says so in the log.
	f.load = func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
		rec := record(domain.UserSuspended)
		rec.User.OrgAdmin = true
		return scopeOf(&orgAdmin), rec, nil
	}
	if _, err := service(f).Remove(context.Background(), caller, "o", "u"); err != nil {
		t.Fatal(err)
	}
	b := wantBefore(domain.UserSuspended)
	b["orgAdmin"] = true
	checkAudit(t, "remove org admin", got.Audit, domain.ActionUserRemove, "user/u", b, nil)
}

// TestRemoveBusyGroup: while a group of the account has a job in flight the
// removal is refused, naming every such group, and nothing is written.
func TestRemoveBusyGroup(t *testing.T) {
	f := &fake{t: t, load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
		rec := record(domain.UserActive)
		rec.Groups = []string{"partners", "staff", "zeta"}
		rec.GroupInfo["staff"] = domain.GroupState{ID: "staff", Name: "Staff", ActiveJob: "j2"}
		rec.GroupInfo["partners"] = domain.GroupState{ID: "partners", Name: "Partners", ActiveJob: "j1"}
		rec.GroupInfo["zeta"] = domain.GroupState{ID: "zeta", Name: "Zeta"}
		return scopeOf(&orgAdmin), rec, nil
	}}
	_, err := service(f).Remove(context.Background(), caller, "o", "u")
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.ECONFLICT || !reflect.DeepEqual(e.Extra["groups"], []string{"partners", "staff"}) ||
		e.Message != "The user is in groups Partners, Staff with a job in flight; retry when it has finished." {
		t.Errorf("busy: %#v", err)
	}
}

// TestRemoveStages: the store removes a large account in stages and says
// how many transactions stood. When a later stage loses to a concurrent
// change (ErrAccessChanged) the service reads what is left and hands that
// to the store again; the answer counts the transactions of every attempt.
// Any other refusal ends it at once, with the stages that stood counted.
func TestRemoveStages(t *testing.T) {
	t.Run("finishes from what is left", func(t *testing.T) {
		reads, calls := 0, []domain.Removal{}
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				reads++
				rec := record(domain.UserActive)
				if reads > 1 { // the memberships went in the stages that stood
					rec.Groups = nil
					a := rec.Access["wiki/confluence"]
					a.Groups, a.Version = nil, 4
					rec.Access["wiki/confluence"] = a
				}
				return scopeOf(&orgAdmin), rec, nil
			},
			remove: func(r domain.Removal) (int, error) {
				calls = append(calls, r)
				if len(calls) == 1 {
					return 2, domain.ErrAccessChanged
				}
				return 1, nil
			},
		}
		res, err := service(f).Remove(context.Background(), caller, "o", "u")
		if err != nil || res.Stages != 3 || reads != 2 || len(calls) != 2 {
			t.Fatalf("%+v, %v after %d reads, %d writes", res, err, reads, len(calls))
		}
		if len(calls[1].Record.Groups) != 0 || calls[1].Record.Access["wiki/confluence"].Version != 4 {
			t.Errorf("second attempt did not use the record read again: %+v", calls[1].Record)
		}
		if len(res.Groups) != 0 {
			t.Errorf("answer from the first read: %+v", res)
		}
		if calls[0].Audit.ID == calls[1].Audit.ID {
			t.Errorf("both attempts carry audit entry %s", calls[0].Audit.ID)
		}
	})
	t.Run("gives up after maxAttempts", func(t *testing.T) {
		reads, writes := 0, 0
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				reads++
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			remove: func(domain.Removal) (int, error) { writes++; return 1, domain.ErrAccessChanged },
		}
		res, err := service(f).Remove(context.Background(), caller, "o", "u")
		if err != domain.ErrAccessChanged || reads != maxAttempts || writes != maxAttempts || res.Stages != maxAttempts {
			t.Errorf("%+v, %v after %d reads, %d writes", res, err, reads, writes)
		}
	})
	for name, storeErr := range map[string]error{
		"caller no longer admin": domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this."),
		"group became busy":      domain.Errorf(domain.ECONFLICT, "Group Partners has a job in flight; retry when it has finished."),
		"internal":               errors.New("boom"),
	} {
		t.Run(name, func(t *testing.T) {
			writes := 0
			f := &fake{t: t,
				load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
					return scopeOf(&orgAdmin), record(domain.UserActive), nil
				},
				remove: func(domain.Removal) (int, error) { writes++; return 2, storeErr },
			}
			res, err := service(f).Remove(context.Background(), caller, "o", "u")
			if err != storeErr || writes != 1 || res.Stages != 2 {
				t.Errorf("%+v, %v after %d writes", res, err, writes)
			}
		})
	}
	t.Run("account gone on the re-read", func(t *testing.T) {
		reads := 0
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				reads++
				if reads > 1 {
					return scopeOf(&orgAdmin), nil, nil
				}
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			remove: func(domain.Removal) (int, error) { return 1, domain.ErrAccessChanged },
		}
		res, err := service(f).Remove(context.Background(), caller, "o", "u")
		if domain.ErrorCode(err) != domain.ENOTFOUND || res.Stages != 1 {
			t.Errorf("%+v, %v", res, err)
		}
	})
}

// TestSetStatus: only "active" and "suspended" are asked for (checked before
// anything is read); an invited account moves neither way; a status already
// held writes nothing; a change is handed over guarded by the status read,
// with its audit entry.
func TestSetStatus(t *testing.T) {
	for _, status := range []string{"", "invited", "Active", "SUSPENDED", " active", "deleted"} {
		_, err := service(&fake{t: t}).SetStatus(context.Background(), caller, "o", "u", status)
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.EINVALID || e.Fields["status"] == "" {
			t.Errorf("status %q: %#v", status, err)
		}
	}
	cases := []struct {
		name     string
		from, to domain.UserStatus
		code     string
		write    bool
	}{
		{"suspend", domain.UserActive, domain.UserSuspended, "", true},
		{"restore", domain.UserSuspended, domain.UserActive, "", true},
		{"suspend the suspended", domain.UserSuspended, domain.UserSuspended, "", false},
		{"restore the active", domain.UserActive, domain.UserActive, "", false},
		{"suspend the invited", domain.UserInvited, domain.UserSuspended, domain.ECONFLICT, false},
		{"activate the invited", domain.UserInvited, domain.UserActive, domain.ECONFLICT, false},
	}
	for _, tc := range cases {
		var got *domain.StatusChange
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				return scopeOf(&orgAdmin), record(tc.from), nil
			},
			setStatus: func(ch domain.StatusChange) error { got = &ch; return nil },
		}
		u, err := service(f).SetStatus(context.Background(), caller, "o", "u", string(tc.to))
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
		if (got != nil) != tc.write {
			t.Errorf("%s: wrote %+v, want a write: %v", tc.name, got, tc.write)
		}
		if tc.code != "" {
			continue
		}
		if u.AccountID != "u" || u.Email != "u@x.example" || u.Status != tc.to {
			t.Errorf("%s: answered %+v", tc.name, u)
		}
		if got == nil {
			continue
		}
		if !reflect.DeepEqual(got.User, record(tc.from).User) || got.From != tc.from || got.To != tc.to || got.CallerID != "admin" {
			t.Errorf("%s: change %+v", tc.name, got)
		}
		checkAudit(t, tc.name, got.Audit, domain.ActionUserStatus, "user/u",
			map[string]any{"status": string(tc.from)}, map[string]any{"status": string(tc.to)})
	}
}

// TestSetStatusRetries: a status that changed meanwhile (ErrAccessChanged)
// is read again: the change is redone from the new state, or dropped when
// the account already is as asked; the retries are bounded.
func TestSetStatusRetries(t *testing.T) {
	t.Run("redone from the new state", func(t *testing.T) {
		reads, changes := 0, []domain.StatusChange{}
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				reads++
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			setStatus: func(ch domain.StatusChange) error {
				changes = append(changes, ch)
				if len(changes) == 1 {
					return domain.ErrAccessChanged
				}
				return nil
			},
		}
		u, err := service(f).SetStatus(context.Background(), caller, "o", "u", "suspended")
		if err != nil || u.Status != domain.UserSuspended || reads != 2 || len(changes) != 2 {
			t.Errorf("%+v, %v after %d reads, %d writes", u, err, reads, len(changes))
		}
	})
	t.Run("already done meanwhile", func(t *testing.T) {
		reads, writes := 0, 0
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				reads++
				if reads > 1 {
					return scopeOf(&orgAdmin), record(domain.UserSuspended), nil
				}
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			setStatus: func(domain.StatusChange) error { writes++; return domain.ErrAccessChanged },
		}
		u, err := service(f).SetStatus(context.Background(), caller, "o", "u", "suspended")
		if err != nil || u.Status != domain.UserSuspended || reads != 2 || writes != 1 {
			t.Errorf("%+v, %v after %d reads, %d writes", u, err, reads, writes)
		}
	})
	t.Run("gives up after maxAttempts", func(t *testing.T) {
		writes := 0
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			setStatus: func(domain.StatusChange) error { writes++; return domain.ErrAccessChanged },
		}
		u, err := service(f).SetStatus(context.Background(), caller, "o", "u", "suspended")
		if err != domain.ErrAccessChanged || writes != maxAttempts || u.Status != domain.UserActive {
			t.Errorf("%+v, %v after %d writes", u, err, writes)
		}
	})
	t.Run("other refusals are final", func(t *testing.T) {
		writes := 0
		refused := domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this.")
		f := &fake{t: t,
			load: func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
				return scopeOf(&orgAdmin), record(domain.UserActive), nil
			},
			setStatus: func(domain.StatusChange) error { writes++; return refused },
		}
		u, err := service(f).SetStatus(context.Background(), caller, "o", "u", "suspended")
		if err != refused || writes != 1 || u.Status != domain.UserActive {
			t.Errorf("%+v, %v after %d writes", u, err, writes)
		}
	})
}

// pending is a pending invitation of wiki for the invited account u.
func pending() domain.Invitation {
	return domain.Invitation{OrgID: "o", ID: "inv-1", SiteID: "wiki", AccountID: "u", Email: "u@x.example", TokenHash: "h", Groups: []string{"partners", "staff"},
		Status: domain.InvitationPending, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), Version: 2}
}

// invitee is the record of u while invited: what its invitation gave it.
func invitee() *domain.UserRecord {
	rec := record(domain.UserInvited)
	rec.Invitations = []domain.Invitation{pending()}
	return rec
}

// revokeWorld answers the reads of a revocation: the invitation (nil: none
// on this site) and the scope of caller c, the invitee's record as given.
func revokeWorld(f *fake, c *domain.User, inv *domain.Invitation, rec *domain.UserRecord) {
	f.invitation = func(orgID, siteID, id string) (domain.Invitation, error) {
		if orgID != "o" || siteID != "wiki" || id != "inv-1" {
			f.t.Errorf("invitation read %s/%s/%s", orgID, siteID, id)
		}
		if inv == nil {
			return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
		}
		return *inv, nil
	}
	f.load = func(orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error) {
		want := "u"
		if inv == nil {
			want = callerID // nothing to read but the caller
		}
		if orgID != "o" || callerID != "admin" || accountID != want {
			f.t.Errorf("record read %s/%s/%s, want account %s", orgID, callerID, accountID, want)
		}
		sc := scopeOf(c)
		sc.Site = &domain.Site{ID: "wiki"}
		return sc, rec, nil
	}
}

// TestRevokeGate: org admins and admins of the invitation's site may; ids
// are checked before anything is read; a caller of another org gets 404; a
// caller who may not revoke learns nothing of whether the invitation exists.
func TestRevokeGate(t *testing.T) {
	cases := []struct {
		name                 string
		c                    domain.Caller
		orgID, siteID, id    string
		caller               *domain.User
		noInvitation, noRead bool
		code                 string
	}{
		{name: "org admin", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &orgAdmin},
		{name: "site admin", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &siteAdmin},
		{name: "admin of another site", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &otherSiteAdmin, code: domain.EFORBIDDEN},
		{name: "plain user", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &plainUser, code: domain.EFORBIDDEN},
		{name: "suspended admin", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &suspendedAdmin, code: domain.EFORBIDDEN},
		{name: "caller of another org", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: nil, code: domain.ENOTFOUND},
		{name: "no such invitation", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &siteAdmin, noInvitation: true, code: domain.ENOTFOUND},
		{name: "no such invitation, plain user", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: &plainUser, noInvitation: true, code: domain.EFORBIDDEN},
		{name: "no such invitation, another org", c: caller, orgID: "o", siteID: "wiki", id: "inv-1", caller: nil, noInvitation: true, code: domain.ENOTFOUND},
		{name: "invalid org id", c: caller, orgID: "O", siteID: "wiki", id: "inv-1", noRead: true, code: domain.ENOTFOUND},
		{name: "invalid site id", c: caller, orgID: "o", siteID: "wiki/x", id: "inv-1", noRead: true, code: domain.ENOTFOUND},
		{name: "empty site id", c: caller, orgID: "o", siteID: "", id: "inv-1", noRead: true, code: domain.ENOTFOUND},
		{name: "invalid caller id", c: domain.Caller{AccountID: "a#b"}, orgID: "o", siteID: "wiki", id: "inv-1", noRead: true, code: domain.ENOTFOUND},
		{name: "invalid invitation id", c: caller, orgID: "o", siteID: "wiki", id: "inv 1", noRead: true, code: domain.ENOTFOUND},
		{name: "empty invitation id", c: caller, orgID: "o", siteID: "wiki", id: "", noRead: true, code: domain.ENOTFOUND},
	}
	for _, tc := range cases {
		wrote := false
		f := &fake{t: t, revoke: func(domain.Revocation) error { wrote = true; return nil }}
		if !tc.noRead {
			inv := ptr(pending())
			if tc.noInvitation {
				inv = nil
			}
			revokeWorld(f, tc.caller, inv, invitee())
		}
		_, err := service(f).Revoke(context.Background(), tc.c, tc.orgID, tc.siteID, tc.id)
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
		if wrote != (tc.code == "") {
			t.Errorf("%s: wrote %v", tc.name, wrote)
		}
	}
}

// TestRevokeOnlyPending: an accepted, revoked or expired invitation, or one
// whose account is no longer invited, is a 409 and nothing is written; so is
// one whose invitee is in a group with a job in flight.
func TestRevokeOnlyPending(t *testing.T) {
	with := func(change func(*domain.Invitation)) *domain.Invitation {
		inv := pending()
		change(&inv)
		return &inv
	}
	busy := invitee()
	busy.GroupInfo["staff"] = domain.GroupState{ID: "staff", Name: "Staff", ActiveJob: "j"}
	cases := []struct {
		name string
		inv  *domain.Invitation
		rec  *domain.UserRecord
		code string
	}{
		{"pending", ptr(pending()), invitee(), ""},
		{"pending, expiring in a moment", with(func(i *domain.Invitation) { i.ExpiresAt = now.Add(time.Nanosecond) }), invitee(), ""},
		{"accepted", with(func(i *domain.Invitation) { i.Status = domain.InvitationAccepted }), invitee(), domain.ECONFLICT},
		{"revoked", with(func(i *domain.Invitation) { i.Status = domain.InvitationRevoked }), invitee(), domain.ECONFLICT},
		{"marked expired", with(func(i *domain.Invitation) { i.Status = domain.InvitationExpired }), invitee(), domain.ECONFLICT},
		{"pending but expired now", with(func(i *domain.Invitation) { i.ExpiresAt = now }), invitee(), domain.ECONFLICT},
		{"pending but expired long ago", with(func(i *domain.Invitation) { i.ExpiresAt = now.Add(-24 * time.Hour) }), invitee(), domain.ECONFLICT},
		{"account already active", ptr(pending()), record(domain.UserActive), domain.ECONFLICT},
		{"account gone", ptr(pending()), nil, domain.ECONFLICT},
		{"invitee in a busy group", ptr(pending()), busy, domain.ECONFLICT},
	}
	for _, tc := range cases {
		wrote := false
		f := &fake{t: t, revoke: func(domain.Revocation) error { wrote = true; return nil }}
		revokeWorld(f, &siteAdmin, tc.inv, tc.rec)
		_, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
		if wrote != (tc.code == "") {
			t.Errorf("%s: wrote %v", tc.name, wrote)
		}
	}
}

// TestRevoke: the store gets the invitation and the invitee's record as
// read and the audit entry; the answer is the invitation revoked, with what
// was released.
func TestRevoke(t *testing.T) {
	var got *domain.Revocation
	f := &fake{t: t, revoke: func(rv domain.Revocation) error { got = &rv; return nil }}
	revokeWorld(f, &siteAdmin, ptr(pending()), invitee())
	res, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
	if err != nil {
		t.Fatal(err)
	}
	wantInv := pending()
	wantInv.Status, wantInv.Version = domain.InvitationRevoked, 3
	if !reflect.DeepEqual(res, Revoked{Invitation: wantInv, Released: map[string]domain.Seats{"wiki": {Guests: -1}}, Groups: []string{"partners", "staff"}}) {
		t.Errorf("revoked %+v", res)
	}
	if !reflect.DeepEqual(got.Invitation, pending()) || !reflect.DeepEqual(got.Record, *invitee()) {
		t.Errorf("revocation %+v", got)
	}
	b := wantBefore(domain.UserInvited)
	b["invitation"] = "pending"
	checkAudit(t, "revoke", got.Audit, domain.ActionInvitationRevoke, "invitation/inv-1", b,
		map[string]any{"invitation": "revoked", "account": "u"})
}

// TestRevokeRetries: a revocation that lost to a concurrent change
// (ErrAccessChanged) reads the invitation and the record again; the retries
// are bounded; other refusals (the invitation accepted meanwhile) are final.
func TestRevokeRetries(t *testing.T) {
	t.Run("read again", func(t *testing.T) {
		reads, writes := 0, []domain.Revocation{}
		f := &fake{t: t}
		revokeWorld(f, &orgAdmin, ptr(pending()), invitee())
		readInv := f.invitation
		f.invitation = func(o, s, id string) (domain.Invitation, error) {
			reads++
			inv, err := readInv(o, s, id)
			inv.Version += reads - 1
			return inv, err
		}
		f.revoke = func(rv domain.Revocation) error {
			writes = append(writes, rv)
			if len(writes) == 1 {
				return domain.ErrAccessChanged
			}
			return nil
		}
		res, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
		if err != nil || reads != 2 || len(writes) != 2 || writes[1].Invitation.Version != 3 || res.Invitation.Version != 4 {
			t.Errorf("%+v, %v after %d reads, %d writes", res, err, reads, len(writes))
		}
	})
	t.Run("accepted meanwhile", func(t *testing.T) {
		reads, writes := 0, 0
		f := &fake{t: t}
		revokeWorld(f, &orgAdmin, ptr(pending()), invitee())
		readInv := f.invitation
		f.invitation = func(o, s, id string) (domain.Invitation, error) {
			reads++
			inv, err := readInv(o, s, id)
			if reads > 1 {
				inv.Status = domain.InvitationAccepted
			}
			return inv, err
		}
		f.revoke = func(domain.Revocation) error { writes++; return domain.ErrAccessChanged }
		_, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
		if domain.ErrorCode(err) != domain.ECONFLICT || err == domain.ErrAccessChanged || reads != 2 || writes != 1 {
			t.Errorf("%v after %d reads, %d writes", err, reads, writes)
		}
	})
	t.Run("gives up after maxAttempts", func(t *testing.T) {
		writes := 0
		f := &fake{t: t, revoke: func(domain.Revocation) error { writes++; return domain.ErrAccessChanged }}
		revokeWorld(f, &orgAdmin, ptr(pending()), invitee())
		res, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
		if err != domain.ErrAccessChanged || writes != maxAttempts || res.Invitation.Status != domain.InvitationPending {
			t.Errorf("%+v, %v after %d writes", res, err, writes)
		}
	})
	t.Run("other refusals are final", func(t *testing.T) {
		writes := 0
		refused := domain.Errorf(domain.ECONFLICT, "The invitation is no longer pending: it was accepted, revoked or replaced meanwhile.")
		f := &fake{t: t, revoke: func(domain.Revocation) error { writes++; return refused }}
		revokeWorld(f, &orgAdmin, ptr(pending()), invitee())
		res, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1")
		if err != refused || writes != 1 || res.Invitation.Status != domain.InvitationPending {
			t.Errorf("%+v, %v after %d writes", res, err, writes)
		}
	})
	t.Run("invitation read fails", func(t *testing.T) {
		boom := errors.New("boom")
		f := &fake{t: t, invitation: func(string, string, string) (domain.Invitation, error) { return domain.Invitation{}, boom }}
		if _, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1"); err != boom {
			t.Errorf("%v", err)
		}
	})
	t.Run("record read fails", func(t *testing.T) {
		boom := errors.New("boom")
		f := &fake{t: t}
		revokeWorld(f, &orgAdmin, ptr(pending()), invitee())
		f.load = func(string, string, string) (domain.Scope, *domain.UserRecord, error) {
			return scopeOf(&orgAdmin), invitee(), boom
		}
		if _, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1"); err != boom {
			t.Errorf("%v", err)
		}
	})
}

// TestRevokeBySiteAdminOnlyWhatTheInvitationGave: revoking removes the
// invited account, so a site admin may not revoke an invitee who meanwhile
// got access on another site or joined another group; an org admin may.
func TestRevokeBySiteAdminOnlyWhatTheInvitationGave(t *testing.T) {
	for name, mutate := range map[string]func(*domain.UserRecord){
		"access on another site": func(r *domain.UserRecord) {
			r.Access["docs/confluence"] = domain.Access{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser, Version: 1}
		},
		"another group": func(r *domain.UserRecord) { r.Groups = append(r.Groups, "extra") },
	} {
		t.Run(name, func(t *testing.T) {
			rec := invitee()
			mutate(rec)
			f := &fake{t: t}
			revokeWorld(f, &siteAdmin, ptr(pending()), rec)
			if _, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1"); domain.ErrorCode(err) != domain.EFORBIDDEN {
				t.Errorf("site admin: %v, want forbidden", err)
			}
			written := false
			f = &fake{t: t, revoke: func(domain.Revocation) error { written = true; return nil }}
			revokeWorld(f, &orgAdmin, ptr(pending()), rec)
			if _, err := service(f).Revoke(context.Background(), caller, "o", "wiki", "inv-1"); err != nil || !written {
				t.Errorf("org admin: %v (written %v)", err, written)
			}
		})
	}
}
