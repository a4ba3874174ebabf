package store

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// itemType is one item type of docs/data-model.md: its encoding (from a value
// whose collections are all empty) and its decoder.
type itemType struct {
	name   string
	enc    table.Item
	decode func(table.Item) error
	// colls are the item's collection attributes.
	colls []string
}

func ignoreValue[T any](f func(table.Item) (T, error)) func(table.Item) error {
	return func(it table.Item) error { _, err := f(it); return err }
}

// itemTypes lists every item type, each built with empty collections.
func itemTypes() []itemType {
	now := time.Now().UTC()
	org := domain.Org{ID: "o", Name: "O", VerifiedDomains: []string{}, TestPolicy: &domain.TestPolicy{Users: []string{}}}
	u := domain.User{OrgID: "o", AccountID: "a", Email: "a@x.example", SiteAdmin: []string{}, CreatedAt: now}
	inv := domain.Invitation{OrgID: "o", ID: "i", SiteID: "s", AccountID: "a", Email: "a@x.example", Roles: map[domain.Product]domain.Role{},
		EffectiveRoles: map[domain.Product]domain.Role{}, Groups: []string{}, Status: domain.InvitationPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	return []itemType{
		{"org", table.Marshal(newOrgItem(org)), ignoreValue(decodeOrg), []string{"verifiedDomains", "testUsers"}},
		{"site", table.Marshal(newSiteItem(domain.Site{OrgID: "o", ID: "s"})), ignoreValue(decodeSite), nil},
		{"group", table.Marshal(newGroupItem(domain.Group{OrgID: "o", ID: "g", Name: "G", Roles: map[string]domain.Role{}})), ignoreValue(decodeGroup), []string{"roles"}},
		{"group name", table.Marshal(newGroupNameItem("o", "G", "g")), nil, nil},
		{"user", table.Marshal(newUserItem(u)), ignoreValue(decodeUser), []string{"siteAdmin"}},
		{"email", table.Marshal(newEmailItem(u, &inv)), ignoreValue(decodeEmail), nil},
		{"access", table.Marshal(newAccessItem(u, "s", domain.Access{Product: domain.Confluence, Groups: map[string]domain.Role{}})), ignoreValue(decodeAccess), []string{"groups"}},
		{"member", table.Marshal(newMemberItem(u, "g")), nil, nil},
		{"invitation", table.Marshal(newInvitationItem(inv, time.Time{}, 1)), ignoreValue(decodeInvitation), []string{"roles", "effective", "groups"}},
		{"invitation ref", table.Marshal(newInvRefItem(inv)), ignoreValue(decodeInvRef), nil},
		{"invite-token", table.Marshal(newTokenItem(inv)), ignoreValue(decodeToken), nil},
		{"idempotency", table.Marshal(idemItem{Keys: table.Keys{PK: "ORG#o#IDEM#x", SK: "IDEM"}, Headers: map[string]string{}}), ignoreValue(decodeIdem), []string{"headers"}},
		{"audit", table.Marshal(newAuditItem(domain.NewAudit("o", "a", domain.ActionInvitationCreate, domain.UserTarget("a"), "r", now, nil, nil))), ignoreValue(decodeAudit), nil},
		{"space", table.Marshal(newSpaceItem(domain.Space{OrgID: "o", SiteID: "s", Key: "K", Name: "K"})), ignoreValue(decodeSpace), nil},
		{"space admin", table.Marshal(newSpaceAdminItem("o", "s", "K", "a", now)), ignoreValue(decodeSpaceAdmin), nil},
		{"job", jobItem(domain.Job{OrgID: "o", ID: "j", Reserved: map[string]int64{}, ReservedUsers: map[string]int64{}, CreatedAt: now}), ignoreValue(decodeJob), nil},
		{"api token", table.Marshal(newAPITokenItem(domain.APIToken{OrgID: "o", AccountID: "a", ID: "t", Hash: "h"}, false)), ignoreValue(decodeAPIToken), nil},
		{"api token listing", table.Marshal(newAPITokenItem(domain.APIToken{OrgID: "o", AccountID: "a", ID: "t", Hash: "h"}, true)), ignoreValue(decodeAPIToken), nil},
		{"export job", table.Marshal(newExportItem(domain.ExportJob{OrgID: "o", ID: "e"})), ignoreValue(decodeExport), nil},
		{"passcode", table.Marshal(newOTPItem(domain.OTP{OrgID: "o", Email: "a@x.example"})), ignoreValue(decodeOTP), nil},
		{"verify scan", table.Marshal(newVerifyScanItem("o", now, 1, "")), ignoreValue(decodeVerifyScan), nil},
	}
}

func emptyM() types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
}
func emptyL() types.AttributeValue {
	return &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
}

