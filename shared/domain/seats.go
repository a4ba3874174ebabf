package domain

// Seats is a change of a site's billing counters: guests and paid users
// added (negative numbers release them). It is the one definition of how a
// grant moves the counters; the store writes it, services show its effect.
type Seats struct {
	Guests int64
	Paid   int64
}

// SeatsOf is the change one user of kind k makes when they gain access.
func SeatsOf(k Kind) Seats {
	switch k {
	case KindGuest:
		return Seats{Guests: 1}
	case KindPaid:
		return Seats{Paid: 1}
	}
	return Seats{}
}

// Plus adds two changes.
func (s Seats) Plus(o Seats) Seats { return Seats{Guests: s.Guests + o.Guests, Paid: s.Paid + o.Paid} }

// Times multiplies a change by n.
func (s Seats) Times(n int64) Seats { return Seats{Guests: s.Guests * n, Paid: s.Paid * n} }

// Zero reports whether the change moves nothing.
func (s Seats) Zero() bool { return s.Guests == 0 && s.Paid == 0 }

// SlotChange is how much the change moves the site's free guest slots
// (GuestSlots = 5 × paid users − guests).
func (s Seats) SlotChange() int64 { return GuestsPerPaidUser*s.Paid - s.Guests }

// Limited reports whether the guest limit can refuse the change: only a
// change that adds guests is refused; releasing or adding paid users never is.
func (s Seats) Limited() bool { return s.Guests > 0 }

// Need is the number of free guest slots the site must have for the change
// to fit: it fits when GuestSlots ≥ Need.
func (s Seats) Need() int64 { return -s.SlotChange() }

// Users is how many users (paid plus guests) the change adds to the site:
// a guest becoming paid adds none. Only a change with Users > 0 can pass
// the user limit; it fits when UserSlots ≥ Users.
func (s Seats) Users() int64 { return s.Paid + s.Guests }

// Fits reports whether the change keeps the site within the guest limit
// and the user limit.
func (site Site) Fits(s Seats) bool {
	return (!s.Limited() || site.GuestSlots >= s.Need()) && site.FitsUsers(s)
}

// FitsUsers reports whether the change keeps the site within its user
// limit (a site written before the limit was stored is not limited).
func (site Site) FitsUsers(s Seats) bool {
	return s.Users() <= 0 || site.UserLimit == 0 || site.UserSlots >= s.Users()
}

// LimitError is the refusal of a change that does not fit the site: the
// user limit's when it is the one passed, else the guest limit's.
func LimitError(site Site, s Seats) *Error {
	if !site.FitsUsers(s) {
		return UserLimitError(site, s.Users())
	}
	return GuestLimitError(site, s.Guests)
}

// With returns the site with the change applied to its counters.
func (site Site) With(s Seats) Site {
	site.Guests += s.Guests
	site.PaidUsers += s.Paid
	site.GuestSlots += s.SlotChange()
	site.UserSlots -= s.Users()
	return site
}

// SeatsChange is how the billing counters move when a user's effective
// Confluence role goes from before to after (other products are not billed
// here).
func SeatsChange(before, after Role) Seats {
	return SeatsOf(KindOf(after)).Plus(SeatsOf(KindOf(before)).Times(-1))
}
