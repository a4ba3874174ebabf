package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// BulkMember is one membership of a bulk load: the user, the group and the
// user's access on one site's product.
type BulkMember struct {
	User    domain.User
	GroupID string
	SiteID  string
	Access  domain.Access
}

// BulkLoadMembers writes memberships and access items with BatchWriteItem
// (25 items a call, unconditionally), then adds the loaded seats to each
// site's counters and the members to each group's count. It is for loading
// a directory (and seeding 10,000-member tests): unlike the API's paths it
// checks no guard and no limit, so the caller must load only what is true.
func (s *Store) BulkLoadMembers(ctx context.Context, ms []BulkMember) error {
	var reqs []types.WriteRequest
	seats := map[string]domain.Seats{}
	counts := map[string]int64{}
	for _, m := range ms {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newMemberItem(m.User, m.GroupID))}})
		if !m.Access.Empty() {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: table.Marshal(newAccessItem(m.User, m.SiteID, m.Access))}})
			if m.Access.Product == domain.Confluence {
				seats[m.SiteID] = seats[m.SiteID].Plus(domain.SeatsOf(domain.KindOf(m.Access.Effective)))
			}
		}
		counts[m.GroupID]++
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	orgID := ms[0].User.OrgID
	for _, site := range sortedKeys(seats) {
		d := seats[site]
		u := table.Counter(s.Name, orgID, site, table.Change{Kind: table.Seats, Seats: d})
		if _, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
			UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues}); err != nil {
			return fmt.Errorf("store: bulk load counters: %w", err)
		}
	}
	for _, g := range sortedKeys(counts) {
		if _, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Name, Key: table.Key(table.OrgPK(orgID), table.GroupSK(g)),
			UpdateExpression: aws.String("SET memberCount = memberCount + :n"), ExpressionAttributeValues: table.Item{":n": table.N(counts[g])}}); err != nil {
			return fmt.Errorf("store: bulk load group count: %w", err)
		}
	}
	return nil
}

// batchWrite puts or deletes items with BatchWriteItem, 25 a call, retrying
// the unprocessed ones with backoff (at most 8 retries a batch).
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += 25 {
		batch := map[string][]types.WriteRequest{s.Name: reqs[start:min(len(reqs), start+25)]}
		for attempt := 0; len(batch[s.Name]) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("store: bulk load: items left unprocessed")
			}
			res, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
			if err != nil {
				return fmt.Errorf("store: bulk load: %w", err)
			}
			batch = res.UnprocessedItems
			if len(batch[s.Name]) > 0 {
				if err := table.Sleep(ctx, s.Retry.Wait(attempt+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
