package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/users"
)

func self(id string) domain.Caller { return domain.Caller{AccountID: id, RequestID: "req-" + id} }

// newTokenUser makes an active user of the demo org with a paid
// Confluence role.
func newTokenUser(t *testing.T, fx fixture, id string) {
	t.Helper()
	if err := fx.st.CreateUser(context.Background(), domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@partner.example", Status: domain.UserActive, CreatedAt: time.Now().UTC()},
		demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
		t.Fatal(err)
	}
}

// tokenItems returns the table's API token items of an account: the
// use-time items by their PK and the listing items by their SK.
func tokenItems(t *testing.T, fx fixture, accountID string) (use, listed []string) {
	t.Helper()
	for _, it := range scanAll(t, fx) {
		switch sv(it, "type") {
		case "api-token":
			if sv(it, "accountId") == accountID {
				use = append(use, sv(it, "PK"))
			}
		case "api-token-ref":
			if sv(it, "accountId") == accountID {
				listed = append(listed, sv(it, "SK"))
			}
		}
	}
	return use, listed
}

func profileCount(t *testing.T, fx fixture, accountID string) string {
	t.Helper()
	for _, it := range scanAll(t, fx) {
		if sv(it, "PK") == "ORG#"+demo.OrgID+"#USER#"+accountID && sv(it, "SK") == "PROFILE" {
			return sv(it, "apiTokens")
		}
	}
	return "(no profile)"
}

