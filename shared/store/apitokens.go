package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// API tokens (A21). Each token is two items written and deleted together:
// the use-time item `APITOKEN#<sha256 of the secret>` / `APITOKEN`, which
// the access decision reads in its one BatchGetItem (its key is the hash of
// the secret presented, so the check is a comparison of hashes), and the
// listing item `ORG#o#USER#a` / `APITOKEN#<id>` in the user's partition
// (the user's tokens; it keeps the hash, so that a revoke and the user's
// removal find the use-time item). The profile counts the user's tokens
// (`apiTokens`, moved by every create and revoke in the same transaction),
// which holds MaxAPITokens under concurrent creates: they all update the
// profile, so DynamoDB serialises them by conflict, and the count's
// condition refuses the one past the cap.

const (
	typeAPIToken    = "api-token"
	typeAPITokenRef = "api-token-ref"
	skAPIToken      = "APITOKEN"
	// apiTokenRetention keeps a use-time item a day past its expiry; TTL
	// removes it afterwards (the decision checks the expiry itself). The
	// listing item has no TTL: it is counted, and only a revoke or the
	// user's removal takes it away with the count.
	apiTokenRetention = 24 * time.Hour
)

func apiTokenPK(hash string) string { return "APITOKEN#" + hash }
func apiTokenSK(id string) string   { return "APITOKEN#" + id }

// apiTokenItem is either item of a token: the use-time item (ref false) or
// the user's listing item (ref true).
type apiTokenItem struct {
	table.Keys
	domain.APIToken
}

func newAPITokenItem(t domain.APIToken, ref bool) apiTokenItem {
	k := table.Keys{PK: apiTokenPK(t.Hash), SK: skAPIToken, Type: typeAPIToken, TTL: table.TTL(t.ExpiresAt.Add(apiTokenRetention))}
	if ref {
		k = table.Keys{PK: table.UserPK(t.OrgID, t.AccountID), SK: apiTokenSK(t.ID), Type: typeAPITokenRef}
	}
	return apiTokenItem{Keys: k, APIToken: t}
}

func (i apiTokenItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("accountId", i.AccountID)
	e.S("tokenId", i.ID)
	e.S("label", i.Label)
	if i.Type == typeAPITokenRef {
		e.S("hash", i.Hash)
	}
	e.T("createdAt", i.CreatedAt)
	e.T("expiresAt", i.ExpiresAt)
	return table.Item(e)
}

func decodeAPIToken(it table.Item) (apiTokenItem, error) {
	d := &table.Dec{It: it}
	i := apiTokenItem{Keys: table.DecodeKeys(d), APIToken: domain.APIToken{OrgID: d.S("orgId"), AccountID: d.S("accountId"), ID: d.S("tokenId"),
		Label: d.S("label"), Hash: d.S("hash"), CreatedAt: d.T("createdAt"), ExpiresAt: d.T("expiresAt")}}
	if i.Type == typeAPIToken {
		i.Hash = i.PK[len("APITOKEN#"):]
	}
	return i, d.Err
}

func (i apiTokenItem) domain() domain.APIToken { return i.APIToken }