// withEmpties is it with each of its collection attributes (and a few
// others, one nested) written as an empty collection: what a call site that
// bypassed the codec, or an older build, would write.
func withEmpties(t itemType) table.Item {
	it := table.Item{}
	for k, v := range t.enc {
		it[k] = v
	}
	for _, c := range t.colls {
		switch c {
		case "verifiedDomains", "testUsers", "siteAdmin", "groups":
			if t.name != "access" {
				it[c] = emptyL()
				continue
			}
		}
		it[c] = emptyM()
	}
	it["xm"], it["xl"] = emptyM(), emptyL()
	it["xnest"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": emptyM(), "b": emptyL()}}
	return it
}

// emptyBackends are the two DynamoDB implementations, each with a table and
// a raw client that bypasses the store's guard.
func emptyBackends(t *testing.T, f func(t *testing.T, st *Store, raw *dynamodb.Client)) {
	for _, b := range []string{"moto", "embedded"} {
		t.Run(b, func(t *testing.T) {
			var db *dynamodb.Client
			if b == "moto" {
				db = dynamodb.NewFromConfig(testenv.AWSConfig(testenv.Endpoint(t, "MOTO_ENDPOINT")))
			} else {
				db = testenv.Minidyn(t, nil)
			}
			f(t, New(db, testenv.Table(t, db)), db)
		})
	}
}

// storedEmpty names an attribute of it that is an empty collection.
func storedEmpty(it table.Item) string {
	for k, v := range it {
		if table.Empty(v) {
			return k
		}
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			if n := storedEmpty(m.Value); n != "" {
				return k + "." + n
			}
		}
	}
	return ""
}

// TestNoEmptyCollectionIsWritten: every item type, built with empty
// collections and with empty collections forced in, is written by PutItem,
// by a transaction's Put and by BatchWriteItem through the store's client
// on both backends; none is stored with an empty collection, and each
// decodes. An update setting an empty collection is refused before it is
// sent, and setOrRemove clears the attribute instead.
func TestNoEmptyCollectionIsWritten(t *testing.T) {
	emptyBackends(t, func(t *testing.T, st *Store, raw *dynamodb.Client) {
		ctx := context.Background()
		for n, typ := range itemTypes() {
			for w, write := range []string{"PutItem", "TransactWriteItems", "BatchWriteItem"} {
				it := withEmpties(typ)
				pk := "T#" + typ.name
				sk := write + string(rune('a'+n)) + string(rune('a'+w))
				it["PK"], it["SK"] = table.S(pk), table.S(sk)
				var err error
				switch write {
				case "PutItem":
					_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Name, Item: it})
				case "TransactWriteItems":
					_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: &st.Name, Item: it}}}})
				case "BatchWriteItem":
					_, err = st.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Name: {{PutRequest: &types.PutRequest{Item: it}}}}})
				}
				if err != nil {
					t.Fatalf("%s by %s: %v", typ.name, write, err)
				}
				got, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Name, Key: table.Key(pk, sk), ConsistentRead: aws.Bool(true)})
				if err != nil || got.Item == nil {
					t.Fatalf("%s by %s: read back %v", typ.name, write, err)
				}
				if e := storedEmpty(got.Item); e != "" {
					t.Errorf("%s by %s: stored with the empty collection %s", typ.name, write, e)
				}
				if typ.decode != nil {
					if err := typ.decode(got.Item); err != nil {
						t.Errorf("%s by %s: decode: %v", typ.name, write, err)
					}
				}
			}
		}
		// An update that would set an empty collection never leaves.
		for _, v := range []types.AttributeValue{emptyM(), emptyL(), &types.AttributeValueMemberSS{}} {
			_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &st.Name, Key: table.Key("T#u", "u"), UpdateExpression: aws.String("SET x = :v"),
				ExpressionAttributeValues: table.Item{":v": v}})
			if err == nil {
				t.Errorf("UpdateItem SET of an empty %T was sent", v)
			}
			_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{TableName: &st.Name,
				Key: table.Key("T#u", "u"), UpdateExpression: aws.String("SET x = :v"), ExpressionAttributeValues: table.Item{":v": v}}}}})
			if err == nil {
				t.Errorf("a transaction's SET of an empty %T was sent", v)
			}
		}
		if got, _ := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Name, Key: table.Key("T#u", "u")}); got.Item != nil {
			t.Errorf("a refused update wrote %v", got.Item)
		}
		// setOrRemove: a map set, then cleared, is gone (REMOVE works on both).
		for _, v := range []types.AttributeValue{&types.AttributeValueMemberM{Value: table.Item{"s/confluence": table.S("guest")}}, emptyM()} {
			vals := table.Item{":one": table.N(1)}
			_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &st.Name, Key: table.Key("T#r", "r"),
				UpdateExpression: aws.String(table.SetOrRemove("#r", ":r", v, vals) + "version = :one"), ExpressionAttributeNames: map[string]string{"#r": "roles"},
				ExpressionAttributeValues: vals})
			if err != nil {
				t.Fatalf("setOrRemove %v: %v", v, err)
			}
		}
		got, _ := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Name, Key: table.Key("T#r", "r"), ConsistentRead: aws.Bool(true)})
		if _, ok := got.Item["roles"]; ok || got.Item["version"] == nil {
			t.Errorf("after the roles were cleared: %v", got.Item)
		}
	})
}

// TestStoredEmptyCollectionsDecode: items already stored with empty
// collections (written around the guard, as an older build did on the
// embedded backend) read back and decode on both backends.
func TestStoredEmptyCollectionsDecode(t *testing.T) {
	emptyBackends(t, func(t *testing.T, st *Store, raw *dynamodb.Client) {
		ctx := context.Background()
		for _, typ := range itemTypes() {
			if typ.decode == nil {
				continue
			}
			it := withEmpties(typ)
			it["PK"], it["SK"] = table.S("T#"+typ.name), table.S("raw")
			if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Name, Item: it}); err != nil {
				t.Fatalf("%s: %v", typ.name, err)
			}
			got, err := st.Get(ctx, "T#"+typ.name, "raw")
			if err != nil || got == nil {
				t.Fatalf("%s: read %v", typ.name, err)
			}
			if err := typ.decode(got); err != nil {
				t.Errorf("%s with empty collections stored: %v", typ.name, err)
			}
		}
	})
}
