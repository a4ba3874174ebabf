package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The re-verification job's reads and writes (A18, A18b). It reads only
// entries that are due: a Query per shard of GSI3 `DUE#VERIFY#<n>` with
// GSI3SK <= now (the due time is the sort key's prefix), so its cost follows
// the users due, not the directory. Every write to an entry is an UpdateItem
// SET conditioned on the entry read (or on the claim), so two runs cannot
// act twice on one entry, and handled entries are no longer due: the index
// itself is the job's cursor from one run to the next.

// DueVerifications reads one page (at most limit, up to 100) of the
// entries of due shard sh (0 to DueShards-1) due at now, after start (""
// for the first page; then the cursor the previous page returned, "" after
// the last): one Query, which reads exactly the entries it returns, and one
// BatchGetItem of their items (the index holds keys only; dueItems). The
// cursor is the last entry's sort key and the next page starts just after
// it by the key condition, not by ExclusiveStartKey: the job has moved that
// entry meanwhile, and minidyn resolves a start key by the item's current
// position.
func (s *Store) DueVerifications(ctx context.Context, sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error) {
	pk := fmt.Sprintf("DUE#VERIFY#%d", sh)
	cond, vals := "GSI3PK = :pk AND GSI3SK <= :upper", table.Item{":pk": table.S(pk), ":upper": table.S(now.UTC().Format(time.RFC3339) + "#\uffff")}
	if start != "" {
		// The smallest key after start's: ids hold no spaces nor control characters.
		cond, vals[":lo"] = "GSI3PK = :pk AND GSI3SK BETWEEN :lo AND :upper", table.S(start+" ")
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.Name,
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeValues: vals,
		Limit:                     aws.Int32(int32(max(1, min(limit, 100)))),
	}
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("store: due verifications: %w", err)
	}
	items, err := s.dueItems(ctx, res.Items)
	if err != nil {
		return nil, "", err
	}
	var out []domain.DueVerification
	for _, it := range items {
		d := &table.Dec{It: it}
		switch typ := d.S("type"); typ {
		case typeUser:
			ui, err := decodeUser(it)
			if err != nil {
				return nil, "", err
			}
			u := ui.domain()
			out = append(out, domain.DueVerification{Entry: ui.GSI3SK, User: &u})
		case typeVerifyScan:
			si, err := decodeVerifyScan(it)
			if err != nil {
				return nil, "", err
			}
			sc := domain.VerifyScan{OrgID: si.OrgID, RequestedAt: si.RequestedAt, PolicyVersion: si.PolicyVersion}
			if si.Cursor != "" {
				sc.Cursor = base64.RawURLEncoding.EncodeToString([]byte(si.Cursor))
			}
			out = append(out, domain.DueVerification{Entry: si.GSI3SK, Scan: &sc})
		default:
			return nil, "", fmt.Errorf("store: due verifications: an item of type %q in %s", typ, pk)
		}
	}
	next := ""
	if n := len(res.Items); len(res.LastEvaluatedKey) > 0 && n > 0 {
		next = sAttr(res.Items[n-1], "GSI3SK")
	}
	return out, next, nil
}

// Orgs reads orgs by id in one BatchGetItem (at most 100 ids); an org that
// does not exist is absent from the map.
func (s *Store) Orgs(ctx context.Context, ids []string) (map[string]domain.Org, error) {
	if len(ids) > 100 {
		return nil, fmt.Errorf("store: orgs: %d ids, at most 100 a read", len(ids))
	}
	out := map[string]domain.Org{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]table.Item, len(ids))
	for i, o := range ids {
		keys[i] = table.Key(table.OrgPK(o), table.SKOrg)
	}
	got, err := s.BatchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, it := range got {
		oi, err := decodeOrg(it)
		if err != nil {
			return nil, err
		}
		out[oi.OrgID] = oi.domain()
	}
	return out, nil
}

// MoveVerifyDue moves a profile's due entry, read as entry, to dueAt (and
// sets verifyDueAt), or parks it when dueAt is zero (no email: the user is
// no longer external, two-step verification is off, or "once"): one
// UpdateItem conditioned on the entry being as read. ECONFLICT when it
// changed meanwhile (verified again, claimed by another run).
func (s *Store) MoveVerifyDue(ctx context.Context, u domain.User, entry string, dueAt time.Time) error {
	expr, vals := "SET GSI3SK = :sk", table.Item{":sk": table.S(table.DueSK(table.ParkedDue, u.OrgID, u.AccountID)), ":entry": table.S(entry)}
	if !dueAt.IsZero() {
		expr, vals[":sk"], vals[":due"] = expr+", verifyDueAt = :due", table.S(table.DueSK(dueAt, u.OrgID, u.AccountID)), table.S(dueAt.UTC().Format(time.RFC3339Nano))
	}
	return s.entryUpdate(ctx, u, "move verification due", expr, "GSI3SK = :entry", vals)
}

// ClaimVerification claims a lapsed user's due entry, read as entry, for
// one run of the job: it moves the entry to until (the lease) and sets
// verifyState = notifying, conditioned on the entry being as read, so of
// two runs that read it only one claims it. It returns the claim (the
// entry's new sort key), which MarkVerificationRequired is conditioned
// on; ECONFLICT when another run claimed it or it changed meanwhile. A run
// that dies after claiming leaves the entry due again at until.
func (s *Store) ClaimVerification(ctx context.Context, u domain.User, entry string, until time.Time) (string, error) {
	claim := table.DueSK(until, u.OrgID, u.AccountID)
	err := s.entryUpdate(ctx, u, "claim verification", "SET GSI3SK = :sk, verifyState = :notifying", "GSI3SK = :entry",
		table.Item{":sk": table.S(claim), ":notifying": table.S(string(domain.VerifyNotifying)), ":entry": table.S(entry)})
	return claim, err
}

