package groups

// Users' roles on sites' products: setting a user's direct role
// (recomputing the effective role from it and every group's, under the
// billing rule) and answering a user's effective roles with why.

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// RoleService runs users' direct roles and effective roles.
type RoleService struct {
	Scopes  RoleScopeReader // SetDirect
	Changes AccessChanger   // SetDirect
	Callers CallerReader    // EffectiveRoles
	Users   UserReader      // EffectiveRoles: the user exists
	Grants  AccessReader    // EffectiveRoles
	Lookup  GroupLookup     // EffectiveRoles: the groups' names
	Now     func() time.Time
}

// ActionDirectRole is the audit action of a direct role change.
const ActionDirectRole = "role.direct"

// DirectResult is the answer to a direct role change.
type DirectResult struct {
	AccountID, Site, Product string
	Direct, Before, After    domain.Role
	// Why names the sources of the effective role after the change.
	Why []string
	// Conversion is set when the user's Confluence kind changed.
	Conversion *domain.Conversion
	// StillGuestVia names the groups that still make the user a guest when
	// their direct Confluence role was removed.
	StillGuestVia []string
}

// SetDirect sets a user's direct role on a site's product ("none" removes
// it). Org and site admins and the product's admins may; guest exists only
// for Confluence; a change that would take the site past its guest limit is
// refused with the numbers.
func (s *RoleService) SetDirect(ctx context.Context, c domain.Caller, orgID, siteID, product, accountID, role string) (DirectResult, error) {
	res := DirectResult{AccountID: accountID, Site: siteID, Product: product}
	p, ok := domain.ParseProduct(product)
	if !ok {
		return res, domain.Errorf(domain.ENOTFOUND, "No such product; known: confluence, jira, jira-service-management.")
	}
	r, ok := domain.ParseRole(role)
	if !ok {
		return res, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"role": "role must be none, guest, user or admin"}}
	}
	if err := domain.CheckRoleForProduct(p, r); err != nil {
		return res, err
	}
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if !domain.ValidAccountID(accountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such user.")
	}
	for attempt := 1; ; attempt++ {
		sc, err := s.Scopes.LoadRole(ctx, orgID, siteID, c.AccountID, accountID, p)
		if err != nil {
			return res, err
		}
		switch {
		case sc.Org == nil || sc.Caller == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
		case sc.Site == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
		case !sc.Caller.CanManageRoles(siteID, sc.CallerAccess):
			return res, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site and admins of its %s may change roles on it.", p)
		case sc.User == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
		}
		k := domain.SiteProductKey(siteID, p)
		before := map[string]domain.Access{}
		if sc.Access.Version > 0 || !sc.Access.Empty() {
			before[k] = sc.Access
		}
		next := sc.Access.WithDirect(r)
		next.Product = p
		res.Direct, res.Before, res.After = r, orDefault(sc.Access.Effective), orDefault(next.Effective)
		res.Why = Why(next, nil)
		res.Conversion, res.StillGuestVia = nil, nil
		if p == domain.Confluence && domain.KindOf(res.Before) != domain.KindOf(res.After) {
			res.Conversion = &domain.Conversion{AccountID: accountID, Email: sc.User.Email, SiteID: siteID, From: domain.KindOf(res.Before), To: domain.KindOf(res.After), Why: res.Why}
		}
		if p == domain.Confluence && r == domain.RoleNone && next.Effective == domain.RoleGuest {
			res.StillGuestVia = next.GuestSources()
		}
		audit := domain.NewAudit(orgID, c.AccountID, ActionDirectRole, domain.UserTarget(accountID), c.RequestID, now(s.Now),
			map[string]any{"site": siteID, "product": string(p), "direct": string(sc.Access.Direct), "effective": string(res.Before)},
			map[string]any{"site": siteID, "product": string(p), "direct": string(r), "effective": string(res.After)})
		err = s.Changes.ChangeAccess(ctx, domain.AccessChange{User: *sc.User, Before: before, After: map[string]domain.Access{k: next}, Audit: audit})
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		return res, err
	}
}

func orDefault(r domain.Role) domain.Role {
	if r == "" {
		return domain.RoleNone
	}
	return r
}

func now(f func() time.Time) time.Time {
	if f != nil {
		return f().UTC()
	}
	return time.Now().UTC()
}

// Effective is one of a user's roles and its sources.
type Effective struct {
	Site, Product string
	Role          domain.Role
	Kind          domain.Kind
	Direct        domain.Role
	// Groups give the role too: id, name and the role each gives.
	Groups []GroupRole
}

// GroupRole is one group's role on a site's product.
type GroupRole struct {
	ID, Name string
	Role     domain.Role
}

// EffectiveRoles lists a user's effective roles on every site and product
// and why: the direct role and each group's. Org admins see every site;
// site admins see theirs.
func (s *RoleService) EffectiveRoles(ctx context.Context, c domain.Caller, orgID, accountID string) ([]Effective, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return nil, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return nil, err
	}
	if sc.Org == nil || sc.Caller == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() && len(sc.Caller.SiteAdmin) == 0 || sc.Caller.Status != domain.UserActive {
		return nil, domain.Errorf(domain.EFORBIDDEN, "Only organisation and site admins may read users' roles.")
	}
	if !domain.ValidAccountID(accountID) {
		return nil, domain.Errorf(domain.ENOTFOUND, "No such user.")
	}
	if _, err := s.Users.User(ctx, orgID, accountID); err != nil {
		return nil, err
	}
	access, err := s.Grants.UserAccess(ctx, orgID, accountID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range access {
		for g := range a.Groups {
			if !slices.Contains(ids, g) {
				ids = append(ids, g)
			}
		}
	}
	groups, err := s.Lookup.GroupsByID(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(access))
	for k := range access {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := []Effective{}
	for _, k := range keys {
		site, p, _ := strings.Cut(k, "/")
		if !sc.Caller.IsSiteAdmin(site) {
			continue
		}
		a := access[k]
		if a.Empty() {
			continue // a placeholder a membership removal left (see AccessChange.Touch)
		}
		e := Effective{Site: site, Product: p, Role: orDefault(a.Effective), Direct: orDefault(a.Direct)}
		if domain.Product(p) == domain.Confluence {
			e.Kind = domain.KindOf(e.Role)
		}
		gids := make([]string, 0, len(a.Groups))
		for g := range a.Groups {
			gids = append(gids, g)
		}
		slices.Sort(gids)
		for _, g := range gids {
			e.Groups = append(e.Groups, GroupRole{ID: g, Name: groups[g].Name, Role: a.Groups[g]})
		}
		out = append(out, e)
	}
	return out, nil
}
