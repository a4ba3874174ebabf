package store

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// noJob is the value of a group's activeJob when no job is in flight.
const noJob = "-"

// LoadUserRecord reads what a change of an account's life in the org needs:
// the account's whole partition (one Query, followed: profile, access
// items, memberships, invitations), then the org, the caller and the
// account's groups (one BatchGetItem; one more per 100 further groups). The
// record is nil when the account has no profile.
func (s *Store) LoadUserRecord(ctx context.Context, orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error) {
	var sc domain.Scope
	rec, found, err := s.accountPartition(ctx, orgID, accountID)
	if err != nil {
		return sc, nil, err
	}
	keys := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile)}
	for _, g := range rec.Groups {
		keys = append(keys, table.Key(table.OrgPK(orgID), table.GroupSK(g)))
	}
	got := map[string]table.Item{}
	for start := 0; start < len(keys); start += 100 {
		part, err := s.BatchGet(ctx, keys[start:min(len(keys), start+100)])
		if err != nil {
			return sc, nil, err
		}
		for k, v := range part {
			got[k] = v
		}
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, nil, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain); err != nil {
		return sc, nil, err
	}
	for _, g := range rec.Groups {
		if it, ok := got[table.ID(table.OrgPK(orgID), table.GroupSK(g))]; ok {
			d := &table.Dec{It: it}
			st := domain.GroupState{ID: g, Name: d.S("name"), ActiveJob: d.S("activeJob")}
			if st.ActiveJob == noJob {
				st.ActiveJob = ""
			}
			rec.GroupInfo[g] = st
		}
	}
	if !found {
		return sc, nil, nil
	}
	return sc, rec, nil
}

// accountPartition reads an account's whole partition (one Query,
// followed): profile, access items, memberships, invitations, API tokens'
// listing items. found is
// false when it has no profile. GroupInfo is left empty.
func (s *Store) accountPartition(ctx context.Context, orgID, accountID string) (*domain.UserRecord, bool, error) {
	rec := &domain.UserRecord{Access: map[string]domain.Access{}, GroupInfo: map[string]domain.GroupState{}}
	found := false
	cursor := ""
	for {
		res, next, err := s.query(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.UserPK(orgID, accountID))},
		}, 1000, cursor)
		if err != nil {
			return nil, false, err
		}
		for _, it := range res {
			d := &table.Dec{It: it}
			switch d.S("type") {
			case typeUser:
				u, err := decodeUser(it)
				if err != nil {
					return nil, false, err
				}
				rec.User, found = u.domain(), true
			case typeAccess:
				a, err := decodeAccess(it)
				if err != nil {
					return nil, false, err
				}
				rec.Access[domain.SiteProductKey(a.SiteID, domain.Product(a.Product))] = a.domain()
			case typeMember:
				rec.Groups = append(rec.Groups, d.S("group"))
			case typeInvitation:
				inv, err := decodeInvitation(it)
				if err != nil {
					return nil, false, err
				}
				rec.Invitations = append(rec.Invitations, inv.domain())
			case typeAPITokenRef:
				t, err := decodeAPIToken(it)
				if err != nil {
					return nil, false, err
				}
				rec.APITokens = append(rec.APITokens, t.domain())
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	slices.Sort(rec.Groups)
	return rec, found, nil
}

// txBuilder collects a transaction's items and what each one is, so that a
// cancellation reason can be told back to the caller.
type txBuilder struct {
	items []types.TransactWriteItem
	kinds []string // "access", "counters", "member", "group:<id>", "caller", "profile", "guard", "invitation", ...
}

func (b *txBuilder) add(kind string, w types.TransactWriteItem) {
	b.items = append(b.items, w)
	b.kinds = append(b.kinds, kind)
}

// callerIsOrgAdmin checks that the caller is still an active org admin when
// the change is written: with the caller never the target, two org admins
// removing (or suspending) each other cannot both succeed, so the last org
// admin always stays.
func (s *Store) callerIsOrgAdmin(orgID, callerID string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.UserPK(orgID, callerID), table.SKProfile),
		ConditionExpression:       aws.String("orgAdmin = :t AND #s = :active"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: table.Item{":t": &types.AttributeValueMemberBOOL{Value: true}, ":active": table.S(string(domain.UserActive))}}}
}

