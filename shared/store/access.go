package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// LoadMembership reads a membership change's scope in one BatchGetItem.
func (s *Store) LoadMembership(ctx context.Context, orgID, callerID, groupID, accountID string) (domain.MembershipScope, error) {
	var sc domain.MembershipScope
	got, err := s.BatchGet(ctx, []table.Item{
		table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.GroupSK(groupID)),
		table.Key(table.UserPK(orgID, accountID), table.SKProfile), table.Key(table.UserPK(orgID, accountID), table.MemberSK(groupID)),
	})
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.Group, err = decodeOpt(got, table.OrgPK(orgID), table.GroupSK(groupID), decodeGroup, groupItem.domain); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	_, sc.Member = got[table.ID(table.UserPK(orgID, accountID), table.MemberSK(groupID))]
	return sc, nil
}

// LoadRole reads a direct role change's scope in one BatchGetItem.
func (s *Store) LoadRole(ctx context.Context, orgID, siteID, callerID, accountID string, p domain.Product) (domain.RoleScope, error) {
	var sc domain.RoleScope
	got, err := s.BatchGet(ctx, []table.Item{
		table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.SiteSK(siteID)),
		table.Key(table.UserPK(orgID, accountID), table.SKProfile), table.Key(table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p))),
		table.Key(table.UserPK(orgID, callerID), table.AccessSK(siteID, string(p))),
	})
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	if sc.Site, err = decodeOpt(got, table.OrgPK(orgID), table.SiteSK(siteID), decodeSite, siteItem.domain); err != nil {
		return sc, err
	}
	if sc.User, err = decodeOpt(got, table.UserPK(orgID, accountID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, err
	}
	sc.Access = domain.Access{Product: p, Direct: domain.RoleNone, Effective: domain.RoleNone}
	if a, err := decodeOpt(got, table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p)), decodeAccess, accessItem.domain); err != nil {
		return sc, err
	} else if a != nil {
		sc.Access = *a
	}
	if a, err := decodeOpt(got, table.UserPK(orgID, callerID), table.AccessSK(siteID, string(p)), decodeAccess, accessItem.domain); err != nil {
		return sc, err
	} else if a != nil {
		sc.CallerAccess = *a
	}
	return sc, nil
}

// decodeOpt decodes the item (pk, sk) of a batch read, nil when absent.
func decodeOpt[I, D any](got map[string]table.Item, pk, sk string, dec func(table.Item) (I, error), conv func(I) D) (*D, error) {
	it, ok := got[table.ID(pk, sk)]
	if !ok {
		return nil, nil
	}
	i, err := dec(it)
	if err != nil {
		return nil, err
	}
	d := conv(i)
	return &d, nil
}

// AccessItems reads a user's access items for the given SiteProductKeys in
// one BatchGetItem; absent ones are absent from the map.
func (s *Store) AccessItems(ctx context.Context, orgID, accountID string, keys []string) (map[string]domain.Access, error) {
	out := map[string]domain.Access{}
	if len(keys) == 0 {
		return out, nil
	}
	ks := make([]table.Item, 0, len(keys))
	for _, k := range keys {
		site, p, _ := strings.Cut(k, "/")
		ks = append(ks, table.Key(table.UserPK(orgID, accountID), table.AccessSK(site, p)))
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		site, p, _ := strings.Cut(k, "/")
		if it, ok := got[table.ID(table.UserPK(orgID, accountID), table.AccessSK(site, p))]; ok {
			ai, err := decodeAccess(it)
			if err != nil {
				return nil, err
			}
			out[k] = ai.domain()
		}
	}
	return out, nil
}

