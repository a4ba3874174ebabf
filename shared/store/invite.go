package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// MaxTransactItems is DynamoDB's limit on the items of one transaction
// (table.MaxTransactItems).
const MaxTransactItems = table.MaxTransactItems

// LoadInvite reads everything an invite request names in one BatchGetItem:
// the org, the site, the caller, the named groups, and the email guards and
// suppressions (A35) of the addresses (at most 3 + 10 + 2 × 10 keys).
func (s *Store) LoadInvite(ctx context.Context, orgID, siteID, callerID string, groups, emails []string) (domain.InviteScope, error) {
	sc := domain.InviteScope{Groups: map[string]domain.Group{}, Accounts: map[string]domain.ExistingAccount{}, Suppressed: map[string]domain.SuppressionReason{}}
	ks := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.SiteSK(siteID))}
	for _, g := range groups {
		ks = append(ks, table.Key(table.OrgPK(orgID), table.GroupSK(g)))
	}
	for _, e := range emails {
		ks = append(ks, table.Key(table.EmailPK(orgID, e), table.SKEmail), table.Key(suppressedPK(orgID), e))
	}
	if len(ks) > MaxTransactItems {
		return sc, domain.Errorf(domain.EINVALID, "The request names too many groups and addresses.")
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return sc, err
	}
	if it, ok := got[table.ID(table.OrgPK(orgID), table.SKOrg)]; ok {
		o, err := decodeOrg(it)
		if err != nil {
			return sc, err
		}
		d := o.domain()
		sc.Org = &d
	}
	if it, ok := got[table.ID(table.UserPK(orgID, callerID), table.SKProfile)]; ok {
		u, err := decodeUser(it)
		if err != nil {
			return sc, err
		}
		d := u.domain()
		sc.Caller = &d
	}
	if it, ok := got[table.ID(table.OrgPK(orgID), table.SiteSK(siteID))]; ok {
		si, err := decodeSite(it)
		if err != nil {
			return sc, err
		}
		d := si.domain()
		sc.Site = &d
	}
	for _, g := range groups {
		if it, ok := got[table.ID(table.OrgPK(orgID), table.GroupSK(g))]; ok {
			gi, err := decodeGroup(it)
			if err != nil {
				return sc, err
			}
			sc.Groups[g] = gi.domain()
		}
	}
	for _, e := range emails {
		if it, ok := got[table.ID(table.EmailPK(orgID, e), table.SKEmail)]; ok {
			ei, err := decodeEmail(it)
			if err != nil {
				return sc, err
			}
			sc.Accounts[e] = ei.existing()
		}
		if it, ok := got[table.ID(suppressedPK(orgID), e)]; ok {
			sup, err := decodeSuppression(it)
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
	put(newEmailItem(n.User, &n.Invitation), "attribute_not_exists(PK)")
	put(newUserItem(n.User), "attribute_not_exists(PK)")
	for _, a := range n.Access {
		put(newAccessItem(n.User, siteID, a), "")
	}
	for _, g := range n.Groups {
		put(newMemberItem(n.User, g), "")
	}
	put(newInvitationItem(n.Invitation, n.Invitation.CreatedAt.Add(SendGrace), n.Invitation.Version), "attribute_not_exists(PK)")
	put(newTokenItem(n.Invitation), "attribute_not_exists(PK)")
	put(newInvRefItem(n.Invitation), "")
	put(newAuditItem(n.Audit), "")
	return tx
}

// SendGrace is how long a new invitation's email belongs to the request that
// wrote it; after that, if still undelivered, the retry job takes it over.
const SendGrace = 5 * time.Minute

// CreateInvitations writes a batch of invitations with the site's counters,
// normally in one TransactWriteItems. With whole, the batch is all or
// nothing: a refused invitee refuses the batch and the result lists the
// refusals. Otherwise refused invitees (address taken meanwhile, guest or user limit)
// are dropped by their cancellation reasons and the rest is written; a batch
// over DynamoDB's 100 items per transaction goes in several transactions,
// one after the other (each invitee is still all or nothing).
func (s *Store) CreateInvitations(ctx context.Context, siteID string, batch []domain.NewInvitation, whole bool) (domain.CreateResult, error) {
	var res domain.CreateResult
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
	if whole && total > MaxTransactItems {
		return res, domain.Errorf(domain.EINVALID, "This request writes %d items; an all-or-nothing invite is limited to %d. Invite fewer people or groups at once.", total, MaxTransactItems)
	}
	// Chunks of invitees whose items fit one transaction with the counters.
	var chunks [][]int
	var cur []int
	size := fixed
	for i := range batch {
		if len(cur) > 0 && size+len(per[i]) > MaxTransactItems {
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
func (s *Store) createChunk(ctx context.Context, siteID string, batch []domain.NewInvitation, per [][]types.TransactWriteItem, live []int, whole bool, res *domain.CreateResult) error {
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
			tx = append(tx, types.TransactWriteItem{Update: s.counterUpdate(orgID, siteID, seats)})
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
				if g, err := decodeEmail(old); err == nil && g.Type == typeEmail {
					x := g.existing()
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
				r := domain.InviteRefused{Index: i, Outcome: domain.OutcomeAlreadyMember, Existing: e}
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
			site, err := s.siteFrom(ctx, c, owner, orgID, siteID)
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
				res.Refused = append(res.Refused, domain.InviteRefused{Index: i, Outcome: out})
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
			g, err := decodeEmail(it)
			if err != nil {
				return err
			}
			x := g.existing()
			taken[i] = &x
		}
	}
	return nil
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

// SaveDeliveries records delivery outcomes, normally in one
// TransactWriteItems. Each invitation is rewritten whole (not UpdateItem
// REMOVE, which minidyn ignores) so its due-work index entry disappears once
// sent, under its version, so a concurrent accept is never overwritten: an
// invitation that changed meanwhile is left as it is (and reported by
// index in changed); the others are written.
func (s *Store) SaveDeliveries(ctx context.Context, ds []domain.Delivery) (changed []int, err error) {
	for start := 0; start < len(ds); start += MaxTransactItems {
		live := make([]int, 0, MaxTransactItems)
		for i := start; i < min(len(ds), start+MaxTransactItems); i++ {
			live = append(live, i)
		}
		for len(live) > 0 {
			tx := make([]types.TransactWriteItem, 0, len(live))
			for _, i := range live {
				inv := ds[i].Invitation
				tx = append(tx, types.TransactWriteItem{Put: &types.Put{
					TableName:                 &s.Name,
					Item:                      table.Marshal(newInvitationItem(inv, ds[i].RetryAt, inv.Version+1)),
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
