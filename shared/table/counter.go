package table

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The seat counter of a site (docs/data-model.md): paidUsers, guests and the
// derived guestSlots = 5×paidUsers − guests − reserved (domain.Seats), with
// the user limit's userSlots = userLimit − paidUsers − guests −
// reservedUsers, and the slots a group job holds (reserved,
// reservedUsers). Every update of it is built by Counter, here and nowhere
// else.

// CounterKind is what a change does to a site's counter.
type CounterKind int

// The kinds of change of a site's counter.
const (
	// Seats applies a change of seats (Change.Seats): a grant, a removal,
	// an invitation. Guarded adds the limit conditions and returns the site
	// as it was when they fail (ALL_OLD); unguarded (the bulk load) adds
	// no condition.
	Seats CounterKind = iota
	// Reserve takes Change.Slots guest slots and Change.Users user slots
	// into a group job's reservation, refused when the site has too few.
	Reserve
	// Release gives a finished job's leftover reservation of Change.Slots
	// guest slots back.
	Release
	// Consume applies a job page's change of seats (Change.Seats) out of
	// its share of the reservation (Change.Slots guest slots, Change.Users
	// user slots); beyond its share the free slots must cover it.
	Consume
	// GiveBack returns a failed page's share of the reservation
	// (Change.Slots, Change.Users) to the free slots.
	GiveBack
	// Repair sets the counters to Change.Fixed, conditioned on their still
	// being Change.Seen and on no job holding a reservation.
	Repair
)

// Change is one change of a site's counter (see CounterKind for which
// fields each kind reads).
type Change struct {
	Kind CounterKind
	// Seats is the change of seats (Seats, Consume).
	Seats domain.Seats
	// Guarded adds a Seats change's limit conditions.
	Guarded bool
	// Slots and Users are guest slots and user slots reserved, released or
	// consumed.
	Slots, Users int64
	// Seen and Fixed are a repair's counters as read and as recounted.
	Seen, Fixed domain.Counters
}

// userLimitCond is the user limit's part of a counter condition, for :u
// users added (a site without userLimit is not limited).
const userLimitCond = " AND (attribute_not_exists(userLimit) OR userSlots >= :u)"

// Counter builds the update of the counter of site siteID of org orgID in
// table name for change c: the one place the counter's update expressions
// are written.
//
// A Seats change keeps GuestSlots = 5×PaidUsers−Guests−Reserved and
// UserSlots = UserLimit−PaidUsers−Guests−ReservedUsers. Guarded, when the
// change adds guests, the condition GuestSlots ≥ Need refuses the write
// that would pass the guest limit; when it adds users (paid plus guests),
// UserSlots ≥ Users refuses the one that would pass the user limit, however
// many requests race; the refused write returns the site as it was
// (ALL_OLD). A site written before the user limit (no userLimit) is not
// limited: its userSlots is not read until the recount's repair writes
// both.
func Counter(name, orgID, siteID string, c Change) *types.Update {
	u := &types.Update{TableName: aws.String(name), Key: Key(OrgPK(orgID), SiteSK(siteID))}
	allOld := func() { u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld }
	switch c.Kind {
	case Seats:
		d := c.Seats
		u.UpdateExpression = aws.String("SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, userSlots = if_not_exists(userSlots, :zero) - :u")
		u.ExpressionAttributeValues = Item{":p": N(d.Paid), ":g": N(d.Guests), ":d": N(d.SlotChange()), ":u": N(d.Users()), ":zero": N(0)}
		if !c.Guarded {
			return u
		}
		allOld()
		cond := "attribute_exists(PK)"
		if d.Limited() {
			cond += " AND guestSlots >= :need"
			u.ExpressionAttributeValues[":need"] = N(d.Need())
		}
		if d.Users() > 0 {
			cond += userLimitCond
		}
		u.ConditionExpression = aws.String(cond)
	case Reserve:
		r, ru := c.Slots, c.Users
		cond := "attribute_exists(PK)"
		if r > 0 {
			cond += " AND guestSlots >= :r"
		}
		if ru > 0 {
			cond += userLimitCond
		}
		u.UpdateExpression = aws.String("SET guestSlots = guestSlots - :r, reserved = if_not_exists(reserved, :zero) + :r," +
			" userSlots = if_not_exists(userSlots, :zero) - :u, reservedUsers = if_not_exists(reservedUsers, :zero) + :u")
		u.ConditionExpression = aws.String(cond)
		u.ExpressionAttributeValues = Item{":r": N(r), ":u": N(ru), ":zero": N(0)}
		allOld()
	case Release:
		u.UpdateExpression = aws.String("SET guestSlots = guestSlots + :r, reserved = reserved - :r")
		u.ExpressionAttributeValues = Item{":r": N(c.Slots)}
	case Consume:
		d, res, resUsers := c.Seats, c.Slots, c.Users
		u.UpdateExpression = aws.String("SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, reserved = if_not_exists(reserved, :zero) - :c," +
			" userSlots = if_not_exists(userSlots, :zero) - :u, reservedUsers = if_not_exists(reservedUsers, :zero) - :cu")
		u.ExpressionAttributeValues = Item{":p": N(d.Paid), ":g": N(d.Guests), ":d": N(d.SlotChange() + res), ":c": N(res), ":zero": N(0),
			":u": N(d.Users() - resUsers), ":cu": N(resUsers)}
		cond := "attribute_exists(PK)"
		if need := -(d.SlotChange() + res); d.Limited() && need > 0 {
			// More than this page's share of the reservation: the free slots must cover it.
			cond += " AND guestSlots >= :need"
			u.ExpressionAttributeValues[":need"] = N(need)
		}
		if d.Users()-resUsers > 0 {
			// More users than this page's share of the user reservation.
			cond += userLimitCond
		}
		u.ConditionExpression = aws.String(cond)
		allOld()
	case GiveBack:
		u.UpdateExpression = aws.String("SET guestSlots = guestSlots + :r, reserved = if_not_exists(reserved, :zero) - :r," +
			" userSlots = if_not_exists(userSlots, :zero) + :u, reservedUsers = if_not_exists(reservedUsers, :zero) - :u")
		u.ExpressionAttributeValues = Item{":r": N(c.Slots), ":u": N(c.Users), ":zero": N(0)}
	case Repair:
		seen, fixed := c.Seen, c.Fixed
		u.UpdateExpression = aws.String("SET paidUsers = :p, guests = :g, guestSlots = :s, userLimit = :ul, userSlots = :us")
		u.ConditionExpression = aws.String("attribute_exists(PK) AND paidUsers = :op AND guests = :og AND guestSlots = :os" +
			" AND (attribute_not_exists(reserved) OR reserved = :zero) AND (attribute_not_exists(reservedUsers) OR reservedUsers = :zero)" +
			" AND (attribute_not_exists(userSlots) OR userSlots = :ous)")
		u.ExpressionAttributeValues = Item{":p": N(fixed.PaidUsers), ":g": N(fixed.Guests), ":s": N(fixed.GuestSlots),
			":ul": N(fixed.UserLimit), ":us": N(fixed.UserSlots), ":ous": N(seen.UserSlots),
			":op": N(seen.PaidUsers), ":og": N(seen.Guests), ":os": N(seen.GuestSlots), ":zero": N(0)}
	}
	return u
}
