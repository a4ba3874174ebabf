package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Domain claims (A33): an org's claim of an email domain and its proof by a
// DNS TXT challenge, `ORG#o` / `DOMAIN#<ascii domain>`, each with a GSI3
// entry `DUE#DOMAIN#<n>` at its next check, so the scheduled check reads
// only the claims due. The org item's verifiedDomains lists the claims that
// are verified or lapsing: every write that changes that changes the org
// item in the same transaction, under its policyVersion.

const typeDomain = "domain"

func domainSK(d string) string { return "DOMAIN#" + d }

// dueDomainPK spreads domain claims over DueShards partitions.
func dueDomainPK(org, d string) string { return fmt.Sprintf("DUE#DOMAIN#%d", table.Shard(org+"#"+d)) }

type domainItem struct {
	table.Keys
	c domain.DomainClaim
}

func newDomainItem(c domain.DomainClaim) domainItem {
	return domainItem{Keys: table.Keys{PK: table.OrgPK(c.OrgID), SK: domainSK(c.Domain), Type: typeDomain,
		GSI3PK: dueDomainPK(c.OrgID, c.Domain), GSI3SK: table.DueSK(c.NextCheck, c.OrgID, c.Domain)}, c: c}
}

func (i domainItem) Item() table.Item {
	c := i.c
	e := i.Keys.Encode()
	e.S("orgId", c.OrgID)
	e.S("domain", c.Domain)
	e.S("status", string(c.Status))
	e.S("token", c.Token)
	e.T("createdAt", c.CreatedAt)
	e.S("createdBy", c.CreatedBy)
	e.T("checkedAt", c.CheckedAt)
	e.T("verifiedAt", c.VerifiedAt)
	e.T("lapsingSince", c.LapsingSince)
	e.T("nextCheck", c.NextCheck)
	e.N("version", int64(c.Version))
	return table.Item(e)
}

func decodeDomain(it table.Item) (domainItem, error) {
	d := &table.Dec{It: it}
	c := domain.DomainClaim{OrgID: d.S("orgId"), Domain: d.S("domain"), Status: domain.DomainStatus(d.S("status")), Token: d.S("token"),
		CreatedAt: d.T("createdAt"), CreatedBy: d.S("createdBy"), CheckedAt: d.T("checkedAt"), VerifiedAt: d.T("verifiedAt"),
		LapsingSince: d.T("lapsingSince"), NextCheck: d.T("nextCheck"), Version: int(d.N("version"))}
	return domainItem{Keys: table.DecodeKeys(d), c: c}, d.Err
}

// DomainClaims reads an org's domain claims, by domain: one Query of the
// org's partition (`begins_with DOMAIN#`; at most 100 claims).
func (s *Store) DomainClaims(ctx context.Context, orgID string) ([]domain.DomainClaim, error) {
	var out []domain.DomainClaim
	var start table.Item
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Name, ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :d)"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.OrgPK(orgID)), ":d": table.S(domainSK(""))}, ExclusiveStartKey: start})
		if err != nil {
			return nil, fmt.Errorf("store: domain claims: %w", err)
		}
		for _, it := range res.Items {
			di, err := decodeDomain(it)
			if err != nil {
				return nil, err
			}
			out = append(out, di.c)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// DomainClaim reads one claim; nil when the org has none for the domain.
func (s *Store) DomainClaim(ctx context.Context, orgID, d string) (*domain.DomainClaim, error) {
	got, err := s.Get(ctx, table.OrgPK(orgID), domainSK(d))
	if err != nil || got == nil {
		return nil, err
	}
	di, err := decodeDomain(got)
	return &di.c, err
}

// CreateDomainClaim writes a new (pending) claim (`attribute_not_exists`)
// with its audit entry, while the audit entry's actor is an active org
// admin, in one transaction. ECONFLICT when the domain is claimed already
// (a concurrent request), EFORBIDDEN when the caller is no longer an org admin.
func (s *Store) CreateDomainClaim(ctx context.Context, c domain.DomainClaim, audit domain.AuditEntry) error {
	err := s.Transact(ctx, "create domain claim", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newDomainItem(c)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.callerIsOrgAdmin(c.OrgID, audit.Actor),
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	})
	return domainTxError(err, 1)
}

// domainTxError tells a refused domain transaction: the caller check at
// index callerAt failed (EFORBIDDEN), or the claim or the org changed
// meanwhile (ECONFLICT: read again).
func domainTxError(err error, callerAt int) error {
	var c *table.Cancelled
	if errors.As(err, &c) {
		if callerAt >= 0 && c.Code(callerAt) == "ConditionalCheckFailed" {
			return domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this.")
		}
		return domain.Errorf(domain.ECONFLICT, "The domain or the organisation's settings changed meanwhile; read them again.")
	}
	return err
}

// orgWithDomain is the org with d in or out of its verified domains, and
// whether that changed it (its policyVersion moved by one when it did).
func orgWithDomain(o domain.Org, d string, in bool) (domain.Org, bool) {
	has := slices.Contains(o.VerifiedDomains, d)
	if has == in {
		return o, false
	}
	n := o
	if in {
		n.VerifiedDomains = append(slices.Clone(o.VerifiedDomains), d)
		slices.Sort(n.VerifiedDomains)
	} else {
		n.VerifiedDomains = slices.DeleteFunc(slices.Clone(o.VerifiedDomains), func(x string) bool { return x == d })
	}
	n.PolicyVersion = o.PolicyVersion + 1
	return n, true
}

