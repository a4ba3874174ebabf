package invitations

import "github.com/guestaccess/guestaccess/shared/domain"

// Grant is the access an invitee receives on the site: the direct roles, the
// effective roles once groups are counted, and the resulting Confluence kind.
type Grant struct {
	Direct    map[domain.Product]domain.Role
	Effective map[domain.Product]domain.Role
	Kind      domain.Kind
	// PaidViaGroups names the groups that make the invitee a paid user.
	PaidViaGroups []string
}

// PlanGrant computes the effective access of an invitee on siteID from the
// direct roles and the groups (all of which must exist).
func PlanGrant(siteID string, direct map[domain.Product]domain.Role, groups []domain.Group) Grant {
	g := Grant{Direct: direct, Effective: map[domain.Product]domain.Role{}}
	for _, p := range domain.Products {
		var groupRoles []domain.Role
		for _, gr := range groups {
			groupRoles = append(groupRoles, gr.RoleOn(siteID, p))
		}
		if eff := domain.EffectiveRole(direct[p], groupRoles...); eff != domain.RoleNone {
			g.Effective[p] = eff
		}
	}
	g.Kind = domain.KindOf(g.Effective[domain.Confluence])
	if g.Kind == domain.KindPaid && !direct[domain.Confluence].Paid() {
		for _, gr := range groups {
			if gr.RoleOn(siteID, domain.Confluence).Paid() {
				g.PaidViaGroups = append(g.PaidViaGroups, gr.Name)
			}
		}
	}
	return g
}

// Warnings explains, in words an admin reads, the effects of a grant that the
// seed document warns about: a paid user where a guest may have been meant.
func (g Grant) Warnings() []string {
	var w []string
	if g.Kind == domain.KindPaid && g.Direct[domain.Confluence].Paid() {
		w = append(w, "Confluence role 'user' is selected: every invitee becomes a paid user, not a guest.")
	}
	if len(g.PaidViaGroups) > 0 {
		w = append(w, domain.Named("Group", "Groups", g.PaidViaGroups)+" "+domain.Agree(len(g.PaidViaGroups), "grants", "grant")+" Confluence 'user' or higher: every invitee becomes a paid user, not a guest.")
	}
	return w
}
