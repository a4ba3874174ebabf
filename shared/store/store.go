package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Store reads and writes the single table.
type Store struct {
	db    *dynamodb.Client
	table string
}

var _ domain.InviteStore = (*Store)(nil)

// New returns a store over the named table.
func New(db *dynamodb.Client, table string) *Store { return &Store{db: db, table: table} }

// Table returns the table name.
func (s *Store) Table() string { return s.table }

type item = map[string]types.AttributeValue

func key(pk, sk string) item {
	return item{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func marshal(v any) item {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		// Only our own item structs are marshalled; failing here is a programming error.
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return m
}

// batchGet reads up to 100 keys, following UnprocessedKeys, and returns the
// items found by "PK\x00SK".
func (s *Store) batchGet(ctx context.Context, keys []item) (map[string]item, error) {
	out := map[string]item{}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return nil, errors.New("store: batch get: keys left unprocessed")
			}
			time.Sleep(time.Duration(1<<attempt) * 10 * time.Millisecond)
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("store: batch get: %w", err)
		}
		for _, it := range res.Responses[s.table] {
			out[pkSK(it)] = it
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

func pkSK(it item) string {
	pk, _ := it["PK"].(*types.AttributeValueMemberS)
	sk, _ := it["SK"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

func unmarshal[T any](it item) (T, error) {
	var v T
	if err := attributevalue.UnmarshalMap(it, &v); err != nil {
		return v, fmt.Errorf("store: decode %T: %w", v, err)
	}
	return v, nil
}

// LoadScope implements domain.InviteStore with one BatchGetItem.
func (s *Store) LoadScope(ctx context.Context, orgID, siteID, callerID string) (domain.Scope, error) {
	var sc domain.Scope
	ks := []item{key(orgPK(orgID), skOrg), key(userPK(orgID, callerID), skProfile)}
	if siteID != "" {
		ks = append(ks, key(orgPK(orgID), siteSK(siteID)))
	}
	got, err := s.batchGet(ctx, ks)
	if err != nil {
		return sc, err
	}
	if it, ok := got[orgPK(orgID)+"\x00"+skOrg]; ok {
		o, err := unmarshal[orgItem](it)
		if err != nil {
			return sc, err
		}
		d := o.domain()
		sc.Org = &d
	}
	if it, ok := got[userPK(orgID, callerID)+"\x00"+skProfile]; ok {
		u, err := unmarshal[userItem](it)
		if err != nil {
			return sc, err
		}
		d := u.domain()
		sc.Caller = &d
	}
	if it, ok := got[orgPK(orgID)+"\x00"+siteSK(siteID)]; ok && siteID != "" {
		si, err := unmarshal[siteItem](it)
		if err != nil {
			return sc, err
		}
		d := si.domain()
		sc.Site = &d
	}
	return sc, nil
}

// FindAccounts implements domain.InviteStore with one BatchGetItem of the
// email guard items.
func (s *Store) FindAccounts(ctx context.Context, orgID string, emails []string) (map[string]string, error) {
	out := map[string]string{}
	if len(emails) == 0 {
		return out, nil
	}
	ks := make([]item, 0, len(emails))
	for _, e := range emails {
		ks = append(ks, key(emailPK(orgID, e), skEmail))
	}
	got, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, err
	}
	for _, it := range got {
		e, err := unmarshal[emailItem](it)
		if err != nil {
			return nil, err
		}
		out[e.Email] = e.AccountID
	}
	return out, nil
}

// Groups implements domain.InviteStore with one BatchGetItem.
func (s *Store) Groups(ctx context.Context, orgID string, names []string) (map[string]domain.Group, error) {
	out := map[string]domain.Group{}
	if len(names) == 0 {
		return out, nil
	}
	ks := make([]item, 0, len(names))
	for _, n := range names {
		ks = append(ks, key(orgPK(orgID), groupSK(n)))
	}
	got, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, err
	}
	for _, it := range got {
		g, err := unmarshal[groupItem](it)
		if err != nil {
			return nil, err
		}
		out[g.Name] = g.domain()
	}
	return out, nil
}

// Site implements domain.InviteStore.
func (s *Store) Site(ctx context.Context, orgID, siteID string) (domain.Site, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(orgPK(orgID), siteSK(siteID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return domain.Site{}, fmt.Errorf("store: get site: %w", err)
	}
	if res.Item == nil {
		return domain.Site{}, domain.Errorf(domain.ENOTFOUND, "No such site.")
	}
	it, err := unmarshal[siteItem](res.Item)
	return it.domain(), err
}

// SendGrace is how long a new invitation's email belongs to the request that
// wrote it; after that, if still undelivered, the retry job takes it over.
const SendGrace = 5 * time.Minute

// counterUpdate adds guests and paid users to a site and keeps GuestSlots =
// 5×PaidUsers−Guests. When guests are added, the condition GuestSlots ≥
// guests−5×paid refuses the write that would pass the limit, however many
// requests race.
func (s *Store) counterUpdate(orgID, siteID string, guests, paid int64) *types.Update {
	u := &types.Update{
		TableName:        &s.table,
		Key:              key(orgPK(orgID), siteSK(siteID)),
		UpdateExpression: aws.String("SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d"),
		ExpressionAttributeValues: item{
			":p": num(paid), ":g": num(guests), ":d": num(domain.GuestsPerPaidUser*paid - guests),
		},
		ConditionExpression: aws.String("attribute_exists(PK)"),
	}
	if guests > 0 {
		u.ConditionExpression = aws.String("attribute_exists(PK) AND guestSlots >= :need")
		u.ExpressionAttributeValues[":need"] = num(guests - domain.GuestsPerPaidUser*paid)
	}
	return u
}

// CreateInvitations implements domain.InviteStore: one TransactWriteItems for
// the whole batch (the caller keeps batches within DynamoDB's 100 items).
func (s *Store) CreateInvitations(ctx context.Context, siteID string, batch []domain.NewInvitation) error {
	if len(batch) == 0 {
		return nil
	}
	var (
		tx           []types.TransactWriteItem
		owner        []int // invitee index of each transaction item, -1 for the counters
		guests, paid int64
	)
	put := func(i int, v any, cond string) {
		p := &types.Put{TableName: &s.table, Item: marshal(v)}
		if cond != "" {
			p.ConditionExpression = aws.String(cond)
		}
		tx = append(tx, types.TransactWriteItem{Put: p})
		owner = append(owner, i)
	}
	orgID := batch[0].User.OrgID
	for i, n := range batch {
		put(i, newEmailItem(n.User), "attribute_not_exists(PK)")
		put(i, newUserItem(n.User), "attribute_not_exists(PK)")
		for _, a := range n.Access {
			put(i, newAccessItem(n.User, siteID, a), "")
		}
		for _, g := range n.Groups {
			put(i, newMemberItem(n.User, g), "")
		}
		put(i, newInvitationItem(n.Invitation, n.Invitation.CreatedAt.Add(SendGrace), n.Invitation.Version), "attribute_not_exists(PK)")
		put(i, newTokenItem(n.Invitation), "attribute_not_exists(PK)")
		put(i, newAuditItem(n.Audit), "")
		switch n.Invitation.Kind {
		case domain.KindGuest:
			guests++
		case domain.KindPaid:
			paid++
		}
	}
	if guests > 0 || paid > 0 {
		tx = append(tx, types.TransactWriteItem{Update: s.counterUpdate(orgID, siteID, guests, paid)})
		owner = append(owner, -1)
	}
	if len(tx) > 100 {
		return domain.Errorf(domain.EINVALID, "This request writes %d items; an all-or-nothing invite is limited to 100. Invite fewer people or groups at once.", len(tx))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for j, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) != "ConditionalCheckFailed" || j >= len(owner) {
				continue
			}
			if owner[j] < 0 {
				return &domain.InviteRefused{Index: 0, Outcome: domain.OutcomeGuestLimit}
			}
			return &domain.InviteRefused{Index: owner[j], Outcome: domain.OutcomeAlreadyMember}
		}
	}
	return fmt.Errorf("store: create invitations: %w", err)
}

// SaveDelivery implements domain.InviteStore. It rewrites the whole invitation
// (not UpdateItem REMOVE) so the due-work index entry disappears once sent, on
// every DynamoDB implementation; the version condition keeps a concurrent
// accept from being overwritten.
func (s *Store) SaveDelivery(ctx context.Context, inv domain.Invitation, retryAt time.Time) error {
	it := newInvitationItem(inv, retryAt, inv.Version+1)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      marshal(it),
		ConditionExpression:       aws.String("version = :v AND #s = :pending"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":v": num(int64(inv.Version)), ":pending": str(string(domain.InvitationPending))},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.Errorf(domain.ECONFLICT, "The invitation changed while its email was being sent.")
	}
	if err != nil {
		return fmt.Errorf("store: save delivery: %w", err)
	}
	return nil
}

