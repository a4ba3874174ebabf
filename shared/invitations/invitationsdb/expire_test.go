package invitationsdb_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
)

// scanned sums the index entries the Queries of a client evaluated
// (ScannedCount): what a Query is charged for.
type scanned struct {
	mu sync.Mutex
	n  int
}

func (s *scanned) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.scanned", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if q, ok := out.Result.(*dynamodb.QueryOutput); ok && awsmiddleware.GetOperationName(ctx) == "Query" {
				s.mu.Lock()
				s.n += int(max(q.ScannedCount, q.Count, int32(len(q.Items))))
				s.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
	})
}

func (s *scanned) reset()     { s.mu.Lock(); s.n = 0; s.mu.Unlock() }
func (s *scanned) total() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

// delivered writes a pending invitation (a guest in the guest group, or a
// paid user) created at `at` and records its email as sent: it leaves
// DUE#EMAIL for DUE#EXPIRE. It returns the invitation as stored.
func delivered(t *testing.T, fx storetest.Fixture, addr string, kind domain.Kind, at time.Time) (domain.Invitation, string) {
	t.Helper()
	n, token := storetest.NewGuest(demo.OrgID, demo.SiteID, addr, kind, at)
	if kind == domain.KindGuest {
		n.Groups = []string{demo.GuestGroup}
		n.Invitation.Groups = n.Groups
		n.Access[0].Groups = map[string]domain.Role{demo.GuestGroup: domain.RoleGuest}
	}
	if res := create(t, fx.St, demo.SiteID, false, n); len(res.Refused) > 0 {
		t.Fatalf("refused: %+v", res.Refused)
	}
	sent := n.Invitation
	sent.Delivery, sent.MessageID, sent.Attempts = domain.DeliverySent, "msg", 1
	if changed, err := emailsdb.New(fx.St).SaveDeliveries(context.Background(), []domain.Delivery{{Invitation: sent, RetryAt: at}}); err != nil || len(changed) > 0 {
		t.Fatalf("save delivery: %v %v", changed, err)
	}
	inv, err := fx.St.Invitation(context.Background(), demo.OrgID, n.User.AccountID, n.Invitation.ID)
	if err != nil {
		t.Fatal(err)
	}
	return inv, token
}

// expire releases inv as the job does: the invitee's partition, then the
// transaction, with the system's audit entry.
func expire(fx storetest.Fixture, inv domain.Invitation, at time.Time) error {
	ctx := context.Background()
	rec, err := invitationsdb.New(fx.St).LoadInvitee(ctx, inv.OrgID, inv.AccountID)
	if err != nil {
		return err
	}
	if rec == nil {
		rec = &domain.UserRecord{}
	}
	audit := domain.NewAudit(inv.OrgID, domain.ActorSystem, domain.ActionInvitationExpire, domain.InvitationTarget(inv.ID), "run", at, nil, nil)
	return invitationsdb.New(fx.St).ExpireInvitation(ctx, domain.Revocation{Invitation: inv, Record: *rec, Audit: audit}, at)
}

