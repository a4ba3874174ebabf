package invitations

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// manageFake is ManageStore as function fields: a path that reaches a field
// its test left nil panics, and fails the test.
type manageFake struct {
	load   func(ctx context.Context, orgID, siteID, callerID, invitationID string) (domain.Scope, *domain.Invitation, error)
	list   func(ctx context.Context, orgID, siteID string, f ListFilter, now time.Time, limit int, cursor string) (domain.Page[domain.Invitation], error)
	resend func(ctx context.Context, before, next domain.Invitation, audit domain.AuditEntry) (domain.Invitation, error)
}

func (f manageFake) LoadInvitation(ctx context.Context, orgID, siteID, callerID, invitationID string) (domain.Scope, *domain.Invitation, error) {
	return f.load(ctx, orgID, siteID, callerID, invitationID)
}

func (f manageFake) SiteInvitations(ctx context.Context, orgID, siteID string, lf ListFilter, now time.Time, limit int, cursor string) (domain.Page[domain.Invitation], error) {
	return f.list(ctx, orgID, siteID, lf, now, limit, cursor)
}

func (f manageFake) ResendInvitation(ctx context.Context, before, next domain.Invitation, audit domain.AuditEntry) (domain.Invitation, error) {
	return f.resend(ctx, before, next, audit)
}

// TestListFilterChecked: a malformed filter (an invitedBy that is not an
// account id, an unknown status) is a 400 naming its parameter before
// anything is read; a well-formed one reaches the store as given, after the
// caller's power is checked.
func TestListFilterChecked(t *testing.T) {
	ctx := context.Background()
	admin := Caller{AccountID: "admin-14west"}
	for _, c := range []struct {
		f     ListFilter
		field string
	}{
		{ListFilter{InvitedBy: "not an id!"}, "invitedBy"},
		{ListFilter{InvitedBy: "ada-14west", Status: "used"}, "status"},
	} {
		m := &Manager{Store: manageFake{}}
		_, err := m.List(ctx, admin, "o", "s", c.f, 10, "")
		var e *domain.Error
		if domain.ErrorCode(err) != domain.EINVALID || !asError(err, &e) || e.Fields[c.field] == "" {
			t.Errorf("%+v: %v, want EINVALID naming %s", c.f, err, c.field)
		}
	}
	var got ListFilter
	m := &Manager{Store: manageFake{
		load: func(context.Context, string, string, string, string) (domain.Scope, *domain.Invitation, error) {
			return domain.Scope{Org: &domain.Org{ID: "o"}, Site: &domain.Site{ID: "s"}, Caller: &domain.User{AccountID: "admin-14west", OrgAdmin: true, Status: domain.UserActive}}, nil, nil
		},
		list: func(_ context.Context, _, _ string, f ListFilter, _ time.Time, _ int, _ string) (domain.Page[domain.Invitation], error) {
			got = f
			return domain.Page[domain.Invitation]{}, nil
		},
	}}
	want := ListFilter{InvitedBy: "ada-14west", Status: domain.InvitationPending}
	if _, err := m.List(ctx, admin, "o", "s", want, 10, ""); err != nil || got != want {
		t.Errorf("List: %v, store asked %+v, want %+v", err, got, want)
	}
}

func asError(err error, e **domain.Error) bool {
	ok := errors.As(err, e)
	return ok
}
