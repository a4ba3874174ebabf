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

// What the invitations' and the emails' table code (packages invitationsdb
// and emailsdb) use of the items and reads several capabilities share: the
// items stay declared here, once; these are their exported doors.

// MaxTransactItems is DynamoDB's limit on the items of one transaction
// (table.MaxTransactItems).
const MaxTransactItems = table.MaxTransactItems

// TypeSendWindow is the type of the account-wide counter of emails sent in
// one UTC second.
const TypeSendWindow = typeSendWindow

// Mechanics returns the table mechanics the store reads and writes through
// (shared: a capability's store built over it retries and gates alike).
func (s *Store) Mechanics() *table.Table { return s.mechanics }

// Site reads one site with its billing counters.
func (s *Store) Site(ctx context.Context, orgID, siteID string) (domain.Site, error) {
	it, err := s.Get(ctx, table.OrgPK(orgID), table.SiteSK(siteID))
	if err != nil {
		return domain.Site{}, err
	}
	if it == nil {
		return domain.Site{}, domain.Errorf(domain.ENOTFOUND, "No such site.")
	}
	si, err := decodeSite(it)
	return si.domain(), err
}

// DecodeOrg decodes an org item.
func DecodeOrg(it table.Item) (domain.Org, error) {
	o, err := decodeOrg(it)
	if err != nil {
		return domain.Org{}, err
	}
	return o.domain(), nil
}

// DecodeUser decodes a user's profile item.
func DecodeUser(it table.Item) (domain.User, error) {
	u, err := decodeUser(it)
	if err != nil {
		return domain.User{}, err
	}
	return u.domain(), nil
}

// DecodeSite decodes a site item with its counters.
func DecodeSite(it table.Item) (domain.Site, error) {
	si, err := decodeSite(it)
	if err != nil {
		return domain.Site{}, err
	}
	return si.domain(), nil
}

// DecodeGroup decodes a group item.
func DecodeGroup(it table.Item) (domain.Group, error) {
	g, err := decodeGroup(it)
	if err != nil {
		return domain.Group{}, err
	}
	return g.domain(), nil
}

// DecodeEmailGuard decodes an email guard item as the account it names;
// guard is false when the item is of another type.
func DecodeEmailGuard(it table.Item) (e domain.ExistingAccount, guard bool, err error) {
	g, err := decodeEmail(it)
	if err != nil {
		return domain.ExistingAccount{}, false, err
	}
	return g.existing(), g.Type == typeEmail, nil
}

// DecodeSuppression decodes a suppression item.
func DecodeSuppression(it table.Item) (domain.Suppression, error) { return decodeSuppression(it) }

// SuppressedPK is the partition of an org's suppressed addresses.
func SuppressedPK(orgID string) string { return suppressedPK(orgID) }

// DecodeInvitation decodes an invitation item.
func DecodeInvitation(it table.Item) (domain.Invitation, error) {
	inv, err := decodeInvitation(it)
	if err != nil {
		return domain.Invitation{}, err
	}
	return inv.domain(), nil
}

// TokenRef is what a token item names: the invitation behind a link.
type TokenRef struct {
	OrgID        string
	AccountID    string
	InvitationID string
}

// DecodeToken decodes a token item.
func DecodeToken(it table.Item) (TokenRef, error) {
	t, err := decodeToken(it)
	return TokenRef{OrgID: t.OrgID, AccountID: t.AccountID, InvitationID: t.InvitationID}, err
}

// DecodeInvRef decodes an invitation's reference item: the account and the
// site of the invitation.
func DecodeInvRef(it table.Item) (accountID, siteID string, err error) {
	r, err := decodeInvRef(it)
	return r.AccountID, r.SiteID, err
}

// NewEmailItem is the email guard of an account (and its invitation).
func NewEmailItem(u domain.User, inv *domain.Invitation) table.Encoder { return newEmailItem(u, inv) }

// NewUserItem is an account's profile item.
func NewUserItem(u domain.User) table.Encoder { return newUserItem(u) }

