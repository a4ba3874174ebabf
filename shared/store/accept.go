package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// InvitationByToken finds the invitation behind a token hash (ENOTFOUND if none): the token item, then the
// invitation it names (two GetItems).
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (domain.Invitation, error) {
	got, err := s.getItem(ctx, tokenPK(tokenHash), skToken)
	if err != nil || got == nil {
		return domain.Invitation{}, notFoundOr(err, "No such invitation.")
	}
	tok, err := decodeToken(got)
	if err != nil {
		return domain.Invitation{}, err
	}
	got, err = s.getItem(ctx, userPK(tok.OrgID, tok.AccountID), inviteSK(tok.InvitationID))
	if err != nil || got == nil {
		return domain.Invitation{}, notFoundOr(err, "No such invitation.")
	}
	it, err := decodeInvitation(got)
	if err != nil {
		return domain.Invitation{}, err
	}
	if it.TokenHash != tokenHash {
		// A stale token item of a re-sent invitation: the link was replaced.
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation.")
	}
	return it.domain(), nil
}

// AcceptInvitation consumes a token in one transaction: the token is
// marked used, the invitation accepted, the account activated and the email
// guard updated. ECONFLICT if it was used, revoked or changed meanwhile.
func (s *Store) AcceptInvitation(ctx context.Context, inv domain.Invitation, at time.Time, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		// The token item stays (marked used) so a reused link says "already
		// accepted" rather than "unknown"; TTL removes it later.
		{Update: &types.Update{
			TableName: &s.table, Key: key(tokenPK(inv.TokenHash), skToken),
			UpdateExpression:          aws.String("SET usedAt = :at"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(usedAt)"),
			ExpressionAttributeValues: item{":at": str(at.UTC().Format(time.RFC3339Nano))},
		}},
		{Update: &types.Update{
			TableName: &s.table, Key: key(userPK(inv.OrgID, inv.AccountID), inviteSK(inv.ID)),
			UpdateExpression:          aws.String("SET #s = :accepted, acceptedAt = :at, version = version + :one"),
			ConditionExpression:       aws.String("#s = :pending AND tokenHash = :h AND expiresEpoch > :now"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: item{":accepted": str(string(domain.InvitationAccepted)), ":pending": str(string(domain.InvitationPending)), ":h": str(inv.TokenHash), ":at": str(at.UTC().Format(time.RFC3339Nano)), ":now": num(at.Unix()), ":one": num(1)},
		}},
		{Update: &types.Update{
			TableName: &s.table, Key: key(userPK(inv.OrgID, inv.AccountID), skProfile),
			UpdateExpression:          aws.String("SET #s = :active"),
			ConditionExpression:       aws.String("#s = :invited"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: item{":active": str(string(domain.UserActive)), ":invited": str(string(domain.UserInvited))},
		}},
		// The email guard remembers the invitation is accepted, so a later
		// invite of the address says "already a member", not "invited".
		{Update: &types.Update{
			TableName: &s.table, Key: key(emailPK(inv.OrgID, inv.Email), skEmail),
			UpdateExpression:          aws.String("SET invitationStatus = :accepted"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: item{":accepted": str(string(domain.InvitationAccepted))},
		}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(newAuditItem(audit))}},
	}
	err := s.transact(ctx, "accept invitation", tx)
	var c *cancelled
	if errors.As(err, &c) {
		return domain.Errorf(domain.ECONFLICT, "This invitation has already been used or is no longer valid.")
	}
	return err
}

// DueInvitations returns undelivered invitations whose email is due at now,
// oldest first, at most limit: a Query per shard of the sparse due-work index
// (GSI3), so the cost follows the number due, not the size of the table.
func (s *Store) DueInvitations(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error) {
	var out []domain.Invitation
	upper := now.UTC().Format(time.RFC3339) + "#\uffff"
	for sh := 0; sh < DueShards && len(out) < limit; sh++ {
		var start item
		for len(out) < limit {
			res, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 &s.table,
				IndexName:                 aws.String(GSI3),
				KeyConditionExpression:    aws.String("GSI3PK = :pk AND GSI3SK <= :upper"),
				ExpressionAttributeValues: item{":pk": str(fmt.Sprintf("DUE#EMAIL#%d", sh)), ":upper": str(upper)},
				Limit:                     aws.Int32(int32(min(limit-len(out), 100))),
				ExclusiveStartKey:         start,
			})
			if err != nil {
				return nil, fmt.Errorf("store: query due emails: %w", err)
			}
			for _, it := range res.Items {
				inv, err := decodeInvitation(it)
				if err != nil {
					return nil, err
				}
				out = append(out, inv.domain())
			}
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			start = res.LastEvaluatedKey
		}
	}
	return out, nil
}

// RotateToken replaces an invitation's token (a retried or re-sent email
// carries a new link; the old one stops working) in one transaction: the new
// token item, and the invitation under its version. The old token item is
// left to TTL; it no longer matches the invitation's hash, so it resolves to
// nothing.
func (s *Store) RotateToken(ctx context.Context, inv domain.Invitation, newHash string) (domain.Invitation, error) {
	next := inv
	next.TokenHash = newHash
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: marshal(newTokenItem(next)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{
			TableName: &s.table, Key: key(userPK(inv.OrgID, inv.AccountID), inviteSK(inv.ID)),
			UpdateExpression:          aws.String("SET tokenHash = :h, version = version + :one"),
			ConditionExpression:       aws.String("version = :v AND #s = :pending"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: item{":h": str(newHash), ":one": num(1), ":v": num(int64(inv.Version)), ":pending": str(string(domain.InvitationPending))},
		}},
	}
	err := s.transact(ctx, "rotate token", tx)
	var c *cancelled
	if errors.As(err, &c) {
		return inv, domain.Errorf(domain.ECONFLICT, "The invitation changed meanwhile.")
	}
	if err != nil {
		return inv, err
	}
	next.Version++
	return next, nil
}
