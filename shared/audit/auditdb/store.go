// Package auditdb is the audit capability's table code: the reads of an
// organisation's audit log (A23), over the mechanics of package table. The
// audit entry's item is every capability's (each change writes its entry):
// it is declared in package store and decoded through its exported doors.
package auditdb

import (
	"context"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Store reads the audit log; with the shared store's LoadCaller it
// implements the ports of package audit (audit.Store).
type Store struct {
	*table.Table
	dir *store.Store
}

// New returns the audit log's store over the mechanics of dir, whose shared
// items and reads it uses.
func New(dir *store.Store) *Store {
	return &Store{Table: dir.Mechanics(), dir: dir}
}

// LoadCaller is the shared read of the org and the caller (store.LoadCaller).
func (s *Store) LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error) {
	return s.dir.LoadCaller(ctx, orgID, callerID)
}
