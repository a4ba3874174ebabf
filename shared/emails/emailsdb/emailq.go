package emailsdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The email queue's outbox (package emailq, docs/data-model.md "Email").

// sendWindowPK is the partition of the account-wide send-rate counters:
// one item per UTC second, SK SEC#<unix second>.
const sendWindowPK = "EMAILRATE"

// sendWindowTTL keeps a second's counter an hour (TTL removes it after).
const sendWindowTTL = time.Hour

// InvitationForEmail reads one invitation for the email sender (nil when
// there is none): one BatchGetItem of one key.
func (s *Store) InvitationForEmail(ctx context.Context, orgID, accountID, id string) (*domain.Invitation, error) {
	inv, err := s.dir.Invitation(ctx, orgID, accountID, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

// ClaimInvitationEmail takes an invitation's email for one sender until
// now+lease, with a new token (its item Put, attribute_not_exists; the
// previous token's item deleted, so its link resolves to nothing), in one
// TransactWriteItems. The
// invitation's UpdateItem is conditioned on the version read, pending, and
// its DUE#EMAIL entry being claimable: due no later than now+invitationsdb.SendGrace (a
// new invitation is due invitationsdb.SendGrace after its write, the hand-off's grace;
// a claim moves the entry to now+lease+invitationsdb.SendGrace, so no second claim
// succeeds before the lease ends, and the sweep finds the email again if
// the sender died). ECONFLICT when any condition fails.
func (s *Store) ClaimInvitationEmail(ctx context.Context, inv domain.Invitation, newHash string, now time.Time, lease time.Duration) (domain.Invitation, error) {
	next := inv
	next.TokenHash = newHash
	due := now.Add(lease + invitationsdb.SendGrace)
	if !inv.ExpiresAt.IsZero() && due.After(inv.ExpiresAt) {
		due = inv.ExpiresAt
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(store.NewTokenItem(next)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		// The previous token (never emailed, or emailed and refused) goes:
		// one token item per invitation, so a removal leaves no orphan.
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.TokenPK(inv.TokenHash), table.SKToken)}},
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.UserPK(inv.OrgID, inv.AccountID), table.InviteSK(inv.ID)),
			UpdateExpression:         aws.String("SET tokenHash = :h, GSI3SK = :due, version = version + :one"),
			ConditionExpression:      aws.String("version = :v AND #s = :pending AND delivery <> :sent AND GSI3PK = :pk AND GSI3SK <= :upper"),
			ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":h": table.S(newHash), ":one": table.N(1), ":v": table.N(int64(inv.Version)),
				":pending": table.S(string(domain.InvitationPending)), ":sent": table.S(string(domain.DeliverySent)),
				":pk": table.S(table.DueEmailPK(inv.ID)), ":due": table.S(table.DueSK(due, inv.OrgID, inv.ID)),
				":upper": table.S(now.Add(invitationsdb.SendGrace).UTC().Format(time.RFC3339) + "#\uffff")},
		}},
	}
	err := s.Transact(ctx, "claim invitation email", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return inv, domain.Errorf(domain.ECONFLICT, "The invitation's email is claimed or changed.")
	}
	if err != nil {
		return inv, err
	}
	next.Version++
	return next, nil
}

// TakeSendSlot counts one email in the account-wide counter of the UTC
// second (Unix seconds) if fewer than rate were counted there: one
// UpdateItem, ADD sends 1 conditioned on sends < rate (or no counter yet),
// so concurrent senders cannot overfill a second. false: the second is full.
func (s *Store) TakeSendSlot(ctx context.Context, second int64, rate int) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Name,
		Key:                       table.Key(sendWindowPK, "SEC#"+strconv.FormatInt(second, 10)),
		UpdateExpression:          aws.String("ADD sends :one SET #type = :type, #ttl = :ttl"),
		ConditionExpression:       aws.String("attribute_not_exists(sends) OR sends < :rate"),
		ExpressionAttributeNames:  map[string]string{"#type": "type", "#ttl": "ttl"},
		ExpressionAttributeValues: table.Item{":one": table.N(1), ":rate": table.N(int64(rate)), ":type": table.S(store.TypeSendWindow), ":ttl": table.N(second + int64(sendWindowTTL/time.Second))},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: take send slot: %w", err)
	}
	return true, nil
}

// SendWindow adapts TakeSendSlot to emailq.Window.
type SendWindow struct{ Store *Store }

// TakeSlot is Store.TakeSendSlot.
func (w SendWindow) TakeSlot(ctx context.Context, second int64, rate int) (bool, error) {
	return w.Store.TakeSendSlot(ctx, second, rate)
}

// SaveDeliveries records delivery outcomes, normally in one
// TransactWriteItems. Each invitation is rewritten whole (not UpdateItem
// REMOVE, which minidyn ignores) so its due-work index entry disappears once
// sent, under its version, so a concurrent accept is never overwritten: an
// invitation that changed meanwhile is left as it is (and reported by
// index in changed); the others are written.
func (s *Store) SaveDeliveries(ctx context.Context, ds []domain.Delivery) (changed []int, err error) {
	for start := 0; start < len(ds); start += table.MaxTransactItems {
		live := make([]int, 0, table.MaxTransactItems)
		for i := start; i < min(len(ds), start+table.MaxTransactItems); i++ {
			live = append(live, i)
		}
		for len(live) > 0 {
			tx := make([]types.TransactWriteItem, 0, len(live))
			for _, i := range live {
				inv := ds[i].Invitation
				tx = append(tx, types.TransactWriteItem{Put: &types.Put{
					TableName:                 &s.Name,
					Item:                      table.Marshal(store.NewInvitationItem(inv, ds[i].RetryAt, inv.Version+1)),
					ConditionExpression:       aws.String("version = :v AND #s = :pending"),
					ExpressionAttributeNames:  map[string]string{"#s": "status"},
					ExpressionAttributeValues: table.Item{":v": table.N(int64(inv.Version)), ":pending": table.S(string(domain.InvitationPending))},
				}})
			}
			err := s.Transact(ctx, "save deliveries", tx)
			var c *table.Cancelled
			if !errors.As(err, &c) {
				if err != nil {
					return changed, err
				}
				break
			}
			var keep []int
			for j, i := range live {
				if c.Code(j) == "ConditionalCheckFailed" {
					changed = append(changed, i)
				} else {
					keep = append(keep, i)
				}
			}
			if len(keep) == len(live) {
				return changed, fmt.Errorf("store: save deliveries: cancelled without a reason")
			}
			live = keep
		}
	}
	return changed, nil
}
