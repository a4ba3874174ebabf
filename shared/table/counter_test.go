package table_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// TestCounterBuildsEachKindOfChange: the one builder of the seat counter's
// updates produces, for each kind of change, the update expression, the
// condition (with the guest and user limits where the change can pass
// them), the values and ALL_OLD that the store's transactions rely on.
func TestCounterBuildsEachKindOfChange(t *testing.T) {
	const seats = "SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, userSlots = if_not_exists(userSlots, :zero) - :u"
	const consume = "SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, reserved = if_not_exists(reserved, :zero) - :c," +
		" userSlots = if_not_exists(userSlots, :zero) - :u, reservedUsers = if_not_exists(reservedUsers, :zero) - :cu"
	const userLimit = " AND (attribute_not_exists(userLimit) OR userSlots >= :u)"
	for _, c := range []struct {
		name   string
		change table.Change
		expr   string
		cond   string // "" for none
		vals   map[string]int64
		allOld bool
	}{
		{"seats: a guest added", table.Change{Kind: table.Seats, Seats: domain.Seats{Guests: 1}, Guarded: true}, seats,
			"attribute_exists(PK) AND guestSlots >= :need" + userLimit,
			map[string]int64{":p": 0, ":g": 1, ":d": -1, ":u": 1, ":zero": 0, ":need": 1}, true},
		{"seats: a guest becomes paid", table.Change{Kind: table.Seats, Seats: domain.Seats{Guests: -1, Paid: 1}, Guarded: true}, seats,
			"attribute_exists(PK)", map[string]int64{":p": 1, ":g": -1, ":d": 6, ":u": 0, ":zero": 0}, true},
		{"seats: a paid user added", table.Change{Kind: table.Seats, Seats: domain.Seats{Paid: 1}, Guarded: true}, seats,
			"attribute_exists(PK)" + userLimit, map[string]int64{":p": 1, ":g": 0, ":d": 5, ":u": 1, ":zero": 0}, true},
		{"seats: unguarded (bulk load)", table.Change{Kind: table.Seats, Seats: domain.Seats{Guests: 3, Paid: 1}}, seats,
			"", map[string]int64{":p": 1, ":g": 3, ":d": 2, ":u": 4, ":zero": 0}, false},
		{"reserve guest and user slots", table.Change{Kind: table.Reserve, Slots: 4, Users: 2},
			"SET guestSlots = guestSlots - :r, reserved = if_not_exists(reserved, :zero) + :r, userSlots = if_not_exists(userSlots, :zero) - :u, reservedUsers = if_not_exists(reservedUsers, :zero) + :u",
			"attribute_exists(PK) AND guestSlots >= :r" + userLimit, map[string]int64{":r": 4, ":u": 2, ":zero": 0}, true},
		{"reserve nothing", table.Change{Kind: table.Reserve},
			"SET guestSlots = guestSlots - :r, reserved = if_not_exists(reserved, :zero) + :r, userSlots = if_not_exists(userSlots, :zero) - :u, reservedUsers = if_not_exists(reservedUsers, :zero) + :u",
			"attribute_exists(PK)", map[string]int64{":r": 0, ":u": 0, ":zero": 0}, true},
		{"release", table.Change{Kind: table.Release, Slots: 3},
			"SET guestSlots = guestSlots + :r, reserved = reserved - :r", "", map[string]int64{":r": 3}, false},
		{"consume within the reservation", table.Change{Kind: table.Consume, Seats: domain.Seats{Guests: 2}, Slots: 2, Users: 2}, consume,
			"attribute_exists(PK)", map[string]int64{":p": 0, ":g": 2, ":d": 0, ":c": 2, ":u": 0, ":cu": 2, ":zero": 0}, true},
		{"consume beyond the reservation", table.Change{Kind: table.Consume, Seats: domain.Seats{Guests: 3}, Slots: 1, Users: 1}, consume,
			"attribute_exists(PK) AND guestSlots >= :need" + userLimit,
			map[string]int64{":p": 0, ":g": 3, ":d": -2, ":c": 1, ":u": 2, ":cu": 1, ":zero": 0, ":need": 2}, true},
		{"give back", table.Change{Kind: table.GiveBack, Slots: 2, Users: 1},
			"SET guestSlots = guestSlots + :r, reserved = if_not_exists(reserved, :zero) - :r, userSlots = if_not_exists(userSlots, :zero) + :u, reservedUsers = if_not_exists(reservedUsers, :zero) - :u",
			"", map[string]int64{":r": 2, ":u": 1, ":zero": 0}, false},
		{"repair", table.Change{Kind: table.Repair, Seen: domain.Counters{PaidUsers: 1, Guests: 7, GuestSlots: -2, UserSlots: 3},
			Fixed: domain.Counters{PaidUsers: 2, Guests: 7, GuestSlots: 3, UserLimit: 20, UserSlots: 11}},
			"SET paidUsers = :p, guests = :g, guestSlots = :s, userLimit = :ul, userSlots = :us",
			"attribute_exists(PK) AND paidUsers = :op AND guests = :og AND guestSlots = :os AND (attribute_not_exists(reserved) OR reserved = :zero)" +
				" AND (attribute_not_exists(reservedUsers) OR reservedUsers = :zero) AND (attribute_not_exists(userSlots) OR userSlots = :ous)",
			map[string]int64{":p": 2, ":g": 7, ":s": 3, ":ul": 20, ":us": 11, ":ous": 3, ":op": 1, ":og": 7, ":os": -2, ":zero": 0}, false},
	} {
		u := table.Counter("T", "o", "s", c.change)
		if aws.ToString(u.TableName) != "T" || table.PKSK(u.Key) != table.ID("ORG#o", "SITE#s") {
			t.Errorf("%s: table %q key %v", c.name, aws.ToString(u.TableName), u.Key)
		}
		if got := aws.ToString(u.UpdateExpression); got != c.expr {
			t.Errorf("%s: update\n got %s\nwant %s", c.name, got, c.expr)
		}
		if got := aws.ToString(u.ConditionExpression); got != c.cond {
			t.Errorf("%s: condition\n got %s\nwant %s", c.name, got, c.cond)
		}
		got := map[string]int64{}
		for k, v := range u.ExpressionAttributeValues {
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok {
				t.Fatalf("%s: value %s is %T", c.name, k, v)
			}
			var x int64
			neg := strings.HasPrefix(n.Value, "-")
			for _, r := range strings.TrimPrefix(n.Value, "-") {
				x = x*10 + int64(r-'0')
			}
			if neg {
				x = -x
			}
			got[k] = x
		}
		if !maps.Equal(got, c.vals) {
			ks := slices.Sorted(maps.Keys(got))
			t.Errorf("%s: values %v (%v), want %v", c.name, got, ks, c.vals)
		}
		if allOld := u.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld; allOld != c.allOld {
			t.Errorf("%s: ALL_OLD %v, want %v", c.name, allOld, c.allOld)
		}
	}
}