// MarkVerificationRequired marks a claimed user's verification required
// and parks their entry, with the audit entry, in one transaction
// conditioned on the claim; ECONFLICT when the claim is no longer theirs
// (the lease lapsed and another run claimed it, or the user verified).
func (s *Store) MarkVerificationRequired(ctx context.Context, u domain.User, claim string, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
			UpdateExpression:    aws.String("SET GSI3SK = :sk, verifyState = :required"),
			ConditionExpression: aws.String("GSI3SK = :claim"),
			ExpressionAttributeValues: table.Item{":sk": table.S(table.DueSK(table.ParkedDue, u.OrgID, u.AccountID)), ":required": table.S(string(domain.VerifyRequired)),
				":claim": table.S(claim)},
		}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "mark verification required", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return domain.Errorf(domain.ECONFLICT, "The verification of %s was claimed by another run or changed.", u.AccountID)
	}
	return err
}

// RescanVerification moves a verified external user's due entry to what
// the org's current settings make it, for a rescan (A18b): dueAt (zero:
// parked) with state. It is conditioned on verifiedAt being as read (a
// verification completed meanwhile wrote the right entry) and on no run
// having claimed the user (the claimant's mark decides); ECONFLICT
// otherwise.
func (s *Store) RescanVerification(ctx context.Context, u domain.User, dueAt time.Time, state domain.VerifyState) error {
	vals := table.Item{":sk": table.S(table.DueSK(table.ParkedDue, u.OrgID, u.AccountID)), ":state": table.S(string(state)), ":notifying": table.S(string(domain.VerifyNotifying)),
		":v": table.S(u.VerifiedAt.Format(time.RFC3339Nano))}
	expr := "SET GSI3PK = :pk, GSI3SK = :sk, verifyState = :state"
	vals[":pk"] = table.S(table.DueVerifyPK(u.OrgID, u.AccountID))
	if !dueAt.IsZero() {
		expr += ", verifyDueAt = :due"
		vals[":sk"], vals[":due"] = table.S(table.DueSK(dueAt, u.OrgID, u.AccountID)), table.S(dueAt.UTC().Format(time.RFC3339Nano))
	}
	return s.entryUpdate(ctx, u, "rescan verification", expr, "verifiedAt = :v AND (attribute_not_exists(verifyState) OR verifyState <> :notifying)", vals)
}

func (s *Store) entryUpdate(ctx context.Context, u domain.User, what, expr, cond string, vals table.Item) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.Errorf(domain.ECONFLICT, "The verification entry of %s changed meanwhile.", u.AccountID)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// SaveVerifyScan records how far an org's rescan has got (cursor: an
// ExternalUsers cursor), conditioned on it being the same request
// (requestedAt); ECONFLICT when a newer request replaced it or it is gone.
func (s *Store) SaveVerifyScan(ctx context.Context, sc domain.VerifyScan, cursor string) error {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) == 0 {
		return fmt.Errorf("store: save verify scan: not an external users cursor")
	}
	return s.scanWrite(ctx, sc.OrgID, "save verify scan", &dynamodb.UpdateItemInput{
		TableName: &s.Name, Key: table.Key(table.OrgPK(sc.OrgID), skVerifyScan),
		UpdateExpression:          aws.String("SET #c = :c"),
		ConditionExpression:       aws.String("requestedAt = :r"),
		ExpressionAttributeNames:  map[string]string{"#c": "cursor"},
		ExpressionAttributeValues: table.Item{":c": table.S(string(raw)), ":r": table.S(sc.RequestedAt.Format(time.RFC3339Nano))},
	}, nil)
}

// DeleteVerifyScan deletes an org's finished rescan request, conditioned
// on it being the same request; ECONFLICT when a newer one replaced it.
func (s *Store) DeleteVerifyScan(ctx context.Context, sc domain.VerifyScan) error {
	return s.scanWrite(ctx, sc.OrgID, "delete verify scan", nil, &dynamodb.DeleteItemInput{
		TableName: &s.Name, Key: table.Key(table.OrgPK(sc.OrgID), skVerifyScan),
		ConditionExpression:       aws.String("requestedAt = :r"),
		ExpressionAttributeValues: table.Item{":r": table.S(sc.RequestedAt.Format(time.RFC3339Nano))},
	})
}

func (s *Store) scanWrite(ctx context.Context, orgID, what string, up *dynamodb.UpdateItemInput, del *dynamodb.DeleteItemInput) error {
	var err error
	if up != nil {
		_, err = s.DB.UpdateItem(ctx, up)
	} else {
		_, err = s.DB.DeleteItem(ctx, del)
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.Errorf(domain.ECONFLICT, "A newer rescan of org %s replaced this one.", orgID)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// RequestVerifyScan writes an org's rescan request, due at once (what a
// change of verification settings adds to its transaction, alone: for
// tests and tools).
func (s *Store) RequestVerifyScan(ctx context.Context, orgID string, at time.Time, policyVersion int) error {
	return s.Transact(ctx, "request verify scan", []types.TransactWriteItem{s.verifyScanPut(orgID, at, policyVersion)})
}

// BulkLoadProfiles writes profiles (with their index keys: by email, by
// domain, and the verification due entry their VerifiedAt, VerifyDueAt and
// VerifyState make) and their email guards with BatchWriteItem, 25 items a
// call, unconditionally. It is for loading a directory and seeding
// scale tests: unlike the API's paths it checks no guard and no limit.
func (s *Store) BulkLoadProfiles(ctx context.Context, us []domain.User) error {
	var reqs []types.WriteRequest
	for _, u := range us {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newUserItem(u))}},
			types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newEmailItem(u, nil))}})
	}
	return s.batchWrite(ctx, reqs)
}