// TestAPITokenLifecycle: create (1 BatchGetItem + 1 TransactWriteItems,
// both items, the count, the audit entry; the secret nowhere in the
// table), list (1 BatchGetItem + 1 Query, no secrets), revoke by an org
// admin (both items go, the count back), who may, and bad input changing
// nothing, on both backends.
func TestAPITokenLifecycle(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := &apitokens.Service{Store: fx.st}
		newTokenUser(t, fx, "tok-user")
		before := len(scanAll(t, fx))
		days := 400
		zero := 0
		for _, c := range []struct {
			label string
			days  *int
			field string
		}{{"", nil, "label"}, {"   ", nil, "label"}, {strings.Repeat("x", 101), nil, "label"}, {"ok", &days, "expiresInDays"}, {"ok", &zero, "expiresInDays"}} {
			fx.c.Reset()
			_, err := svc.Create(ctx, self("tok-user"), demo.OrgID, "tok-user", c.label, c.days)
			var e *domain.Error
			if !asErr(err, &e) || e.Code != domain.EINVALID || e.Fields[c.field] == "" || len(fx.c.Counts()) != 0 {
				t.Errorf("label %q days %v: %v after %v", c.label, c.days, err, fx.c.Counts())
			}
		}
		// Only the user themselves makes one: not an org admin for them.
		if _, err := svc.Create(ctx, admin(), demo.OrgID, "tok-user", "for you", nil); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("admin creating for another: %v", err)
		}
		if _, err := svc.Create(ctx, self(demo.PlainUserID), demo.OrgID, "tok-user", "for you", nil); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("another user creating: %v", err)
		}
		if n := len(scanAll(t, fx)); n != before {
			t.Fatalf("refused creates wrote %d items", n-before)
		}

		fx.c.Reset()
		made, err := svc.Create(ctx, self("tok-user"), demo.OrgID, "tok-user", "CI", nil)
		if err != nil {
			t.Fatal(err)
		}
		if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || calls["TransactWriteItems"] != 1 || len(calls) != 2 {
			t.Errorf("create: calls %v, want 1 BatchGetItem + 1 TransactWriteItems", calls)
		}
		tok := made.Token
		if !strings.HasPrefix(made.Secret, domain.APITokenPrefix) || domain.HashToken(made.Secret) != tok.Hash || !domain.ValidAPITokenShape(made.Secret) {
			t.Errorf("secret %q, hash %q", made.Secret, tok.Hash)
		}
		if d := tok.ExpiresAt.Sub(tok.CreatedAt); d != domain.DefaultAPITokenDays*24*time.Hour {
			t.Errorf("default lifetime %v", d)
		}
		secretPart := strings.TrimPrefix(made.Secret, domain.APITokenPrefix)
		for _, it := range scanAll(t, fx) {
			for k, v := range it {
				if s := sv(map[string]types.AttributeValue{k: v}, k); strings.Contains(s, secretPart) {
					t.Errorf("the secret is stored in %s.%s", sv(it, "PK"), k)
				}
				if sv(it, "type") == "audit" && strings.Contains(fmt.Sprint(v), tok.Hash) {
					t.Errorf("the audit entry keeps the hash: %s", k)
				}
			}
		}
		use, listed := tokenItems(t, fx, "tok-user")
		if len(use) != 1 || use[0] != "APITOKEN#"+tok.Hash || len(listed) != 1 || listed[0] != "APITOKEN#"+tok.ID || profileCount(t, fx, "tok-user") != "1" {
			t.Errorf("items %v %v, count %s", use, listed, profileCount(t, fx, "tok-user"))
		}

		// List: the user and org admins; nobody else.
		for _, c := range []domain.Caller{self("tok-user"), admin()} {
			fx.c.Reset()
			page, err := svc.List(ctx, c, demo.OrgID, "tok-user", 10, "")
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != tok.ID || page.Items[0].Label != "CI" || !page.Items[0].ExpiresAt.Equal(tok.ExpiresAt) {
				t.Errorf("list by %s: %+v, %v", c.AccountID, page, err)
			}
			if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || calls["Query"] != 1 || len(calls) != 2 {
				t.Errorf("list: calls %v", calls)
			}
		}
		if _, err := svc.List(ctx, self(demo.PlainUserID), demo.OrgID, "tok-user", 10, ""); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("another user listing: %v", err)
		}
		if _, err := svc.Revoke(ctx, self(demo.PlainUserID), demo.OrgID, "tok-user", tok.ID); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("another user revoking: %v", err)
		}
		if _, err := svc.Revoke(ctx, admin(), demo.OrgID, "tok-user", domain.NewID()); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("unknown token: %v", err)
		}

		// The decision reads it by the hash, in its one read.
		fx.c.Reset()
		sc, err := accessdb.New(fx.st).LoadDecision(ctx, demo.OrgID, demo.SiteID, "tok-user", domain.Confluence, "", tok.Hash)
		if err != nil || sc.APIToken == nil || sc.APIToken.AccountID != "tok-user" || sc.APIToken.OrgID != demo.OrgID || !sc.APIToken.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Errorf("decision scope token: %+v, %v", sc.APIToken, err)
		}
		if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || len(calls) != 1 {
			t.Errorf("decision read: %v", calls)
		}

		fx.c.Reset()
		if _, err := svc.Revoke(ctx, admin(), demo.OrgID, "tok-user", tok.ID); err != nil {
			t.Fatal(err)
		}
		if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || calls["TransactWriteItems"] != 1 || len(calls) != 2 {
			t.Errorf("revoke: calls %v", calls)
		}
		if use, listed := tokenItems(t, fx, "tok-user"); len(use)+len(listed) != 0 || profileCount(t, fx, "tok-user") != "0" {
			t.Errorf("after revoke: %v %v, count %s", use, listed, profileCount(t, fx, "tok-user"))
		}
		if _, err := svc.Revoke(ctx, self("tok-user"), demo.OrgID, "tok-user", tok.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("revoked twice: %v", err)
		}
		if sc, _ := accessdb.New(fx.st).LoadDecision(ctx, demo.OrgID, demo.SiteID, "tok-user", domain.Confluence, "", tok.Hash); sc.APIToken != nil {
			t.Errorf("a revoked token still read: %+v", sc.APIToken)
		}
		// A suspended user makes none.
		if err := fx.st.SetUserStatus(ctx, domain.StatusChange{User: domain.User{OrgID: demo.OrgID, AccountID: "tok-user"}, From: domain.UserActive, To: domain.UserSuspended, CallerID: demo.AdminID,
			Audit: domain.NewAudit(demo.OrgID, demo.AdminID, "user.suspend", domain.UserTarget("tok-user"), "r", time.Now(), nil, nil)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, self("tok-user"), demo.OrgID, "tok-user", "CI", nil); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("suspended user creating: %v", err)
		}
	})
}

// TestAPITokenCapHoldsUnderConcurrency: a user 2 short of the cap sends 8
// creates at once: exactly 2 are made, the others are 409, and the count
// and the items agree. Without the count's condition all 8 are made.
func TestAPITokenCapHoldsUnderConcurrency(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := &apitokens.Service{Store: fx.st}
		newTokenUser(t, fx, "cap-user")
		for i := 0; i < domain.MaxAPITokens-2; i++ {
			if _, err := svc.Create(ctx, self("cap-user"), demo.OrgID, "cap-user", fmt.Sprint("t", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		const racers = 8
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.Create(ctx, self("cap-user"), demo.OrgID, "cap-user", fmt.Sprint("race", i), nil)
			}()
		}
		wg.Wait()
		made, refused := 0, 0
		for _, err := range errs {
			switch domain.ErrorCode(err) {
			case "":
				made++
			case domain.ECONFLICT:
				refused++
			default:
				t.Errorf("racer: %v", err)
			}
		}
		use, listed := tokenItems(t, fx, "cap-user")
		if made != 2 || refused != racers-2 || len(use) != domain.MaxAPITokens || len(listed) != domain.MaxAPITokens || profileCount(t, fx, "cap-user") != fmt.Sprint(domain.MaxAPITokens) {
			t.Errorf("made %d, refused %d; %d use items, %d listed, count %s", made, refused, len(use), len(listed), profileCount(t, fx, "cap-user"))
		}
	})
}

