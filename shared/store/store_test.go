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

	"github.com/guestaccess/guestaccess/shared/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/testenv"
)

func newStore(t *testing.T) (*store.Store, *dynamodb.Client, *testenv.Counter) {
	t.Helper()
	c := &testenv.Counter{}
	db := testenv.DynamoDB(testenv.Endpoint(t, "MOTO_ENDPOINT"), c)
	return store.New(db, testenv.Table(t, db)), db, c
}

func seeded(t *testing.T) (*store.Store, *dynamodb.Client, *testenv.Counter) {
	st, db, c := newStore(t)
	if err := demo.Seed(context.Background(), st, 0); err != nil {
		t.Fatalf("seed: %v", err)
	}
	c.Reset()
	return st, db, c
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
		Audit:      domain.AuditEntry{OrgID: org, ID: domain.NewID(), At: now, Actor: demo.AdminID, Action: "invitation.create", Target: "user/" + u.AccountID},
	}, token
}

func TestLoadScope(t *testing.T) {
	st, _, c := seeded(t)
	ctx := context.Background()
	sc, err := st.LoadScope(ctx, demo.OrgID, demo.SiteID, demo.AdminID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Org == nil || sc.Org.Name != "14West" || sc.Site == nil || sc.Caller == nil || !sc.Caller.OrgAdmin {
		t.Fatalf("scope = %+v", sc)
	}
	if b := sc.Site.Billing(); b.PaidUsers != 3 || b.GuestLimit != 15 || b.FreeGuestSlots != 15 || b.Guests != 0 {
		t.Errorf("billing = %+v", b)
	}
	if got := c.Counts()["BatchGetItem"]; got != 1 || c.Total() != 1 {
		t.Errorf("LoadScope made %v calls, want one BatchGetItem", c.Counts())
	}
	// The other org's admin does not exist in 14West.
	sc, err = st.LoadScope(ctx, demo.OrgID, demo.SiteID, demo.OtherAdminID)
	if err != nil || sc.Caller != nil || sc.Org == nil {
		t.Errorf("foreign caller: %+v %v", sc, err)
	}
	sc, err = st.LoadScope(ctx, "nope", "nope", demo.AdminID)
	if err != nil || sc.Org != nil || sc.Site != nil || sc.Caller != nil {
		t.Errorf("missing org: %+v %v", sc, err)
	}
}

func TestCreateInvitationAndEmailUniqueness(t *testing.T) {
	st, _, _ := seeded(t)
	ctx := context.Background()
	now := time.Now().UTC()
	n, _ := newGuest(demo.OrgID, demo.SiteID, "guest@agency.example", domain.KindGuest, now)
	if err := st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{n}); err != nil {
		t.Fatal(err)
	}
	found, err := st.FindAccounts(ctx, demo.OrgID, []string{"guest@agency.example", "other@agency.example"})
	if err != nil || found["guest@agency.example"] != n.User.AccountID || len(found) != 1 {
		t.Fatalf("FindAccounts = %v, %v", found, err)
	}
	site, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
	if site.Guests != 1 || site.GuestSlots != 14 {
		t.Errorf("counters after one guest: %+v", site)
	}
	// Same email again, another account id: refused by the guard, nothing written.
	dup, _ := newGuest(demo.OrgID, demo.SiteID, "guest@agency.example", domain.KindGuest, now)
	err = st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{dup})
	if r, ok := err.(*domain.InviteRefused); !ok || r.Outcome != domain.OutcomeAlreadyMember || r.Index != 0 {
		t.Fatalf("duplicate: err = %v", err)
	}
	if _, err := st.User(ctx, demo.OrgID, dup.User.AccountID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("refused invitee's profile was written: %v", err)
	}
	site2, _ := st.Site(ctx, demo.OrgID, demo.SiteID)
	if site2 != site {
		t.Errorf("refused invite changed counters: %+v -> %+v", site, site2)
	}
	// Same address in another org is fine: uniqueness is per org.
	other, _ := newGuest(demo.OtherOrgID, "docs", "guest@agency.example", domain.KindGuest, now)
	if err := st.CreateInvitations(ctx, "docs", []domain.NewInvitation{other}); err != nil {
		t.Errorf("same email in another org: %v", err)
	}
	a, err := st.Access(ctx, demo.OrgID, n.User.AccountID, demo.SiteID, domain.Confluence)
	if err != nil || a.Effective != domain.RoleGuest || a.Space != "" {
		t.Errorf("access = %+v, %v", a, err)
	}
}

