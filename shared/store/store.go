package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// mechanics is table.Table under a name of its own, so that Store can
// embed it (its Retry, client and transactions) and still answer Table().
type mechanics = table.Table

// Store reads and writes the single table: the capabilities' queries over
// the mechanics of package table.
type Store struct {
	*mechanics
}

// New returns a store over the named table (table.New: its writes pass the
// table's guards).
func New(db *dynamodb.Client, name string) *Store {
	return &Store{mechanics: table.New(db, name)}
}

// Table returns the table name.
func (s *Store) Table() string { return s.Name }

// Retry bounds the retries of a conflicted transaction (table.Retry).
type Retry = table.Retry

// DefaultRetry is table.DefaultRetry.
var DefaultRetry = table.DefaultRetry

// JobRetry is table.JobRetry.
var JobRetry = table.JobRetry

// Index names and the due-work shards (package table).
const (
	GSI1      = table.GSI1
	GSI2      = table.GSI2
	GSI3      = table.GSI3
	DueShards = table.DueShards
)

// counterUpdate applies a change of seats to a site, keeping GuestSlots =
// 5×PaidUsers−Guests−Reserved and UserSlots = UserLimit−PaidUsers−Guests−
// ReservedUsers. When the change adds guests, the condition GuestSlots ≥
// Need refuses the write that would pass the guest limit; when it adds
// users (paid plus guests), UserSlots ≥ Users refuses the one that would
// pass the user limit, however many requests race; the refused write
// returns the site as it was (ALL_OLD). A site written before the user
// limit (no userLimit) is not limited: its userSlots is not read until the
// recount's repair writes both.
func (s *Store) counterUpdate(orgID, siteID string, d domain.Seats) *types.Update {
	u := &types.Update{
		TableName:        &s.Name,
		Key:              table.Key(table.OrgPK(orgID), table.SiteSK(siteID)),
		UpdateExpression: aws.String("SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, userSlots = if_not_exists(userSlots, :zero) - :u"),
		ExpressionAttributeValues: table.Item{
			":p": table.N(d.Paid), ":g": table.N(d.Guests), ":d": table.N(d.SlotChange()), ":u": table.N(d.Users()), ":zero": table.N(0),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	cond := "attribute_exists(PK)"
	if d.Limited() {
		cond += " AND guestSlots >= :need"
		u.ExpressionAttributeValues[":need"] = table.N(d.Need())
	}
	if d.Users() > 0 {
		cond += userLimitCond
	}
	u.ConditionExpression = &cond
	return u
}

// userLimitCond is the user limit's part of a counter condition, for :u
// users added (a site without userLimit is not limited).
const userLimitCond = " AND (attribute_not_exists(userLimit) OR userSlots >= :u)"
