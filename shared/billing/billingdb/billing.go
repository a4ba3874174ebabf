package billingdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// GuestPage reads one page of a site's Confluence guests by email: one
// Query of GSI1 `ORG#o#SITE#s#confluence#guest` (or, for a space, of GSI2
// `ORG#o#SITE#s#SPACE#k`) for at most limit access items, then their
// profiles and the org in one BatchGetItem (at most 99 guests a Query,
// plus the org: 100 keys).
// Items that are no guest's (an empty placeholder, an index entry behind
// its item) are skipped. A guest's External is the org's answer now
// (Org.IsExternal: its verified domains), not the flag stored when the
// account was made.
func (s *Store) GuestPage(ctx context.Context, orgID, siteID, space string, limit int, cursor string) ([]domain.Guest, string, error) {
	in := &dynamodb.QueryInput{IndexName: aws.String(table.GSI1), KeyConditionExpression: aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.RoleGSI1PK(orgID, siteID, string(domain.Confluence), string(domain.RoleGuest)))}}
	if space != "" {
		in = &dynamodb.QueryInput{IndexName: aws.String(table.GSI2), KeyConditionExpression: aws.String("GSI2PK = :pk"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.SpaceGuestsGSI2PK(orgID, siteID, space))}}
	}
	res, next, err := s.dir.QueryPage(ctx, in, min(limit, 99), cursor)
	if err != nil {
		return nil, "", err
	}
	var out []domain.Guest
	var ks []table.Item
	for _, it := range res {
		ai, err := store.DecodeAccessOf(it)
		if err != nil {
			return nil, "", err
		}
		a := ai.Access
		if ai.Type != store.TypeAccess || a.Product != domain.Confluence || a.Empty() || a.Effective != domain.RoleGuest {
			continue
		}
		out = append(out, domain.Guest{AccountID: ai.AccountID, Email: ai.Email, Access: a})
		ks = append(ks, table.Key(table.UserPK(orgID, ai.AccountID), table.SKProfile))
	}
	if len(ks) == 0 {
		return out, next, nil
	}
	got, err := s.BatchGet(ctx, append(ks, table.Key(table.OrgPK(orgID), table.SKOrg)))
	if err != nil {
		return nil, "", err
	}
	org, err := store.DecodeOpt(got, table.OrgPK(orgID), table.SKOrg, store.DecodeOrg)
	if err != nil {
		return nil, "", err
	}
	for i := range out {
		u, err := store.DecodeOpt(got, table.UserPK(orgID, out[i].AccountID), table.SKProfile, store.DecodeUser)
		if err != nil {
			return nil, "", err
		}
		if u != nil {
			out[i].DisplayName, out[i].UserStatus, out[i].External = u.DisplayName, u.Status, u.External
			if org != nil {
				out[i].External = org.IsExternal(u.Email)
			}
		}
	}
	return out, next, nil
}

// CountSeats counts a site's Confluence guests and paid users from their
// access items: Queries of GSI1 `...#confluence#guest`, `#user` and
// `#admin` with Select COUNT (1 MB of index a page), each filtered on the
// item's own effective role (so an index entry that lags its item, or an
// empty placeholder, is not counted). Index reads are eventually
// consistent: changes in flight may be missed or seen.
func (s *Store) CountSeats(ctx context.Context, orgID, siteID string) (paid, guests int64, err error) {
	for _, r := range []domain.Role{domain.RoleGuest, domain.RoleUser, domain.RoleAdmin} {
		n, err := s.countRole(ctx, orgID, siteID, r)
		if err != nil {
			return 0, 0, err
		}
		if r == domain.RoleGuest {
			guests += n
		} else {
			paid += n
		}
	}
	return paid, guests, nil
}

func (s *Store) countRole(ctx context.Context, orgID, siteID string, r domain.Role) (int64, error) {
	in := &dynamodb.QueryInput{TableName: &s.Name, IndexName: aws.String(table.GSI1), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		FilterExpression:          aws.String("effective = :r AND product = :p AND #t = :access"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: table.Item{":pk": table.S(table.RoleGSI1PK(orgID, siteID, string(domain.Confluence), string(r))), ":r": table.S(string(r)), ":p": table.S(string(domain.Confluence)), ":access": table.S(store.TypeAccess)}}
	var n int64
	for {
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("store: count %s: %w", r, err)
		}
		n += int64(res.Count)
		if len(res.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// RepairCounters sets a site's billing counters to fixed (the user limit
// and its slots too: a site written before the limit gets it here), with its audit
// entry, in one transaction conditioned on the counters still being seen
// and no group job holding a reservation: ECONFLICT (nothing written) when
// they moved meanwhile (a concurrent grant) or a job reserved slots.
func (s *Store) RepairCounters(ctx context.Context, orgID, siteID string, seen, fixed domain.Counters, audit domain.AuditEntry) error {
	tx := []types.TransactWriteItem{
		{Update: table.Counter(s.Name, orgID, siteID, table.Change{Kind: table.Repair, Seen: seen, Fixed: fixed})},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(store.NewAuditItem(audit))}},
	}
	err := s.Transact(ctx, "repair counters", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return domain.Errorf(domain.ECONFLICT, "The site's counters changed while they were recounted (a change in flight, or a group job reserved slots); nothing was changed. Recount again.")
	}
	return err
}
