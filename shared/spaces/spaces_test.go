package spaces

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fake answers LoadAssign with a fixed world: spaces MKT and ENG, the
// caller's admin items in admins, and the guest's access. It implements the
// ports that assigning and naming admins use, nothing else (service).
type fake struct {
	t      *testing.T
	caller domain.User
	own    domain.Access
	admins []string // spaces the caller is named admin of
	guest  *domain.Access
	wrote  *domain.SpaceAssignment
}

func (f *fake) world(space string) domain.SpaceScope {
	c := f.caller
	c.Status = domain.UserActive
	sc := domain.SpaceScope{Scope: domain.Scope{Org: &domain.Org{ID: "o"}, Site: &domain.Site{ID: "wiki"}, Caller: &c}, CallerAccess: f.own}
	if space == "MKT" || space == "ENG" {
		sc.Space = &domain.Space{Key: space}
		sc.CallerAdmin = slices.Contains(f.admins, space)
	}
	return sc
}

func (f *fake) LoadAssign(_ context.Context, _, _, _, _, space string) (domain.AssignScope, error) {
	return domain.AssignScope{SpaceScope: f.world(space), User: &domain.User{AccountID: "g", Email: "g@x.example"}, Access: f.guest}, nil
}
func (f *fake) SpaceAdmins(context.Context, string, string, string) ([]string, error) {
	return nil, nil
}
func (f *fake) AddSpaceAdmin(context.Context, string, string, string, string, domain.AuditEntry) error {
	return nil
}

// AssignSpace stands in for the store's check of the admin items in the
// write: a space the caller is not named on refuses it.
func (f *fake) AssignSpace(_ context.Context, ch domain.SpaceAssignment) error {
	for _, sp := range ch.AdminOf {
		if !slices.Contains(f.admins, sp) {
			return domain.Errorf(domain.EFORBIDDEN, "not an admin of %s", sp)
		}
	}
	f.wrote = &ch
	return nil
}

// service is the service over the fake's ports.
func (f *fake) service() *Service {
	return &Service{AssignScopes: f, Assignments: f, Admins: f, AdminAdds: f}
}

var (
	paid  = domain.Access{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}
	admin = domain.Access{Product: domain.Confluence, Direct: domain.RoleAdmin, Effective: domain.RoleAdmin}
)

func guestIn(space string) *domain.Access {
	return &domain.Access{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest, Space: space, Version: 3}
}

// TestAssignPowers: who may assign, move and unassign, and the move rule —
// a space admin moves a guest only between two spaces they both administer.
func TestAssignPowers(t *testing.T) {
	orgAdmin := domain.User{OrgAdmin: true}
	siteAdmin := domain.User{SiteAdmin: []string{"wiki"}}
	otherSiteAdmin := domain.User{SiteAdmin: []string{"other"}}
	plain := domain.User{}
	cases := []struct {
		name   string
		caller domain.User
		own    domain.Access
		admins []string
		guest  *domain.Access
		op     string // "assign MKT", "move MKT", "unassign"
		code   string
		action string
	}{
		{"org admin assigns", orgAdmin, domain.Access{}, nil, guestIn(""), "assign MKT", "", domain.ActionGuestSpaceAssign},
		{"site admin assigns", siteAdmin, domain.Access{}, nil, guestIn(""), "assign MKT", "", domain.ActionGuestSpaceAssign},
		{"product admin assigns", plain, admin, nil, guestIn(""), "assign MKT", "", domain.ActionGuestSpaceAssign},
		{"admin of another site", otherSiteAdmin, domain.Access{}, nil, guestIn(""), "assign MKT", domain.EFORBIDDEN, ""},
		{"plain user", plain, paid, nil, guestIn(""), "assign MKT", domain.EFORBIDDEN, ""},
		{"guest", plain, *guestIn("MKT"), []string{"MKT"}, guestIn(""), "assign MKT", domain.EFORBIDDEN, ""},
		{"space admin of that space", plain, paid, []string{"MKT"}, guestIn(""), "assign MKT", "", domain.ActionGuestSpaceAssign},
		{"space admin of another space", plain, paid, []string{"ENG"}, guestIn(""), "assign MKT", domain.EFORBIDDEN, ""},
		{"space admin no longer paid", plain, domain.Access{}, []string{"MKT"}, guestIn(""), "assign MKT", domain.EFORBIDDEN, ""},
		{"second space without move", orgAdmin, domain.Access{}, nil, guestIn("ENG"), "assign MKT", domain.ECONFLICT, ""},
		{"site admin moves", siteAdmin, domain.Access{}, nil, guestIn("ENG"), "move MKT", "", domain.ActionGuestSpaceMove},
		{"space admin of both moves", plain, paid, []string{"MKT", "ENG"}, guestIn("ENG"), "move MKT", "", domain.ActionGuestSpaceMove},
		{"space admin of the target only", plain, paid, []string{"MKT"}, guestIn("ENG"), "move MKT", domain.EFORBIDDEN, ""},
		{"space admin of the source only", plain, paid, []string{"ENG"}, guestIn("ENG"), "move MKT", domain.EFORBIDDEN, ""},
		{"same space is a no-op", plain, paid, []string{"MKT"}, guestIn("MKT"), "assign MKT", "", ""},
		{"paid user", orgAdmin, domain.Access{}, nil, &paid, "assign MKT", domain.ECONFLICT, ""},
		{"no Confluence access", orgAdmin, domain.Access{}, nil, nil, "assign MKT", domain.ECONFLICT, ""},
		{"paid user, space admin asks", plain, paid, []string{"MKT"}, &paid, "assign MKT", domain.EFORBIDDEN, ""},
		{"unknown space", orgAdmin, domain.Access{}, nil, guestIn(""), "assign NOPE", domain.ENOTFOUND, ""},
		{"invalid key", orgAdmin, domain.Access{}, nil, guestIn(""), "assign mkt", domain.EINVALID, ""},
		{"site admin unassigns", siteAdmin, domain.Access{}, nil, guestIn("ENG"), "unassign", "", domain.ActionGuestSpaceRemove},
		{"space admin unassigns from theirs", plain, paid, []string{"ENG"}, guestIn("ENG"), "unassign", "", domain.ActionGuestSpaceRemove},
		{"space admin unassigns from another", plain, paid, []string{"MKT"}, guestIn("ENG"), "unassign", domain.EFORBIDDEN, ""},
		{"space admin, guest with no space", plain, paid, []string{"MKT"}, guestIn(""), "unassign", domain.EFORBIDDEN, ""},
		{"plain guest unassigns", plain, *guestIn(""), nil, guestIn("ENG"), "unassign", domain.EFORBIDDEN, ""},
		{"unassign with no space is a no-op", orgAdmin, domain.Access{}, nil, guestIn(""), "unassign", "", ""},
	}
	for _, tc := range cases {
		f := &fake{t: t, caller: tc.caller, own: tc.own, admins: tc.admins, guest: tc.guest}
		svc := f.service()
		c := domain.Caller{AccountID: "caller", RequestID: "r"}
		var res Assignment
		var err error
		switch tc.op {
		case "unassign":
			res, err = svc.Unassign(context.Background(), c, "o", "wiki", "g")
		default:
			key := tc.op[len("move "):]
			if tc.op[:6] == "assign" {
				key = tc.op[len("assign "):]
			}
			res, err = svc.Assign(context.Background(), c, "o", "wiki", "g", key, tc.op[:4] == "move")
		}
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
			continue
		}
		switch {
		case tc.action == "" && f.wrote != nil:
			t.Errorf("%s: wrote %+v", tc.name, f.wrote)
		case tc.action != "" && (f.wrote == nil || f.wrote.Audit.Action != tc.action || f.wrote.After.Version != 3 || f.wrote.After.Space != res.After):
			t.Errorf("%s: wrote %+v, res %+v", tc.name, f.wrote, res)
		case tc.action != "" && (f.wrote.Audit.Before["space"] != res.Before || f.wrote.Audit.After["space"] != res.After):
			t.Errorf("%s: audit %+v", tc.name, f.wrote.Audit)
		}
	}
}

