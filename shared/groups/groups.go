// Package groups is the application service of an organisation's groups,
// memberships and users' roles: create, read, list and rename groups; add
// and remove members, recomputing each member's effective roles from all
// their sources (direct role and every group) under the billing rule; list a
// group's members and a user's groups (Service); set a user's direct role on
// a site's product and answer a user's effective roles with why
// (RoleService). Its ports (ports.go) are small interfaces, one per use. A
// group's role change and its deletion, which reach every member, are jobs
// (shared/groups/jobs). It knows nothing of DynamoDB or API Gateway.
package groups

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Service runs the groups and memberships capability.
type Service struct {
	Callers      CallerReader     // every admin check
	Sites        SiteReader       // Create: the roles' sites exist
	Creator      GroupCreator     // Create
	Groups       GroupReader      // Get, Rename, Members
	GroupPages   GroupLister      // List
	Renamer      GroupRenamer     // Rename
	MemberPages  MemberLister     // Members
	Users        UserReader       // UserGroups: the user exists
	UserGroupIDs UserGroupLister  // UserGroups
	Lookup       GroupLookup      // UserGroups
	Memberships  MembershipReader // AddMember, RemoveMember
	Changes      AccessChanger    // AddMember, RemoveMember
	Now          func() time.Time
	Log          *slog.Logger
}

// Audit actions of this capability.
const (
	ActionGroupCreate  = "group.create"
	ActionGroupRename  = "group.rename"
	ActionMemberAdd    = "group.member.add"
	ActionMemberRemove = "group.member.remove"
)

// RoleInput is one role a new group holds: on a site's product.
type RoleInput struct {
	Site, Product, Role string
}

// MaxGroupRoles caps the roles a group holds (sites × products).
const MaxGroupRoles = 30

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// orgAdmin checks that the caller is an active admin of the org; someone
// outside the org learns nothing about it (404, like a missing org).
func (s *Service) orgAdmin(ctx context.Context, c domain.Caller, orgID string) (domain.Scope, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Scope{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return sc, err
	}
	return sc, checkOrgAdmin(sc)
}

func checkOrgAdmin(sc domain.Scope) error {
	if sc.Org == nil || sc.Caller == nil {
		return domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() {
		return domain.Errorf(domain.EFORBIDDEN, "Only organisation admins manage groups and memberships.")
	}
	return nil
}

// Create makes a group with a name (unique in the org, compared without
// case), an optional id (a slug; derived from the name when empty) and the
// roles it holds on sites' products (guest only on Confluence).
func (s *Service) Create(ctx context.Context, c domain.Caller, orgID, id, name string, roles []RoleInput) (domain.Group, error) {
	name, err := domain.CleanGroupName(name)
	if err != nil {
		return domain.Group{}, err
	}
	if id != "" && !domain.ValidSlug(id) {
		return domain.Group{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"id": "lower-case letters, digits and hyphens, 1 to 63"}}
	}
	parsed, sites, err := parseRoles(roles)
	if err != nil {
		return domain.Group{}, err
	}
	sc, err := s.orgAdmin(ctx, c, orgID)
	if err != nil {
		return domain.Group{}, err
	}
	if len(sites) > 0 {
		found, err := s.Sites.Sites(ctx, orgID, sites)
		if err != nil {
			return domain.Group{}, err
		}
		for _, site := range sites {
			if _, ok := found[site]; !ok {
				// As on the role routes: a site the organisation does not have is a 404.
				return domain.Group{}, &domain.Error{Code: domain.ENOTFOUND, Message: "No site " + site + " in this organisation.", Fields: map[string]string{"roles": "no site " + site + " in this organisation"}}
			}
		}
	}
	derived := id == ""
	if derived {
		if id = idFor(name); id == "" {
			id = "g-" + domain.NewID()[:10]
		}
	}
	now := s.now()
	g := domain.Group{OrgID: orgID, ID: id, Name: name, Roles: parsed, CreatedAt: now}
	for attempt := 0; ; attempt++ {
		audit := domain.NewAudit(orgID, sc.Caller.AccountID, ActionGroupCreate, domain.GroupTarget(g.ID), c.RequestID, now, nil,
			map[string]any{"id": g.ID, "name": g.Name, "roles": roleStrings(g.Roles)})
		err = s.Creator.CreateGroup(ctx, g, &audit)
		var e *domain.Error
		if derived && attempt < 3 && asError(err, &e) && e.Fields["id"] != "" {
			// Another group's id looks the same (e.g. "Agency!" and "agency"): a suffix makes it unique.
			g.ID = id + "-" + domain.NewID()[:4]
			continue
		}
		return g, err
	}
}

