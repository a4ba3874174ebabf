package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The external users' directory (rules §9, A19): verified domains, the users of
// one domain, each page's access items, and export jobs with their CSV
// chunks.

// SetVerifiedDomains rewrites the org item with a new domain list, its
// policyVersion moved by one, conditioned on the version read
// (orgRewrite), with the audit entry, in one transaction, while the
// caller (the audit entry's actor) is still an active org admin. It is a
// whole-item PutItem (removing the last domain leaves no list: nothing
// empty is stored, and minidyn ignores REMOVE). ECONFLICT when the org
// changed meanwhile (the service reads it again), EFORBIDDEN when the
// caller is no longer an org admin. No user is rewritten: who is external
// is decided when read. No API path calls it: a domain is verified by its
// DNS challenge (ApplyDomainCheck); it sets an org's domains directly for
// tests and tools.
func (s *Store) SetVerifiedDomains(ctx context.Context, before domain.Org, domains []string, audit domain.AuditEntry) (domain.Org, error) {
	next := before
	next.VerifiedDomains, next.PolicyVersion = domains, before.PolicyVersion+1
	tx := []types.TransactWriteItem{
		s.orgRewrite(next, before.PolicyVersion),
		s.callerIsOrgAdmin(before.ID, audit.Actor),
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "set verified domains", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		if c.Code(1) == "ConditionalCheckFailed" {
			return before, domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this.")
		}
		return before, domain.Errorf(domain.ECONFLICT, "The organisation's settings changed meanwhile; read them again.")
	}
	if err != nil {
		return before, err
	}
	return next, nil
}

// DomainUsers reads one page of the users of one email domain (ASCII): a
// Query of GSI2 `ORG#o#BYDOMAIN` over the domain's `<domain>#` prefix (the
// one key range of usersInRanges). The cursor is ExternalUsers': the last
// profile's by-domain key, which must be of that domain. Users come back
// with External set from the org.
func (s *Store) DomainUsers(ctx context.Context, org domain.Org, dom, cursor string, limit int) ([]domain.User, string, error) {
	if cursor != "" {
		if b, err := base64.RawURLEncoding.DecodeString(cursor); err != nil || !strings.HasPrefix(string(b), table.DomainPrefix(dom)) {
			return nil, "", badCursor()
		}
	}
	return s.usersInRanges(ctx, org, []keyRange{{lo: table.DomainPrefix(dom), hi: dom + "$"}}, cursor, limit)
}

// AccessConcurrency bounds the Queries UsersAccess runs at once.
const AccessConcurrency = 16

// UsersAccess reads the access items of each account (A11c): one Query of
// the account's partition (`begins_with ACCESS#`) per account, at most
// AccessConcurrency at once. The result maps account id to
// SiteProductKey to access.
func (s *Store) UsersAccess(ctx context.Context, orgID string, accounts []string) (map[string]map[string]domain.Access, error) {
	out := make(map[string]map[string]domain.Access, len(accounts))
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, AccessConcurrency)
	var wg sync.WaitGroup
	for _, a := range accounts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			acc, err := s.UserAccess(ctx, orgID, a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			out[a] = acc
		}()
	}
	wg.Wait()
	return out, first
}

// RecordAudit writes one audit entry alone (an audited read: the inline
// export of the external users).
func (s *Store) RecordAudit(ctx context.Context, audit domain.AuditEntry) error {
	return s.Transact(ctx, "record audit", []types.TransactWriteItem{{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}}})
}

// Export jobs (A19): the job item `ORG#o#EXPORT#id` / `EXPORT` and its CSV
// chunks `CHUNK#<part>#<page>#<index>` in the same partition, all with
// the job's TTL.

const (
	skExport        = "EXPORT"
	typeExport      = "export"
	typeExportChunk = "export-chunk"
)

func exportPK(org, id string) string { return "ORG#" + org + "#EXPORT#" + id }

// exportPartPrefix is the sort-key prefix of one part's chunks.
func exportPartPrefix(part int) string { return fmt.Sprintf("CHUNK#%04d#", part) }
func exportChunkSK(c domain.ExportChunk) string {
	return exportPartPrefix(c.Part) + fmt.Sprintf("%06d#%02d", c.Page, c.Index)
}

