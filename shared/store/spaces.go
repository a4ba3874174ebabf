package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// CreateSpace registers a space of a site (A12) with its audit entry, in one
// transaction: the space item is put with attribute_not_exists (ECONFLICT
// when the key is taken on the site) under a check that the site exists
// (ENOTFOUND otherwise).
func (s *Store) CreateSpace(ctx context.Context, sp domain.Space, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.OrgPK(sp.OrgID), table.SiteSK(sp.SiteID)), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newSpaceItem(sp)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "create space", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.Code(0) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	}
	return domain.Errorf(domain.ECONFLICT, "Space %s already exists on site %s.", sp.Key, sp.SiteID)
}

// Space reads one space (ENOTFOUND if none).
func (s *Store) Space(ctx context.Context, orgID, siteID, key string) (domain.Space, error) {
	got, err := s.Get(ctx, table.SpacePK(orgID, siteID, key), table.SKSpace)
	if err != nil || got == nil {
		return domain.Space{}, table.NotFoundOr(err, "No such space on this site.")
	}
	it, err := decodeSpace(got)
	return it.domain(), err
}

// AddSpaceAdmin makes an account an admin of a space, with its audit entry,
// in one transaction conditioned on the space and the account existing.
// ENOTFOUND names which is missing; adding an admin twice changes nothing
// but the audit log.
func (s *Store) AddSpaceAdmin(ctx context.Context, orgID, siteID, space, accountID string, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.SpacePK(orgID, siteID, space), table.SKSpace), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.UserPK(orgID, accountID), table.SKProfile), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newSpaceAdminItem(orgID, siteID, space, accountID, audit.At))}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "add space admin", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.Code(0) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such space on this site.")
	}
	if c.Code(1) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	return fmt.Errorf("store: add space admin: %w", err)
}

// spaceKeys are the keys a space request reads: the org, the caller, the
// site, the caller's Confluence access on it and, when a space is named, the
// space and the caller's admin item there.
func spaceKeys(orgID, siteID, callerID, space string) []table.Item {
	ks := []table.Item{
		table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.SiteSK(siteID)),
		table.Key(table.UserPK(orgID, callerID), table.AccessSK(siteID, string(domain.Confluence))),
	}
	if space != "" {
		ks = append(ks, table.Key(table.SpacePK(orgID, siteID, space), table.SKSpace), table.Key(table.SpacePK(orgID, siteID, space), table.SpaceAdminSK(callerID)))
	}
	return ks
}

func decodeSpaceScope(got map[string]table.Item, orgID, siteID, callerID, space string) (domain.SpaceScope, error) {
	var sc domain.SpaceScope
	var err error
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.Site, err = decodeOpt(got, table.OrgPK(orgID), table.SiteSK(siteID), decodeSite, siteItem.domain); err != nil {
		return sc, err
	}
	if a, err := decodeOpt(got, table.UserPK(orgID, callerID), table.AccessSK(siteID, string(domain.Confluence)), decodeAccess, accessItem.domain); err != nil {
		return sc, err
	} else if a != nil {
		sc.CallerAccess = *a
	}
	if space != "" {
		if sc.Space, err = decodeOpt(got, table.SpacePK(orgID, siteID, space), table.SKSpace, decodeSpace, spaceItem.domain); err != nil {
			return sc, err
		}
		_, sc.CallerAdmin = got[table.ID(table.SpacePK(orgID, siteID, space), table.SpaceAdminSK(callerID))]
	}
	return sc, nil
}

// LoadSpace reads a space request's scope in one BatchGetItem (space "" for
// requests about the site's spaces as a whole).
func (s *Store) LoadSpace(ctx context.Context, orgID, siteID, callerID, space string) (domain.SpaceScope, error) {
	got, err := s.BatchGet(ctx, spaceKeys(orgID, siteID, callerID, space))
	if err != nil {
		return domain.SpaceScope{}, err
	}
	return decodeSpaceScope(got, orgID, siteID, callerID, space)
}

// LoadAssign reads a guest's space assignment's scope in one BatchGetItem:
// LoadSpace's keys (space "" to unassign) and the user's profile and
// Confluence access on the site.
func (s *Store) LoadAssign(ctx context.Context, orgID, siteID, callerID, accountID, space string) (domain.AssignScope, error) {
	var sc domain.AssignScope
	ks := append(spaceKeys(orgID, siteID, callerID, space),
		table.Key(table.UserPK(orgID, accountID), table.SKProfile), table.Key(table.UserPK(orgID, accountID), table.AccessSK(siteID, string(domain.Confluence))))
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return sc, err
	}
	if sc.SpaceScope, err = decodeSpaceScope(got, orgID, siteID, callerID, space); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	sc.Access, err = decodeOpt(got, table.UserPK(orgID, accountID), table.AccessSK(siteID, string(domain.Confluence)), decodeAccess, accessItem.domain)
	return sc, err
}

