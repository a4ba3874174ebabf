package billing

import "github.com/guestaccess/guestaccess/shared/domain"

// Recount is a site's counters as stored against those counted from its
// access items (GuestSlots counted as 5 × paid − guests − the stored
// reservation, which no item records; UserSlots as the user limit − paid −
// guests − the stored user reservation; a site without a stored user limit
// drifts in userLimit, and the repair writes the default), and the
// counters that drift.
type Recount struct {
	Stored, Counted domain.Counters
	Reserved        int64
	ReservedUsers   int64
	Drift           []string
}

// RecountOf compares the site's counters with the paid users and guests
// counted from its access items.
func RecountOf(s domain.Site, paid, guests int64) Recount {
	limit := s.UserLimitOrDefault()
	r := Recount{Stored: domain.CountersOf(s), Reserved: s.Reserved, ReservedUsers: s.ReservedUsers,
		Counted: domain.Counters{PaidUsers: paid, Guests: guests, GuestSlots: domain.ExpectedSlots(paid, guests, s.Reserved),
			UserLimit: limit, UserSlots: limit - paid - guests - s.ReservedUsers}}
	r.Drift = r.Stored.Drift(r.Counted)
	return r
}

// ParseGuestStatus reads a guest status filter.
func ParseGuestStatus(s string) (domain.GuestStatus, bool) {
	switch g := domain.GuestStatus(s); g {
	case domain.GuestInvited, domain.GuestActive, domain.GuestUnassigned, domain.GuestSuspended:
		return g, true
	}
	return "", false
}
