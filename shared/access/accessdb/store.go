// Package accessdb is the access decision's table code: its one read of
// everything a decision needs and the user's last-active day, over the
// mechanics of package table. The items it reads (org, site, user, access,
// space, API token) are shared with other capabilities: they are declared in
// package store and decoded through its exported doors.
package accessdb

import (
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Store reads and writes the access decision's items; it implements the
// ports of package access (access.Store).
type Store struct {
	*table.Table
}

// New returns the access decision's store over the mechanics of dir.
func New(dir *store.Store) *Store {
	return &Store{Table: dir.Mechanics()}
}
