package billing

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fakeStore answers a site whose guests never match the filter: every page
// has one active guest and a next cursor. It implements the two ports a
// guest list reads (ScopeReader, GuestPager), nothing else.
type fakeStore struct {
	caller domain.User
	pages  int
}

func (f *fakeStore) LoadSpace(context.Context, string, string, string, string) (domain.SpaceScope, error) {
	return domain.SpaceScope{Scope: domain.Scope{Org: &domain.Org{ID: "o"}, Site: &domain.Site{OrgID: "o", ID: "s"}, Caller: &f.caller}}, nil
}

func (f *fakeStore) GuestPage(_ context.Context, _, _, _ string, limit int, _ string) ([]domain.Guest, string, error) {
	f.pages++
	return []domain.Guest{{AccountID: "g", UserStatus: domain.UserActive, Access: domain.Access{Space: "MKT"}}}, "more", nil
}

// TestFilteredPageReadsABoundedNumberOfPages: a status no guest has reads
// GuestReads pages, then answers an empty page with a cursor.
func TestFilteredPageReadsABoundedNumberOfPages(t *testing.T) {
	st := &fakeStore{caller: domain.User{AccountID: "a", Status: domain.UserActive, OrgAdmin: true}}
	svc := &Service{Scopes: st, GuestPages: st}
	page, err := svc.Guests(context.Background(), domain.Caller{AccountID: "a"}, "o", "s", GuestQuery{Status: "suspended", Limit: 50})
	if err != nil || len(page.Items) != 0 || page.Next != "more" || st.pages != GuestReads {
		t.Errorf("page %+v, err %v, %d reads; want empty, a cursor, %d reads", page, err, st.pages, GuestReads)
	}
	st.pages = 0
	page, _ = svc.Guests(context.Background(), domain.Caller{AccountID: "a"}, "o", "s", GuestQuery{Limit: 1})
	if len(page.Items) != 1 || st.pages != 1 {
		t.Errorf("unfiltered page of 1: %+v after %d reads", page, st.pages)
	}
	st.caller.OrgAdmin = false
	if _, err := svc.Guests(context.Background(), domain.Caller{AccountID: "a"}, "o", "s", GuestQuery{Limit: 1}); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("a plain user: %v", err)
	}
}