type exportItem struct {
	table.Keys
	job domain.ExportJob
}

func (i exportItem) Item() table.Item {
	j := i.job
	e := i.Keys.Encode()
	e.S("orgId", j.OrgID)
	e.S("exportId", j.ID)
	e.S("createdBy", j.CreatedBy)
	e.T("createdAt", j.CreatedAt)
	e.T("expiresAt", j.ExpiresAt)
	e.T("updatedAt", j.UpdatedAt)
	e.S("status", string(j.Status))
	e.S("filterDomain", j.Filter.Domain)
	e.S("filterStatus", string(j.Filter.Status))
	e.S("filterVerification", j.Filter.Verification)
	e.N("pages", int64(j.Pages))
	e.N("rows", int64(j.Rows))
	e.N("parts", int64(j.Parts))
	e.N("partBytes", int64(j.PartBytes))
	e.S("cursor", j.Cursor)
	e.S("error", j.Error)
	return table.Item(e)
}

func newExportItem(j domain.ExportJob) exportItem {
	return exportItem{Keys: table.Keys{PK: exportPK(j.OrgID, j.ID), SK: skExport, Type: typeExport, TTL: table.TTL(j.ExpiresAt)}, job: j}
}

func decodeExport(it table.Item) (domain.ExportJob, error) {
	d := &table.Dec{It: it}
	j := domain.ExportJob{OrgID: d.S("orgId"), ID: d.S("exportId"), CreatedBy: d.S("createdBy"), CreatedAt: d.T("createdAt"), ExpiresAt: d.T("expiresAt"),
		UpdatedAt: d.T("updatedAt"), Status: domain.ExportStatus(d.S("status")),
		Filter: domain.ExternalFilter{Domain: d.S("filterDomain"), Status: domain.UserStatus(d.S("filterStatus")), Verification: d.S("filterVerification")},
		Pages:  int(d.N("pages")), Rows: int(d.N("rows")), Parts: int(d.N("parts")), PartBytes: int(d.N("partBytes")), Cursor: d.S("cursor"), Error: d.S("error")}
	return j, d.Err
}

type exportChunkItem struct {
	table.Keys
	data string
}

func (i exportChunkItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("data", i.data)
	return table.Item(e)
}

// CreateExport writes a new export job (attribute_not_exists) with the
// audit entry of the export, in one transaction.
func (s *Store) CreateExport(ctx context.Context, j domain.ExportJob, audit domain.AuditEntry) error {
	return s.Transact(ctx, "create export", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newExportItem(j)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	})
}

// ExportJob reads an export job (ENOTFOUND when absent or expired: DynamoDB
// deletes expired items within days, so an expired one is not answered).
func (s *Store) ExportJob(ctx context.Context, orgID, id string, now time.Time) (domain.ExportJob, error) {
	got, err := s.Get(ctx, exportPK(orgID, id), skExport)
	if err != nil || got == nil {
		return domain.ExportJob{}, table.NotFoundOr(err, "No such export.")
	}
	j, err := decodeExport(got)
	if err == nil && !j.ExpiresAt.After(now) {
		return domain.ExportJob{}, domain.Errorf(domain.ENOTFOUND, "No such export (it expired).")
	}
	return j, err
}

// ExportPageScope reads what the export worker needs before a page, in one
// BatchGetItem: the job (ENOTFOUND when missing or expired, as ExportJob)
// and its org as it is now (nil when gone).
func (s *Store) ExportPageScope(ctx context.Context, orgID, exportID string, now time.Time) (domain.ExportJob, *domain.Org, error) {
	got, err := s.BatchGet(ctx, []table.Item{table.Key(exportPK(orgID, exportID), skExport), table.Key(table.OrgPK(orgID), table.SKOrg)})
	if err != nil {
		return domain.ExportJob{}, nil, err
	}
	it, ok := got[table.ID(exportPK(orgID, exportID), skExport)]
	if !ok {
		return domain.ExportJob{}, nil, domain.Errorf(domain.ENOTFOUND, "No such export.")
	}
	j, err := decodeExport(it)
	if err != nil {
		return domain.ExportJob{}, nil, err
	}
	if !j.ExpiresAt.After(now) {
		return domain.ExportJob{}, nil, domain.Errorf(domain.ENOTFOUND, "No such export (it expired).")
	}
	org, err := decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain)
	return j, org, err
}

