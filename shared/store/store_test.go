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
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/idempotency"
	"github.com/guestaccess/guestaccess/shared/store"
)

// backend is one DynamoDB implementation the store is tested against.
type backend struct {
	name string
	db   func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client
}

var backends = []backend{
	{"moto", func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client {
		return dynamodb.NewFromConfig(testenv.AWSConfig(testenv.Endpoint(t, "MOTO_ENDPOINT")), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, c.Add)
		}}, opts...)...)
	}},
	{"embedded", func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client {
		return testenv.Minidyn(t, c, opts...)
	}},
}

// fixture is a store over a fresh table on one backend.
type fixture struct {
	st *store.Store
	db *dynamodb.Client
	c  *testenv.Counter
}

// each runs f on every backend, with a fresh table.
func each(t *testing.T, f func(t *testing.T, fx fixture), opts ...func(*dynamodb.Options)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := &testenv.Counter{}
			db := b.db(t, c, opts...)
			st := store.New(db, testenv.Table(t, db))
			st.Retry.Base, st.Retry.Max = time.Millisecond, 5*time.Millisecond
			f(t, fixture{st, db, c})
		})
	}
}

// seededEach is each with the demo org written.
func seededEach(t *testing.T, f func(t *testing.T, fx fixture), opts ...func(*dynamodb.Options)) {
	each(t, func(t *testing.T, fx fixture) {
		if err := demo.Seed(context.Background(), fx.st, 0); err != nil {
			t.Fatalf("seed: %v", err)
		}
		fx.c.Reset()
		f(t, fx)
	}, opts...)
}

func newGuest(org, site, addr string, kind domain.Kind, now time.Time) (domain.NewInvitation, string) {
	token, hash := domain.NewToken()
	u := domain.User{OrgID: org, AccountID: domain.NewID(), Email: addr, Status: domain.UserInvited, External: true, CreatedAt: now}
	role := domain.RoleGuest
	if kind == domain.KindPaid {
		role = domain.RoleUser
	}
	inv := domain.Invitation{OrgID: org, ID: domain.NewID(), SiteID: site, AccountID: u.AccountID, Email: addr, InvitedBy: demo.AdminID,
		Roles: map[domain.Product]domain.Role{domain.Confluence: role}, Kind: kind, TokenHash: hash, Status: domain.InvitationPending,
		Delivery: domain.DeliveryPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	return domain.NewInvitation{
		User:       u,
		Access:     []domain.Access{{Product: domain.Confluence, Direct: role, Effective: role}},
		Invitation: inv,
		Audit:      domain.NewAudit(org, demo.AdminID, domain.ActionInvitationCreate, domain.UserTarget(u.AccountID), "req", now, nil, nil),
	}, token
}

func create(t *testing.T, st *store.Store, site string, whole bool, batch ...domain.NewInvitation) invitations.CreateResult {
	t.Helper()
	res, err := invitationsdb.New(st).CreateInvitations(context.Background(), site, batch, whole)
	if err != nil {
		t.Fatalf("CreateInvitations: %v", err)
	}
	return res
}

func TestLoadInvite(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		n, _ := newGuest(demo.OrgID, demo.SiteID, "known@agency.example", domain.KindGuest, now)
		create(t, fx.st, demo.SiteID, false, n)
		fx.c.Reset()
		sc, err := invitationsdb.New(fx.st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, []string{demo.GuestGroup, "nope"}, []string{"known@agency.example", "new@agency.example"})
		if err != nil {
			t.Fatal(err)
		}
		if sc.Org == nil || sc.Org.Name != "14West" || sc.Site == nil || sc.Caller == nil || !sc.Caller.OrgAdmin {
			t.Fatalf("scope = %+v", sc)
		}
		if b := sc.Site.Billing(); b.PaidUsers != 3 || b.GuestLimit != 15 || b.FreeGuestSlots != 14 || b.Guests != 1 {
			t.Errorf("billing = %+v", b)
		}
		if g, ok := sc.Groups[demo.GuestGroup]; !ok || g.RoleOn(demo.SiteID, domain.Confluence) != domain.RoleGuest || len(sc.Groups) != 1 {
			t.Errorf("groups = %+v", sc.Groups)
		}
		e, ok := sc.Accounts["known@agency.example"]
		if !ok || len(sc.Accounts) != 1 || e.AccountID != n.User.AccountID || e.InvitationID != n.Invitation.ID || !e.PendingAt(now) ||
			!e.ExpiresAt.Equal(n.Invitation.ExpiresAt.Truncate(time.Second)) {
			t.Errorf("accounts = %+v", sc.Accounts)
		}
		if got := fx.c.Counts()["BatchGetItem"]; got != 1 || fx.c.Total() != 1 {
			t.Errorf("LoadInvite made %v calls, want one BatchGetItem", fx.c.Counts())
		}
		// The other org's admin does not exist in 14West.
		sc, err = invitationsdb.New(fx.st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.OtherAdminID, nil, nil)
		if err != nil || sc.Caller != nil || sc.Org == nil {
			t.Errorf("foreign caller: %+v %v", sc, err)
		}
		sc, err = invitationsdb.New(fx.st).LoadInvite(ctx, "nope", "nope", demo.AdminID, nil, nil)
		if err != nil || sc.Org != nil || sc.Site != nil || sc.Caller != nil {
			t.Errorf("missing org: %+v %v", sc, err)
		}
	})
}