// TestRemovalTakesAPITokens: removing a user deletes both items of each of
// their tokens; a token made after the removal read its record refuses
// that removal (the profile's count is a condition of its delete), which
// reads again and takes it too: nothing is orphaned.
func TestRemovalTakesAPITokens(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := &apitokens.Service{Store: fx.st}
		newTokenUser(t, fx, "gone-user")
		for i := 0; i < 3; i++ {
			if _, err := svc.Create(ctx, self("gone-user"), demo.OrgID, "gone-user", fmt.Sprint("t", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		_, rec, err := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, "gone-user")
		if err != nil || rec == nil || len(rec.APITokens) != 3 {
			t.Fatalf("record: %+v, %v", rec, err)
		}
		// A token made meanwhile: the stale removal is refused, nothing goes.
		if _, err := svc.Create(ctx, self("gone-user"), demo.OrgID, "gone-user", "late", nil); err != nil {
			t.Fatal(err)
		}
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionUserRemove, domain.UserTarget("gone-user"), "r", time.Now(), nil, nil)
		if _, err := fx.st.RemoveUser(ctx, domain.Removal{Record: *rec, CallerID: demo.AdminID, Audit: audit}); err == nil {
			t.Fatal("a removal that missed a token was written")
		}
		if use, listed := tokenItems(t, fx, "gone-user"); len(use) != 4 || len(listed) != 4 {
			t.Fatalf("after the refused removal: %v %v", use, listed)
		}
		if _, err := users.New(fx.st, nil).Remove(ctx, admin(), demo.OrgID, "gone-user"); err != nil {
			t.Fatal(err)
		}
		if use, listed := tokenItems(t, fx, "gone-user"); len(use)+len(listed) != 0 {
			t.Errorf("tokens left after removal: %v %v", use, listed)
		}
		if left := partition(t, fx, demo.OrgID, "gone-user"); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
	})
}

// TestRemovalOfManyAPITokensInStages: a user holding more tokens than one
// transaction takes (planted past the cap: the API never makes so many)
// is removed in stages, each moving the profile's count down with the
// tokens it deletes.
func TestRemovalOfManyAPITokensInStages(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		newTokenUser(t, fx, "many-tokens")
		const n = 60
		now := time.Now().UTC()
		for i := 0; i < n; i++ {
			_, hash := domain.NewAPITokenSecret()
			id := domain.NewID()
			common := map[string]types.AttributeValue{"orgId": &types.AttributeValueMemberS{Value: demo.OrgID}, "accountId": &types.AttributeValueMemberS{Value: "many-tokens"},
				"tokenId": &types.AttributeValueMemberS{Value: id}, "label": &types.AttributeValueMemberS{Value: "x"},
				"createdAt": &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)}, "expiresAt": &types.AttributeValueMemberS{Value: now.Add(time.Hour).Format(time.RFC3339Nano)}}
			useItem := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "APITOKEN#" + hash}, "SK": &types.AttributeValueMemberS{Value: "APITOKEN"}, "type": &types.AttributeValueMemberS{Value: "api-token"}}
			refItem := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID + "#USER#many-tokens"}, "SK": &types.AttributeValueMemberS{Value: "APITOKEN#" + id},
				"type": &types.AttributeValueMemberS{Value: "api-token-ref"}, "hash": &types.AttributeValueMemberS{Value: hash}}
			for k, v := range common {
				useItem[k], refItem[k] = v, v
			}
			for _, it := range []map[string]types.AttributeValue{useItem, refItem} {
				if _, err := fx.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(fx.st.Table()), Item: it}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := fx.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(fx.st.Table()),
			Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID + "#USER#many-tokens"}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}},
			UpdateExpression: aws.String("SET apiTokens = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: fmt.Sprint(n)}}}); err != nil {
			t.Fatal(err)
		}
		res, err := users.New(fx.st, nil).Remove(ctx, admin(), demo.OrgID, "many-tokens")
		if err != nil {
			t.Fatal(err)
		}
		if res.Stages < 2 {
			t.Errorf("stages = %d, want a token stage and the final one", res.Stages)
		}
		if use, listed := tokenItems(t, fx, "many-tokens"); len(use)+len(listed) != 0 {
			t.Errorf("tokens left: %d use, %d listed", len(use), len(listed))
		}
		if left := partition(t, fx, demo.OrgID, "many-tokens"); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
	})
}
