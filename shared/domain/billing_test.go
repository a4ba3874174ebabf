package domain

import (
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

func TestUserLimit(t *testing.T) {
	site := Site{PaidUsers: 2, Guests: 1, GuestSlots: 9, UserLimit: 4, UserSlots: 1}
	if !site.Fits(Seats{Guests: 1}) || site.Fits(Seats{Guests: 2}) || site.Fits(Seats{Paid: 2}) {
		t.Error("one more user fits, two do not")
	}
	// A guest becoming paid adds no user; releases are never refused.
	full := site.With(Seats{Guests: 1})
	if full.UserSlots != 0 || !full.Fits(Seats{Paid: 1, Guests: -1}) || !full.Fits(Seats{Paid: -1}) || full.Fits(Seats{Guests: 1}) {
		t.Errorf("full site: %+v", full)
	}
	e := LimitError(full, Seats{Guests: 1})
	if e.Code != EUSERLIMIT || e.Extra["userLimit"] != int64(4) || e.Extra["paidUsers"] != int64(2) || e.Extra["guests"] != int64(2) || e.Extra["freeUserSlots"] != int64(0) {
		t.Errorf("user limit error: %+v", e)
	}
	// Within the user limit, the guest limit is the one named.
	if e := LimitError(Site{PaidUsers: 1, Guests: 5, UserLimit: 100, UserSlots: 94}, Seats{Guests: 1}); e.Extra["guestLimit"] != int64(5) {
		t.Errorf("guest limit error: %+v", e)
	}
	// A site written before the limit is not limited and shows the default.
	old := Site{PaidUsers: 2, Guests: 1, GuestSlots: 9}
	if !old.FitsUsers(Seats{Paid: 100}) || old.Billing().UserLimit != DefaultUserLimit || old.Billing().FreeUserSlots != DefaultUserLimit-3 {
		t.Errorf("old site: %+v", old.Billing())
	}
	if b := full.Summary(); b.UserLimit != 4 || b.FreeUserSlots != 0 {
		t.Errorf("summary: %+v", b)
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