func TestCreateInvitationAndEmailUniqueness(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		now := time.Now().UTC()
		n, _ := newGuest(demo.OrgID, demo.SiteID, "guest@agency.example", domain.KindGuest, now)
		if res := create(t, st, demo.SiteID, false, n); len(res.Refused) != 0 {
			t.Fatalf("refused: %+v", res)
		}
		site, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
		if site.Guests != 1 || site.GuestSlots != 14 {
			t.Errorf("counters after one guest: %+v", site)
		}
		if inv, err := st.InvitationByID(ctx, demo.OrgID, demo.SiteID, n.Invitation.ID); err != nil || inv.AccountID != n.User.AccountID {
			t.Errorf("invitation by id: %+v, %v", inv, err)
		}
		if _, err := st.InvitationByID(ctx, demo.OrgID, "other-site", n.Invitation.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("invitation by id on another site: %v", err)
		}
		// Same email again, another account id: refused by the guard, nothing
		// written, and the refusal names the pending invitation.
		dup, _ := newGuest(demo.OrgID, demo.SiteID, "guest@agency.example", domain.KindGuest, now)
		res := create(t, st, demo.SiteID, false, dup)
		if len(res.Refused) != 1 || res.Refused[0].Outcome != domain.OutcomeAlreadyInvited || res.Refused[0].Existing == nil ||
			res.Refused[0].Existing.InvitationID != n.Invitation.ID {
			t.Fatalf("duplicate: %+v", res)
		}
		if _, err := st.User(ctx, demo.OrgID, dup.User.AccountID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("refused invitee's profile was written: %v", err)
		}
		if site2, _ := st.Site(ctx, demo.OrgID, demo.SiteID); site2 != site {
			t.Errorf("refused invite changed counters: %+v -> %+v", site, site2)
		}
		// Same address in another org is fine: uniqueness is per org.
		other, _ := newGuest(demo.OtherOrgID, "docs", "guest@agency.example", domain.KindGuest, now)
		if res := create(t, st, "docs", false, other); len(res.Refused) != 0 {
			t.Errorf("same email in another org: %+v", res)
		}
		a, err := st.Access(ctx, demo.OrgID, n.User.AccountID, demo.SiteID, domain.Confluence)
		if err != nil || a.Effective != domain.RoleGuest || a.Space != "" {
			t.Errorf("access = %+v, %v", a, err)
		}
	})
}

// TestPartialBatch: a batch whose one address was taken meanwhile writes the
// others (one transaction, then one retry without the refused invitee).
func TestPartialBatch(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		first, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
		create(t, fx.st, demo.SiteID, false, first)
		a, _ := newGuest(demo.OrgID, demo.SiteID, "a@agency.example", domain.KindGuest, now)
		b, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
		c, _ := newGuest(demo.OrgID, demo.SiteID, "c@agency.example", domain.KindGuest, now)
		fx.c.Reset()
		res := create(t, fx.st, demo.SiteID, false, a, b, c)
		if len(res.Refused) != 1 || res.Refused[0].Index != 1 {
			t.Fatalf("refused = %+v", res.Refused)
		}
		if got := fx.c.Counts()["TransactWriteItems"]; got != 2 {
			t.Errorf("%d transactions, want 2 (the batch, then the batch less the refused)", got)
		}
		for _, n := range []domain.NewInvitation{a, c} {
			if _, err := fx.st.User(ctx, demo.OrgID, n.User.AccountID); err != nil {
				t.Errorf("%s not written: %v", n.User.Email, err)
			}
		}
		if site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID); site.Guests != 3 {
			t.Errorf("guests = %d, want 3", site.Guests)
		}
	})
}