// leaveGroup is a membership's end: the member item and the group's count,
// refused while the group has a job in flight (the job's plan may have
// counted the member).
func (s *Store) leaveGroup(b *txBuilder, u domain.User, g string) {
	b.add("member", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.MemberSK(g)),
		ConditionExpression: aws.String("attribute_exists(PK)")}})
	b.add("group:"+g, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(u.OrgID), table.GroupSK(g)),
		UpdateExpression:          aws.String("SET memberCount = memberCount - :one"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(activeJob) OR activeJob = :none)"),
		ExpressionAttributeValues: table.Item{":one": table.N(1), ":none": table.S(noJob)}}})
}

// addCounters appends each site's counter update (sites in order).
func (s *Store) addCounters(b *txBuilder, orgID string, seats map[string]domain.Seats) {
	sites := make([]string, 0, len(seats))
	for site, d := range seats {
		if !d.Zero() {
			sites = append(sites, site)
		}
	}
	slices.Sort(sites)
	for _, site := range sites {
		b.add("counters", types.TransactWriteItem{Update: s.counterUpdate(orgID, site, seats[site])})
	}
}

// releaseAccess deletes access items under the versions they were read at
// and moves their sites' counters back.
func (s *Store) releaseAccess(b *txBuilder, u domain.User, access map[string]domain.Access, keys []string) {
	seats := map[string]domain.Seats{}
	for _, k := range keys {
		a := access[k]
		site, _, _ := strings.Cut(k, "/")
		if a.Product == domain.Confluence {
			seats[site] = seats[site].Plus(domain.SeatsChange(a.Effective, domain.RoleNone))
		}
		gone := domain.Access{Product: a.Product, Direct: domain.RoleNone, Effective: domain.RoleNone}
		if w, ok := s.accessWrite(u, k, a, true, gone, false); ok {
			b.add("access", w)
		}
	}
	s.addCounters(b, u.OrgID, seats)
}

// dropInvitation deletes an invitation with its token and its reference: its
// link stops working (the token resolves to nothing).
func (s *Store) dropInvitation(b *txBuilder, inv domain.Invitation) {
	b.add("invitation", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(inv.OrgID, inv.AccountID), table.InviteSK(inv.ID)),
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: table.Item{":v": table.N(int64(inv.Version))}}})
	if inv.TokenHash != "" {
		b.add("token", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.TokenPK(inv.TokenHash), table.SKToken)}})
	}
	b.add("ref", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.InvRefPK(inv.OrgID, inv.ID), table.SKInvRef)}})
}