// ChangeAccess writes an domain.AccessChange in one transaction: each changed
// access item under its version (deleted when it no longer gives anything),
// the billing counters of every site whose Confluence seats move (refused
// past the guest or user limit), the membership and the group's member count, and
// the audit entry, conditioned on the account's profile still existing.
// Errors: ErrAccessChanged (retry), ELIMIT or EUSERLIMIT with the site's numbers, ECONFLICT
// (already a member), ENOTFOUND (not a member, group gone, user removed).
func (s *Store) ChangeAccess(ctx context.Context, ch domain.AccessChange) error {
	u := ch.User
	var tx []types.TransactWriteItem
	kinds := map[int]string{} // transaction index -> what it is
	keys := make([]string, 0, len(ch.After))
	for k := range ch.After {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seats := map[string]domain.Seats{}
	for _, k := range keys {
		before, had := ch.Before[k]
		after := ch.After[k]
		site, _, _ := strings.Cut(k, "/")
		if after.Product == domain.Confluence {
			seats[site] = seats[site].Plus(domain.SeatsChange(before.Effective, after.Effective))
		}
		if !ch.Touch && had && before.Version == after.Version && before.Effective == after.Effective && before.Direct == after.Direct && sameGroups(before.Groups, after.Groups) {
			continue
		}
		w, ok := s.accessWrite(u, k, before, had, after, ch.Touch)
		if !ok {
			continue
		}
		kinds[len(tx)] = "access"
		tx = append(tx, w)
	}
	sites := make([]string, 0, len(seats))
	for site := range seats {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	for _, site := range sites {
		if d := seats[site]; !d.Zero() {
			kinds[len(tx)] = "counters"
			tx = append(tx, types.TransactWriteItem{Update: s.counterUpdate(u.OrgID, site, d)})
		}
	}
	if g := ch.AddMember; g != "" {
		kinds[len(tx)] = "member-add"
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newMemberItem(u, g)), ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	if g := ch.RemoveMember; g != "" {
		kinds[len(tx)] = "member-remove"
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.MemberSK(g)), ConditionExpression: aws.String("attribute_exists(PK)")}})
	}
	if g, d := ch.AddMember+ch.RemoveMember, map[bool]int64{true: 1, false: -1}[ch.AddMember != ""]; g != "" {
		kinds[len(tx)] = "group"
		upd := &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(u.OrgID), table.GroupSK(g)),
			UpdateExpression: aws.String("SET memberCount = memberCount + :d"), ConditionExpression: aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: table.Item{":d": table.N(d)}}
		if ch.AddMember != "" {
			// No member joins a group being deleted (its delete job has begun).
			upd.ConditionExpression = aws.String("attribute_exists(PK) AND (attribute_not_exists(deleting) OR deleting = :f)")
			upd.ExpressionAttributeValues[":f"] = &types.AttributeValueMemberBOOL{Value: false}
		}
		tx = append(tx, types.TransactWriteItem{Update: upd})
	}
	// No access or membership is written for an account that is gone: a
	// removal (or a revoked invitation) that commits between this change's
	// read and its write refuses it, and nothing is orphaned.
	kinds[len(tx)] = "profile"
	tx = append(tx, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
		ConditionExpression: aws.String("attribute_exists(PK)")}})
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(ch.Audit))}})
	if len(tx) > MaxTransactItems {
		return domain.Errorf(domain.EINVALID, "This change touches too many sites and products at once.")
	}
	err := s.Transact(ctx, "change access", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	for j := range tx {
		if c.Code(j) != "ConditionalCheckFailed" {
			continue
		}
		switch kinds[j] {
		case "profile":
			return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
		case "member-add":
			return domain.Errorf(domain.ECONFLICT, "The user is already a member of this group.")
		case "member-remove":
			return domain.Errorf(domain.ENOTFOUND, "The user is not a member of this group.")
		case "group":
			if ch.AddMember != "" {
				return domain.Errorf(domain.ECONFLICT, "The group is gone or being deleted; no member joins it.")
			}
			return domain.Errorf(domain.ENOTFOUND, "No such group.")
		}
	}
	for j := range tx {
		if c.Code(j) == "ConditionalCheckFailed" && kinds[j] == "counters" {
			siteID := ""
			if sk, ok := tx[j].Update.Key["SK"].(*types.AttributeValueMemberS); ok {
				siteID = strings.TrimPrefix(sk.Value, "SITE#")
			}
			site, err := s.siteFrom(ctx, c, ownerOf(len(tx), j), u.OrgID, siteID)
			if err != nil {
				return err
			}
			e := domain.LimitError(site, seats[siteID])
			if d := seats[siteID]; d.Paid < 0 && site.FitsUsers(d) {
				// The change also ends paid seats (a paid user who would be a guest):
				// say so, or the numbers read as if the guest fitted.
				e.Message += fmt.Sprintf(" The change also turns %s into guests, lowering the limit to %d.", domain.Count(-d.Paid, "paid user", "paid users"), domain.GuestsPerPaidUser*(site.PaidUsers+d.Paid))
				e.Extra["paidUsersReleased"] = -d.Paid
			}
			return e
		}
	}
	return domain.ErrAccessChanged
}

func sameGroups(a, b map[string]domain.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Memberships reports which of the accounts are members of a group, in
// BatchGetItems of 100.
func (s *Store) Memberships(ctx context.Context, orgID, groupID string, accounts []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(accounts); start += table.MaxBatchGet {
		chunk := accounts[start:min(len(accounts), start+table.MaxBatchGet)]
		ks := make([]table.Item, 0, len(chunk))
		for _, a := range chunk {
			ks = append(ks, table.Key(table.UserPK(orgID, a), table.MemberSK(groupID)))
		}
		got, err := s.BatchGet(ctx, ks)
		if err != nil {
			return nil, err
		}
		for _, a := range chunk {
			_, out[a] = got[table.ID(table.UserPK(orgID, a), table.MemberSK(groupID))]
		}
	}
	return out, nil
}

// accessWrite is the write of one access item (by SiteProductKey) under the
// state it was read in: a Put of after, or a Delete when after gives nothing
// (unless keep: then an empty placeholder is written), conditioned on the
// item being absent, unversioned, or at its version. ok is false when there
// is nothing to write (absent before, and nothing after).
func (s *Store) accessWrite(u domain.User, k string, before domain.Access, had bool, after domain.Access, keep bool) (types.TransactWriteItem, bool) {
	site, _, _ := strings.Cut(k, "/")
	cond, vals := "attribute_not_exists(PK)", table.Item(nil)
	switch {
	case had && before.Version == 0:
		// Items written before access items had versions have none.
		cond, vals = "attribute_exists(PK) AND (attribute_not_exists(version) OR version = :v)", table.Item{":v": table.N(0)}
	case had:
		cond, vals = "version = :v", table.Item{":v": table.N(int64(before.Version))}
	}
	if after.Empty() && !keep {
		if !had {
			return types.TransactWriteItem{}, false
		}
		return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.AccessSK(site, string(after.Product))),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}, true
	}
	if after.Effective == "" {
		after.Effective = domain.RoleNone
	}
	after.Version = before.Version + 1
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAccessItem(u, site, after)),
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}, true
}
