// Package spaces is the application service of a site's Confluence spaces
// and single-space guests (rules §5): registering, listing and changing
// spaces, naming their admins, listing a space's guests, and assigning,
// moving and unassigning a guest's one space. It knows nothing of DynamoDB
// or API Gateway.
//
// Who may: org admins, site admins and the site's Confluence admins
// ("site-level") do everything on the site. A space admin (an active paid
// user named on a space) assigns guests to, and unassigns them from, their
// own space only; a move changes two spaces, so a space admin may move a
// guest only between two spaces they both administer. Reading the site's
// spaces is open to its paid Confluence users too; a space's guests to the
// site-level admins and that space's admins. Anyone outside the org learns
// nothing (404, like a missing org).
package spaces

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The service's ports: one small interface a use, so a test's fake
// implements exactly the methods its path calls. The table's store
// implements them all (Store).

// ScopeReader reads the org, the site, the caller (their Confluence access,
// whether they administer the space) and the space when one is named.
type ScopeReader interface {
	LoadSpace(ctx context.Context, orgID, siteID, callerID, space string) (domain.SpaceScope, error)
}

// AssignScopeReader reads ScopeReader's scope and an account with its
// Confluence access (naming admins, assigning guests).
type AssignScopeReader interface {
	LoadAssign(ctx context.Context, orgID, siteID, callerID, accountID, space string) (domain.AssignScope, error)
}

// Creator writes a new space.
type Creator interface {
	CreateSpace(ctx context.Context, sp domain.Space, audit domain.AuditEntry) error
}

// Lister reads a page of a site's spaces.
type Lister interface {
	Spaces(ctx context.Context, orgID, siteID string, limit int, cursor string) (domain.Page[domain.Space], error)
}

// AdminLister reads the account ids of a space's admins.
type AdminLister interface {
	SpaceAdmins(ctx context.Context, orgID, siteID, space string) ([]string, error)
}

// Updater writes a space's change, conditioned on it being still before.
type Updater interface {
	UpdateSpace(ctx context.Context, before, after domain.Space, audit domain.AuditEntry) (domain.Space, error)
}

// AdminAdder names a space admin.
type AdminAdder interface {
	AddSpaceAdmin(ctx context.Context, orgID, siteID, space, accountID string, audit domain.AuditEntry) error
}

// AdminRemover takes an account off a space's admins.
type AdminRemover interface {
	RemoveSpaceAdmin(ctx context.Context, orgID, siteID, space, accountID string, audit domain.AuditEntry) error
}

// GuestLister reads a page of the guests assigned to a space.
type GuestLister interface {
	SpaceGuests(ctx context.Context, orgID, siteID, space string, limit int, cursor string) (domain.Page[domain.SpaceGuest], error)
}

// Assigner writes a guest's assignment, move or unassignment.
type Assigner interface {
	AssignSpace(ctx context.Context, ch domain.SpaceAssignment) error
}

// Store is every port at once: what the table's store gives New.
type Store interface {
	ScopeReader
	AssignScopeReader
	Creator
	Lister
	AdminLister
	Updater
	AdminAdder
	AdminRemover
	GuestLister
	Assigner
}

// Service runs the spaces capability.
type Service struct {
	Scopes        ScopeReader
	AssignScopes  AssignScopeReader
	Creations     Creator
	Lists         Lister
	Admins        AdminLister
	Updates       Updater
	AdminAdds     AdminAdder
	AdminRemovals AdminRemover
	GuestLists    GuestLister
	Assignments   Assigner
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New is the service over one store that implements every port.
func New(st Store, now func() time.Time) *Service {
	return &Service{Scopes: st, AssignScopes: st, Creations: st, Lists: st, Admins: st, Updates: st,
		AdminAdds: st, AdminRemovals: st, GuestLists: st, Assignments: st, Now: now}
}

// maxAttempts bounds the re-reads after a write lost to a concurrent one.
const maxAttempts = 4

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func notFoundSite() error { return domain.Errorf(domain.ENOTFOUND, "No such organisation or site.") }

func notFoundSpace() error { return domain.Errorf(domain.ENOTFOUND, "No such space on this site.") }

func fieldErr(field, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{field: msg}}
}