// RemoveUser removes an account from its org (rules §6): every access item (the
// sites' counters move back), every membership (the groups' counts), every
// invitation with its token and reference, the email guard and the profile,
// with the audit entry, in one TransactWriteItems when they fit in 100
// items. A larger account is removed in stages, each one transaction that
// leaves a valid state and carries its own audit entry: first its
// memberships, a batch at a time, by the rules of a membership removal (the
// access items recomputed without those groups, touched, counters moved);
// then its access items, a batch at a time (direct roles to none); then its
// invitations; last the rest. A retry after a failure finishes the job from
// what is left. Every stage is conditioned on the profile (as read), the
// caller still being an active org admin, and each group it leaves having
// no job in flight (ECONFLICT naming the group). It returns the number of
// transactions written.
func (s *Store) RemoveUser(ctx context.Context, r domain.Removal) (int, error) {
	rec := r.Record
	rec.Access = cloneAccess(rec.Access)
	rec.Groups = slices.Clone(rec.Groups)
	rec.Invitations = slices.Clone(rec.Invitations)
	rec.APITokens = slices.Clone(rec.APITokens)
	u := rec.User
	written := 0
	fixed := 3 // profile check, caller check, audit
	for stage := 1; s.removalSize(rec) > MaxTransactItems; stage++ {
		b := &txBuilder{}
		var done func()
		profile := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
			ConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"}, ExpressionAttributeValues: table.Item{":s": table.S(string(u.Status))}}}
		switch {
		case len(rec.Groups) > 0:
			done = s.membershipStage(b, &rec, fixed)
		case len(rec.Access) > 0:
			done = s.accessStage(b, &rec, fixed)
		case len(rec.Invitations) > 0:
			done = s.invitationStage(b, &rec, fixed)
		default:
			// The tokens' stage moves the profile's count down with them
			// (under the same status condition) instead of checking it.
			var n int
			done, n = s.apiTokenStage(b, &rec, fixed)
			profile = types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
				UpdateExpression: aws.String("SET apiTokens = apiTokens - :n"), ConditionExpression: aws.String("#s = :s AND apiTokens >= :n"),
				ExpressionAttributeNames: map[string]string{"#s": "status"}, ExpressionAttributeValues: table.Item{":s": table.S(string(u.Status)), ":n": table.N(int64(n))}}}
		}
		b.add("profile", profile)
		b.add("caller", s.callerIsOrgAdmin(u.OrgID, r.CallerID))
		a := r.Audit
		a.ID, a.Action = domain.NewID(), domain.ActionUserRemoveStage
		a.After = map[string]any{"stage": stage}
		b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(a))}})
		if err := s.lifecycleTx(ctx, "remove user (stage)", b, rec); err != nil {
			return written, err
		}
		written++
		done()
	}
	b := &txBuilder{}
	for _, g := range rec.Groups {
		s.leaveGroup(b, u, g)
	}
	s.releaseAccess(b, u, rec.Access, sortedKeys(rec.Access))
	for _, inv := range rec.Invitations {
		s.dropInvitation(b, inv)
	}
	s.dropAPITokens(b, rec.APITokens)
	b.add("guard", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.EmailPK(u.OrgID, u.Email), table.SKEmail),
		ConditionExpression: aws.String("accountId = :a"), ExpressionAttributeValues: table.Item{":a": table.S(u.AccountID)}}})
	// The profile goes under the status read and the count of API tokens
	// read: a token made meanwhile (its own transaction moves the count)
	// fails the removal, which reads again rather than orphan it.
	b.add("profile", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
		ConditionExpression:       aws.String("#s = :s AND (attribute_not_exists(apiTokens) OR apiTokens = :n)"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: table.Item{":s": table.S(string(u.Status)), ":n": table.N(int64(len(rec.APITokens)))}}})
	b.add("caller", s.callerIsOrgAdmin(u.OrgID, r.CallerID))
	b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(r.Audit))}})
	if err := s.lifecycleTx(ctx, "remove user", b, rec); err != nil {
		return written, err
	}
	return written + 1, nil
}

// removalSize is the number of items the final removal transaction holds.
func (s *Store) removalSize(rec domain.UserRecord) int {
	n := 4 + 2*len(rec.Groups) + len(rec.Access) // guard, profile, caller, audit
	n += len(rec.Seats())
	for _, inv := range rec.Invitations {
		n += 2
		if inv.TokenHash != "" {
			n++
		}
	}
	return n + 2*len(rec.APITokens)
}

// membershipStage fills b with as many of the record's memberships as fit
// (with the access items they change, touched, and the counters) and
// returns what to apply to the record once written.
func (s *Store) membershipStage(b *txBuilder, rec *domain.UserRecord, fixed int) func() {
	u := rec.User
	var take []string
	after := map[string]domain.Access{}
	for _, g := range rec.Groups {
		next := map[string]domain.Access{}
		for k, a := range after {
			next[k] = a
		}
		for k, a := range rec.Access {
			if cur, ok := next[k]; ok {
				a = cur
			}
			if _, ok := a.Groups[g]; ok {
				next[k] = a.WithGroup(g, domain.RoleNone)
			}
		}
		if len(take) > 0 && fixed+2*(len(take)+1)+len(next)+len(siteSet(next)) > MaxTransactItems {
			break
		}
		take, after = append(take, g), next
	}
	seats := map[string]domain.Seats{}
	keys := sortedKeys(after)
	for _, k := range keys {
		before, a := rec.Access[k], after[k]
		site, _, _ := strings.Cut(k, "/")
		if a.Product == domain.Confluence {
			seats[site] = seats[site].Plus(domain.SeatsChange(before.Effective, a.Effective))
		}
		if w, ok := s.accessWrite(u, k, before, true, a, true); ok {
			b.add("access", w)
		}
	}
	s.addCounters(b, u.OrgID, seats)
	for _, g := range take {
		s.leaveGroup(b, u, g)
	}
	return func() {
		for _, k := range keys {
			a := after[k]
			if a.Effective == "" {
				a.Effective = domain.RoleNone
			}
			a.Version = rec.Access[k].Version + 1
			rec.Access[k] = a
		}
		rec.Groups = rec.Groups[len(take):]
	}
}