// dueExpire counts the DUE#EXPIRE entries, due or not.
func dueExpire(t *testing.T, fx storetest.Fixture) int {
	t.Helper()
	n := 0
	for s := 0; s < 4; s++ {
		out, err := fx.DB.Query(context.Background(), &dynamodb.QueryInput{
			TableName: aws.String(fx.St.Table()), IndexName: aws.String("GSI3"),
			KeyConditionExpression:    aws.String("GSI3PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("DUE#EXPIRE#%d", s)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	return n
}

// TestLapsedInvitationIsReleased: delivered pending invitations past their
// expiry are found through DUE#EXPIRE at a cost ∝ those due (the ones not
// yet due are not read), and each release gives back what the invitee
// held: the seat (counters), the membership (member count), the profile
// and the email guard (the address can be invited again); the invitation
// stays, expired, with the system's audit entry.
func TestLapsedInvitationIsReleased(t *testing.T) {
	sc := &scanned{}
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Second)
		guest, token := delivered(t, fx, "lapsed-guest@agency.example", domain.KindGuest, t0)
		paid, _ := delivered(t, fx, "lapsed-paid@agency.example", domain.KindPaid, t0)
		for i := 0; i < 5; i++ {
			delivered(t, fx, fmt.Sprintf("later%d@agency.example", i), domain.KindGuest, t0.Add(2*time.Hour))
		}
		if got := dueExpire(t, fx); got != 7 {
			t.Fatalf("DUE#EXPIRE entries = %d, want 7 (every delivered pending invitation)", got)
		}
		storetest.CheckCounters(t, fx)
		at := guest.ExpiresAt.Add(time.Second)
		fx.C.Reset()
		sc.reset()
		due, err := invitationsdb.New(fx.St).DueExpiries(ctx, at, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range due {
			ids = append(ids, d.ID)
		}
		slices.Sort(ids)
		want := []string{guest.ID, paid.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("due = %v, want %v", ids, want)
		}
		t.Logf("DueExpiries: %v, %d index entries read for 2 due of 7 pending", fx.C.Counts(), sc.total())
		// A Query per shard, and one BatchGetItem per shard with entries due
		// (GSI3 holds keys only; the 2 may share a shard).
		if c := fx.C.Counts(); c["Query"] != 4 || c["BatchGetItem"] < 1 || c["BatchGetItem"] > 2 || fx.C.Total() != c["Query"]+c["BatchGetItem"] || sc.total() != 2 {
			t.Errorf("DueExpiries made %v reading %d entries; want a Query per shard reading only the 2 due, and their items in ≤ 2 BatchGetItems", fx.C.Counts(), sc.total())
		}
		// Not yet due a second before expiry.
		if early, _ := invitationsdb.New(fx.St).DueExpiries(ctx, guest.ExpiresAt.Add(-time.Second), 100); len(early) != 0 {
			t.Errorf("due before expiry: %d", len(early))
		}
		// The transaction refuses a release before expiry, whatever the caller checked.
		before := len(storetest.ScanAll(t, fx))
		if err := expire(fx, guest, guest.ExpiresAt.Add(-time.Second)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("release before expiry: %v", err)
		}
		if after := len(storetest.ScanAll(t, fx)); after != before {
			t.Errorf("a refused release wrote: %d items, were %d", after, before)
		}
		siteBefore, _ := fx.St.Site(ctx, demo.OrgID, demo.SiteID)
		for _, inv := range due {
			fx.C.Reset()
			if err := expire(fx, inv, at); err != nil {
				t.Fatalf("release %s: %v", inv.Email, err)
			}
			if c := fx.C.Counts(); c["Query"] != 1 || c["TransactWriteItems"] != 1 || fx.C.Total() != 2 {
				t.Errorf("a release made %v; want 1 Query + 1 TransactWriteItems", c)
			}
		}
		siteAfter, _ := fx.St.Site(ctx, demo.OrgID, demo.SiteID)
		if siteAfter.Guests != siteBefore.Guests-1 || siteAfter.PaidUsers != siteBefore.PaidUsers-1 || siteAfter.GuestSlots != siteBefore.GuestSlots+1-5 {
			t.Errorf("site counters %+v -> %+v; want one guest and one paid user fewer", siteBefore, siteAfter)
		}
		storetest.CheckCounters(t, fx) // member count of the guest group too
		for _, inv := range []domain.Invitation{guest, paid} {
			if left := storetest.Partition(t, fx, demo.OrgID, inv.AccountID); len(left) != 1 || left[0] != "INVITE#"+inv.ID {
				t.Errorf("left under %s: %v (only the invitation stays)", inv.Email, left)
			}
			got, _ := fx.St.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
			if got.Status != domain.InvitationExpired || got.Version != inv.Version+1 {
				t.Errorf("invitation after release: %+v", got)
			}
		}
		if byLink, err := invitationsdb.New(fx.St).InvitationByToken(ctx, domain.HashToken(token)); err != nil || byLink.Status != domain.InvitationExpired {
			t.Errorf("the link resolves to %+v %v; want the expired invitation", byLink, err)
		}
		if as := auditActions(t, fx, at); !slices.Contains(as, domain.ActionInvitationExpire) {
			t.Errorf("audit actions = %v", as)
		}
		if got := dueExpire(t, fx); got != 5 {
			t.Errorf("DUE#EXPIRE entries after release = %d, want 5", got)
		}
		if again, _ := invitationsdb.New(fx.St).DueExpiries(ctx, at, 100); len(again) != 0 {
			t.Errorf("still due after release: %d", len(again))
		}
		// Released twice: refused, nothing written.
		before = len(storetest.ScanAll(t, fx))
		if err := expire(fx, guest, at); err == nil {
			t.Error("a second release succeeded")
		}
		if after := len(storetest.ScanAll(t, fx)); after != before {
			t.Errorf("a refused release wrote: %d items, were %d", after, before)
		}
		// The address is free: the guard is gone and a new invite works.
		scope, _ := invitationsdb.New(fx.St).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, nil, []string{guest.Email})
		if _, ok := scope.Accounts[guest.Email]; ok {
			t.Errorf("guard of %s still there", guest.Email)
		}
		again, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, guest.Email, domain.KindGuest, at)
		if res := create(t, fx.St, demo.SiteID, false, again); len(res.Refused) > 0 {
			t.Errorf("re-invite refused: %+v", res.Refused)
		}
		storetest.CheckCounters(t, fx)
		storetest.AssertNoDrift(t, fx.St, demo.OrgID, demo.SiteID)
	}, sc.option)
}

