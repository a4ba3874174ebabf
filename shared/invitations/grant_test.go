package invitations

import (
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

func TestPlanGrant(t *testing.T) {
	guests := domain.Group{Name: "partners", Roles: map[string]domain.Role{domain.SiteProductKey("wiki", domain.Confluence): domain.RoleGuest}}
	staff := domain.Group{Name: "staff", Roles: map[string]domain.Role{domain.SiteProductKey("wiki", domain.Confluence): domain.RoleUser}}
	other := domain.Group{Name: "elsewhere", Roles: map[string]domain.Role{domain.SiteProductKey("other", domain.Confluence): domain.RoleUser}}

	g := PlanGrant("wiki", map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest}, nil)
	if g.Kind != domain.KindGuest || len(g.Warnings()) != 0 {
		t.Errorf("direct guest: %+v %v", g, g.Warnings())
	}
	g = PlanGrant("wiki", map[domain.Product]domain.Role{domain.Confluence: domain.RoleUser}, nil)
	if g.Kind != domain.KindPaid || len(g.Warnings()) != 1 {
		t.Errorf("direct user: %+v %v", g, g.Warnings())
	}
	g = PlanGrant("wiki", map[domain.Product]domain.Role{}, []domain.Group{guests})
	if g.Kind != domain.KindGuest {
		t.Errorf("guest group only: %+v", g)
	}
	g = PlanGrant("wiki", map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest}, []domain.Group{guests, staff})
	if g.Kind != domain.KindPaid || len(g.PaidViaGroups) != 1 || g.PaidViaGroups[0] != "staff" || !strings.Contains(strings.Join(g.Warnings(), " "), "staff") {
		t.Errorf("guest + user group: %+v %v", g, g.Warnings())
	}
	g = PlanGrant("wiki", map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest}, []domain.Group{other})
	if g.Kind != domain.KindGuest {
		t.Errorf("group role on another site leaked: %+v", g)
	}
	g = PlanGrant("wiki", map[domain.Product]domain.Role{domain.Jira: domain.RoleUser}, nil)
	if g.Kind != domain.KindNone || g.Effective[domain.Jira] != domain.RoleUser {
		t.Errorf("jira only: %+v", g)
	}
}

// TestGrantWarningWording: a grant's warning reads as a person would say it
// (the messages once said "(s)"), naming the group (moved from the domain's
// TestCountAndNamed with Grant).
func TestGrantWarningWording(t *testing.T) {
	w := (Grant{Kind: domain.KindPaid, PaidViaGroups: []string{"staff"}}).Warnings()
	if m := strings.Join(w, " "); strings.Contains(m, "(s)") {
		t.Errorf("%q says (s)", m)
	}
	if len(w) != 1 || !strings.HasPrefix(w[0], "Group staff grants ") {
		t.Errorf("warning: %q", w)
	}
}
