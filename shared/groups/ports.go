package groups

import (
	"context"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The ports: what the services of this package (and the jobs of
// shared/groups/jobs) read and write, one small interface per use, so that
// a test's fake implements only the calls its path makes. The table adapter
// implements them all (Store).

// CallerReader reads an organisation and the caller in it (each nil when
// absent): every admin check starts here.
type CallerReader interface {
	LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error)
}

// RoleScopeReader reads what a role change on a site's product needs: the
// organisation, the site, the caller and their access there, the user and
// their access there.
type RoleScopeReader interface {
	LoadRole(ctx context.Context, orgID, siteID, callerID, accountID string, p domain.Product) (domain.RoleScope, error)
}

// UserReader reads one user of an organisation (ENOTFOUND when absent).
type UserReader interface {
	User(ctx context.Context, orgID, accountID string) (domain.User, error)
}

// SiteReader reads an organisation's sites by id; the missing ones are not
// in the answer.
type SiteReader interface {
	Sites(ctx context.Context, orgID string, ids []string) (map[string]domain.Site, error)
}

// GroupReader reads one group (ENOTFOUND when absent).
type GroupReader interface {
	Group(ctx context.Context, orgID, id string) (domain.Group, error)
}

// GroupLookup reads groups by id; the missing ones are not in the answer.
type GroupLookup interface {
	GroupsByID(ctx context.Context, orgID string, ids []string) (map[string]domain.Group, error)
}

// GroupLister reads an organisation's groups a page at a time.
type GroupLister interface {
	Groups(ctx context.Context, orgID string, limit int, cursor string) (domain.Page[domain.Group], error)
}

// GroupCreator writes a new group and its audit entry; an id or a name
// the organisation has already is refused (EINVALID on the field).
type GroupCreator interface {
	CreateGroup(ctx context.Context, g domain.Group, audit *domain.AuditEntry) error
}

// GroupRenamer writes a group's new name and its audit entry.
type GroupRenamer interface {
	RenameGroup(ctx context.Context, g domain.Group, newName string, audit domain.AuditEntry) (domain.Group, error)
}

// MemberLister reads a group's members a page at a time.
type MemberLister interface {
	GroupMembers(ctx context.Context, orgID, groupID string, limit int, cursor string) (domain.Page[domain.Member], error)
}

// UserGroupLister reads the ids of the groups a user is in.
type UserGroupLister interface {
	UserGroups(ctx context.Context, orgID, accountID string) ([]string, error)
}

// MembershipReader reads what a membership change needs: the
// organisation, the caller, the group, the user and whether they are a
// member; then the user's access on the group's sites' products.
type MembershipReader interface {
	LoadMembership(ctx context.Context, orgID, callerID, groupID, accountID string) (domain.MembershipScope, error)
	AccessItems(ctx context.Context, orgID, accountID string, keys []string) (map[string]domain.Access, error)
}

// AccessReader reads all of a user's access items, by SiteProductKey.
type AccessReader interface {
	UserAccess(ctx context.Context, orgID, accountID string) (map[string]domain.Access, error)
}

// AccessChanger writes a change of one user's access (with its counters,
// membership and audit entry) all or nothing; domain.ErrAccessChanged
// when the access changed since it was read.
type AccessChanger interface {
	ChangeAccess(ctx context.Context, ch domain.AccessChange) error
}

// Store is every port of this package: what the table adapter implements,
// and what New and NewRoles wire.
type Store interface {
	CallerReader
	RoleScopeReader
	UserReader
	SiteReader
	GroupReader
	GroupLookup
	GroupLister
	GroupCreator
	GroupRenamer
	MemberLister
	UserGroupLister
	MembershipReader
	AccessReader
	AccessChanger
}

// New is the groups and memberships service over one store that
// implements every port.
func New(st Store) *Service {
	return &Service{Callers: st, Sites: st, Creator: st, Groups: st, GroupPages: st, Renamer: st, MemberPages: st,
		Users: st, UserGroupIDs: st, Lookup: st, Memberships: st, Changes: st}
}

// NewRoles is the roles service over one store that implements every
// port.
func NewRoles(st Store) *RoleService {
	return &RoleService{Scopes: st, Callers: st, Users: st, Grants: st, Lookup: st, Changes: st}
}
