package store

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/table"
)

// A verification rescan (A18b) is due work for the re-verification job:
// after a change of an org's verification settings (its policy or test
// policy: two-step, frequency), the due entries of its verified external
// users were computed under the old settings and may be too late or
// should not exist. The change writes one scan item in its own
// transaction; the job pages through the org's external users from the
// item's cursor and moves each entry to the due time of the current
// settings. A reset of sessions writes no scan (no per-user write: the
// access decision compares VerifiedAt with the reset, and the job, which
// reads the org, marks a reset user when it meets their entry).

const skVerifyScan = "VERIFYSCAN"

// typeVerifyScan is the item type of a rescan request.
const typeVerifyScan = "verify-scan"

// verifyScanItem asks the re-verification job to rescan an org's due
// entries. There is at most one per org: a later change rewrites it, its
// cursor starting again (the scan then applies the newest settings).
type verifyScanItem struct {
	table.Keys
	OrgID         string
	RequestedAt   time.Time
	PolicyVersion int
	// Cursor is the GSI2SK (by domain) of the last profile rescanned; ""
	// before the first page.
	Cursor string
}

func newVerifyScanItem(orgID string, at time.Time, policyVersion int, cursor string) verifyScanItem {
	return verifyScanItem{Keys: table.Keys{PK: table.OrgPK(orgID), SK: skVerifyScan, Type: typeVerifyScan,
		GSI3PK: table.DueVerifyPK(orgID, "~scan"), GSI3SK: table.DueSK(at, orgID, "~scan")}, OrgID: orgID, RequestedAt: at, PolicyVersion: policyVersion, Cursor: cursor}
}

func (i verifyScanItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.T("requestedAt", i.RequestedAt)
	e.N("policyVersion", int64(i.PolicyVersion))
	e.S("cursor", i.Cursor)
	return table.Item(e)
}

func decodeVerifyScan(it table.Item) (verifyScanItem, error) {
	d := &table.Dec{It: it}
	return verifyScanItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), RequestedAt: d.T("requestedAt"), PolicyVersion: int(d.N("policyVersion")), Cursor: d.S("cursor")}, d.Err
}

// verifyScanPut is the transaction item a change of verification settings
// adds: the org's rescan request, due at once.
func (s *Store) verifyScanPut(orgID string, at time.Time, policyVersion int) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newVerifyScanItem(orgID, at, policyVersion, ""))}}
}