// ids checks the path's ids: a malformed one names nothing (404).
func ids(c domain.Caller, orgID, siteID string) error {
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return notFoundSite()
	}
	return nil
}

// site checks the scope's org, caller and site: someone outside the org
// learns nothing about it.
func site(sc domain.Scope) error {
	switch {
	case sc.Org == nil || sc.Caller == nil:
		return notFoundSite()
	case sc.Site == nil:
		return domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	}
	return nil
}

// load reads a space request's scope and checks the site; with needSpace,
// the space must exist.
func (s *Service) load(ctx context.Context, c domain.Caller, orgID, siteID, key string, needSpace bool) (domain.SpaceScope, error) {
	if err := ids(c, orgID, siteID); err != nil {
		return domain.SpaceScope{}, err
	}
	if key != "" && !domain.ValidSpaceKey(key) {
		return domain.SpaceScope{}, notFoundSpace()
	}
	sc, err := s.Scopes.LoadSpace(ctx, orgID, siteID, c.AccountID, key)
	if err != nil {
		return sc, err
	}
	return sc, site(sc.Scope)
}

func forbidManage() error {
	return domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site and its Confluence admins may manage its spaces.")
}

func cleanName(name string) (string, error) {
	return domain.CheckName("name", name, domain.MaxSpaceName)
}

// Create registers a space on a site: a key (upper-case letters and
// digits, unique on the site), a name and whether it is open to anonymous
// access.
func (s *Service) Create(ctx context.Context, c domain.Caller, orgID, siteID, key, name string, anonymous bool) (domain.Space, error) {
	if !domain.ValidSpaceKey(key) {
		return domain.Space{}, fieldErr("key", "1 to 64 upper-case letters and digits, starting with a letter")
	}
	name, err := cleanName(name)
	if err != nil {
		return domain.Space{}, err
	}
	sc, err := s.load(ctx, c, orgID, siteID, key, false)
	if err != nil {
		return domain.Space{}, err
	}
	if !sc.Caller.CanManageSpaces(siteID, sc.CallerAccess) {
		return domain.Space{}, forbidManage()
	}
	if sc.Space != nil {
		return domain.Space{}, domain.Errorf(domain.ECONFLICT, "Space %s already exists on site %s.", key, siteID)
	}
	sp := domain.Space{OrgID: orgID, SiteID: siteID, Key: key, Name: name, AnonymousAccess: anonymous, CreatedAt: s.now(), CreatedBy: c.AccountID}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionSpaceCreate, domain.SpaceTarget(siteID, key), c.RequestID, sp.CreatedAt,
		nil, spaceFields(sp))
	return sp, s.Creations.CreateSpace(ctx, sp, audit)
}

func spaceFields(sp domain.Space) map[string]any {
	return map[string]any{"site": sp.SiteID, "space": sp.Key, "name": sp.Name, "anonymousAccess": sp.AnonymousAccess}
}

// canRead reports whether the caller may read the site's spaces: the
// site-level admins and the site's paid Confluence users.
func canRead(sc domain.SpaceScope, siteID string) bool {
	return sc.Caller.CanManageSpaces(siteID, sc.CallerAccess) || sc.Caller.Status == domain.UserActive && sc.CallerAccess.Effective.Paid()
}

// List returns a page of a site's spaces, by key.
func (s *Service) List(ctx context.Context, c domain.Caller, orgID, siteID string, limit int, cursor string) (domain.Page[domain.Space], error) {
	sc, err := s.load(ctx, c, orgID, siteID, "", false)
	if err != nil {
		return domain.Page[domain.Space]{}, err
	}
	if !canRead(sc, siteID) {
		return domain.Page[domain.Space]{}, domain.Errorf(domain.EFORBIDDEN, "Only this site's admins and paid Confluence users may list its spaces.")
	}
	return s.Lists.Spaces(ctx, orgID, siteID, limit, cursor)
}

// Detail is a space and the account ids of its admins.
type Detail struct {
	Space  domain.Space
	Admins []string
}

