package invitationsdb

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// LoadInvite reads everything an invite request names in one BatchGetItem:
// the org, the site, the caller, the named groups, and the email guards and
// suppressions (A35) of the addresses (at most 3 + 10 + 2 × 10 keys).
func (s *Store) LoadInvite(ctx context.Context, orgID, siteID, callerID string, groups, emails []string) (invitations.InviteScope, error) {
	sc := invitations.InviteScope{Groups: map[string]domain.Group{}, Accounts: map[string]domain.ExistingAccount{}, Suppressed: map[string]domain.SuppressionReason{}}
	ks := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.SiteSK(siteID))}
	for _, g := range groups {
		ks = append(ks, table.Key(table.OrgPK(orgID), table.GroupSK(g)))
	}
	for _, e := range emails {
		ks = append(ks, table.Key(table.EmailPK(orgID, e), table.SKEmail), table.Key(store.SuppressedPK(orgID), e))
	}
	if len(ks) > table.MaxTransactItems {
		return sc, domain.Errorf(domain.EINVALID, "The request names too many groups and addresses.")
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return sc, err
	}
	if it, ok := got[table.ID(table.OrgPK(orgID), table.SKOrg)]; ok {
		d, err := store.DecodeOrg(it)
		if err != nil {
			return sc, err
		}
		sc.Org = &d
	}
	if it, ok := got[table.ID(table.UserPK(orgID, callerID), table.SKProfile)]; ok {
		d, err := store.DecodeUser(it)
		if err != nil {
			return sc, err
		}
		sc.Caller = &d
	}
	if it, ok := got[table.ID(table.OrgPK(orgID), table.SiteSK(siteID))]; ok {
		d, err := store.DecodeSite(it)
		if err != nil {
			return sc, err
		}
		sc.Site = &d
	}
	for _, g := range groups {
		if it, ok := got[table.ID(table.OrgPK(orgID), table.GroupSK(g))]; ok {
			d, err := store.DecodeGroup(it)
			if err != nil {
				return sc, err
			}
			sc.Groups[g] = d
		}
	}
	for _, e := range emails {
		if it, ok := got[table.ID(table.EmailPK(orgID, e), table.SKEmail)]; ok {
			x, _, err := store.DecodeEmailGuard(it)
			if err != nil {
				return sc, err
			}
			sc.Accounts[e] = x
		}
		if it, ok := got[table.ID(store.SuppressedPK(orgID), e)]; ok {
			sup, err := store.DecodeSuppression(it)
			if err != nil {
				return sc, err
			}
			sc.Suppressed[e] = sup.Reason
		}
	}
	return sc, nil
}

// inviteItems returns the transaction items of one invitee: email guard,
// profile, access, memberships, invitation, token and audit entry.
func (s *Store) inviteItems(siteID string, n domain.NewInvitation) []types.TransactWriteItem {
	var tx []types.TransactWriteItem
	put := func(v table.Encoder, cond string) {
		p := &types.Put{TableName: &s.Name, Item: table.Marshal(v)}
		if cond != "" {
			p.ConditionExpression = aws.String(cond)
			p.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		}
		tx = append(tx, types.TransactWriteItem{Put: p})
	}
	put(store.NewEmailItem(n.User, &n.Invitation), "attribute_not_exists(PK)")
	put(store.NewUserItem(n.User), "attribute_not_exists(PK)")
	for _, a := range n.Access {
		put(store.NewAccessItem(n.User, siteID, a), "")
	}
	for _, g := range n.Groups {
		put(store.NewMemberItem(n.User, g), "")
	}
	put(store.NewInvitationItem(n.Invitation, n.Invitation.CreatedAt.Add(SendGrace), n.Invitation.Version), "attribute_not_exists(PK)")
	put(store.NewTokenItem(n.Invitation), "attribute_not_exists(PK)")
	put(store.NewInvRefItem(n.Invitation), "")
	put(store.NewAuditItem(n.Audit), "")
	return tx
}

// CreateInvitations writes a batch of invitations with the site's counters,
// normally in one TransactWriteItems. With whole, the batch is all or
// nothing: a refused invitee refuses the batch and the result lists the
// refusals. Otherwise refused invitees (address taken meanwhile, guest or user limit)
// are dropped by their cancellation reasons and the rest is written; a batch
// over DynamoDB's 100 items per transaction goes in several transactions,
// one after the other (each invitee is still all or nothing).
func (s *Store) CreateInvitations(ctx context.Context, siteID string, batch []domain.NewInvitation, whole bool) (invitations.CreateResult, error) {
	var res invitations.CreateResult
	if len(batch) == 0 {
		return res, nil
	}
	per := make([][]types.TransactWriteItem, len(batch))
	// Each transaction also holds the counters and one member-count update
	// per group the batch names.
	var named []string
	for _, n := range batch {
		for _, g := range n.Groups {
			if !slices.Contains(named, g) {
				named = append(named, g)
			}
		}
	}
	fixed := 1 + len(named)
	total := fixed
	for i, n := range batch {
		per[i] = s.inviteItems(siteID, n)
		total += len(per[i])
	}
	if whole && total > table.MaxTransactItems {
		return res, domain.Errorf(domain.EINVALID, "This request writes %d items; an all-or-nothing invite is limited to %d. Invite fewer people or groups at once.", total, table.MaxTransactItems)
	}
	// Chunks of invitees whose items fit one transaction with the counters.
	var chunks [][]int
	var cur []int
	size := fixed
	for i := range batch {
		if len(cur) > 0 && size+len(per[i]) > table.MaxTransactItems {
			chunks, cur, size = append(chunks, cur), nil, fixed
		}
		cur, size = append(cur, i), size+len(per[i])
	}
	chunks = append(chunks, cur)
	for _, live := range chunks {
		if err := s.createChunk(ctx, siteID, batch, per, live, whole, &res); err != nil {
			return res, err
		}
		if whole && len(res.Refused) > 0 {
			return res, nil
		}
	}
	return res, nil
}