func TestAllOrNothingBatch(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		first, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
		create(t, fx.st, demo.SiteID, true, first)
		a, _ := newGuest(demo.OrgID, demo.SiteID, "a@agency.example", domain.KindGuest, now)
		b, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
		res := create(t, fx.st, demo.SiteID, true, a, b)
		if len(res.Refused) != 1 || res.Refused[0].Index != 1 || res.Refused[0].Outcome != domain.OutcomeAlreadyInvited {
			t.Fatalf("refused = %+v", res.Refused)
		}
		if _, err := fx.st.User(ctx, demo.OrgID, a.User.AccountID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Error("first invitee of a refused batch was written")
		}
	})
}

// raceSite makes an org "race" whose site "s" has one paid user: 5 guest slots.
func raceSite(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.CreateOrg(ctx, domain.Org{ID: "race", Name: "Race", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSite(ctx, domain.Site{OrgID: "race", ID: "s", Name: "S", Host: "s.example", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	paid := []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}
	if err := st.CreateUser(ctx, domain.User{OrgID: "race", AccountID: "p1", Email: "p1@race.example", Status: domain.UserActive, CreatedAt: now}, "s", paid); err != nil {
		t.Fatal(err)
	}
}

// TestGuestLimitHoldsUnderConcurrency races more invites than the site has
// free slots; exactly the free slots succeed.
func TestGuestLimitHoldsUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		st := fx.st
		ctx := context.Background()
		now := time.Now().UTC()
		raceSite(t, st)
		const racers = 12
		outcomes := raceInvites(st, "race", "s", racers, func(int) domain.Kind { return domain.KindGuest })
		if outcomes["ok"] != 5 || outcomes[string(domain.OutcomeGuestLimit)] != racers-5 {
			t.Errorf("outcomes = %v, want 5 ok and %d guest_limit", outcomes, racers-5)
		}
		site, _ := st.Site(ctx, "race", "s")
		if site.Guests != 5 || site.GuestSlots != 0 || site.PaidUsers != 1 {
			t.Errorf("site = %+v", site)
		}
		// A paid invitee adds five slots, so guests fit again.
		p, _ := newGuest("race", "s", "p2@race.example", domain.KindPaid, now)
		g, _ := newGuest("race", "s", "late@agency.example", domain.KindGuest, now)
		if res := create(t, st, "s", false, p, g); len(res.Refused) != 0 {
			t.Errorf("paid + guest in one batch: %+v", res)
		}
		site, _ = st.Site(ctx, "race", "s")
		if site.Guests != 6 || site.GuestSlots != 4 || site.PaidUsers != 2 {
			t.Errorf("site after paid+guest = %+v", site)
		}
		storetest.AssertNoDrift(t, st, "race", "s")
	})
}

// TestGuestLimitKeepsWhatFits: a batch of 7 guests on a site with 5 free
// slots invites the first 5 and refuses 2, with the site's real numbers.
func TestGuestLimitKeepsWhatFits(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		raceSite(t, fx.st)
		now := time.Now().UTC()
		var batch []domain.NewInvitation
		for i := range 7 {
			n, _ := newGuest("race", "s", fmt.Sprintf("f%d@agency.example", i), domain.KindGuest, now)
			batch = append(batch, n)
		}
		fx.c.Reset()
		res := create(t, fx.st, "s", false, batch...)
		if len(res.Refused) != 2 || res.Refused[0].Index != 5 || res.Refused[1].Index != 6 || res.Site == nil || res.Site.GuestSlots != 5 {
			t.Fatalf("result = %+v", res)
		}
		if got := fx.c.Counts()["TransactWriteItems"]; got != 2 {
			t.Errorf("%d transactions, want 2", got)
		}
		if site, _ := fx.st.Site(context.Background(), "race", "s"); site.Guests != 5 || site.GuestSlots != 0 {
			t.Errorf("site = %+v", site)
		}
		// All or nothing: refused whole.
		n, _ := newGuest("race", "s", "whole@agency.example", domain.KindGuest, now)
		res = create(t, fx.st, "s", true, n)
		if len(res.Refused) != 1 || res.Refused[0].Outcome != domain.OutcomeGuestLimit {
			t.Errorf("whole = %+v", res)
		}
		// CreateUser's refusal reports the real numbers, not zeros.
		err := fx.st.CreateUser(context.Background(), domain.User{OrgID: "race", AccountID: "g-direct", Email: "gd@agency.example", Status: domain.UserActive},
			"s", []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest}})
		e, ok := err.(*domain.Error)
		if !ok || e.Code != domain.ELIMIT || e.Extra["paidUsers"] != int64(1) || e.Extra["guests"] != int64(5) {
			t.Errorf("CreateUser over the limit: %#v", err)
		}
	})
}

