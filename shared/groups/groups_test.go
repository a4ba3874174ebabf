package groups

import (
	"context"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fake is the store as function fields: it implements the ports the
// tests' paths use (CallerReader, SiteReader and GroupCreator for Create;
// MembershipReader and AccessChanger for AddMember), nothing else.
type fake struct {
	t            *testing.T
	caller       func() (domain.Scope, error)
	create       func(domain.Group) error
	sites        func([]string) (map[string]domain.Site, error)
	membership   func() (domain.MembershipScope, error)
	accessItems  func([]string) (map[string]domain.Access, error)
	changeAccess func(domain.AccessChange) error
}

func (f *fake) LoadCaller(context.Context, string, string) (domain.Scope, error) { return f.caller() }

// CreateGroup fails the test when Create writes before its checks pass
// (create unset).
func (f *fake) CreateGroup(_ context.Context, g domain.Group, _ *domain.AuditEntry) error {
	if f.create == nil {
		f.t.Fatal("unexpected CreateGroup")
	}
	return f.create(g)
}
func (f *fake) Sites(_ context.Context, _ string, ids []string) (map[string]domain.Site, error) {
	return f.sites(ids)
}
func (f *fake) LoadMembership(context.Context, string, string, string, string) (domain.MembershipScope, error) {
	return f.membership()
}
func (f *fake) AccessItems(_ context.Context, _, _ string, keys []string) (map[string]domain.Access, error) {
	return f.accessItems(keys)
}
func (f *fake) ChangeAccess(_ context.Context, ch domain.AccessChange) error {
	return f.changeAccess(ch)
}

var admin = domain.Caller{AccountID: "admin", RequestID: "r"}

func orgAdmin() (domain.Scope, error) {
	return domain.Scope{Org: &domain.Org{ID: "o"}, Caller: &domain.User{AccountID: "admin", Status: domain.UserActive, OrgAdmin: true}}, nil
}

func TestCreateValidatesBeforeWriting(t *testing.T) {
	f := &fake{t: t, caller: orgAdmin, sites: func(ids []string) (map[string]domain.Site, error) { return map[string]domain.Site{"wiki": {}}, nil }}
	s := &Service{Callers: f, Sites: f, Creator: f}
	for name, roles := range map[string][]RoleInput{
		"guest on jira":   {{Site: "wiki", Product: "jira", Role: "guest"}},
		"unknown product": {{Site: "wiki", Product: "trello", Role: "user"}},
		"unknown role":    {{Site: "wiki", Product: "confluence", Role: "owner"}},
		"duplicate":       {{Site: "wiki", Product: "confluence", Role: "guest"}, {Site: "wiki", Product: "confluence", Role: "user"}},
	} {
		if _, err := s.Create(context.Background(), admin, "o", "", "Agency", roles); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.Create(context.Background(), admin, "o", "", "Agency", []RoleInput{{Site: "nope", Product: "confluence", Role: "guest"}}); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("unknown site: %v", err)
	}
	if _, err := s.Create(context.Background(), admin, "o", "", string(make([]byte, 129)), nil); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("oversized name: %v", err)
	}
	var made domain.Group
	f.create = func(g domain.Group) error { made = g; return nil }
	g, err := s.Create(context.Background(), admin, "o", "", "  Agency Partners! ", []RoleInput{{Site: "wiki", Product: "confluence", Role: "guest"}})
	if err != nil || g.ID != "agency-partners" || made.Name != "Agency Partners!" || made.Roles["wiki/confluence"] != domain.RoleGuest {
		t.Errorf("created %+v / %+v, %v", g, made, err)
	}
	f.caller = func() (domain.Scope, error) {
		sc, _ := orgAdmin()
		sc.Caller.OrgAdmin = false
		return sc, nil
	}
	if _, err := s.Create(context.Background(), admin, "o", "", "X", nil); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("non-admin: %v", err)
	}
}

// TestAddMemberConvertsAndRetries: a guest joining a user group converts to
// paid (named with why); a version conflict re-reads and retries.
func TestAddMemberConvertsAndRetries(t *testing.T) {
	tries := 0
	f := &fake{t: t,
		membership: func() (domain.MembershipScope, error) {
			sc, _ := orgAdmin()
			return domain.MembershipScope{Scope: sc, Group: &domain.Group{ID: "staff", Name: "Staff", Roles: map[string]domain.Role{"wiki/confluence": domain.RoleUser}},
				User: &domain.User{AccountID: "u", Email: "u@x.example"}}, nil
		},
		accessItems: func(keys []string) (map[string]domain.Access, error) {
			return map[string]domain.Access{"wiki/confluence": {Product: domain.Confluence, Direct: domain.RoleNone,
				Groups: map[string]domain.Role{"partners": domain.RoleGuest}, Effective: domain.RoleGuest, Version: 3}}, nil
		},
		changeAccess: func(ch domain.AccessChange) error {
			tries++
			if tries == 1 {
				return domain.ErrAccessChanged
			}
			if a := ch.After["wiki/confluence"]; a.Effective != domain.RoleUser || ch.AddMember != "staff" || ch.Touch {
				t.Errorf("change = %+v", ch)
			}
			return nil
		},
	}
	res, err := (&Service{Memberships: f, Changes: f, Now: func() time.Time { return time.Unix(0, 0) }}).AddMember(context.Background(), admin, "o", "staff", "u")
	if err != nil || tries != 2 || len(res.Conversions) != 1 || res.Conversions[0].From != domain.KindGuest || res.Conversions[0].To != domain.KindPaid {
		t.Fatalf("result %+v, %v, %d tries", res, err, tries)
	}
	if why := res.Conversions[0].Why; len(why) != 2 || why[1] != "group Staff: user" {
		t.Errorf("why = %v", why)
	}
}