// Get returns a space with its admins.
func (s *Service) Get(ctx context.Context, c domain.Caller, orgID, siteID, key string) (Detail, error) {
	sc, err := s.load(ctx, c, orgID, siteID, key, true)
	if err != nil {
		return Detail{}, err
	}
	if !canRead(sc, siteID) {
		return Detail{}, domain.Errorf(domain.EFORBIDDEN, "Only this site's admins and paid Confluence users may read its spaces.")
	}
	if sc.Space == nil {
		return Detail{}, notFoundSpace()
	}
	admins, err := s.Admins.SpaceAdmins(ctx, orgID, siteID, key)
	return Detail{Space: *sc.Space, Admins: admins}, err
}

// Update changes a space's name and whether it is open to anonymous access
// (nil leaves a field as it is). The space's key never changes.
func (s *Service) Update(ctx context.Context, c domain.Caller, orgID, siteID, key string, name *string, anonymous *bool) (domain.Space, error) {
	if name != nil {
		n, err := cleanName(*name)
		if err != nil {
			return domain.Space{}, err
		}
		name = &n
	}
	for attempt := 1; ; attempt++ {
		sc, err := s.load(ctx, c, orgID, siteID, key, true)
		if err != nil {
			return domain.Space{}, err
		}
		if !sc.Caller.CanManageSpaces(siteID, sc.CallerAccess) {
			return domain.Space{}, forbidManage()
		}
		if sc.Space == nil {
			return domain.Space{}, notFoundSpace()
		}
		next := *sc.Space
		if name != nil {
			next.Name = *name
		}
		if anonymous != nil {
			next.AnonymousAccess = *anonymous
		}
		if next.Name == sc.Space.Name && next.AnonymousAccess == sc.Space.AnonymousAccess {
			return next, nil
		}
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionSpaceUpdate, domain.SpaceTarget(siteID, key), c.RequestID, s.now(),
			spaceFields(*sc.Space), spaceFields(next))
		got, err := s.Updates.UpdateSpace(ctx, *sc.Space, next, audit)
		if domain.ErrorCode(err) == domain.ECONFLICT && attempt < maxAttempts {
			continue
		}
		return got, err
	}
}

// AdminChange is the answer to naming or removing a space admin.
type AdminChange struct {
	Space, AccountID string
	Admin            bool
	// Changed is false when the account already was (or was not) an admin.
	Changed bool
}

// AddAdmin names an account an admin of a space. Space admins are paid
// users: the account must hold the user or admin role on the site's
// Confluence. Naming an admin twice changes nothing.
func (s *Service) AddAdmin(ctx context.Context, c domain.Caller, orgID, siteID, key, accountID string) (AdminChange, error) {
	res := AdminChange{Space: key, AccountID: accountID, Admin: true}
	sc, err := s.loadAdmin(ctx, c, orgID, siteID, key, accountID)
	if err != nil {
		return res, err
	}
	if sc.Access == nil || !sc.Access.Effective.Paid() {
		return res, domain.Errorf(domain.ECONFLICT, "%s is not a paid user of this site's Confluence: space admins must hold the user or admin role there.", accountID)
	}
	admins, err := s.Admins.SpaceAdmins(ctx, orgID, siteID, key)
	if err != nil {
		return res, err
	}
	for _, a := range admins {
		if a == accountID {
			return res, nil
		}
	}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionSpaceAdminAdd, domain.SpaceTarget(siteID, key), c.RequestID, s.now(),
		map[string]any{"site": siteID, "space": key, "accountId": accountID, "admin": false}, map[string]any{"site": siteID, "space": key, "accountId": accountID, "admin": true})
	res.Changed = true
	return res, s.AdminAdds.AddSpaceAdmin(ctx, orgID, siteID, key, accountID, audit)
}

