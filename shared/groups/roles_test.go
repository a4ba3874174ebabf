package groups

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// roleFake is the store of SetDirect's path (RoleScopeReader and
// AccessChanger): scope read, change a function.
type roleFake struct {
	scope  domain.RoleScope
	change func(domain.AccessChange) error
}

func (f *roleFake) LoadRole(context.Context, string, string, string, string, domain.Product) (domain.RoleScope, error) {
	return f.scope, nil
}
func (f *roleFake) ChangeAccess(_ context.Context, ch domain.AccessChange) error {
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
		f := &roleFake{scope: scope(tc.caller, tc.callerAccess, guestViaGroup), change: func(ch domain.AccessChange) error { wrote = &ch; return nil }}
		res, err := (&RoleService{Scopes: f, Changes: f}).SetDirect(context.Background(), c, "o", "wiki", tc.product, "u", tc.role)
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
