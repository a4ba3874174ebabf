package domain

import (
	"fmt"
	"testing"
)

func TestGuestStatus(t *testing.T) {
	for _, c := range []struct {
		user  UserStatus
		space string
		want  GuestStatus
	}{
		{UserInvited, "MKT", GuestInvited}, {UserSuspended, "MKT", GuestSuspended}, {UserSuspended, "", GuestSuspended},
		{UserActive, "MKT", GuestActive}, {UserActive, "", GuestUnassigned},
	} {
		if got := (Guest{UserStatus: c.user, Access: Access{Space: c.space}}).Status(); got != c.want {
			t.Errorf("%s with space %q: %s, want %s", c.user, c.space, got, c.want)
		}
	}
}

// TestSummaryOverLimit: removing paid users leaves guests in place; the
// summary says the site is over its limit and has no free slot.
func TestSummaryOverLimit(t *testing.T) {
	s := Site{PaidUsers: 2, Guests: 10, GuestSlots: 0}
	s = s.With(Seats{Paid: -1})
	got := s.Summary()
	if !got.OverLimit || got.GuestLimit != 5 || got.FreeGuestSlots != 0 || got.Guests != 10 {
		t.Errorf("summary %+v", got)
	}
	if (Site{PaidUsers: 2, Guests: 10}).Summary().OverLimit {
		t.Error("at the limit is not over it")
	}
}

func TestRecountOf(t *testing.T) {
	site := Site{PaidUsers: 3, Guests: 4, GuestSlots: 15 - 4 - 2, Reserved: 2}
	if r := RecountOf(site, 3, 4); len(r.Drift) != 0 {
		t.Errorf("clean: %+v", r)
	}
	if r := RecountOf(site, 3, 5); fmt.Sprint(r.Drift) != "[guests guestSlots]" || r.Counted.GuestSlots != 8 {
		t.Errorf("one guest more: %+v", r)
	}
}

func TestValidAuditTarget(t *testing.T) {
	for s, want := range map[string]bool{
		"user/alice": true, "group/partners": true, "space/wiki/MKT": true, "invitation/abc": true, "site/wiki": true,
		"user/": false, "user": false, "robot/x": false, "user/a#b": false, "user/a b": false, "": false,
	} {
		if ValidAuditTarget(s) != want {
			t.Errorf("%q: %v", s, !want)
		}
	}
}
