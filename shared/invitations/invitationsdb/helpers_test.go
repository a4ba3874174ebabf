package invitationsdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/store"
)

// create writes a batch of invitations (CreateInvitations), failing the
// test on an error.
func create(t *testing.T, st *store.Store, site string, whole bool, batch ...domain.NewInvitation) invitations.CreateResult {
	t.Helper()
	res, err := invitationsdb.New(st).CreateInvitations(context.Background(), site, batch, whole)
	if err != nil {
		t.Fatalf("CreateInvitations: %v", err)
	}
	return res
}

func asErr(err error, target **domain.Error) bool { return errors.As(err, target) }