// TestConflictsAreRetried injects DynamoDB's TransactionConflict
// cancellations: a few are retried away; more than the budget answers
// EUNAVAILABLE with nothing written.
func TestConflictsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		conflicts int
		ok        bool
	}{{"two conflicts", 2, true}, {"budget exhausted", store.DefaultRetry.Attempts, false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &testenv.Conflicts{}
			seededEach(t, func(t *testing.T, fx fixture) {
				ctx := context.Background()
				f.Set(tc.conflicts)
				before, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
				n, _ := newGuest(demo.OrgID, demo.SiteID, "conflict@agency.example", domain.KindGuest, time.Now().UTC())
				fx.c.Reset()
				res, err := invitationsdb.New(fx.st).CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{n}, false)
				after, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
				_, uerr := fx.st.User(ctx, demo.OrgID, n.User.AccountID)
				if f.Count() != tc.conflicts {
					t.Fatalf("injected %d conflicts, want %d", f.Count(), tc.conflicts)
				}
				if tc.ok {
					if err != nil || len(res.Refused) != 0 || uerr != nil || after.Guests != before.Guests+1 {
						t.Errorf("after %d conflicts: %+v %v, user %v, guests %d -> %d", tc.conflicts, res, err, uerr, before.Guests, after.Guests)
					}
					if got := fx.c.Counts()["TransactWriteItems"]; got != tc.conflicts+1 {
						t.Errorf("%d transactions, want %d", got, tc.conflicts+1)
					}
					return
				}
				e, ok := err.(*domain.Error)
				if !ok || e.Code != domain.EUNAVAILABLE || e.RetryAfter <= 0 {
					t.Errorf("budget exhausted: %#v", err)
				}
				if domain.ErrorCode(uerr) != domain.ENOTFOUND || after != before {
					t.Errorf("a refused write changed something: user %v, site %+v -> %+v", uerr, before, after)
				}
			}, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, f.Add) })
		})
	}
}

func dueEntries(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	for s := 0; s < store.DueShards; s++ {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{
			TableName: &table, IndexName: aws.String(store.GSI3),
			KeyConditionExpression:    aws.String("GSI3PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("DUE#EMAIL#%d", s)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	return n
}

func TestDeliveryLeavesTheDueIndexOnlyWhenSent(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		st, db := fx.st, fx.db
		ctx := context.Background()
		now := time.Now().UTC()
		n, _ := newGuest(demo.OrgID, demo.SiteID, "mail@agency.example", domain.KindGuest, now)
		m, _ := newGuest(demo.OrgID, demo.SiteID, "mail2@agency.example", domain.KindGuest, now)
		create(t, st, demo.SiteID, false, n, m)
		if got := dueEntries(t, db, st.Table()); got != 2 {
			t.Fatalf("due entries after create = %d, want 2", got)
		}
		inv, inv2 := n.Invitation, m.Invitation
		inv.Delivery, inv.DeliveryNote, inv.Attempts = domain.DeliveryFailed, "throttled", 1
		inv2.Delivery, inv2.MessageID, inv2.Attempts = domain.DeliverySent, "msg-2", 1
		fx.c.Reset()
		changed, err := emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: inv, RetryAt: now.Add(15 * time.Minute)}, {Invitation: inv2, RetryAt: now}})
		if err != nil || len(changed) != 0 || fx.c.Total() != 1 {
			t.Fatalf("SaveDeliveries: %v %v, %v calls", changed, err, fx.c.Counts())
		}
		if got := dueEntries(t, db, st.Table()); got != 1 {
			t.Errorf("due entries after one failure, one send = %d, want 1", got)
		}
		// A stale version is left alone and reported; the others are written.
		inv3 := inv
		inv3.Version++
		inv3.Delivery, inv3.MessageID, inv3.Attempts = domain.DeliverySent, "msg-1", 2
		changed, err = emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: inv2, RetryAt: now}, {Invitation: inv3, RetryAt: now}})
		if err != nil || len(changed) != 1 || changed[0] != 0 {
			t.Fatalf("stale SaveDeliveries: %v %v", changed, err)
		}
		if got := dueEntries(t, db, st.Table()); got != 0 {
			t.Errorf("due entries after send = %d, want 0", got)
		}
		got, err := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
		if err != nil || got.Delivery != domain.DeliverySent || got.MessageID != "msg-1" || got.Version != 2 {
			t.Errorf("invitation = %+v, %v", got, err)
		}
	})
}