// accessStage fills b with as many access items as fit, deleted (direct
// roles to none: no group is left by now), with their counters.
func (s *Store) accessStage(b *txBuilder, rec *domain.UserRecord, fixed int) func() {
	keys := sortedKeys(rec.Access)
	n := 0
	for n < len(keys) && fixed+(n+1)+len(siteSet(pick(rec.Access, keys[:n+1]))) <= MaxTransactItems {
		n++
	}
	take := keys[:max(1, n)]
	s.releaseAccess(b, rec.User, rec.Access, take)
	return func() {
		for _, k := range take {
			delete(rec.Access, k)
		}
	}
}

// invitationStage fills b with as many invitations as fit.
func (s *Store) invitationStage(b *txBuilder, rec *domain.UserRecord, fixed int) func() {
	n := 0
	for n < len(rec.Invitations) && fixed+3*(n+1) <= MaxTransactItems {
		n++
	}
	for _, inv := range rec.Invitations[:n] {
		s.dropInvitation(b, inv)
	}
	return func() { rec.Invitations = rec.Invitations[n:] }
}

// apiTokenStage fills b with as many API tokens as fit (both items each)
// and returns what to apply to the record once written and how many it
// took (the profile's count moves down by as many in the same transaction).
func (s *Store) apiTokenStage(b *txBuilder, rec *domain.UserRecord, fixed int) (func(), int) {
	n := 0
	for n < len(rec.APITokens) && fixed+2*(n+1) <= MaxTransactItems {
		n++
	}
	s.dropAPITokens(b, rec.APITokens[:n])
	return func() { rec.APITokens = rec.APITokens[n:] }, n
}

func pick(m map[string]domain.Access, keys []string) map[string]domain.Access {
	out := make(map[string]domain.Access, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// siteSet is the set of sites of Confluence access keys (the counters a
// change may move).
func siteSet(m map[string]domain.Access) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		if site, p, _ := strings.Cut(k, "/"); p == string(domain.Confluence) {
			out[site] = true
		}
	}
	return out
}