// parseRoles validates a new group's roles: known products, roles none,
// guest (Confluence only), user or admin, sites as slugs, no duplicates.
func parseRoles(in []RoleInput) (map[string]domain.Role, []string, error) {
	if len(in) > MaxGroupRoles {
		return nil, nil, fieldErr("roles", fmt.Sprintf("at most %d roles", MaxGroupRoles))
	}
	out := map[string]domain.Role{}
	var sites []string
	for i, r := range in {
		f := fmt.Sprintf("roles[%d]", i)
		p, ok := domain.ParseProduct(r.Product)
		if !ok {
			return nil, nil, fieldErr(f+".product", "unknown product; known: confluence, jira, jira-service-management")
		}
		role, ok := domain.ParseRole(r.Role)
		if !ok {
			return nil, nil, fieldErr(f+".role", "role must be none, guest, user or admin")
		}
		if err := domain.CheckRoleForProduct(p, role); err != nil {
			return nil, nil, err
		}
		if !domain.ValidSlug(r.Site) {
			return nil, nil, fieldErr(f+".site", "a site id")
		}
		k := domain.SiteProductKey(r.Site, p)
		if _, dup := out[k]; dup {
			return nil, nil, fieldErr(f, "the group already has a role on "+k)
		}
		if role != domain.RoleNone {
			out[k] = role
		}
		if !slices.Contains(sites, r.Site) {
			sites = append(sites, r.Site)
		}
	}
	return out, sites, nil
}

func fieldErr(field, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{field: msg}}
}

func roleStrings(m map[string]domain.Role) map[string]any {
	out := map[string]any{}
	for k, r := range m {
		out[k] = string(r)
	}
	return out
}

// Get returns one group.
func (s *Service) Get(ctx context.Context, c domain.Caller, orgID, id string) (domain.Group, error) {
	if _, err := s.orgAdmin(ctx, c, orgID); err != nil {
		return domain.Group{}, err
	}
	if !domain.ValidSlug(id) {
		return domain.Group{}, domain.Errorf(domain.ENOTFOUND, "No such group.")
	}
	return s.Groups.Group(ctx, orgID, id)
}

// List returns a page of the org's groups.
func (s *Service) List(ctx context.Context, c domain.Caller, orgID string, limit int, cursor string) (domain.Page[domain.Group], error) {
	if _, err := s.orgAdmin(ctx, c, orgID); err != nil {
		return domain.Page[domain.Group]{}, err
	}
	return s.GroupPages.Groups(ctx, orgID, limit, cursor)
}

// Rename gives a group a new name (its id stays).
func (s *Service) Rename(ctx context.Context, c domain.Caller, orgID, id, name string) (domain.Group, error) {
	name, err := domain.CleanGroupName(name)
	if err != nil {
		return domain.Group{}, err
	}
	g, err := s.Get(ctx, c, orgID, id)
	if err != nil {
		return g, err
	}
	if g.Name == name {
		return g, nil
	}
	audit := domain.NewAudit(orgID, c.AccountID, ActionGroupRename, domain.GroupTarget(g.ID), c.RequestID, s.now(),
		map[string]any{"name": g.Name}, map[string]any{"name": name})
	return s.Renamer.RenameGroup(ctx, g, name, audit)
}

// Members returns a page of a group's members.
func (s *Service) Members(ctx context.Context, c domain.Caller, orgID, id string, limit int, cursor string) (domain.Page[domain.Member], error) {
	if _, err := s.Get(ctx, c, orgID, id); err != nil {
		return domain.Page[domain.Member]{}, err
	}
	return s.MemberPages.GroupMembers(ctx, orgID, id, limit, cursor)
}

