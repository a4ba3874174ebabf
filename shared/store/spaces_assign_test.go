package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/spaces"
	"github.com/guestaccess/guestaccess/shared/store"
)

// personas seeds the demo org with its personas (spaces MKT, ENG, PUB).
func personas(t *testing.T, fx fixture) {
	t.Helper()
	if err := demo.SeedPersonas(context.Background(), fx.st); err != nil {
		t.Fatal(err)
	}
	fx.c.Reset()
}

func caller(id string) domain.Caller { return domain.Caller{AccountID: id, RequestID: "req-" + id} }

// audits returns the actions of today's audit entries of the demo org, read
// from the table itself (the audit reads are another route's).
func audits(t *testing.T, fx fixture) []string {
	t.Helper()
	ctx := context.Background()
	db := fx.db
	var out []string
	for _, day := range []time.Time{time.Now().UTC().Add(-time.Minute), time.Now().UTC()} {
		res, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(fx.st.Table()), KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID + "#AUDIT#" + day.Format("2006-01-02")}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			out = append(out, it["action"].(*types.AttributeValueMemberS).Value)
		}
		if day.Format("2006-01-02") == time.Now().UTC().Format("2006-01-02") {
			break
		}
	}
	return out
}

func count(actions []string, a string) int {
	n := 0
	for _, x := range actions {
		if x == a {
			n++
		}
	}
	return n
}

// newConfGuest writes an active guest of the demo site with no space.
func newConfGuest(t *testing.T, st *store.Store, id string) {
	t.Helper()
	u := domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@partner.example", Status: domain.UserActive, External: true, CreatedAt: time.Now()}
	if err := st.CreateUser(context.Background(), u, demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest}}); err != nil {
		t.Fatal(err)
	}
}

// TestAssignReadsOnce: an assignment (here a space admin's move, the
// longest path) reads everything it needs in one BatchGetItem and writes
// once: 2 calls, one after the other.
func TestAssignReadsOnce(t *testing.T) {
	tr := &testenv.Trace{}
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		svc := spaces.New(fx.st, nil)
		// Mia (MKT) administers ENG too: she may move Gus from MKT to ENG.
		if _, err := svc.AddAdmin(ctx, caller(demo.AdminID), demo.OrgID, demo.SiteID, demo.SpaceENG, demo.SpaceAdminID); err != nil {
			t.Fatal(err)
		}
		fx.c.Reset()
		tr.Reset()
		res, err := svc.Assign(ctx, caller(demo.SpaceAdminID), demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG, true)
		if err != nil || !res.Moved || res.Before != demo.SpaceMKT || res.After != demo.SpaceENG {
			t.Fatalf("move: %+v %v", res, err)
		}
		counts := fx.c.Counts()
		if counts["BatchGetItem"] != 1 || counts["TransactWriteItems"] != 1 || fx.c.Total() != 2 {
			t.Errorf("calls = %v, want 1 BatchGetItem and 1 TransactWriteItems", counts)
		}
		if chain := tr.Chain(nil); len(chain) != 2 {
			t.Errorf("chain = %v, want 2 calls", chain)
		}
		t.Logf("space admin's move: %v; chain %d", counts, len(tr.Chain(nil)))
		a, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
		if a.Space != demo.SpaceENG {
			t.Errorf("access = %+v", a)
		}
	}, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, tr.Add) })
}