func TestAllOrNothingBatch(t *testing.T) {
	st, _, _ := seeded(t)
	ctx := context.Background()
	now := time.Now().UTC()
	first, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
	if err := st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{first}); err != nil {
		t.Fatal(err)
	}
	a, _ := newGuest(demo.OrgID, demo.SiteID, "a@agency.example", domain.KindGuest, now)
	b, _ := newGuest(demo.OrgID, demo.SiteID, "taken@agency.example", domain.KindGuest, now)
	err := st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{a, b})
	if r, ok := err.(*domain.InviteRefused); !ok || r.Index != 1 || r.Outcome != domain.OutcomeAlreadyMember {
		t.Fatalf("err = %v", err)
	}
	if found, _ := st.FindAccounts(ctx, demo.OrgID, []string{"a@agency.example"}); len(found) != 0 {
		t.Error("first invitee of a refused batch was written")
	}
}

// TestGuestLimitHoldsUnderConcurrency races more invites than the site has
// free slots; exactly the free slots succeed.
func TestGuestLimitHoldsUnderConcurrency(t *testing.T) {
	st, _, _ := newStore(t)
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
	const racers = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, _ := newGuest("race", "s", fmt.Sprintf("g%d@agency.example", i), domain.KindGuest, now)
			err := st.CreateInvitations(ctx, "s", []domain.NewInvitation{n})
			mu.Lock()
			defer mu.Unlock()
			switch r, ok := err.(*domain.InviteRefused); {
			case err == nil:
				outcomes["ok"]++
			case ok:
				outcomes[string(r.Outcome)]++
			default:
				outcomes["error: "+err.Error()]++
			}
		}(i)
	}
	wg.Wait()
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
	if err := st.CreateInvitations(ctx, "s", []domain.NewInvitation{p, g}); err != nil {
		t.Errorf("paid + guest in one batch: %v", err)
	}
	site, _ = st.Site(ctx, "race", "s")
	if site.Guests != 6 || site.GuestSlots != 4 || site.PaidUsers != 2 {
		t.Errorf("site after paid+guest = %+v", site)
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
	st, db, _ := seeded(t)
	ctx := context.Background()
	now := time.Now().UTC()
	n, _ := newGuest(demo.OrgID, demo.SiteID, "mail@agency.example", domain.KindGuest, now)
	if err := st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{n}); err != nil {
		t.Fatal(err)
	}
	if got := dueEntries(t, db, st.Table()); got != 1 {
		t.Fatalf("due entries after create = %d, want 1", got)
	}
	inv := n.Invitation
	inv.Delivery, inv.DeliveryNote, inv.Attempts = domain.DeliveryFailed, "throttled", 1
	if err := st.SaveDelivery(ctx, inv, now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := dueEntries(t, db, st.Table()); got != 1 {
		t.Errorf("due entries after failure = %d, want 1", got)
	}
	// A stale version is refused.
	if err := st.SaveDelivery(ctx, inv, now); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("stale SaveDelivery: %v", err)
	}
	inv.Version++
	inv.Delivery, inv.MessageID, inv.Attempts = domain.DeliverySent, "msg-1", 2
	if err := st.SaveDelivery(ctx, inv, now); err != nil {
		t.Fatal(err)
	}
	if got := dueEntries(t, db, st.Table()); got != 0 {
		t.Errorf("due entries after send = %d, want 0", got)
	}
	got, err := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
	if err != nil || got.Delivery != domain.DeliverySent || got.MessageID != "msg-1" || got.Version != 2 {
		t.Errorf("invitation = %+v, %v", got, err)
	}
}