// TestEmptyCollectionsRoundTrip: an invitation with no direct roles and no
// groups, and a group with no roles, read back on every backend (minidyn
// returns empty maps and lists without their type).
func TestEmptyCollectionsRoundTrip(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		n, token := newGuest(demo.OrgID, demo.SiteID, "groups-only@agency.example", domain.KindGuest, now)
		n.Invitation.Roles, n.Invitation.Groups = map[domain.Product]domain.Role{}, []string{}
		n.Invitation.EffectiveRoles = map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest}
		create(t, fx.st, demo.SiteID, false, n)
		inv, err := invitationsdb.New(fx.st).InvitationByToken(ctx, domain.HashToken(token))
		if err != nil || inv.ID != n.Invitation.ID || len(inv.Roles) != 0 || inv.Effective()[domain.Confluence] != domain.RoleGuest {
			t.Fatalf("groups-only invitation: %+v %v", inv, err)
		}
		if err := fx.st.CreateGroup(ctx, domain.Group{OrgID: demo.OrgID, ID: "empty", Name: "Empty", Roles: map[string]domain.Role{}}, nil); err != nil {
			t.Fatal(err)
		}
		sc, err := invitationsdb.New(fx.st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, []string{"empty"}, nil)
		if err != nil || sc.Groups["empty"].Name != "Empty" || len(sc.Groups["empty"].Roles) != 0 {
			t.Errorf("empty group: %+v %v", sc.Groups, err)
		}
	})
}

func TestAcceptInvitation(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		st := fx.st
		ctx := context.Background()
		now := time.Now().UTC()
		n, token := newGuest(demo.OrgID, demo.SiteID, "acc@agency.example", domain.KindGuest, now)
		create(t, st, demo.SiteID, false, n)
		if _, err := invitationsdb.New(st).InvitationByToken(ctx, domain.HashToken("not-the-token")); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("unknown token: %v", err)
		}
		inv, err := invitationsdb.New(st).InvitationByToken(ctx, domain.HashToken(token))
		if err != nil || inv.ID != n.Invitation.ID {
			t.Fatalf("by token: %+v %v", inv, err)
		}
		audit := domain.NewAudit(demo.OrgID, inv.AccountID, domain.ActionInvitationAccept, domain.UserTarget(inv.AccountID), "req", now, nil, nil)
		// Past its expiry the transaction refuses, whatever the caller checked.
		if err := invitationsdb.New(st).AcceptInvitation(ctx, inv, inv.ExpiresAt.Add(time.Second), audit); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("accept after expiry: %v", err)
		}
		if err := invitationsdb.New(st).AcceptInvitation(ctx, inv, now, audit); err != nil {
			t.Fatal(err)
		}
		u, _ := st.User(ctx, demo.OrgID, inv.AccountID)
		if u.Status != domain.UserActive {
			t.Errorf("user status = %s", u.Status)
		}
		if err := invitationsdb.New(st).AcceptInvitation(ctx, inv, now, audit); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("second accept: %v", err)
		}
		// The used token still resolves, to an accepted invitation, so the page can say so.
		if used, err := invitationsdb.New(st).InvitationByToken(ctx, domain.HashToken(token)); err != nil || used.Status != domain.InvitationAccepted {
			t.Errorf("used token: %+v %v", used, err)
		}
		got, _ := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
		if got.Status != domain.InvitationAccepted || got.AcceptedAt.IsZero() {
			t.Errorf("invitation after accept = %+v", got)
		}
		// The guard now says member, not invited.
		sc, _ := invitationsdb.New(st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, nil, []string{"acc@agency.example"})
		if e := sc.Accounts["acc@agency.example"]; e.Status != domain.InvitationAccepted || e.PendingAt(now) {
			t.Errorf("guard after accept = %+v", e)
		}
	})
}

