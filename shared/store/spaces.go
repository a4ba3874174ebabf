package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// CreateSpace registers a space of a site (A12) with its audit entry, in one
// transaction: the space item is put with attribute_not_exists (ECONFLICT
// when the key is taken on the site) under a check that the site exists
// (ENOTFOUND otherwise).
func (s *Store) CreateSpace(ctx context.Context, sp domain.Space, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(orgPK(sp.OrgID), siteSK(sp.SiteID)), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(newSpaceItem(sp)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(newAuditItem(audit))}},
	}
	err := s.transact(ctx, "create space", tx)
	var c *cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.code(0) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	}
	return domain.Errorf(domain.ECONFLICT, "Space %s already exists on site %s.", sp.Key, sp.SiteID)
}

// Space reads one space (ENOTFOUND if none).
func (s *Store) Space(ctx context.Context, orgID, siteID, key string) (domain.Space, error) {
	got, err := s.getItem(ctx, spacePK(orgID, siteID, key), skSpace)
	if err != nil || got == nil {
		return domain.Space{}, notFoundOr(err, "No such space on this site.")
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
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(spacePK(orgID, siteID, space), skSpace), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(userPK(orgID, accountID), skProfile), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(newSpaceAdminItem(orgID, siteID, space, accountID, audit.At))}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(newAuditItem(audit))}},
	}
	err := s.transact(ctx, "add space admin", tx)
	var c *cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.code(0) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such space on this site.")
	}
	if c.code(1) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	return fmt.Errorf("store: add space admin: %w", err)
}
