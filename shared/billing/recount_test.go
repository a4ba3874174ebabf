package billing

import (
	"fmt"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

func TestRecountOf(t *testing.T) {
	site := domain.Site{PaidUsers: 3, Guests: 4, GuestSlots: 15 - 4 - 2, Reserved: 2, UserLimit: 10, UserSlots: 10 - 3 - 4 - 1, ReservedUsers: 1}
	if r := RecountOf(site, 3, 4); len(r.Drift) != 0 {
		t.Errorf("clean: %+v", r)
	}
	if r := RecountOf(site, 3, 5); fmt.Sprint(r.Drift) != "[guests guestSlots userSlots]" || r.Counted.GuestSlots != 8 || r.Counted.UserSlots != 1 {
		t.Errorf("one guest more: %+v", r)
	}
	// A site written before the user limit drifts in both, and the repair
	// writes the default limit.
	old := domain.Site{PaidUsers: 3, Guests: 4, GuestSlots: 11}
	if r := RecountOf(old, 3, 4); fmt.Sprint(r.Drift) != "[userLimit userSlots]" || r.Counted.UserLimit != domain.DefaultUserLimit || r.Counted.UserSlots != domain.DefaultUserLimit-7 {
		t.Errorf("before the user limit: %+v", r)
	}
}
