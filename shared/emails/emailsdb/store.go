// Package emailsdb is the email sender's table code: an invitation's
// email claimed, its delivery recorded, and the account-wide per-second
// send window, over the mechanics of package table. The invitation and
// token items are declared in package store and used through its exported
// doors.
package emailsdb

import (
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Store reads and writes the email sender's items; it implements
// emails.InvitationStore, and SendWindow adapts it to emails.Window.
type Store struct {
	*table.Table
	dir *store.Store
}

// New returns the email sender's store over the mechanics of dir, whose
// shared items and reads it uses.
func New(dir *store.Store) *Store {
	return &Store{Table: dir.Mechanics(), dir: dir}
}