// ApplyDomainCheck writes a check's outcome: the claim as next (its version
// one more), conditioned on the version read (before); when it starts or
// stops counting as verified (or the org's list disagrees with it), the
// org item rewritten with the domain added to or removed from
// verifiedDomains under the policyVersion read (org);
// the audit entry when there is one; and, when caller is not empty, the
// check that the caller is still an active org admin; all in one
// transaction. It returns the org as written (or as read). ECONFLICT when
// the claim or the org changed meanwhile (read again), EFORBIDDEN when the
// caller is no longer an org admin.
func (s *Store) ApplyDomainCheck(ctx context.Context, org domain.Org, before, next domain.DomainClaim, caller string, audit *domain.AuditEntry) (domain.Org, error) {
	next.Version = before.Version + 1
	tx := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newDomainItem(next)),
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: table.Item{":v": table.N(int64(before.Version))}}}}
	callerAt := -1
	if caller != "" {
		callerAt = len(tx)
		tx = append(tx, s.callerIsOrgAdmin(org.ID, caller))
	}
	// A claim that starts or stops counting always rewrites the org under
	// the version read, even when the list as read needs no change: that
	// read may be stale (the list changed meanwhile), and the condition
	// tells.
	o, changed := orgWithDomain(org, next.Domain, next.Counts())
	if !changed && before.Counts() != next.Counts() {
		o.PolicyVersion, changed = org.PolicyVersion+1, true
	}
	if changed {
		tx = append(tx, s.orgRewrite(o, org.PolicyVersion))
	}
	if audit != nil {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(*audit))}})
	}
	if err := domainTxError(s.Transact(ctx, "apply domain check", tx), callerAt); err != nil {
		return org, err
	}
	return o, nil
}

// DeleteDomainClaim removes a domain: its claim (when there is one,
// conditioned on the version read), the domain out of the org's
// verifiedDomains when it is there (under the policyVersion read), the
// check that the audit entry's actor is still an active org admin, and
// the audit entry, in one transaction. claim is nil for a domain verified
// before proofs were asked (in the org's list, with no claim). ECONFLICT
// when the claim or the org changed meanwhile, EFORBIDDEN when the caller
// is no longer an org admin.
func (s *Store) DeleteDomainClaim(ctx context.Context, org domain.Org, d string, claim *domain.DomainClaim, audit domain.AuditEntry) (domain.Org, error) {
	tx := []types.TransactWriteItem{s.callerIsOrgAdmin(org.ID, audit.Actor)}
	if claim != nil {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.OrgPK(org.ID), domainSK(d)),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: table.Item{":v": table.N(int64(claim.Version))}}})
	}
	o, changed := orgWithDomain(org, d, false)
	if changed {
		tx = append(tx, s.orgRewrite(o, org.PolicyVersion))
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}})
	if err := domainTxError(s.Transact(ctx, "delete domain claim", tx), 0); err != nil {
		return org, err
	}
	return o, nil
}

// DueDomainClaims reads one page (at most limit, up to 100) of the claims
// of due shard sh (0 to DueShards-1) whose next check is at or before now,
// after start ("" first; then the cursor returned, "" after the last
// page): one Query of GSI3 `DUE#DOMAIN#<sh>`, reading exactly the claims
// it returns, and one BatchGetItem of them (the index holds keys only). The next page starts after the last entry's key by the key
// condition (the check has moved that entry meanwhile), as DueVerifications.
func (s *Store) DueDomainClaims(ctx context.Context, sh int, now time.Time, start string, limit int) ([]domain.DomainClaim, string, error) {
	pk := fmt.Sprintf("DUE#DOMAIN#%d", sh)
	cond, vals := "GSI3PK = :pk AND GSI3SK <= :upper", table.Item{":pk": table.S(pk), ":upper": table.S(now.UTC().Format(time.RFC3339) + "#\uffff")}
	if start != "" {
		cond, vals[":lo"] = "GSI3PK = :pk AND GSI3SK BETWEEN :lo AND :upper", table.S(start+" ")
	}
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Name, IndexName: aws.String(GSI3), KeyConditionExpression: aws.String(cond),
		ExpressionAttributeValues: vals, Limit: aws.Int32(int32(max(1, min(limit, 100))))})
	if err != nil {
		return nil, "", fmt.Errorf("store: due domain claims: %w", err)
	}
	items, err := s.dueItems(ctx, res.Items)
	if err != nil {
		return nil, "", err
	}
	out := make([]domain.DomainClaim, 0, len(items))
	last := ""
	if n := len(res.Items); n > 0 {
		last = sAttr(res.Items[n-1], "GSI3SK")
	}
	for _, it := range items {
		di, err := decodeDomain(it)
		if err != nil {
			return nil, "", err
		}
		if di.Type != typeDomain {
			return nil, "", fmt.Errorf("store: due domain claims: an item of type %q in %s", di.Type, pk)
		}
		out = append(out, di.c)
	}
	next := ""
	if len(res.LastEvaluatedKey) > 0 && last != "" {
		next = last
	}
	return out, next, nil
}