// TestUndeliveredInvitationIsDueAtItsExpiry: an undelivered invitation's
// email is never due later than its expiry (the retry job releases it
// then), and accept, revoke and release each take an invitation out of
// the due-work index.
func TestUndeliveredInvitationIsDueAtItsExpiry(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		n, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, "undelivered@agency.example", domain.KindGuest, now)
		create(t, fx.St, demo.SiteID, false, n)
		failed := n.Invitation
		failed.Delivery, failed.Attempts = domain.DeliveryFailed, 1
		if _, err := emailsdb.New(fx.St).SaveDeliveries(ctx, []domain.Delivery{{Invitation: failed, RetryAt: now.Add(6 * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		if due, _ := invitationsdb.New(fx.St).DueInvitations(ctx, n.Invitation.ExpiresAt, 10); len(due) != 1 || dueExpire(t, fx) != 0 {
			t.Fatalf("undelivered at its expiry: %d due emails, %d DUE#EXPIRE", len(due), dueExpire(t, fx))
		}
		inv, _ := fx.St.Invitation(ctx, demo.OrgID, n.User.AccountID, n.Invitation.ID)
		if err := expire(fx, inv, inv.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		if due, _ := invitationsdb.New(fx.St).DueInvitations(ctx, inv.ExpiresAt.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("released but still due: %d", len(due))
		}
		// Accepted: out of DUE#EXPIRE.
		acc, _ := delivered(t, fx, "accepts@agency.example", domain.KindGuest, now)
		if err := invitationsdb.New(fx.St).AcceptInvitation(ctx, acc, now, domain.NewAudit(demo.OrgID, acc.AccountID, domain.ActionInvitationAccept, "x", "", now, nil, nil)); err != nil {
			t.Fatal(err)
		}
		if got := dueExpire(t, fx); got != 0 {
			t.Errorf("DUE#EXPIRE after accept = %d", got)
		}
		storetest.CheckCounters(t, fx)
	})
}

// TestReleaseRaces: an accept just before expiry wins over the release,
// which then changes nothing; a release after expiry wins over an accept
// that read the invitation pending; at once, exactly one wins. A resend
// that renewed the invitation and a release racing it: exactly one wins.
// A release that read the invitation before a delivery record moved its
// version is refused (without its version condition it would overwrite
// the invitation with what it read — checked by removing it).
func TestReleaseRaces(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Second)
		acceptAudit := func(inv domain.Invitation) domain.AuditEntry {
			return domain.NewAudit(demo.OrgID, inv.AccountID, domain.ActionInvitationAccept, "x", "", t0, nil, nil)
		}
		// Accept just before expiry, then the release (which read it pending).
		a, _ := delivered(t, fx, "accept-first@agency.example", domain.KindGuest, t0)
		if err := invitationsdb.New(fx.St).AcceptInvitation(ctx, a, a.ExpiresAt.Add(-time.Second), acceptAudit(a)); err != nil {
			t.Fatal(err)
		}
		if err := expire(fx, a, a.ExpiresAt.Add(time.Second)); err == nil {
			t.Error("release after accept succeeded")
		}
		if u, err := fx.St.User(ctx, demo.OrgID, a.AccountID); err != nil || u.Status != domain.UserActive {
			t.Errorf("accepted account: %+v %v", u, err)
		}
		// Release after expiry, then an accept that read it pending before.
		b, _ := delivered(t, fx, "release-first@agency.example", domain.KindGuest, t0)
		if err := expire(fx, b, b.ExpiresAt.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := invitationsdb.New(fx.St).AcceptInvitation(ctx, b, b.ExpiresAt.Add(-time.Second), acceptAudit(b)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("accept after release: %v", err)
		}
		if left := storetest.Partition(t, fx, demo.OrgID, b.AccountID); len(left) != 1 {
			t.Errorf("after release then accept: %v", left)
		}
		// A delivery record moved the version after the release read it.
		c, _ := delivered(t, fx, "stale@agency.example", domain.KindGuest, t0)
		bumped := c
		bumped.MessageID = "msg-again"
		if _, err := emailsdb.New(fx.St).SaveDeliveries(ctx, []domain.Delivery{{Invitation: bumped, RetryAt: t0}}); err != nil {
			t.Fatal(err)
		}
		before := len(storetest.ScanAll(t, fx))
		if err := expire(fx, c, c.ExpiresAt.Add(time.Second)); err == nil {
			t.Error("a release with a stale version succeeded")
		}
		if after := len(storetest.ScanAll(t, fx)); after != before {
			t.Errorf("a refused release wrote: %d items, were %d", after, before)
		}
		// At once: accept (a request that read it just before expiry) and release.
		for i := 0; i < 4; i++ {
			inv, _ := delivered(t, fx, fmt.Sprintf("race-accept%d@agency.example", i), domain.KindGuest, t0)
			var wg sync.WaitGroup
			var errAccept, errRelease error
			wg.Add(2)
			go func() {
				defer wg.Done()
				errAccept = invitationsdb.New(fx.St).AcceptInvitation(ctx, inv, inv.ExpiresAt.Add(-time.Second), acceptAudit(inv))
			}()
			go func() { defer wg.Done(); errRelease = expire(fx, inv, inv.ExpiresAt.Add(time.Second)) }()
			wg.Wait()
			if (errAccept == nil) == (errRelease == nil) {
				t.Errorf("accept race %d: accept %v, release %v: exactly one must win", i, errAccept, errRelease)
			}
		}
		// At once: resend (renewing the lapsed invitation) and release.
		for i := 0; i < 4; i++ {
			inv, _ := delivered(t, fx, fmt.Sprintf("race-resend%d@agency.example", i), domain.KindGuest, t0)
			at := inv.ExpiresAt.Add(time.Second)
			_, hash := domain.NewToken()
			next := inv
			next.TokenHash, next.Delivery, next.ExpiresAt, next.ResentAt = hash, domain.DeliveryPending, at.Add(7*24*time.Hour), at
			var wg sync.WaitGroup
			var errResend, errRelease error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, errResend = invitationsdb.New(fx.St).ResendInvitation(ctx, inv, next, domain.NewAudit(demo.OrgID, demo.AdminID, "invitation.resend", domain.InvitationTarget(inv.ID), "", at, nil, nil))
			}()
			go func() { defer wg.Done(); errRelease = expire(fx, inv, at) }()
			wg.Wait()
			if (errResend == nil) == (errRelease == nil) {
				t.Errorf("resend race %d: resend %v, release %v: exactly one must win", i, errResend, errRelease)
			}
			got, _ := fx.St.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
			if (errResend == nil && got.Status != domain.InvitationPending) || (errRelease == nil && got.Status != domain.InvitationExpired) {
				t.Errorf("resend race %d: invitation %s", i, got.Status)
			}
		}
		storetest.CheckCounters(t, fx)
		storetest.AssertNoDrift(t, fx.St, demo.OrgID, demo.SiteID)
	})
}

