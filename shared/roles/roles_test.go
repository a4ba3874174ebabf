package roles

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

type fake struct {
	t      *testing.T
	scope  domain.RoleScope
	change func(domain.AccessChange) error
}

func (f *fake) LoadRole(context.Context, string, string, string, string, domain.Product) (domain.RoleScope, error) {
	return f.scope, nil
}
func (f *fake) LoadCaller(context.Context, string, string) (domain.Scope, error) {
	return f.scope.Scope, nil
}
func (f *fake) UserAccess(context.Context, string, string) (map[string]domain.Access, error) {
	f.t.Fatal("unexpected UserAccess")
	return nil, nil
}
func (f *fake) GroupsByID(context.Context, string, []string) (map[string]domain.Group, error) {
	f.t.Fatal("unexpected GroupsByID")
	return nil, nil
}
func (f *fake) User(context.Context, string, string) (domain.User, error) {
	f.t.Fatal("unexpected User")
	return domain.User{}, nil
}
func (f *fake) ChangeAccess(_ context.Context, ch domain.AccessChange) error {
	if f.change == nil {
		f.t.Fatal("unexpected ChangeAccess")
	}
	return f.change(ch)
}

func scope(caller domain.User, callerAccess domain.Access, target domain.Access) domain.RoleScope {
	caller.Status = domain.UserActive
	return domain.RoleScope{Scope: domain.Scope{Org: &domain.Org{ID: "o"}, Site: &domain.Site{ID: "wiki"}, Caller: &caller},
		User: &domain.User{AccountID: "u", Email: "u@x.example"}, Access: target, CallerAccess: callerAccess}
}

func TestSetDirect(t *testing.T) {
	guestViaGroup := domain.Access{Product: domain.Confluence, Direct: domain.RoleUser, Groups: map[string]domain.Role{"partners": domain.RoleGuest}, Effective: domain.RoleUser, Version: 2}
	c := domain.Caller{AccountID: "a"}
	cases := []struct {
		name, product, role string
		caller              domain.User
		callerAccess        domain.Access
		code                string
	}{
		{"guest on jira", "jira", "guest", domain.User{OrgAdmin: true}, domain.Access{}, domain.EINVALID},
		{"unknown role", "confluence", "owner", domain.User{OrgAdmin: true}, domain.Access{}, domain.EINVALID},
		{"admin of another site", "confluence", "none", domain.User{SiteAdmin: []string{"other"}}, domain.Access{}, domain.EFORBIDDEN},
		{"plain user", "confluence", "none", domain.User{}, domain.Access{Effective: domain.RoleUser}, domain.EFORBIDDEN},
		{"product admin", "confluence", "none", domain.User{}, domain.Access{Effective: domain.RoleAdmin}, ""},
		{"site admin", "confluence", "none", domain.User{SiteAdmin: []string{"wiki"}}, domain.Access{}, ""},
	}
	for _, tc := range cases {
		var wrote *domain.AccessChange
		f := &fake{t: t, scope: scope(tc.caller, tc.callerAccess, guestViaGroup), change: func(ch domain.AccessChange) error { wrote = &ch; return nil }}
		res, err := (&Service{Store: f}).SetDirect(context.Background(), c, "o", "wiki", tc.product, "u", tc.role)
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
			continue
		}
		if tc.code != "" {
			if wrote != nil {
				t.Errorf("%s: refused but wrote", tc.name)
			}
			continue
		}
		// Removing the direct user role leaves the guest the group gives,
		// named, and a paid → guest conversion.
		if res.After != domain.RoleGuest || len(res.StillGuestVia) != 1 || res.StillGuestVia[0] != "partners" || res.Conversion == nil ||
			res.Conversion.From != domain.KindPaid || res.Conversion.To != domain.KindGuest || wrote.After["wiki/confluence"].Direct != domain.RoleNone {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
}
