// Package invitationsdb is the invitations' table code: the reads and
// writes of inviting, accepting, listing and re-sending invitations and of
// the scheduled job (the due-work sweep and the release of lapsed
// invitations), over the mechanics of package table. The items they share
// with other capabilities (org, site, user, email guard, access,
// membership, invitation, token, audit entry) are declared in package
// store and used through its exported doors.
package invitationsdb

import (
	"time"

	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Store reads and writes the invitations' items; it implements the ports
// of package invitations (InviteStore, AcceptStore, ManageStore,
// RetryStore).
type Store struct {
	*table.Table
	dir *store.Store
}

// New returns the invitations' store over the mechanics of dir, whose
// shared items and reads it uses.
func New(dir *store.Store) *Store {
	return &Store{Table: dir.Mechanics(), dir: dir}
}

// SendGrace is how long a new invitation's email belongs to the request that
// wrote it; after that, if still undelivered, the retry job takes it over.
const SendGrace = 5 * time.Minute