// TestMoveRefusalNamesTheSpace: the 409 says where the guest is and how to move them.
func TestMoveRefusalNamesTheSpace(t *testing.T) {
	f := &fake{t: t, caller: domain.User{OrgAdmin: true}, guest: guestIn("ENG")}
	_, err := f.service().Assign(context.Background(), domain.Caller{AccountID: "caller"}, "o", "wiki", "g", "MKT", false)
	e, ok := err.(*domain.Error)
	if !ok || e.Code != domain.ECONFLICT || e.Extra["currentSpace"] != "ENG" || !strings.Contains(e.Message, `"move": true`) {
		t.Fatalf("err = %#v", err)
	}
}

// TestSpaceAdminsArePaid: naming an admin needs a paid Confluence user, and
// only the site-level admins may name one.
func TestSpaceAdminsArePaid(t *testing.T) {
	c := domain.Caller{AccountID: "caller"}
	f := &fake{t: t, caller: domain.User{OrgAdmin: true}, guest: guestIn("")}
	if _, err := f.service().AddAdmin(context.Background(), c, "o", "wiki", "MKT", "g"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("guest as space admin: %v", err)
	}
	f.guest = &paid
	if r, err := f.service().AddAdmin(context.Background(), c, "o", "wiki", "MKT", "g"); err != nil || !r.Changed {
		t.Errorf("paid user as space admin: %+v %v", r, err)
	}
	f.caller, f.own, f.admins = domain.User{}, paid, []string{"MKT"}
	if _, err := f.service().AddAdmin(context.Background(), c, "o", "wiki", "MKT", "g"); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("space admin naming another: %v", err)
	}
}

// TestSpaceKeptWhileGuest: the recomputations that group jobs, memberships
// and direct role changes make (WithGroup, WithDirect) keep a guest's
// space, and drop it once the person is no longer a guest.
func TestSpaceKeptWhileGuest(t *testing.T) {
	a := *guestIn("MKT")
	if b := a.WithGroup("partners", domain.RoleGuest); b.Space != "MKT" {
		t.Errorf("guest group joined: %+v", b)
	}
	if b := a.WithGroup("partners", domain.RoleGuest).WithDirect(domain.RoleNone); b.Space != "MKT" || b.Effective != domain.RoleGuest {
		t.Errorf("direct role gone, group keeps a guest: %+v", b)
	}
	if b := a.WithGroup("staff", domain.RoleUser); b.Space != "" {
		t.Errorf("became paid: %+v", b)
	}
	if b := a.WithDirect(domain.RoleNone); b.Space != "" || b.Effective != domain.RoleNone {
		t.Errorf("lost access: %+v", b)
	}
}
