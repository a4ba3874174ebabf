package invitationsdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// InvitationByToken finds the invitation behind a token hash (ENOTFOUND if none): the token item, then the
// invitation it names (two GetItems).
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (domain.Invitation, error) {
	got, err := s.Get(ctx, table.TokenPK(tokenHash), table.SKToken)
	if err != nil || got == nil {
		return domain.Invitation{}, table.NotFoundOr(err, "No such invitation.")
	}
	tok, err := store.DecodeToken(got)
	if err != nil {
		return domain.Invitation{}, err
	}
	got, err = s.Get(ctx, table.UserPK(tok.OrgID, tok.AccountID), table.InviteSK(tok.InvitationID))
	if err != nil || got == nil {
		return domain.Invitation{}, table.NotFoundOr(err, "No such invitation.")
	}
	inv, err := store.DecodeInvitation(got)
	if err != nil {
		return domain.Invitation{}, err
	}
	if inv.TokenHash != tokenHash {
		// A stale token item of a re-sent invitation: the link was replaced.
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation.")
	}
	return inv, nil
}

// AcceptInvitation consumes a token in one transaction: the token is
// marked used, the invitation rewritten accepted (whole, under the version
// read, so it leaves the due-work index: nothing releases an accepted
// invitation), the account activated and the email guard updated.
// ECONFLICT if it was used, revoked, expired or released meanwhile. An
// invitation whose delivery was recorded between the read and the write
// (its version moved, its token and expiry did not) is read again and the
// accept retried.
func (s *Store) AcceptInvitation(ctx context.Context, inv domain.Invitation, at time.Time, audit domain.AuditEntry) error {
	for attempt := 1; ; attempt++ {
		err := s.acceptOnce(ctx, inv, at, audit)
		var c *table.Cancelled
		if !errors.As(err, &c) {
			return err
		}
		gone := domain.Errorf(domain.ECONFLICT, "This invitation has already been used or is no longer valid.")
		if c.Code(0) == "ConditionalCheckFailed" || c.Code(1) != "ConditionalCheckFailed" || attempt == 3 {
			return gone
		}
		got, err := s.Get(ctx, table.UserPK(inv.OrgID, inv.AccountID), table.InviteSK(inv.ID))
		if err != nil || got == nil {
			return table.NotFoundOr(err, "This invitation has already been used or is no longer valid.")
		}
		fresh, err := store.DecodeInvitation(got)
		if err != nil {
			return err
		}
		if fresh.Status != domain.InvitationPending || fresh.TokenHash != inv.TokenHash || fresh.Expired(at) || fresh.Version == inv.Version {
			return gone
		}
		inv = fresh
	}
}

// acceptOnce is one attempt of AcceptInvitation; its transaction's first
// item is the token, its second the invitation.
func (s *Store) acceptOnce(ctx context.Context, inv domain.Invitation, at time.Time, audit domain.AuditEntry) error {
	accepted := inv
	accepted.Status, accepted.AcceptedAt = domain.InvitationAccepted, at.UTC()
	tx := []types.TransactWriteItem{
		// The token item stays (marked used) so a reused link says "already
		// accepted" rather than "unknown"; TTL removes it later.
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.TokenPK(inv.TokenHash), table.SKToken),
			UpdateExpression:          aws.String("SET usedAt = :at"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(usedAt)"),
			ExpressionAttributeValues: table.Item{":at": table.S(at.UTC().Format(time.RFC3339Nano))},
		}},
		{Put: &types.Put{
			TableName: &s.Name, Item: table.Marshal(store.NewInvitationItem(accepted, at, inv.Version+1)),
			ConditionExpression:       aws.String("version = :v AND #s = :pending AND tokenHash = :h AND expiresEpoch > :now"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":v": table.N(int64(inv.Version)), ":pending": table.S(string(domain.InvitationPending)), ":h": table.S(inv.TokenHash), ":now": table.N(at.Unix())},
		}},
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.UserPK(inv.OrgID, inv.AccountID), table.SKProfile),
			UpdateExpression:          aws.String("SET #s = :active"),
			ConditionExpression:       aws.String("#s = :invited"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":active": table.S(string(domain.UserActive)), ":invited": table.S(string(domain.UserInvited))},
		}},
		// The email guard remembers the invitation is accepted, so a later
		// invite of the address says "already a member", not "invited".
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.EmailPK(inv.OrgID, inv.Email), table.SKEmail),
			UpdateExpression:          aws.String("SET invitationStatus = :accepted"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: table.Item{":accepted": table.S(string(domain.InvitationAccepted))},
		}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(store.NewAuditItem(audit))}},
	}
	return s.Transact(ctx, "accept invitation", tx)
}

// DueInvitations returns undelivered invitations whose email is due at now,
// oldest first, at most limit: a Query per shard of the sparse due-work index
// (table.GSI3), so the cost follows the number due, not the size of the table.
func (s *Store) DueInvitations(ctx context.Context, now time.Time, limit int) ([]domain.Invitation, error) {
	return s.due(ctx, "DUE#EMAIL#%d", "due emails", now, limit)
}

// due reads at most limit invitations due at now from the due-work index's
// shards named by the format pk (a Query per shard, GSI3SK <= now, pages of
// up to 100, each page's invitations read by one BatchGetItem: the index
// holds keys only), oldest first within a shard.
func (s *Store) due(ctx context.Context, pk, what string, now time.Time, limit int) ([]domain.Invitation, error) {
	var out []domain.Invitation
	upper := now.UTC().Format(time.RFC3339) + "#\uffff"
	for sh := 0; sh < table.DueShards && len(out) < limit; sh++ {
		var start table.Item
		for len(out) < limit {
			res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
				TableName:                 &s.Name,
				IndexName:                 aws.String(table.GSI3),
				KeyConditionExpression:    aws.String("GSI3PK = :pk AND GSI3SK <= :upper"),
				ExpressionAttributeValues: table.Item{":pk": table.S(fmt.Sprintf(pk, sh)), ":upper": table.S(upper)},
				Limit:                     aws.Int32(int32(min(limit-len(out), 100))),
				ExclusiveStartKey:         start,
			})
			if err != nil {
				return nil, fmt.Errorf("store: query %s: %w", what, err)
			}
			items, err := s.dir.ReadDue(ctx, res.Items)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				inv, err := store.DecodeInvitation(it)
				if err != nil {
					return nil, err
				}
				out = append(out, inv)
			}
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			start = res.LastEvaluatedKey
		}
	}
	return out, nil
}
