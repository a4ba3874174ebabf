package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extpolicy"
)

// TestResetSessionsIsOneWrite: resetting every external user's sessions is
// one BatchGetItem and one TransactWriteItems (org item, caller check,
// audit) whatever the directory's size; afterwards every external user's
// decision asks for verification, with no profile written.
func TestResetSessionsIsOneWrite(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		for i := range 200 {
			u := domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("ext-%03d", i), Email: fmt.Sprintf("ext%03d@partner%d.example", i, i%7),
				Status: domain.UserActive, External: true, CreatedAt: now, VerifiedAt: now.Add(-time.Hour)}
			if err := fx.st.CreateUser(ctx, u, demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
				t.Fatal(err)
			}
		}
		svc := &extpolicy.Service{Ports: extpolicy.PortsOf(fx.st), Now: func() time.Time { return now }}
		caller := domain.Caller{AccountID: demo.AdminID, RequestID: "r1"}
		if _, err := svc.SetPolicy(ctx, caller, demo.OrgID, domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}, nil); err != nil {
			t.Fatal(err)
		}
		// allowed asks the decision for every 10th of them.
		allowed := func() int {
			n := 0
			for i := 0; i < 200; i += 10 {
				sc, err := accessdb.New(fx.st).LoadDecision(ctx, demo.OrgID, demo.SiteID, fmt.Sprintf("ext-%03d", i), domain.Confluence, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if domain.Decide(domain.DecisionInputOf(sc, domain.ClientWeb, "", now.Add(time.Minute))).Allow {
					n++
				}
			}
			return n
		}
		if n := allowed(); n != 20 {
			t.Fatalf("before the reset %d of 20 allowed", n)
		}
		// The preview of a 1-day frequency, by pages of 50: each page one
		// BatchGetItem (org, caller) and at most one Query per range of the
		// by-domain index outside the verified domains (demo: 1 domain, 2 ranges).
		cursor, must, pages := "", 0, 0
		for {
			fx.c.Reset()
			page, err := svc.Preview(ctx, caller, demo.OrgID, extpolicy.Proposal{Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 1}, Limit: 50, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if c := fx.c.Counts(); c["BatchGetItem"] != 1 || c["Query"] > 2 || len(c) != 2 {
				t.Errorf("preview page %d: calls %v", pages, c)
			}
			for _, a := range page.Users {
				if len(a.Effects) == 1 && a.Effects[0].Kind == extpolicy.EffectMustVerify && a.Effects[0].By.Equal(a.User.VerifiedAt.Add(24*time.Hour)) {
					must++
				}
			}
			if cursor = page.Next; cursor == "" || pages > 10 {
				break
			}
		}
		if must != 200 || pages != 5 {
			t.Errorf("preview: %d users must verify in %d pages, want 200 in 5 (the last one empty)", must, pages)
		}
		fx.c.Reset()
		v, err := svc.ResetSessions(ctx, caller, demo.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if c := fx.c.Counts(); len(c) != 2 || c["BatchGetItem"] != 1 || c["TransactWriteItems"] != 1 {
			t.Errorf("reset of 200 external users: calls %v, want one BatchGetItem and one TransactWriteItems", c)
		}
		if !v.Org.SessionsResetAt.Equal(now) || v.Org.PolicyVersion != 2 {
			t.Errorf("after the reset: %+v", v.Org)
		}
		if n := allowed(); n != 0 {
			t.Errorf("after the reset %d of 20 still allowed", n)
		}
	})
}

// TestPolicyChangeUnderVersion: two changes made from the same version
// cannot both be written (the org item is conditioned on its
// policyVersion); the loser's audit entry and rescan request are not
// written either. A rescan request is written with a change of
// verification settings only.
func TestPolicyChangeUnderVersion(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		sc, _, err := fx.st.LoadPolicyScope(ctx, demo.OrgID, demo.AdminID, nil)
		if err != nil || sc.Org == nil {
			t.Fatal(sc, err)
		}
		change := func(o domain.Org, p domain.PolicySettings, id string) domain.PolicyChange {
			next := o
			next.Policy, next.PolicyVersion = p, o.PolicyVersion+1
			return domain.PolicyChange{Org: next, FromVersion: o.PolicyVersion, CallerID: demo.AdminID, Rescan: extpolicy.VerificationChanged(o, next),
				Audit: domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionPolicyUpdate, domain.OrgTarget(demo.OrgID), id, now, map[string]any{}, map[string]any{})}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []domain.PolicySettings{{TwoStep: true, VerifyEveryDays: 3}, {BlockAPITokens: true}} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = fx.st.ChangePolicy(ctx, change(*sc.Org, p, fmt.Sprint("req-", i))) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, domain.ErrPolicyChanged):
				t.Errorf("loser: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of two changes from version 0 written: %v", won, errs)
		}
		after, _, _ := fx.st.LoadPolicyScope(ctx, demo.OrgID, demo.AdminID, nil)
		if after.Org.PolicyVersion != 1 {
			t.Errorf("version %d", after.Org.PolicyVersion)
		}
		// The rescan request is written with the change of verification
		// settings (the first), not with the change of API tokens only.
		scan, err := fx.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(fx.st.Table()), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID}, "SK": &types.AttributeValueMemberS{Value: "VERIFYSCAN"}}})
		if err != nil {
			t.Fatal(err)
		}
		if (len(scan.Item) > 0) != after.Org.Policy.TwoStep {
			t.Errorf("policy %+v, rescan request %v", after.Org.Policy, scan.Item)
		}
		page, err := auditdb.New(fx.st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.OrgTarget(demo.OrgID), From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 10})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("audit entries of the org: %v %v", page.Items, err)
		}
		// A stale version again: refused.
		if err := fx.st.ChangePolicy(ctx, change(*sc.Org, domain.PolicySettings{}, "req-3")); !errors.Is(err, domain.ErrPolicyChanged) {
			t.Errorf("stale: %v", err)
		}
		// A caller who is not an org admin: refused, nothing written.
		ch := change(*after.Org, domain.PolicySettings{TwoStep: true, VerifyEveryDays: 9}, "req-4")
		ch.CallerID = demo.PlainUserID
		if err := fx.st.ChangePolicy(ctx, ch); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("not an admin: %v", err)
		}
		// One user's reset needs the profile.
		r := domain.UserSessionReset{OrgID: demo.OrgID, AccountID: "nobody", CallerID: demo.AdminID, At: now,
			Audit: domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionUserSessionReset, domain.UserTarget("nobody"), "req-5", now, nil, nil)}
		if err := fx.st.ResetUserSession(ctx, r); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("reset of no one: %v", err)
		}
		r.AccountID = demo.PlainUserID
		if err := fx.st.ResetUserSession(ctx, r); err != nil {
			t.Fatal(err)
		}
		if u, err := fx.st.User(ctx, demo.OrgID, demo.PlainUserID); err != nil || !u.SessionsResetAt.Equal(now) {
			t.Errorf("reset: %v %v", u.SessionsResetAt, err)
		}
	})
}