// TestSpaceLifecycle: register, change, name admins, assign, list guests a
// page at a time, unassign — on both backends, each change audited.
func TestSpaceLifecycle(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		svc := spaces.New(fx.st, nil)
		admin := caller(demo.ProductAdminID) // a Confluence admin manages spaces
		sp, err := svc.Create(ctx, admin, demo.OrgID, demo.SiteID, "DOC", " Docs ", false)
		if err != nil || sp.Name != "Docs" {
			t.Fatalf("create: %+v %v", sp, err)
		}
		if _, err := svc.Create(ctx, admin, demo.OrgID, demo.SiteID, "DOC", "Again", false); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("create twice: %v", err)
		}
		name, open := "Documentation", true
		if sp, err = svc.Update(ctx, admin, demo.OrgID, demo.SiteID, "DOC", &name, &open); err != nil || sp.Name != name || !sp.AnonymousAccess || sp.Version != 1 {
			t.Fatalf("update: %+v %v", sp, err)
		}
		page, err := svc.List(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, 2, "")
		if err != nil || len(page.Items) != 2 || page.Next == "" || page.Items[0].Key != "DOC" {
			t.Fatalf("list: %+v %v", page, err)
		}
		if _, err := svc.AddAdmin(ctx, admin, demo.OrgID, demo.SiteID, "DOC", demo.PlainUserID); err != nil {
			t.Fatal(err)
		}
		d, err := svc.Get(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, "DOC")
		if err != nil || len(d.Admins) != 1 || d.Admins[0] != demo.PlainUserID {
			t.Fatalf("get: %+v %v", d, err)
		}
		// Alice, now admin of DOC, assigns three guests to it.
		for i := 0; i < 3; i++ {
			id := fmt.Sprintf("g%d-14west", i)
			newConfGuest(t, fx.st, id)
			if _, err := svc.Assign(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, id, "DOC", false); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		for cursor := ""; ; {
			p, err := svc.Guests(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, "DOC", 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range p.Items {
				seen = append(seen, g.AccountID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Errorf("guests of DOC = %v", seen)
		}
		if _, err := svc.Guests(ctx, caller(demo.OtherSpaceAdminID), demo.OrgID, demo.SiteID, "DOC", 10, ""); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("another space's admin lists DOC's guests: %v", err)
		}
		res, err := svc.Unassign(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, "g0-14west")
		if err != nil || res.Before != "DOC" || res.After != "" {
			t.Fatalf("unassign: %+v %v", res, err)
		}
		a, _ := fx.st.Access(ctx, demo.OrgID, "g0-14west", demo.SiteID, domain.Confluence)
		if a.Effective != domain.RoleGuest || a.Space != "" {
			t.Errorf("unassigned guest's access = %+v", a)
		}
		if _, err := svc.RemoveAdmin(ctx, admin, demo.OrgID, demo.SiteID, "DOC", demo.PlainUserID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Assign(ctx, caller(demo.PlainUserID), demo.OrgID, demo.SiteID, "g0-14west", "DOC", false); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("removed admin assigns: %v", err)
		}
		acts := audits(t, fx)
		for a, n := range map[string]int{domain.ActionSpaceCreate: 4, domain.ActionSpaceUpdate: 1, domain.ActionSpaceAdminAdd: 3, domain.ActionSpaceAdminRemove: 1,
			domain.ActionGuestSpaceAssign: 3, domain.ActionGuestSpaceRemove: 1} {
			if count(acts, a) != n {
				t.Errorf("%d %s entries, want %d (%v)", count(acts, a), a, n, acts)
			}
		}
	})
}

// TestSpaceSurvivesRoleChanges: a guest's space is kept by the writes of
// group memberships, group jobs and direct role changes (all recompute with
// WithGroup / WithDirect and write through the same access write) while
// they stay a guest, and goes when they become a paid user.
func TestSpaceSurvivesRoleChanges(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		u, err := fx.st.User(ctx, demo.OrgID, demo.GuestID)
		if err != nil {
			t.Fatal(err)
		}
		k := domain.SiteProductKey(demo.SiteID, domain.Confluence)
		step := func(f func(domain.Access) domain.Access, member string) domain.Access {
			t.Helper()
			a, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
			next := f(a)
			if err := fx.st.ChangeAccess(ctx, domain.AccessChange{User: u, Before: map[string]domain.Access{k: a}, After: map[string]domain.Access{k: next}, AddMember: member,
				Audit: domain.NewAudit(demo.OrgID, demo.AdminID, "t", domain.UserTarget(demo.GuestID), "", time.Now(), nil, nil)}); err != nil {
				t.Fatal(err)
			}
			got, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
			return got
		}
		// Joins the guest group; then the direct role goes (the group keeps them a guest).
		if a := step(func(a domain.Access) domain.Access { return a.WithGroup(demo.GuestGroup, domain.RoleGuest) }, demo.GuestGroup); a.Space != demo.SpaceMKT {
			t.Errorf("after a guest group: %+v", a)
		}
		if a := step(func(a domain.Access) domain.Access { return a.WithDirect(domain.RoleNone) }, ""); a.Space != demo.SpaceMKT || a.Effective != domain.RoleGuest {
			t.Errorf("after the direct role went: %+v", a)
		}
		page, _ := fx.st.SpaceGuests(ctx, demo.OrgID, demo.SiteID, demo.SpaceMKT, 10, "")
		if len(page.Items) != 1 || page.Items[0].AccountID != demo.GuestID {
			t.Errorf("MKT's guests = %+v", page.Items)
		}
		// A group job's page makes them a paid user: no space, off MKT's list.
		if a := step(func(a domain.Access) domain.Access { return a.WithGroup(demo.GuestGroup, domain.RoleUser) }, ""); a.Space != "" || a.Effective != domain.RoleUser {
			t.Errorf("after becoming paid: %+v", a)
		}
		if page, _ := fx.st.SpaceGuests(ctx, demo.OrgID, demo.SiteID, demo.SpaceMKT, 10, ""); len(page.Items) != 0 {
			t.Errorf("MKT's guests after = %+v", page.Items)
		}
	})
}