func TestAcceptInvitation(t *testing.T) {
	st, _, _ := seeded(t)
	ctx := context.Background()
	now := time.Now().UTC()
	n, token := newGuest(demo.OrgID, demo.SiteID, "acc@agency.example", domain.KindGuest, now)
	if err := st.CreateInvitations(ctx, demo.SiteID, []domain.NewInvitation{n}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InvitationByToken(ctx, domain.HashToken("not-the-token")); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("unknown token: %v", err)
	}
	inv, err := st.InvitationByToken(ctx, domain.HashToken(token))
	if err != nil || inv.ID != n.Invitation.ID {
		t.Fatalf("by token: %+v %v", inv, err)
	}
	audit := domain.AuditEntry{OrgID: demo.OrgID, ID: domain.NewID(), At: now, Actor: inv.AccountID, Action: "invitation.accept"}
	// Past its expiry the transaction refuses, whatever the caller checked.
	if err := st.AcceptInvitation(ctx, inv, inv.ExpiresAt.Add(time.Second), audit); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("accept after expiry: %v", err)
	}
	if err := st.AcceptInvitation(ctx, inv, now, audit); err != nil {
		t.Fatal(err)
	}
	u, _ := st.User(ctx, demo.OrgID, inv.AccountID)
	if u.Status != domain.UserActive {
		t.Errorf("user status = %s", u.Status)
	}
	if err := st.AcceptInvitation(ctx, inv, now, audit); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("second accept: %v", err)
	}
	// The used token still resolves, to an accepted invitation, so the page can say so.
	if used, err := st.InvitationByToken(ctx, domain.HashToken(token)); err != nil || used.Status != domain.InvitationAccepted {
		t.Errorf("used token: %+v %v", used, err)
	}
	got, _ := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
	if got.Status != domain.InvitationAccepted || got.AcceptedAt.IsZero() {
		t.Errorf("invitation after accept = %+v", got)
	}
}

func TestIdempotencyRecord(t *testing.T) {
	st, _, _ := seeded(t)
	ctx := context.Background()
	now := time.Now().UTC()
	prev, err := st.BeginIdempotent(ctx, demo.OrgID, "k1", "h1", now)
	if err != nil || prev != nil {
		t.Fatalf("first claim: %+v %v", prev, err)
	}
	prev, err = st.BeginIdempotent(ctx, demo.OrgID, "k1", "h1", now)
	if err != nil || prev == nil || prev.Done {
		t.Fatalf("claim in flight: %+v %v", prev, err)
	}
	// A claim whose request died frees itself after the lock.
	prev, err = st.BeginIdempotent(ctx, demo.OrgID, "k1", "h1", now.Add(3*time.Minute))
	if err != nil || prev != nil {
		t.Fatalf("claim after lock expiry: %+v %v", prev, err)
	}
	if err := st.FinishIdempotent(ctx, demo.OrgID, "k1", domain.IdempotentResponse{RequestHash: "h1", Done: true, Status: 200, Body: []byte(`{"x":1}`)}, now); err != nil {
		t.Fatal(err)
	}
	prev, err = st.BeginIdempotent(ctx, demo.OrgID, "k1", "h2", now.Add(time.Hour))
	if err != nil || prev == nil || !prev.Done || prev.RequestHash != "h1" || string(prev.Body) != `{"x":1}` {
		t.Fatalf("replay: %+v %v", prev, err)
	}
	if err := st.ReleaseIdempotent(ctx, demo.OrgID, "k1"); err != nil {
		t.Fatal(err)
	}
	if prev, _ := st.BeginIdempotent(ctx, demo.OrgID, "k1", "h1", now); prev == nil || !prev.Done {
		t.Error("release removed a finished record")
	}
	if _, err := st.BeginIdempotent(ctx, demo.OrgID, "k2", "h", now); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseIdempotent(ctx, demo.OrgID, "k2"); err != nil {
		t.Fatal(err)
	}
	if prev, _ := st.BeginIdempotent(ctx, demo.OrgID, "k2", "h", now); prev != nil {
		t.Error("released key still claimed")
	}
}
