package accessdb_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/store"
)

// fixture is the shared store over a fresh table on one backend, its
// client and the counter of its DynamoDB calls.
type fixture struct {
	st *store.Store
	db *dynamodb.Client
	c  *testenv.Counter
}

// seededEach runs f on every backend with the demo org written
// (storetest.SeededEach).
func seededEach(t *testing.T, f func(t *testing.T, fx fixture), opts ...func(*dynamodb.Options)) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) { f(t, fixture{fx.St, fx.DB, fx.C}) }, opts...)
}

// scanAll reads every item of the table (tests only).
func scanAll(t *testing.T, fx fixture) []map[string]types.AttributeValue {
	return testenv.ScanAll(t, fx.db, fx.st.Table())
}
