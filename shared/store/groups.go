package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// CreateGroup writes a new group with its name guard (names are unique in
// the org, case-insensitively) and, if given, the audit entry, in one
// transaction. ECONFLICT names what was taken: the id or the name.
func (s *Store) CreateGroup(ctx context.Context, g domain.Group, audit *domain.AuditEntry) error {
	gi := newGroupItem(g)
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(gi), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newGroupNameItem(g.OrgID, g.Name, gi.GroupID)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	if audit != nil {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(*audit))}})
	}
	err := s.Transact(ctx, "create group", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.Code(1) == "ConditionalCheckFailed" {
		return &domain.Error{Code: domain.ECONFLICT, Message: fmt.Sprintf("A group named %q already exists in this organisation (names are compared without case).", g.Name),
			Fields: map[string]string{"name": "already taken"}}
	}
	return &domain.Error{Code: domain.ECONFLICT, Message: fmt.Sprintf("A group with id %q already exists.", gi.GroupID), Fields: map[string]string{"id": "already taken"}}
}

// Group reads one group (ENOTFOUND if none).
func (s *Store) Group(ctx context.Context, orgID, id string) (domain.Group, error) {
	got, err := s.Get(ctx, table.OrgPK(orgID), table.GroupSK(id))
	if err != nil || got == nil {
		return domain.Group{}, table.NotFoundOr(err, "No such group.")
	}
	gi, err := decodeGroup(got)
	return gi.domain(), err
}

// RenameGroup gives a group a new name under its version, moving its name
// guard, with the audit entry, in one transaction. ECONFLICT when the name
// is taken or the group changed meanwhile.
func (s *Store) RenameGroup(ctx context.Context, g domain.Group, newName string, audit domain.AuditEntry) (domain.Group, error) {
	next := g
	next.Name, next.Version = newName, g.Version+1
	tx := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.Name, Key: table.Key(table.OrgPK(g.OrgID), table.GroupSK(g.ID)),
		UpdateExpression:          aws.String("SET #n = :n, nameKey = :k, version = :next"),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeNames:  map[string]string{"#n": "name"},
		ExpressionAttributeValues: table.Item{":n": table.S(newName), ":k": table.S(domain.GroupNameKey(newName)), ":v": table.N(int64(g.Version)), ":next": table.N(int64(next.Version))},
	}}}
	if domain.GroupNameKey(newName) != domain.GroupNameKey(g.Name) {
		tx = append(tx,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newGroupNameItem(g.OrgID, newName, g.ID)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.GroupNamePK(g.OrgID, domain.GroupNameKey(g.Name)), table.SKGroupName)}})
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}})
	err := s.Transact(ctx, "rename group", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return next, err
	}
	if c.Code(0) == "ConditionalCheckFailed" {
		return g, domain.Errorf(domain.ECONFLICT, "The group changed meanwhile; read it again.")
	}
	return g, &domain.Error{Code: domain.ECONFLICT, Message: fmt.Sprintf("A group named %q already exists in this organisation (names are compared without case).", newName),
		Fields: map[string]string{"name": "already taken"}}
}

// Groups lists an org's groups by id, a page at a time.
func (s *Store) Groups(ctx context.Context, orgID string, limit int, cursor string) (domain.Page[domain.Group], error) {
	var out domain.Page[domain.Group]
	res, next, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :g)"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.OrgPK(orgID)), ":g": table.S("GROUP#")},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, it := range res {
		gi, err := decodeGroup(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, gi.domain())
	}
	out.Next = next
	return out, nil
}

// GroupMembers lists a group's members by email, a page at a time.
func (s *Store) GroupMembers(ctx context.Context, orgID, groupID string, limit int, cursor string) (domain.Page[domain.Member], error) {
	var out domain.Page[domain.Member]
	res, next, err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S(table.MembersGSI1PK(orgID, groupID))},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, it := range res {
		d := &table.Dec{It: it}
		m := domain.Member{AccountID: d.S("accountId"), Email: d.S("email"), GroupID: d.S("group")}
		if d.Err != nil {
			return out, d.Err
		}
		out.Items = append(out.Items, m)
	}
	out.Next = next
	return out, nil
}

