// Package store is the DynamoDB adapter: the single table described in
// docs/data-model.md, read and written through aws-sdk-go-v2 over the mechanics
// of package table. It implements the persistence interfaces of package
// domain and nothing else.
package store

import (
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

// counterUpdate applies a change of seats to a site, with the guest and
// user limits' conditions (table.Counter, kind Seats).
func (s *Store) counterUpdate(orgID, siteID string, d domain.Seats) *types.Update {
	return table.Counter(s.Name, orgID, siteID, table.Change{Kind: table.Seats, Seats: d, Guarded: true})
}
