package billingdb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/billing/billingdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// tamper moves a site's stored counters behind the store's back.
func tamper(t *testing.T, fx fixture, expr string, vals map[string]types.AttributeValue) {
	t.Helper()
	_, err := fx.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(fx.st.Table()),
		Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID}, "SK": &types.AttributeValueMemberS{Value: "SITE#" + demo.SiteID}},
		UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals})
	if err != nil {
		t.Fatal(err)
	}
}

func n(v int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

// TestRecountShowsDriftAndRepairs: the seeded site has no drift; counters
// tampered with show drift in exactly those counters; a repair under a stale
// reading, or while a job holds a reservation, changes nothing; a repair
// under the right reading fixes them with its audit entry.
func TestRecountShowsDriftAndRepairs(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		if err := demo.SeedPersonas(ctx, st); err != nil {
			t.Fatal(err)
		}
		clean := storetest.AssertNoDrift(t, st, demo.OrgID, demo.SiteID)
		if clean.Counted.PaidUsers != 6 || clean.Counted.Guests != 1 {
			t.Errorf("counted %+v, want 6 paid users and 1 guest", clean.Counted)
		}
		fx.c.Reset()
		if _, _, err := billingdb.New(st).CountSeats(ctx, demo.OrgID, demo.SiteID); err != nil {
			t.Fatal(err)
		}
		if c := fx.c.Counts(); c["Query"] != 3 || fx.c.Total() != 3 {
			t.Errorf("a small site's count = %v, want 3 Queries (guest, user, admin)", c)
		}

		tamper(t, fx, "SET guests = guests + :one", map[string]types.AttributeValue{":one": n(1)})
		r, err := storetest.Recount(ctx, st, demo.OrgID, demo.SiteID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(r.Drift) != "[guests]" || r.Stored.Guests != r.Counted.Guests+1 {
			t.Fatalf("tampered recount = %+v", r)
		}
		audit := func() domain.AuditEntry {
			return domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionBillingRecount, domain.SiteTarget(demo.SiteID), "req-recount", time.Now(), nil, nil)
		}
		// A reading that is no longer true: refused, nothing written.
		stale := r.Stored
		stale.Guests--
		if err := billingdb.New(st).RepairCounters(ctx, demo.OrgID, demo.SiteID, stale, r.Counted, audit()); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("stale repair: %v", err)
		}
		// A reservation held: refused too.
		tamper(t, fx, "SET reserved = :r", map[string]types.AttributeValue{":r": n(2)})
		if err := billingdb.New(st).RepairCounters(ctx, demo.OrgID, demo.SiteID, r.Stored, r.Counted, audit()); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("repair while reserved: %v", err)
		}
		tamper(t, fx, "SET reserved = :r", map[string]types.AttributeValue{":r": n(0)})
		if again, _ := storetest.Recount(ctx, st, demo.OrgID, demo.SiteID); fmt.Sprint(again.Stored) != fmt.Sprint(r.Stored) {
			t.Errorf("refused repairs changed the counters: %+v -> %+v", r.Stored, again.Stored)
		}
		if got, _ := auditdb.New(st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.SiteTarget(demo.SiteID), From: time.Now().Add(-time.Hour), To: time.Now(), Limit: 10}); len(got.Items) != 0 {
			t.Errorf("refused repairs wrote audit entries: %+v", got.Items)
		}
		if err := billingdb.New(st).RepairCounters(ctx, demo.OrgID, demo.SiteID, r.Stored, r.Counted, audit()); err != nil {
			t.Fatal(err)
		}
		storetest.AssertNoDrift(t, st, demo.OrgID, demo.SiteID)
		got, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.SiteTarget(demo.SiteID), From: time.Now().Add(-time.Hour), To: time.Now(), Limit: 10})
		if err != nil || len(got.Items) != 1 || got.Items[0].Action != domain.ActionBillingRecount || got.Items[0].RequestID != "req-recount" {
			t.Errorf("repair's audit entry: %+v %v", got.Items, err)
		}
	})
}

// TestGuestPages lists the seeded guests: by the guest index and by space,
// profiles joined, placeholders skipped, in one Query and one BatchGetItem
// a page.
func TestGuestPages(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		if err := demo.SeedPersonas(ctx, st); err != nil {
			t.Fatal(err)
		}
		// An unassigned guest, and a user with an empty placeholder.
		for i, a := range []domain.Access{
			{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest},
			{Product: domain.Confluence, Direct: domain.RoleNone, Effective: domain.RoleNone},
		} {
			u := domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("pg%d", i), Email: fmt.Sprintf("pg%d@agency.example", i), DisplayName: "PG", Status: domain.UserInvited}
			if err := st.CreateUser(ctx, u, demo.SiteID, []domain.Access{a}); err != nil {
				t.Fatal(err)
			}
		}
		fx.c.Reset()
		gs, next, err := billingdb.New(st).GuestPage(ctx, demo.OrgID, demo.SiteID, "", 10, "")
		if err != nil || next != "" || len(gs) != 2 {
			t.Fatalf("guests = %+v %q %v", gs, next, err)
		}
		if c := fx.c.Counts(); c["Query"] != 1 || c["BatchGetItem"] != 1 || fx.c.Total() != 2 {
			t.Errorf("a page cost %v, want one Query and one BatchGetItem", c)
		}
		byID := map[string]domain.Guest{}
		for _, g := range gs {
			byID[g.AccountID] = g
		}
		if g := byID[demo.GuestID]; g.Status() != domain.GuestActive || g.Access.Space != demo.SpaceMKT || g.DisplayName != "Gus Guest" || !g.External {
			t.Errorf("gus = %+v", g)
		}
		if g := byID["pg0"]; g.Status() != domain.GuestInvited || g.Access.Space != "" {
			t.Errorf("pg0 = %+v", g)
		}
		mkt, _, err := billingdb.New(st).GuestPage(ctx, demo.OrgID, demo.SiteID, demo.SpaceMKT, 10, "")
		if err != nil || len(mkt) != 1 || mkt[0].AccountID != demo.GuestID {
			t.Errorf("MKT guests = %+v %v", mkt, err)
		}
		// Pages of one follow each other; a cursor of another list is refused.
		first, c1, err := billingdb.New(st).GuestPage(ctx, demo.OrgID, demo.SiteID, "", 1, "")
		if err != nil || len(first) != 1 || c1 == "" {
			t.Fatalf("first page %+v %q %v", first, c1, err)
		}
		second, _, err := billingdb.New(st).GuestPage(ctx, demo.OrgID, demo.SiteID, "", 1, c1)
		if err != nil || len(second) != 1 || second[0].AccountID == first[0].AccountID {
			t.Errorf("second page %+v %v", second, err)
		}
		if _, _, err := billingdb.New(st).GuestPage(ctx, demo.OrgID, demo.SiteID, demo.SpaceMKT, 1, c1); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("another list's cursor: %v", err)
		}
	})
}