// UserGroups lists the ids of a user's groups (a user is in few groups: one
// Query, followed to its end).
func (s *Store) UserGroups(ctx context.Context, orgID, accountID string) ([]string, error) {
	var out []string
	cursor := ""
	for {
		res, next, err := s.query(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :m)"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.UserPK(orgID, accountID)), ":m": table.S("MEMBER#")},
		}, 1000, cursor)
		if err != nil {
			return nil, err
		}
		for _, it := range res {
			d := &table.Dec{It: it}
			out = append(out, d.S("group"))
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// UserAccess lists a user's access items on every site and product (one
// Query, followed to its end).
func (s *Store) UserAccess(ctx context.Context, orgID, accountID string) (map[string]domain.Access, error) {
	out := map[string]domain.Access{}
	cursor := ""
	for {
		res, next, err := s.query(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :a)"),
			ExpressionAttributeValues: table.Item{":pk": table.S(table.UserPK(orgID, accountID)), ":a": table.S("ACCESS#")},
		}, 1000, cursor)
		if err != nil {
			return nil, err
		}
		for _, it := range res {
			ai, err := decodeAccess(it)
			if err != nil {
				return nil, err
			}
			out[domain.SiteProductKey(ai.SiteID, domain.Product(ai.Product))] = ai.domain()
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// query runs one Query page on the table (or the index named in in): at
// most limit items from the cursor, and the cursor of the next page.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, limit int, cursor string) ([]table.Item, string, error) {
	in.TableName = &s.Name
	in.Limit = aws.Int32(int32(max(1, min(limit, 1000))))
	if cursor != "" {
		start, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		if !cursorFits(in, start) {
			return nil, "", badCursor()
		}
		in.ExclusiveStartKey = start
	}
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("store: query: %w", err)
	}
	next := ""
	if len(res.LastEvaluatedKey) > 0 {
		next = encodeCursor(res.LastEvaluatedKey)
	}
	return res.Items, next, nil
}

// Cursors are the LastEvaluatedKey's string attributes, JSON, base64url:
// opaque to clients; a cursor that does not decode is a 400.
func encodeCursor(k table.Item) string {
	m := map[string]string{}
	for n, v := range k {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			m[n] = sv.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func badCursor() error {
	return &domain.Error{Code: domain.EINVALID, Message: "The page cursor is not valid.", Fields: map[string]string{"cursor": "not a cursor this list gave"}}
}

// cursorFits reports whether a decoded cursor is a key of the query's own
// partition and sort-key prefix, with exactly the key attributes of the
// table or index queried: DynamoDB fails a query whose start key lies
// elsewhere (a cursor of another list, org or group) instead of answering
// a 400.
func cursorFits(in *dynamodb.QueryInput, start table.Item) bool {
	pk, sk, n := "PK", "SK", 2
	if in.IndexName != nil {
		pk, sk, n = *in.IndexName+"PK", *in.IndexName+"SK", 4
	}
	want, _ := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS)
	got, _ := start[pk].(*types.AttributeValueMemberS)
	at, _ := start[sk].(*types.AttributeValueMemberS)
	if want == nil || got == nil || at == nil || got.Value != want.Value || len(start) != n {
		return false
	}
	for name, v := range in.ExpressionAttributeValues {
		// The other values of these queries are begins_with prefixes of the sort key.
		if p, ok := v.(*types.AttributeValueMemberS); ok && name != ":pk" && !strings.HasPrefix(at.Value, p.Value) {
			return false
		}
	}
	return true
}

func decodeCursor(c string) (table.Item, error) {
	bad := badCursor()
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 2048 {
		return nil, bad
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m["PK"] == "" || m["SK"] == "" {
		return nil, bad
	}
	out := table.Item{}
	for n, v := range m {
		out[n] = table.S(v)
	}
	return out, nil
}

// LoadCaller reads the org and the caller in one BatchGetItem.
func (s *Store) LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error) {
	var sc domain.Scope
	got, err := s.BatchGet(ctx, []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile)})
	if err != nil {
		return sc, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, decodeOrg, orgItem.domain); err != nil {
		return sc, err
	}
	sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, decodeUser, userItem.domain)
	return sc, err
}

// Sites reads sites of an org by id in one BatchGetItem; missing ones are absent.
func (s *Store) Sites(ctx context.Context, orgID string, ids []string) (map[string]domain.Site, error) {
	out := map[string]domain.Site{}
	if len(ids) == 0 {
		return out, nil
	}
	ks := make([]table.Item, 0, len(ids))
	for _, sid := range ids {
		ks = append(ks, table.Key(table.OrgPK(orgID), table.SiteSK(sid)))
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return nil, err
	}
	for _, sid := range ids {
		if si, err := decodeOpt(got, table.OrgPK(orgID), table.SiteSK(sid), decodeSite, siteItem.domain); err != nil {
			return nil, err
		} else if si != nil {
			out[sid] = *si
		}
	}
	return out, nil
}

// GroupsByID reads groups by id in one BatchGetItem; missing ones are absent.
func (s *Store) GroupsByID(ctx context.Context, orgID string, ids []string) (map[string]domain.Group, error) {
	out := map[string]domain.Group{}
	if len(ids) == 0 {
		return out, nil
	}
	ks := make([]table.Item, 0, len(ids))
	for _, gid := range ids {
		ks = append(ks, table.Key(table.OrgPK(orgID), table.GroupSK(gid)))
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return nil, err
	}
	for _, gid := range ids {
		if g, err := decodeOpt(got, table.OrgPK(orgID), table.GroupSK(gid), decodeGroup, groupItem.domain); err != nil {
			return nil, err
		} else if g != nil {
			out[gid] = *g
		}
	}
	return out, nil
}