func cloneAccess(m map[string]domain.Access) map[string]domain.Access {
	out := make(map[string]domain.Access, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lifecycleTx runs a lifecycle transaction and tells its refusal: a group
// with a job in flight (ECONFLICT naming it), the caller no longer an active
// org admin (EFORBIDDEN), the account gone (ENOTFOUND), or anything else
// changed meanwhile (domain.ErrAccessChanged: read again).
func (s *Store) lifecycleTx(ctx context.Context, what string, b *txBuilder, rec domain.UserRecord) error {
	if len(b.items) > MaxTransactItems {
		return domain.Errorf(domain.EINVALID, "This change touches too many records at once.")
	}
	err := s.Transact(ctx, what, b.items)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	for j, kind := range b.kinds {
		if c.Code(j) != "ConditionalCheckFailed" {
			continue
		}
		switch {
		case strings.HasPrefix(kind, "group:"):
			g := strings.TrimPrefix(kind, "group:")
			name := rec.GroupInfo[g].Name
			if name == "" {
				name = g
			}
			return &domain.Error{Code: domain.ECONFLICT, Message: "Group " + name + " has a job in flight; retry when it has finished.",
				Extra: map[string]any{"groups": []string{g}}}
		case kind == "caller":
			return domain.Errorf(domain.EFORBIDDEN, "Only active organisation admins may do this.")
		case kind == "invitation-status":
			// Still pending: only its version or token moved (the email
			// sender's claim mints a new link, a resend renewed it): read
			// it again. Anything else ended it.
			if st, ok := c.Old(j)["status"].(*types.AttributeValueMemberS); ok && st.Value == string(domain.InvitationPending) {
				return domain.ErrAccessChanged
			}
			return domain.Errorf(domain.ECONFLICT, "The invitation is no longer pending: it was accepted, revoked or replaced meanwhile.")
		}
	}
	return domain.ErrAccessChanged
}

// SetUserStatus suspends or restores an account: its status moves from what
// was read to the new one, with the audit entry, in one transaction, while
// the caller is still an active org admin. Access and seats stay as they
// are. ErrAccessChanged when the status changed meanwhile.
func (s *Store) SetUserStatus(ctx context.Context, ch domain.StatusChange) error {
	u := ch.User
	b := &txBuilder{}
	b.add("profile", types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
		UpdateExpression: aws.String("SET #s = :to"), ConditionExpression: aws.String("#s = :from"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: table.Item{":to": table.S(string(ch.To)), ":from": table.S(string(ch.From))}}})
	b.add("caller", s.callerIsOrgAdmin(u.OrgID, ch.CallerID))
	b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(ch.Audit))}})
	return s.lifecycleTx(ctx, "set user status", b, domain.UserRecord{})
}

// RevokeInvitation revokes a pending invitation (rules §4) and releases what its
// invitee held, in one transaction (releaseInvitation), conditioned on the
// invitation being pending under the token and version read, so that it and
// an accept racing it cannot both win. The token item stays: the link
// answers "revoked".
func (s *Store) RevokeInvitation(ctx context.Context, rv domain.Revocation) error {
	return s.releaseInvitation(ctx, "revoke invitation", rv, domain.InvitationRevoked,
		"version = :v AND #s = :pending AND tokenHash = :h", table.Item{":h": table.S(rv.Invitation.TokenHash)})
}

// releaseInvitation ends a pending invitation with status (revoked by an
// admin, expired by the system) and releases what its invitee held, in one
// transaction: the invitation is rewritten whole with that status (kept as
// the record, out of the due-work index) under cond (which names :v, the
// version read, :pending and #s, plus vals); the invited account's access
// items (counters move back), memberships (groups' counts; refused while a
// group has a job in flight), profile (still invited) and email guard go;
// the audit entry is written. The token item stays.
func (s *Store) releaseInvitation(ctx context.Context, what string, rv domain.Revocation, status domain.InvitationStatus, cond string, vals table.Item) error {
	inv, rec := rv.Invitation, rv.Record
	u := rec.User
	ended := inv
	ended.Status = status
	v := table.Item{":v": table.N(int64(inv.Version)), ":pending": table.S(string(domain.InvitationPending))}
	for k, x := range vals {
		v[k] = x
	}
	b := &txBuilder{}
	b.add("invitation-status", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newInvitationItem(ended, inv.CreatedAt, inv.Version+1)),
		ConditionExpression:                 aws.String(cond),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ExpressionAttributeNames:            map[string]string{"#s": "status"},
		ExpressionAttributeValues:           v}})
	for _, g := range rec.Groups {
		s.leaveGroup(b, u, g)
	}
	s.releaseAccess(b, u, rec.Access, sortedKeys(rec.Access))
	// An invitee is never active, so it cannot have made API tokens (only
	// active users may); any read with the record go with the account.
	s.dropAPITokens(b, rec.APITokens)
	b.add("guard", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.EmailPK(u.OrgID, u.Email), table.SKEmail),
		ConditionExpression: aws.String("accountId = :a"), ExpressionAttributeValues: table.Item{":a": table.S(u.AccountID)}}})
	b.add("profile", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
		ConditionExpression: aws.String("#s = :invited"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: table.Item{":invited": table.S(string(domain.UserInvited))}}})
	b.add("audit", types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(rv.Audit))}})
	return s.lifecycleTx(ctx, what, b, rec)
}