// UserGroups returns the groups a user is in; a user not in the org is
// ENOTFOUND (not an empty list).
func (s *Service) UserGroups(ctx context.Context, c domain.Caller, orgID, accountID string) ([]domain.Group, error) {
	if _, err := s.orgAdmin(ctx, c, orgID); err != nil {
		return nil, err
	}
	if !domain.ValidAccountID(accountID) {
		return nil, domain.Errorf(domain.ENOTFOUND, "No such user.")
	}
	if _, err := s.Users.User(ctx, orgID, accountID); err != nil {
		return nil, err
	}
	ids, err := s.UserGroupIDs.UserGroups(ctx, orgID, accountID)
	if err != nil {
		return nil, err
	}
	found, err := s.Lookup.GroupsByID(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Group, 0, len(ids))
	for _, id := range ids {
		if g, ok := found[id]; ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// Change is what a membership change did to one of the member's roles.
type Change struct {
	Site, Product string
	Before, After domain.Role
	// Why names the sources of the role after the change.
	Why []string
}

// MembershipResult is the answer to adding or removing a member.
type MembershipResult struct {
	GroupID, AccountID string
	Member             bool
	Changes            []Change
	// Conversions name members whose Confluence kind changed (guest to
	// paid and back), with why.
	Conversions []domain.Conversion
}

// AddMember puts a user in a group. Every role the group holds reaches
// the user now (their effective roles recomputed from all their sources);
// a guest who gains a user or admin group becomes a paid user, which the
// answer says. Refused whole (ELIMIT or EUSERLIMIT, with the numbers) when it would take
// a site past its guest limit.
func (s *Service) AddMember(ctx context.Context, c domain.Caller, orgID, groupID, accountID string) (MembershipResult, error) {
	return s.changeMember(ctx, c, orgID, groupID, accountID, true)
}

// RemoveMember takes a user out of a group: their roles become what their
// direct role and remaining groups give.
func (s *Service) RemoveMember(ctx context.Context, c domain.Caller, orgID, groupID, accountID string) (MembershipResult, error) {
	return s.changeMember(ctx, c, orgID, groupID, accountID, false)
}

// maxAttempts bounds the re-reads when a member's access changed meanwhile.
const maxAttempts = 4

func (s *Service) changeMember(ctx context.Context, c domain.Caller, orgID, groupID, accountID string, add bool) (MembershipResult, error) {
	res := MembershipResult{GroupID: groupID, AccountID: accountID, Member: add}
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !domain.ValidSlug(groupID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such group.")
	}
	if !domain.ValidAccountID(accountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such user.")
	}
	for attempt := 1; ; attempt++ {
		sc, err := s.Memberships.LoadMembership(ctx, orgID, c.AccountID, groupID, accountID)
		if err != nil {
			return res, err
		}
		if err := checkOrgAdmin(sc.Scope); err != nil {
			return res, err
		}
		switch {
		case sc.Group == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such group.")
		case sc.User == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
		case add && sc.Group.Deleting:
			return res, domain.Errorf(domain.ECONFLICT, "%s is being deleted; no member joins it.", sc.Group.Name)
		case add && sc.Member:
			return res, domain.Errorf(domain.ECONFLICT, "%s is already a member of %s.", sc.User.Email, sc.Group.Name)
		case !add && !sc.Member:
			return res, domain.Errorf(domain.ENOTFOUND, "%s is not a member of %s.", sc.User.Email, sc.Group.Name)
		}
		keys := make([]string, 0, len(sc.Group.Roles))
		for k := range sc.Group.Roles {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		before, err := s.Memberships.AccessItems(ctx, orgID, accountID, keys)
		if err != nil {
			return res, err
		}
		after := map[string]domain.Access{}
		for _, k := range keys {
			site, p, _ := strings.Cut(k, "/")
			cur, ok := before[k]
			if !ok {
				cur = domain.Access{Product: domain.Product(p), Direct: domain.RoleNone, Effective: domain.RoleNone}
			}
			role := domain.RoleNone
			if add {
				role = sc.Group.Roles[k]
			}
			next := cur.WithGroup(groupID, role)
			after[k] = next
			_ = site
		}
		now := s.now()
		action, verb := ActionMemberRemove, "removed from"
		ch := domain.AccessChange{User: *sc.User, Before: before, After: after}
		if add {
			action, verb = ActionMemberAdd, "added to"
			ch.AddMember = groupID
		} else {
			ch.RemoveMember, ch.Touch = groupID, true
		}
		res.Changes, res.Conversions = describe(sc.User, keys, before, after, groupNames(sc.Group))
		ch.Audit = domain.NewAudit(orgID, c.AccountID, action, domain.UserTarget(accountID), c.RequestID, now,
			map[string]any{"roles": effective(before)}, map[string]any{"group": groupID, "roles": effective(after), "conversions": len(res.Conversions)})
		err = s.Changes.ChangeAccess(ctx, ch)
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return MembershipResult{GroupID: groupID, AccountID: accountID, Member: !add}, err
		}
		if s.Log != nil {
			s.Log.InfoContext(ctx, "membership changed", "group", groupID, "account", accountID, "change", verb, "conversions", len(res.Conversions))
		}
		return res, nil
	}
}

func groupNames(gs ...*domain.Group) map[string]string {
	out := map[string]string{}
	for _, g := range gs {
		if g != nil {
			out[g.ID] = g.Name
		}
	}
	return out
}

func effective(m map[string]domain.Access) map[string]any {
	out := map[string]any{}
	for k, a := range m {
		out[k] = string(a.Effective)
	}
	return out
}

// describe lists the role changes and the Confluence conversions of one user.
func describe(u *domain.User, keys []string, before, after map[string]domain.Access, names map[string]string) ([]Change, []domain.Conversion) {
	var changes []Change
	var convs []domain.Conversion
	for _, k := range keys {
		site, p, _ := strings.Cut(k, "/")
		b, a := before[k].Effective, after[k].Effective
		if b == "" {
			b = domain.RoleNone
		}
		if a == "" {
			a = domain.RoleNone
		}
		why := Why(after[k], names)
		changes = append(changes, Change{Site: site, Product: p, Before: b, After: a, Why: why})
		if domain.Product(p) == domain.Confluence && domain.KindOf(b) != domain.KindOf(a) {
			convs = append(convs, domain.Conversion{AccountID: u.AccountID, Email: u.Email, SiteID: site, From: domain.KindOf(b), To: domain.KindOf(a), Why: why})
		}
	}
	return changes, convs
}

func asError(err error, e **domain.Error) bool {
	x, ok := err.(*domain.Error)
	if ok {
		*e = x
	}
	return ok
}