// NewAccessItem is an account's access item on a site.
func NewAccessItem(u domain.User, siteID string, a domain.Access) table.Encoder {
	return newAccessItem(u, siteID, a)
}

// NewMemberItem is an account's membership of a group.
func NewMemberItem(u domain.User, group string) table.Encoder { return newMemberItem(u, group) }

// NewInvitationItem is an invitation's item at version, due for its email
// at retryAt while undelivered.
func NewInvitationItem(inv domain.Invitation, retryAt time.Time, version int) table.Encoder {
	return newInvitationItem(inv, retryAt, version)
}

// NewTokenItem is the token item of an invitation's link.
func NewTokenItem(inv domain.Invitation) table.Encoder { return newTokenItem(inv) }

// NewInvRefItem is an invitation's reference item (its account and site).
func NewInvRefItem(inv domain.Invitation) table.Encoder { return newInvRefItem(inv) }

// NewAuditItem is an audit entry's item.
func NewAuditItem(a domain.AuditEntry) table.Encoder { return newAuditItem(a) }

// EncodeCursor is a list cursor of the key k.
func EncodeCursor(k table.Item) string { return encodeCursor(k) }

// DecodeCursor is the key of a list cursor (EINVALID when it is not one).
func DecodeCursor(c string) (table.Item, error) { return decodeCursor(c) }

// CursorFits reports whether start is a key of the Query in's list.
func CursorFits(in *dynamodb.QueryInput, start table.Item) bool { return cursorFits(in, start) }

// BadCursor is the error of a cursor this list did not give.
func BadCursor() error { return badCursor() }

// ReadDue returns the items behind due-work index entries, those whose
// entry moved or that are gone left out.
func (s *Store) ReadDue(ctx context.Context, entries []table.Item) ([]table.Item, error) {
	return s.dueItems(ctx, entries)
}

// AccountPartition reads an account's whole partition; found is false when
// it has no profile.
func (s *Store) AccountPartition(ctx context.Context, orgID, accountID string) (rec *domain.UserRecord, found bool, err error) {
	return s.accountPartition(ctx, orgID, accountID)
}

// ReleaseInvitation is the revoke transaction of an invitation with the
// final status, under the condition cond (with its values vals).
func (s *Store) ReleaseInvitation(ctx context.Context, what string, rv domain.Revocation, status domain.InvitationStatus, cond string, vals table.Item) error {
	return s.releaseInvitation(ctx, what, rv, status, cond, vals)
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
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newTokenItem(next)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.UserPK(inv.OrgID, inv.AccountID), table.InviteSK(inv.ID)),
			UpdateExpression:          aws.String("SET tokenHash = :h, version = version + :one"),
			ConditionExpression:       aws.String("version = :v AND #s = :pending"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":h": table.S(newHash), ":one": table.N(1), ":v": table.N(int64(inv.Version)), ":pending": table.S(string(domain.InvitationPending))},
		}},
	}
	err := s.Transact(ctx, "rotate token", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return inv, domain.Errorf(domain.ECONFLICT, "The invitation changed meanwhile.")
	}
	if err != nil {
		return inv, err
	}
	next.Version++
	return next, nil
}

// siteFrom returns the site as the refused counter update saw it, reading it
// when the server did not return it.
func (s *Store) siteFrom(ctx context.Context, c *table.Cancelled, owner []int, orgID, siteID string) (domain.Site, error) {
	for j, o := range owner {
		if o == -1 {
			if old := c.Old(j); old != nil {
				si, err := decodeSite(old)
				return si.domain(), err
			}
		}
	}
	return s.Site(ctx, orgID, siteID)
}

// SiteFrom returns the site as the refused counter update saw it (the
// transaction item whose owner is -1), reading it when the server did not
// return it.
func (s *Store) SiteFrom(ctx context.Context, c *table.Cancelled, owner []int, orgID, siteID string) (domain.Site, error) {
	return s.siteFrom(ctx, c, owner, orgID, siteID)
}