// Spaces lists a site's spaces by key (A12: Query GSI2 ORG#o#SITE#s#SPACES).
func (s *Store) Spaces(ctx context.Context, orgID, siteID string, limit int, cursor string) (domain.Page[domain.Space], error) {
	var out domain.Page[domain.Space]
	res, next, err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.SpacesGSI2PK(orgID, siteID))},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, it := range res {
		sp, err := decodeSpace(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, sp.domain())
	}
	out.Next = next
	return out, nil
}

// SpaceAdmins lists the account ids of a space's admins (A12: Query the
// space's partition, SK begins_with ADMIN#, followed to its end: a space has
// few admins).
func (s *Store) SpaceAdmins(ctx context.Context, orgID, siteID, space string) ([]string, error) {
	out := []string{}
	cursor := ""
	for {
		res, next, err := s.query(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :a)"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.SpacePK(orgID, siteID, space)), ":a": table.S("ADMIN#")},
		}, 1000, cursor)
		if err != nil {
			return nil, err
		}
		for _, it := range res {
			a, err := decodeSpaceAdmin(it)
			if err != nil {
				return nil, err
			}
			out = append(out, a.AccountID)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// SpaceGuests lists the guests assigned to a space, by email (A13: Query
// GSI2 ORG#o#SITE#s#SPACE#k on access items). Only Confluence guests' access
// items carry that entry; anything else found there is skipped.
func (s *Store) SpaceGuests(ctx context.Context, orgID, siteID, space string, limit int, cursor string) (domain.Page[domain.SpaceGuest], error) {
	var out domain.Page[domain.SpaceGuest]
	res, next, err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.SpaceGuestsGSI2PK(orgID, siteID, space))},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	out.Items = []domain.SpaceGuest{}
	for _, it := range res {
		if t, _ := it["type"].(*types.AttributeValueMemberS); t == nil || t.Value != typeAccess {
			continue
		}
		a, err := decodeAccess(it)
		if err != nil {
			return out, err
		}
		if a.Effective != string(domain.RoleGuest) || a.Product != string(domain.Confluence) || a.Space != space {
			continue
		}
		out.Items = append(out.Items, domain.SpaceGuest{AccountID: a.AccountID, Email: a.Email})
	}
	out.Next = next
	return out, nil
}

// UpdateSpace writes a space's new name and anonymous access with its audit
// entry, in one transaction under the version the space was read at
// (ErrSpaceChanged when it changed meanwhile: read again).
func (s *Store) UpdateSpace(ctx context.Context, before, after domain.Space, audit domain.AuditEntry) (domain.Space, error) {
	cond, vals := "version = :v", table.Item{":v": table.N(int64(before.Version))}
	if before.Version == 0 {
		cond = "attribute_exists(PK) AND (attribute_not_exists(version) OR version = :v)"
	}
	after.Version = before.Version + 1
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newSpaceItem(after)), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "update space", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return after, err
	}
	return before, ErrSpaceChanged
}

// ErrSpaceChanged is returned when a space changed after it was read.
var ErrSpaceChanged = &domain.Error{Code: domain.ECONFLICT, Message: "The space changed meanwhile; retry."}

// RemoveSpaceAdmin takes an account's admin item off a space, with its audit
// entry, in one transaction (ENOTFOUND when the account is not an admin of
// the space).
func (s *Store) RemoveSpaceAdmin(ctx context.Context, orgID, siteID, space, accountID string, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.SpacePK(orgID, siteID, space), table.SpaceAdminSK(accountID)), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	}
	err := s.Transact(ctx, "remove space admin", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	return domain.Errorf(domain.ENOTFOUND, "%s is not an admin of space %s.", accountID, space)
}

// AssignSpace writes a guest's change of space in one transaction: their
// Confluence access item under the version it was read at, a check that
// the caller's admin item still exists on each space of AdminOf (a space
// admin acts on their spaces only; checked in the write, not read first) and
// the audit entry. Errors: domain.ErrAccessChanged (read again), EFORBIDDEN
// naming the space the caller does not administer.
func (s *Store) AssignSpace(ctx context.Context, ch domain.SpaceAssignment) error {
	k := domain.SiteProductKey(ch.SiteID, domain.Confluence)
	ch.Before.Product, ch.After.Product = domain.Confluence, domain.Confluence
	w, _ := s.accessWrite(ch.User, k, ch.Before, true, ch.After, true)
	tx := []types.TransactWriteItem{w}
	for _, sp := range ch.AdminOf {
		tx = append(tx, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.Name,
			Key: table.Key(table.SpacePK(ch.User.OrgID, ch.SiteID, sp), table.SpaceAdminSK(ch.Admin)), ConditionExpression: aws.String("attribute_exists(PK)")}})
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(ch.Audit))}})
	err := s.Transact(ctx, "assign space", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	for j, sp := range ch.AdminOf {
		if c.Code(1+j) == "ConditionalCheckFailed" {
			return domain.Errorf(domain.EFORBIDDEN, "You are not an admin of space %s: a space admin assigns, moves and unassigns guests of their own spaces only (a move needs both spaces).", sp)
		}
	}
	return domain.ErrAccessChanged
}