// WriteExportPage writes one page of an export: its chunks (each
// attribute_not_exists) and the job rewritten as next, conditioned on the
// pages written being still before's and the job running, in one
// transaction. A redelivered page finds the condition false and writes
// nothing: applied is false.
func (s *Store) WriteExportPage(ctx context.Context, before, next domain.ExportJob, chunks []domain.ExportChunk) (applied bool, err error) {
	tx := make([]types.TransactWriteItem, 0, len(chunks)+1)
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newExportItem(next)),
		ConditionExpression:       aws.String("pages = :p AND #st = :running"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: table.Item{":p": table.N(int64(before.Pages)), ":running": table.S(string(domain.ExportRunning))}}})
	for _, c := range chunks {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name,
			Item:                table.Marshal(exportChunkItem{Keys: table.Keys{PK: exportPK(next.OrgID, next.ID), SK: exportChunkSK(c), Type: typeExportChunk, TTL: table.TTL(next.ExpiresAt)}, data: c.Data}),
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	err = s.Transact(ctx, "write export page", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return false, nil
	}
	return err == nil, err
}

// FailExport marks a running export failed, with why (a page that reached
// the dead-letter queue). A job no longer running is left as it is.
func (s *Store) FailExport(ctx context.Context, j domain.ExportJob, reason string, at time.Time) error {
	next := j
	next.Status, next.Error, next.UpdatedAt = domain.ExportFailed, reason, at
	err := s.Transact(ctx, "fail export", []types.TransactWriteItem{{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newExportItem(next)),
		ConditionExpression:       aws.String("#st = :running"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: table.Item{":running": table.S(string(domain.ExportRunning))}}}})
	var c *table.Cancelled
	if errors.As(err, &c) {
		return nil
	}
	return err
}

// ExportPart reads one part of an export's CSV: its chunks in order, by
// Queries of the job's partition (`begins_with CHUNK#<part>#`).
func (s *Store) ExportPart(ctx context.Context, orgID, id string, part int) ([]string, error) {
	var out []string
	var start table.Item
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Name,
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :c)"),
			ExpressionAttributeValues: table.Item{":pk": table.S(exportPK(orgID, id)), ":c": table.S(exportPartPrefix(part))}, ExclusiveStartKey: start})
		if err != nil {
			return nil, fmt.Errorf("store: export part: %w", err)
		}
		for _, it := range res.Items {
			d := &table.Dec{It: it}
			data := d.S("data")
			if d.Err != nil {
				return nil, d.Err
			}
			out = append(out, data)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// BulkLoadUsers writes profiles and their access items (on one site) with
// BatchWriteItem, 25 items a call, unconditionally: for seeding large
// directories in tests. It writes no email guard and moves no counter.
func (s *Store) BulkLoadUsers(ctx context.Context, users []domain.User, siteID string, access map[string][]domain.Access) error {
	var reqs []types.WriteRequest
	for _, u := range users {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newUserItem(u))}})
		for _, a := range access[u.AccountID] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newAccessItem(u, siteID, a))}})
		}
	}
	for start := 0; start < len(reqs); start += 25 {
		batch := map[string][]types.WriteRequest{s.Name: reqs[start:min(len(reqs), start+25)]}
		for attempt := 0; len(batch[s.Name]) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("store: bulk load users: items left unprocessed")
			}
			res, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
			if err != nil {
				return fmt.Errorf("store: bulk load users: %w", err)
			}
			batch = res.UnprocessedItems
			if len(batch[s.Name]) > 0 {
				if err := table.Sleep(ctx, s.Retry.Wait(attempt+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
