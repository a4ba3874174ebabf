package store

import (
	"context"

	"github.com/guestaccess/guestaccess/shared/domain"
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
	keys := make([]item, 0, 6)
	keys = append(keys, key(orgPK(orgID), skOrg), key(orgPK(orgID), siteSK(siteID)),
		key(userPK(orgID, accountID), skProfile), key(userPK(orgID, accountID), accessSK(siteID, string(p))))
	if space != "" {
		keys = append(keys, key(spacePK(orgID, siteID, space), skSpace))
	}
	if apiTokenHash != "" {
		keys = append(keys, key(apiTokenPK(apiTokenHash), skAPIToken))
	}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, orgPK(orgID), skOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Site, err = decodeOpt(got, orgPK(orgID), siteSK(siteID), decodeSite, siteItem.domain); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, userPK(orgID, accountID), skProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.Access, err = decodeOpt(got, userPK(orgID, accountID), accessSK(siteID, string(p)), decodeAccess, accessItem.domain); err != nil {
		return sc, err
	}
	if space != "" {
		if sc.Space, err = decodeOpt(got, spacePK(orgID, siteID, space), skSpace, decodeSpace, spaceItem.domain); err != nil {
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