// LoadAPITokenScope reads what an API token route needs in one
// BatchGetItem: the org, the caller, the user whose tokens these are and,
// when tokenID is not "", that token's listing item.
func (s *Store) LoadAPITokenScope(ctx context.Context, orgID, callerID, accountID, tokenID string) (domain.APITokenScope, error) {
	var sc domain.APITokenScope
	ks := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile)}
	if accountID != callerID {
		ks = append(ks, table.Key(table.UserPK(orgID, accountID), table.SKProfile))
	}
	if tokenID != "" {
		ks = append(ks, table.Key(table.UserPK(orgID, accountID), apiTokenSK(tokenID)))
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if tokenID != "" {
		if sc.Token, err = decodeOpt(got, table.UserPK(orgID, accountID), apiTokenSK(tokenID), decodeAPIToken, apiTokenItem.domain); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// CreateAPIToken writes a new token in one transaction: its use-time and
// listing items (both new), the user's count moved up under the condition
// that the user is active and holds fewer than MaxAPITokens, and the audit
// entry. A user at the cap is ECONFLICT; one not active (suspended, or
// removed meanwhile) EFORBIDDEN.
func (s *Store) CreateAPIToken(ctx context.Context, c domain.APITokenCreation) error {
	t := c.Token
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAPITokenItem(t, false)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAPITokenItem(t, true)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(t.OrgID, t.AccountID), table.SKProfile),
			UpdateExpression:                    aws.String("SET apiTokens = if_not_exists(apiTokens, :zero) + :one"),
			ConditionExpression:                 aws.String("#s = :active AND (attribute_not_exists(apiTokens) OR apiTokens < :max)"),
			ExpressionAttributeNames:            map[string]string{"#s": "status"},
			ExpressionAttributeValues:           table.Item{":zero": table.N(0), ":one": table.N(1), ":max": table.N(domain.MaxAPITokens), ":active": table.S(string(domain.UserActive))},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(c.Audit))}},
	}
	err := s.Transact(ctx, "create api token", tx)
	var cc *table.Cancelled
	if !errors.As(err, &cc) {
		return err
	}
	if cc.Code(2) == "ConditionalCheckFailed" {
		old := cc.Old(2)
		d := &table.Dec{It: old}
		switch {
		case old == nil:
			return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
		case d.S("status") != string(domain.UserActive):
			return domain.Errorf(domain.EFORBIDDEN, "Only active users may create API tokens.")
		}
		return &domain.Error{Code: domain.ECONFLICT, Message: "You already hold the most API tokens a user may (expired ones count until revoked): revoke one first.",
			Extra: map[string]any{"limit": domain.MaxAPITokens}}
	}
	return domain.Errorf(domain.ECONFLICT, "A token with this id or secret already exists; try again.")
}

// APITokens lists a user's tokens (their listing items), a page at a time,
// by id.
func (s *Store) APITokens(ctx context.Context, orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error) {
	var out domain.Page[domain.APIToken]
	res, next, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :t)"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.UserPK(orgID, accountID)), ":t": table.S(apiTokenSK(""))},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, it := range res {
		t, err := decodeAPIToken(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, t.domain())
	}
	out.Next = next
	return out, nil
}

// RevokeAPIToken deletes a token in one transaction: its listing item (it
// must still be there: ENOTFOUND when another revoke or the user's removal
// took it), its use-time item (TTL may have taken it), the user's count
// moved down, and the audit entry.
func (s *Store) RevokeAPIToken(ctx context.Context, r domain.APITokenRevocation) error {
	t := r.Token
	tx := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(t.OrgID, t.AccountID), apiTokenSK(t.ID)), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(apiTokenPK(t.Hash), skAPIToken)}},
		{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(t.OrgID, t.AccountID), table.SKProfile),
			UpdateExpression: aws.String("SET apiTokens = apiTokens - :one"), ConditionExpression: aws.String("apiTokens >= :one"),
			ExpressionAttributeValues: table.Item{":one": table.N(1)}}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(r.Audit))}},
	}
	err := s.Transact(ctx, "revoke api token", tx)
	var cc *table.Cancelled
	if errors.As(err, &cc) {
		return domain.Errorf(domain.ENOTFOUND, "No such API token: it was revoked meanwhile.")
	}
	return err
}

// dropAPITokens deletes tokens with both their items (a removal or a
// revoke of the account; the caller handles the count).
func (s *Store) dropAPITokens(b *txBuilder, ts []domain.APIToken) {
	for _, t := range ts {
		b.add("apitoken", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(t.OrgID, t.AccountID), apiTokenSK(t.ID)),
			ConditionExpression: aws.String("attribute_exists(PK)")}})
		b.add("apitoken", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(apiTokenPK(t.Hash), skAPIToken)}})
	}
}
