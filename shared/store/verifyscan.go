package store

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	keys
	OrgID         string
	RequestedAt   time.Time
	PolicyVersion int
	// Cursor is the GSI2SK (by domain) of the last profile rescanned; ""
	// before the first page.
	Cursor string
}

func newVerifyScanItem(orgID string, at time.Time, policyVersion int, cursor string) verifyScanItem {
	return verifyScanItem{keys: keys{PK: orgPK(orgID), SK: skVerifyScan, Type: typeVerifyScan,
		GSI3PK: dueVerifyPK(orgID, "~scan"), GSI3SK: dueSK(at, orgID, "~scan")}, OrgID: orgID, RequestedAt: at, PolicyVersion: policyVersion, Cursor: cursor}
}

func (i verifyScanItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.t("requestedAt", i.RequestedAt)
	e.n("policyVersion", int64(i.PolicyVersion))
	e.s("cursor", i.Cursor)
	return item(e)
}

func decodeVerifyScan(it item) (verifyScanItem, error) {
	d := &dec{it: it}
	return verifyScanItem{keys: decodeKeys(d), OrgID: d.s("orgId"), RequestedAt: d.t("requestedAt"), PolicyVersion: int(d.n("policyVersion")), Cursor: d.s("cursor")}, d.err
}

// verifyScanPut is the transaction item a change of verification settings
// adds: the org's rescan request, due at once.
func (s *Store) verifyScanPut(orgID string, at time.Time, policyVersion int) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: marshal(newVerifyScanItem(orgID, at, policyVersion, ""))}}
}