// InvitationByToken implements domain.InviteStore: the token item, then the
// invitation it names (two GetItems).
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (domain.Invitation, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(tokenPK(tokenHash), skToken), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return domain.Invitation{}, fmt.Errorf("store: get token: %w", err)
	}
	if res.Item == nil {
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation.")
	}
	tok, err := unmarshal[tokenItem](res.Item)
	if err != nil {
		return domain.Invitation{}, err
	}
	res, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(userPK(tok.OrgID, tok.AccountID), inviteSK(tok.InvitationID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return domain.Invitation{}, fmt.Errorf("store: get invitation: %w", err)
	}
	if res.Item == nil {
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation.")
	}
	it, err := unmarshal[invitationItem](res.Item)
	if err != nil {
		return domain.Invitation{}, err
	}
	if it.TokenHash != tokenHash {
		// A stale token item of a re-sent invitation: the link was replaced.
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation.")
	}
	return it.domain(), nil
}

// AcceptInvitation implements domain.InviteStore in one transaction: the
// token is marked used, the invitation accepted, the account activated.
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
		{Put: &types.Put{TableName: &s.table, Item: marshal(newAuditItem(audit))}},
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return domain.Errorf(domain.ECONFLICT, "This invitation has already been used or is no longer valid.")
	}
	if err != nil {
		return fmt.Errorf("store: accept invitation: %w", err)
	}
	return nil
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
				inv, err := unmarshal[invitationItem](it)
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
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return inv, domain.Errorf(domain.ECONFLICT, "The invitation changed meanwhile.")
	}
	if err != nil {
		return inv, fmt.Errorf("store: rotate token: %w", err)
	}
	next.Version++
	return next, nil
}