func TestIdempotencyRecord(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		st := fx.st
		ctx := context.Background()
		now := time.Now().UTC()
		prev, err := st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r1", now)
		if err != nil || prev != nil {
			t.Fatalf("first claim: %+v %v", prev, err)
		}
		prev, err = st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r2", now)
		if err != nil || prev == nil || prev.Done {
			t.Fatalf("claim in flight: %+v %v", prev, err)
		}
		// The same request claiming again (the SDK retrying a claim whose
		// answer was lost) finds its own claim and may run.
		if prev, err = st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r1", now); err != nil || prev != nil {
			t.Fatalf("own claim again: %+v %v", prev, err)
		}
		// Another request's release leaves the claim in place.
		if err := st.ReleaseKey(ctx, demo.OrgID, "k1", "r2"); err != nil {
			t.Fatal(err)
		}
		if prev, _ = st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r3", now); prev == nil || prev.Done {
			t.Fatalf("released by another request: %+v", prev)
		}
		// A claim whose request died frees itself after the lock.
		prev, err = st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r4", now.Add(3*time.Minute))
		if err != nil || prev != nil {
			t.Fatalf("claim after lock expiry: %+v %v", prev, err)
		}
		rec := idempotency.Record{RequestHash: "h1", Done: true, Status: 200, Body: `{"x":1}`, Headers: map[string]string{"Content-Type": "application/json"}}
		if err := st.KeepAnswer(ctx, demo.OrgID, "k1", rec, now); err != nil {
			t.Fatal(err)
		}
		prev, err = st.ClaimKey(ctx, demo.OrgID, "k1", "h2", "r5", now.Add(time.Hour))
		if err != nil || prev == nil || !prev.Done || prev.RequestHash != "h1" || prev.Body != `{"x":1}` || prev.Headers["Content-Type"] != "application/json" {
			t.Fatalf("replay: %+v %v", prev, err)
		}
		if err := st.ReleaseKey(ctx, demo.OrgID, "k1", "r4"); err != nil {
			t.Fatal(err)
		}
		if prev, _ := st.ClaimKey(ctx, demo.OrgID, "k1", "h1", "r4", now); prev == nil || !prev.Done {
			t.Error("release removed a finished record")
		}
		if _, err := st.ClaimKey(ctx, demo.OrgID, "k2", "h", "r6", now); err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseKey(ctx, demo.OrgID, "k2", "r6"); err != nil {
			t.Fatal(err)
		}
		if prev, _ := st.ClaimKey(ctx, demo.OrgID, "k2", "h", "r7", now); prev != nil {
			t.Error("released key still claimed")
		}
		// Releasing a key never claimed (the claim's write failed) writes nothing.
		if err := st.ReleaseKey(ctx, demo.OrgID, "k3", "r8"); err != nil {
			t.Fatal(err)
		}
		if prev, _ := st.ClaimKey(ctx, demo.OrgID, "k3", "h", "r9", now); prev != nil {
			t.Error("a release of a key never claimed left a record")
		}
	})
}

// raceInvites sends n one-invitee invites to a site at once (invitee i of
// the kind kindOf(i)) and counts their outcomes: "ok", the refusal's
// outcome, or "error: …".
func raceInvites(st *store.Store, org, site string, n int, kindOf func(int) domain.Kind) map[string]int {
	ctx, now := context.Background(), time.Now().UTC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			inv, _ := newGuest(org, site, fmt.Sprintf("race%d@agency.example", i), kindOf(i), now)
			res, err := invitationsdb.New(st).CreateInvitations(ctx, site, []domain.NewInvitation{inv}, false)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				outcomes["error: "+err.Error()]++
			case len(res.Refused) == 0:
				outcomes["ok"]++
			default:
				outcomes[string(res.Refused[0].Outcome)]++
			}
		}(i)
	}
	wg.Wait()
	return outcomes
}
