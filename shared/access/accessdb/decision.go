package accessdb

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// LoadDecision reads everything an access decision (rules §8) needs in one
// BatchGetItem of the keys the request names: the org (A1), the site (A2,
// to tell an unknown site), the account (A4), its access on the site's
// product (A7) and, when one is asked for, the space (A12, whether it is
// open to anonymous access) and, when apiTokenHash is not "" (the api
// client), the API token whose secret has that hash (A21). Absent items are
// nil in the scope.
func (s *Store) LoadDecision(ctx context.Context, orgID, siteID, accountID string, p domain.Product, space, apiTokenHash string) (domain.DecisionScope, error) {
	var sc domain.DecisionScope
	keys := make([]table.Item, 0, 6)
	keys = append(keys, table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.OrgPK(orgID), table.SiteSK(siteID)),
		table.Key(table.UserPK(orgID, accountID), table.SKProfile), table.Key(table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p))))
	if space != "" {
		keys = append(keys, table.Key(table.SpacePK(orgID, siteID, space), table.SKSpace))
	}
	if apiTokenHash != "" {
		keys = append(keys, table.Key(store.APITokenPK(apiTokenHash), store.SKAPIToken))
	}
	got, err := s.BatchGet(ctx, keys)
	if err != nil {
		return sc, err
	}
	if sc.Org, err = store.DecodeOpt(got, table.OrgPK(orgID), table.SKOrg, store.DecodeOrg); err != nil {
		return sc, err
	}
	if sc.Site, err = store.DecodeOpt(got, table.OrgPK(orgID), table.SiteSK(siteID), store.DecodeSite); err != nil {
		return sc, err
	}
	if sc.User, err = store.DecodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, store.DecodeUser); err != nil {
		return sc, err
	}
	if sc.Access, err = store.DecodeOpt(got, table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p)), store.DecodeAccess); err != nil {
		return sc, err
	}
	if space != "" {
		if sc.Space, err = store.DecodeOpt(got, table.SpacePK(orgID, siteID, space), table.SKSpace, store.DecodeSpace); err != nil {
			return sc, err
		}
	}
	if apiTokenHash != "" {
		if sc.APIToken, err = store.DecodeOpt(got, store.APITokenPK(apiTokenHash), store.SKAPIToken, store.DecodeAPIToken); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// TouchLastActive records that the user was allowed by an access decision
// on day (a UTC midnight): one UpdateItem of the profile, conditioned on
// its lastActive being older (or absent), so that a user is written at
// most once a day however many decisions run; it reports whether it wrote.
// The condition compares RFC 3339 strings of UTC midnights, which sort as
// the days do (no fractional seconds). A profile gone meanwhile is not
// recreated.
func (s *Store) TouchLastActive(ctx context.Context, orgID, accountID string, day time.Time) (bool, error) {
	d := table.S(day.UTC().Format(time.RFC3339Nano))
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Name, Key: table.Key(table.UserPK(orgID, accountID), table.SKProfile),
		UpdateExpression:          aws.String("SET lastActive = :d"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(lastActive) OR lastActive < :d)"),
		ExpressionAttributeValues: table.Item{":d": d}})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