// TestAssignBadInputChangesNothing: each refusal is a clear error and
// leaves the guest's access item and the audit log as they were.
func TestAssignBadInputChangesNothing(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		svc := spaces.New(fx.st, nil)
		if err := fx.st.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: "other", Name: "Other", Host: "other.example", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, caller(demo.AdminID), demo.OrgID, "other", "OTH", "Other's", false); err != nil {
			t.Fatal(err)
		}
		before, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
		n := len(audits(t, fx))
		admin := caller(demo.AdminID)
		for _, tc := range []struct {
			name string
			do   func() error
			code string
		}{
			{"unknown space", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, demo.GuestID, "NOPE", true)
				return err
			}, domain.ENOTFOUND},
			{"a space of another site", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, demo.GuestID, "OTH", true)
				return err
			}, domain.ENOTFOUND},
			{"unknown guest", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, "nobody-14west", demo.SpaceENG, true)
				return err
			}, domain.ENOTFOUND},
			{"invalid key", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, demo.GuestID, "eng", true)
				return err
			}, domain.EINVALID},
			{"moving without asking", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG, false)
				return err
			}, domain.ECONFLICT},
			{"a space admin of the target only moves", func() error {
				_, err := svc.Assign(ctx, caller(demo.OtherSpaceAdminID), demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG, true)
				return err
			}, domain.EFORBIDDEN},
			{"another space's admin unassigns", func() error {
				_, err := svc.Unassign(ctx, caller(demo.OtherSpaceAdminID), demo.OrgID, demo.SiteID, demo.GuestID)
				return err
			}, domain.EFORBIDDEN},
			{"another org's admin", func() error {
				_, err := svc.Assign(ctx, caller(demo.OtherAdminID), demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG, true)
				return err
			}, domain.ENOTFOUND},
			{"a paid user", func() error {
				_, err := svc.Assign(ctx, admin, demo.OrgID, demo.SiteID, demo.PlainUserID, demo.SpaceENG, false)
				return err
			}, domain.ECONFLICT},
		} {
			if err := tc.do(); domain.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		after, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
		if after.Version != before.Version || after.Space != demo.SpaceMKT {
			t.Errorf("access changed: %+v -> %+v", before, after)
		}
		if m := len(audits(t, fx)); m != n {
			t.Errorf("audit entries %d -> %d", n, m)
		}
	})
}

// barrier holds every LoadAssign until two have read, so two assignments
// both read the guest with no space before either writes.
type barrier struct {
	*store.Store
	wg sync.WaitGroup
}

func (b *barrier) LoadAssign(ctx context.Context, orgID, siteID, callerID, accountID, space string) (domain.AssignScope, error) {
	sc, err := b.Store.LoadAssign(ctx, orgID, siteID, callerID, accountID, space)
	if sc.Access != nil && sc.Access.Space == "" {
		b.wg.Done()
		b.wg.Wait()
	}
	return sc, err
}

// TestConcurrentAssignments: two admins assign one guest to two spaces at
// once, neither asking to move. Both read the guest with no space; exactly
// one write passes the access item's version, the other re-reads and is
// refused (409 naming the winner's space), with one audit entry in all. It
// fails without the version condition (both writes pass).
func TestConcurrentAssignments(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		newConfGuest(t, fx.st, "race-14west")
		b := &barrier{Store: fx.st}
		b.wg.Add(2)
		svc := spaces.New(b, nil)
		var mu sync.Mutex
		results := map[string]error{}
		var wg sync.WaitGroup
		for who, space := range map[string]string{demo.AdminID: demo.SpaceMKT, demo.SiteAdminID: demo.SpaceENG} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Assign(ctx, caller(who), demo.OrgID, demo.SiteID, "race-14west", space, false)
				mu.Lock()
				results[space] = err
				mu.Unlock()
			}()
		}
		wg.Wait()
		won := ""
		for space, err := range results {
			switch domain.ErrorCode(err) {
			case "":
				if won != "" {
					t.Errorf("both won: %v", results)
				}
				won = space
			case domain.ECONFLICT:
				if e, _ := err.(*domain.Error); e == nil || e.Extra["currentSpace"] == nil {
					t.Errorf("loser's problem: %v", err)
				}
			default:
				t.Errorf("%s: %v", space, err)
			}
		}
		a, _ := fx.st.Access(ctx, demo.OrgID, "race-14west", demo.SiteID, domain.Confluence)
		if won == "" || a.Space != won || a.Version != 1 {
			t.Errorf("winner %q, access %+v", won, a)
		}
		if n := count(audits(t, fx), domain.ActionGuestSpaceAssign); n != 1 {
			t.Errorf("%d assignment entries, want 1", n)
		}
	})
}

// TestAssignRetriesTransactionConflict: a TransactionConflict (another
// transaction in flight on the access item) is retried; the assignment is
// written once.
func TestAssignRetriesTransactionConflict(t *testing.T) {
	f := &testenv.Conflicts{}
	seededEach(t, func(t *testing.T, fx fixture) {
		personas(t, fx)
		ctx := context.Background()
		f.Set(2)
		res, err := spaces.New(fx.st, nil).Assign(ctx, caller(demo.AdminID), demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG, true)
		if err != nil || !res.Moved || f.Count() != 2 {
			t.Fatalf("move: %+v %v (injected %d)", res, err, f.Count())
		}
		a, _ := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
		if a.Space != demo.SpaceENG || count(audits(t, fx), domain.ActionGuestSpaceMove) != 1 {
			t.Errorf("access %+v", a)
		}
	}, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, f.Add) })
}
