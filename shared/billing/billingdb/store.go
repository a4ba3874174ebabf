// Package billingdb is the billing capability's table code: the guest list
// by page, the seat count from the access items and the counters' repair,
// over the mechanics of package table. The items it reads and writes are
// shared with other capabilities (org, user, access, site, audit entry):
// they are declared in package store and used through its exported doors.
package billingdb

import (
	"context"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Store reads and writes billing's items; with the shared store's LoadSpace
// it implements the ports of package billing (billing.Store).
type Store struct {
	*table.Table
	dir *store.Store
}

// New returns billing's store over the mechanics of dir, whose shared items
// and reads it uses.
func New(dir *store.Store) *Store {
	return &Store{Table: dir.Mechanics(), dir: dir}
}

// LoadSpace is the shared read of the org, the site, the caller and their
// access, with a space when one is named (store.LoadSpace).
func (s *Store) LoadSpace(ctx context.Context, orgID, siteID, callerID, space string) (domain.SpaceScope, error) {
	return s.dir.LoadSpace(ctx, orgID, siteID, callerID, space)
}