// createChunk writes the invitees live in one transaction, dropping refused
// ones and retrying the rest (unless whole).
func (s *Store) createChunk(ctx context.Context, siteID string, batch []domain.NewInvitation, per [][]types.TransactWriteItem, live []int, whole bool, res *invitations.CreateResult) error {
	orgID := batch[0].User.OrgID
	for rounds := 0; len(live) > 0; rounds++ {
		if rounds > len(batch)+1 {
			return errors.New("store: create invitations: refusals did not settle")
		}
		var tx []types.TransactWriteItem
		var owner []int // invitee of each transaction item; -1 for the counters, -2 for a group's member count
		var seats domain.Seats
		members := map[string]int64{}
		var groups []string
		for _, i := range live {
			tx = append(tx, per[i]...)
			for range per[i] {
				owner = append(owner, i)
			}
			seats = seats.Plus(batch[i].Seats())
			for _, g := range batch[i].Groups {
				if members[g] == 0 {
					groups = append(groups, g)
				}
				members[g]++
			}
		}
		if !seats.Zero() {
			tx = append(tx, types.TransactWriteItem{Update: table.Counter(s.Name, orgID, siteID, table.Change{Kind: table.Seats, Seats: seats, Guarded: true})})
			owner = append(owner, -1)
		}
		// The memberships are counted on their groups, as ChangeAccess counts them.
		for _, g := range groups {
			tx = append(tx, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(orgID), table.GroupSK(g)),
				UpdateExpression: aws.String("SET memberCount = memberCount + :d"), ConditionExpression: aws.String("attribute_exists(PK)"),
				ExpressionAttributeValues: table.Item{":d": table.N(members[g])}}})
			owner = append(owner, -2)
		}
		err := s.Transact(ctx, "create invitations", tx)
		var c *table.Cancelled
		if !errors.As(err, &c) {
			return err
		}
		taken := map[int]*domain.ExistingAccount{}
		limit := false
		for j := range tx {
			if c.Code(j) != "ConditionalCheckFailed" {
				continue
			}
			if owner[j] == -2 {
				return domain.Errorf(domain.ECONFLICT, "A group named in the invitation was deleted meanwhile; nothing was written. Retry without it.")
			}
			if owner[j] < 0 {
				limit = true
				continue
			}
			e := (*domain.ExistingAccount)(nil)
			if old := c.Old(j); old != nil {
				if x, guard, err := store.DecodeEmailGuard(old); err == nil && guard {
					e = &x
				}
			}
			if prev, ok := taken[owner[j]]; !ok || prev == nil {
				taken[owner[j]] = e
			}
		}
		if len(taken) == 0 && !limit {
			return errors.New("store: create invitations: cancelled without a reason")
		}
		if err := s.fillExisting(ctx, orgID, batch, taken); err != nil {
			return err
		}
		var keep []int
		for _, i := range live {
			if e, ok := taken[i]; ok {
				r := invitations.InviteRefused{Index: i, Outcome: domain.OutcomeAlreadyMember, Existing: e}
				if e != nil && e.PendingAt(batch[i].Invitation.CreatedAt) {
					r.Outcome = domain.OutcomeAlreadyInvited
				}
				res.Refused = append(res.Refused, r)
				continue
			}
			keep = append(keep, i)
		}
		live = keep
		if limit {
			site, err := s.dir.SiteFrom(ctx, c, owner, orgID, siteID)
			if err != nil {
				return err
			}
			res.Site = &site
			// Keep, in order, the invitees that still fit; refuse the others.
			keep = nil
			var want, all domain.Seats
			for _, i := range live {
				all = all.Plus(batch[i].Seats())
			}
			for _, i := range live {
				next := want.Plus(batch[i].Seats())
				if !whole && site.Fits(next) {
					keep, want = append(keep, i), next
					continue
				}
				out := domain.OutcomeGuestLimit
				if whole && !site.FitsUsers(all) || !whole && !site.FitsUsers(next) {
					out = domain.OutcomeUserLimit
				}
				res.Refused = append(res.Refused, invitations.InviteRefused{Index: i, Outcome: out})
			}
			live = keep
		}
		if whole {
			return nil
		}
	}
	return nil
}

// fillExisting reads the email guards of taken addresses whose refusal did
// not carry the old item (an emulator without ALL_OLD).
func (s *Store) fillExisting(ctx context.Context, orgID string, batch []domain.NewInvitation, taken map[int]*domain.ExistingAccount) error {
	var ks []table.Item
	for i, e := range taken {
		if e == nil {
			ks = append(ks, table.Key(table.EmailPK(orgID, batch[i].User.Email), table.SKEmail))
		}
	}
	if len(ks) == 0 {
		return nil
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return err
	}
	for i, e := range taken {
		if e != nil {
			continue
		}
		if it, ok := got[table.ID(table.EmailPK(orgID, batch[i].User.Email), table.SKEmail)]; ok {
			x, _, err := store.DecodeEmailGuard(it)
			if err != nil {
				return err
			}
			taken[i] = &x
		}
	}
	return nil
}