// RemoveAdmin takes an account off a space's admins (ENOTFOUND if it is not one).
func (s *Service) RemoveAdmin(ctx context.Context, c domain.Caller, orgID, siteID, key, accountID string) (AdminChange, error) {
	res := AdminChange{Space: key, AccountID: accountID}
	if _, err := s.loadAdmin(ctx, c, orgID, siteID, key, accountID); err != nil {
		return res, err
	}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionSpaceAdminRemove, domain.SpaceTarget(siteID, key), c.RequestID, s.now(),
		map[string]any{"site": siteID, "space": key, "accountId": accountID, "admin": true}, map[string]any{"site": siteID, "space": key, "accountId": accountID, "admin": false})
	res.Changed = true
	return res, s.AdminRemovals.RemoveSpaceAdmin(ctx, orgID, siteID, key, accountID, audit)
}

// loadAdmin reads and checks the scope of naming or removing a space admin.
func (s *Service) loadAdmin(ctx context.Context, c domain.Caller, orgID, siteID, key, accountID string) (domain.AssignScope, error) {
	if err := ids(c, orgID, siteID); err != nil {
		return domain.AssignScope{}, err
	}
	if !domain.ValidSpaceKey(key) {
		return domain.AssignScope{}, notFoundSpace()
	}
	if !domain.ValidAccountID(accountID) {
		return domain.AssignScope{}, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	sc, err := s.AssignScopes.LoadAssign(ctx, orgID, siteID, c.AccountID, accountID, key)
	if err != nil {
		return sc, err
	}
	if err := site(sc.Scope); err != nil {
		return sc, err
	}
	switch {
	case !sc.Caller.CanManageSpaces(siteID, sc.CallerAccess):
		return sc, forbidManage()
	case sc.Space == nil:
		return sc, notFoundSpace()
	case sc.User == nil:
		return sc, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	return sc, nil
}

// Guests returns a page of the guests assigned to a space, by email. The
// site-level admins and the space's own admins may read it.
func (s *Service) Guests(ctx context.Context, c domain.Caller, orgID, siteID, key string, limit int, cursor string) (domain.Page[domain.SpaceGuest], error) {
	sc, err := s.load(ctx, c, orgID, siteID, key, true)
	if err != nil {
		return domain.Page[domain.SpaceGuest]{}, err
	}
	if !sc.Caller.CanManageSpaces(siteID, sc.CallerAccess) && !sc.Caller.CanAdminSpace(sc.CallerAdmin, sc.CallerAccess) {
		return domain.Page[domain.SpaceGuest]{}, domain.Errorf(domain.EFORBIDDEN, "Only this site's admins, its Confluence admins and the admins of space %s may list its guests.", key)
	}
	if sc.Space == nil {
		return domain.Page[domain.SpaceGuest]{}, notFoundSpace()
	}
	return s.GuestLists.SpaceGuests(ctx, orgID, siteID, key, limit, cursor)
}

// Assignment is the answer to assigning, moving or unassigning a guest.
type Assignment struct {
	AccountID, Site string
	// Before and After are the guest's space ("" for none).
	Before, After string
	// Moved is set when the guest left one space for another.
	Moved bool
	// Changed is false when the guest already was where asked.
	Changed bool
}

// Assign puts a guest in a space of the site. A guest has one space: one
// already in another is refused (ECONFLICT naming it) unless move is set.
// Paid users and people without Confluence access are refused: only guests
// are limited to a space. Invited guests may be assigned before they accept.
func (s *Service) Assign(ctx context.Context, c domain.Caller, orgID, siteID, accountID, key string, move bool) (Assignment, error) {
	if key == "" || !domain.ValidSpaceKey(key) {
		return Assignment{}, fieldErr("space", "a space key: 1 to 64 upper-case letters and digits, starting with a letter")
	}
	return s.change(ctx, c, orgID, siteID, accountID, key, move)
}

// Unassign takes a guest out of their space: they keep their Confluence
// access and stay a guest, with no space. A guest with no space is left as
// they are.
func (s *Service) Unassign(ctx context.Context, c domain.Caller, orgID, siteID, accountID string) (Assignment, error) {
	return s.change(ctx, c, orgID, siteID, accountID, "", false)
}

// change assigns (key set) or unassigns (key "") a guest, under the version
// of their access item, re-reading when a concurrent write won.
func (s *Service) change(ctx context.Context, c domain.Caller, orgID, siteID, accountID, key string, move bool) (Assignment, error) {
	res := Assignment{AccountID: accountID, Site: siteID}
	if err := ids(c, orgID, siteID); err != nil {
		return res, err
	}
	if !domain.ValidAccountID(accountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	for attempt := 1; ; attempt++ {
		sc, err := s.AssignScopes.LoadAssign(ctx, orgID, siteID, c.AccountID, accountID, key)
		if err != nil {
			return res, err
		}
		ch, err := plan(sc, c, siteID, accountID, key, move)
		if err != nil || ch == nil {
			if ch == nil && err == nil {
				res.Before, res.After = key, key
			}
			return res, err
		}
		res.Before, res.After, res.Moved, res.Changed = ch.Before.Space, ch.After.Space, ch.Before.Space != "" && ch.After.Space != "", true
		action := domain.ActionGuestSpaceAssign
		switch {
		case res.Moved:
			action = domain.ActionGuestSpaceMove
		case key == "":
			action = domain.ActionGuestSpaceRemove
		}
		ch.Audit = domain.NewAudit(orgID, c.AccountID, action, domain.UserTarget(accountID), c.RequestID, s.now(),
			map[string]any{"site": siteID, "space": res.Before}, map[string]any{"site": siteID, "space": res.After})
		err = s.Assignments.AssignSpace(ctx, *ch)
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		return res, err
	}
}

// plan checks an assignment's scope and returns the write, or nil when
// nothing changes.
func plan(sc domain.AssignScope, c domain.Caller, siteID, accountID, key string, move bool) (*domain.SpaceAssignment, error) {
	if err := site(sc.Scope); err != nil {
		return nil, err
	}
	siteLevel := sc.Caller.CanManageSpaces(siteID, sc.CallerAccess)
	spaceAdmin := sc.Caller.Status == domain.UserActive && sc.CallerAccess.Effective.Paid()
	if key != "" {
		spaceAdmin = sc.Caller.CanAdminSpace(sc.CallerAdmin, sc.CallerAccess)
	}
	if !siteLevel && !spaceAdmin {
		if key == "" {
			return nil, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site, its Confluence admins and the admins of the guest's space may unassign a guest.")
		}
		return nil, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site, its Confluence admins and the admins of space %s may assign guests to it.", key)
	}
	if key != "" && sc.Space == nil {
		return nil, notFoundSpace()
	}
	if sc.User == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	a := sc.Access
	switch {
	case a == nil || a.Effective == "" || a.Effective == domain.RoleNone:
		if !siteLevel {
			return nil, forbidGuest()
		}
		return nil, domain.Errorf(domain.ECONFLICT, "%s has no Confluence access on this site: give them the guest role first; only guests are assigned a space.", accountID)
	case a.Effective != domain.RoleGuest:
		if !siteLevel {
			return nil, forbidGuest()
		}
		return nil, domain.Errorf(domain.ECONFLICT, "%s is a paid user of this site's Confluence (role %s): paid users are not limited to one space; only guests are assigned one.", accountID, a.Effective)
	}
	cur := a.Space
	if cur == key {
		if key == "" && !siteLevel {
			// A space admin has no power over a guest with no space.
			return nil, forbidGuest()
		}
		return nil, nil
	}
	if cur != "" && key != "" && !move {
		return nil, &domain.Error{Code: domain.ECONFLICT,
			Message: "This guest is assigned to space " + cur + "; a guest has one space. Send \"move\": true to move them from " + cur + " to " + key + ".",
			Extra:   map[string]any{"currentSpace": cur}}
	}
	ch := &domain.SpaceAssignment{User: *sc.User, SiteID: siteID, Before: *a, After: *a}
	ch.After.Space = key
	if !siteLevel {
		ch.Admin = c.AccountID
		for _, sp := range []string{key, cur} {
			if sp != "" {
				ch.AdminOf = append(ch.AdminOf, sp)
			}
		}
	}
	return ch, nil
}

func forbidGuest() error {
	return domain.Errorf(domain.EFORBIDDEN, "A space admin assigns and unassigns guests of their own spaces only.")
}