// TestReleaseWaitsForAGroupJob: a lapsed invitee in a group with a job in
// flight is not released (ECONFLICT naming the group, nothing written); it
// stays due and is released once the job is over.
func TestReleaseWaitsForAGroupJob(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Second)
		inv, _ := delivered(t, fx, "busy-lapsed@agency.example", domain.KindGuest, t0)
		job := domain.Job{OrgID: demo.OrgID, ID: "job-1", GroupID: demo.GuestGroup, Kind: domain.JobGroupRole, State: domain.JobPlanning, CreatedAt: t0}
		if err := fx.St.StartJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		at := inv.ExpiresAt.Add(time.Second)
		before := len(storetest.ScanAll(t, fx))
		err := expire(fx, inv, at)
		var de *domain.Error
		if domain.ErrorCode(err) != domain.ECONFLICT || !asErr(err, &de) || fmt.Sprint(de.Extra["groups"]) != "["+demo.GuestGroup+"]" {
			t.Fatalf("release during a job: %v", err)
		}
		if after := len(storetest.ScanAll(t, fx)); after != before {
			t.Errorf("a refused release wrote: %d items, were %d", after, before)
		}
		if due, _ := invitationsdb.New(fx.St).DueExpiries(ctx, at, 10); len(due) != 1 {
			t.Errorf("due while the job runs: %d, want 1", len(due))
		}
		storetest.CheckCounters(t, fx)
	})
}
