package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The external user policy's writes (rules §9): the org item rewritten whole
// under its policyVersion, with the audit entry (and, when verification
// settings changed, the org's rescan request) in one transaction, while
// the caller is still an active org admin.

// MaxPolicyProfiles is the most profiles LoadPolicyScope reads with the org
// and the caller: the test policy's users before and after a change.
const MaxPolicyProfiles = 2 * domain.MaxTestPolicyUsers

// LoadPolicyScope reads the org, the caller and the named profiles (at
// most MaxPolicyProfiles: a test policy's users) in one BatchGetItem.
// Missing profiles are absent from the map.
func (s *Store) LoadPolicyScope(ctx context.Context, orgID, callerID string, accountIDs []string) (domain.Scope, map[string]domain.User, error) {
	var sc domain.Scope
	if len(accountIDs) > MaxPolicyProfiles {
		return sc, nil, domain.Errorf(domain.EINVALID, "At most %d users may be read at once.", MaxPolicyProfiles)
	}
	keys := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile)}
	seen := map[string]bool{callerID: true}
	for _, a := range accountIDs {
		if !seen[a] {
			seen[a] = true
			keys = append(keys, table.Key(table.UserPK(orgID, a), table.SKProfile))
		}
	}
	got, err := s.BatchGet(ctx, keys)
	if err != nil {
		return sc, nil, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, nil, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, nil, err
	}
	users := map[string]domain.User{}
	for _, a := range append([]string{callerID}, accountIDs...) {
		u, err := decodeOpt(got, table.UserPK(orgID, a), table.SKProfile, decodeUser, userItem.domain)
		if err != nil {
			return sc, nil, err
		}
		if u != nil {
			users[a] = *u
		}
	}
	return sc, users, nil
}

// ChangePolicy writes a change of an org's external user policy, test
// policy or reset of sessions: the org item rewritten whole as ch.Org
// under the version read (ch.FromVersion), the audit entry and, when
// ch.Rescan, the org's rescan request (verifyScanPut), in one
// TransactWriteItems, while the caller is still an active org admin.
// domain.ErrPolicyChanged when the version moved meanwhile,
// EFORBIDDEN when the caller is no longer an org admin.
func (s *Store) ChangePolicy(ctx context.Context, ch domain.PolicyChange) error {
	o := ch.Org
	b := &txBuilder{}
	b.add("org", s.orgRewrite(o, ch.FromVersion))
	b.add("caller", s.callerIsOrgAdmin(o.ID, ch.CallerID))
	b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(ch.Audit))}})
	if ch.Rescan {
		b.add("scan", s.verifyScanPut(o.ID, ch.Audit.At, o.PolicyVersion))
	}
	return s.policyTx(ctx, "change external user policy", b)
}

// orgRewrite is the transaction item that rewrites an org item whole as o
// under the policyVersion read (fromVersion): every change of the policy,
// the test policy, the verified domains or a reset goes through it, so
// none overwrites another.
func (s *Store) orgRewrite(o domain.Org, fromVersion int) types.TransactWriteItem {
	cond, vals := "attribute_exists(PK) AND policyVersion = :v", table.Item{":v": table.N(int64(fromVersion))}
	if fromVersion == 0 {
		// Version 0 is not stored (nothing empty is): the org exists and never changed.
		cond, vals = "attribute_exists(PK) AND attribute_not_exists(policyVersion)", nil
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newOrgItem(o)),
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}
}

// ResetUserSession sets one user's sessionsResetAt (UpdateItem SET on the
// profile, which must exist) with the audit entry, in one transaction,
// while the caller is still an active org admin. ENOTFOUND when the
// profile is gone.
func (s *Store) ResetUserSession(ctx context.Context, r domain.UserSessionReset) error {
	b := &txBuilder{}
	b.add("profile", types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(r.OrgID, r.AccountID), table.SKProfile),
		UpdateExpression: aws.String("SET sessionsResetAt = :at"), ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: table.Item{":at": table.S(r.At.UTC().Format(time.RFC3339Nano))}}})
	b.add("caller", s.callerIsOrgAdmin(r.OrgID, r.CallerID))
	b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(r.Audit))}})
	return s.policyTx(ctx, "reset user session", b)
}

// policyTx runs a policy transaction and tells its refusal.
func (s *Store) policyTx(ctx context.Context, what string, b *txBuilder) error {
	err := s.Transact(ctx, what, b.items)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	for j, kind := range b.kinds {
		if c.Code(j) != "ConditionalCheckFailed" {
			continue
		}
		switch kind {
		case "org":
			return domain.ErrPolicyChanged
		case "caller":
			return domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this.")
		case "profile":
			return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
		}
	}
	return err
}
