package store

import (
	"context"

	"github.com/guestaccess/guestaccess/shared/domain"
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
		keys = append(keys, table.Key(apiTokenPK(apiTokenHash), skAPIToken))
	}
	got, err := s.BatchGet(ctx, keys)
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Site, err = decodeOpt(got, table.OrgPK(orgID), table.SiteSK(siteID), decodeSite, siteItem.domain); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.Access, err = decodeOpt(got, table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p)), decodeAccess, accessItem.domain); err != nil {
		return sc, err
	}
	if space != "" {
		if sc.Space, err = decodeOpt(got, table.SpacePK(orgID, siteID, space), table.SKSpace, decodeSpace, spaceItem.domain); err != nil {
			return sc, err
		}
	}
	if apiTokenHash != "" {
		if sc.APIToken, err = decodeOpt(got, apiTokenPK(apiTokenHash), skAPIToken, decodeAPIToken, apiTokenItem.domain); err != nil {
			return sc, err
		}
	}
	return sc, nil
}
