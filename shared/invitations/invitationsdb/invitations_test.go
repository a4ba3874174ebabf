package invitationsdb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
)

// auditActions lists the actions of the org's audit entries of a day.
func auditActions(t *testing.T, fx storetest.Fixture, at time.Time) []string {
	t.Helper()
	out, err := fx.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(fx.St.Table()),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID + "#AUDIT#" + at.UTC().Format("2006-01-02")}}})
	if err != nil {
		t.Fatal(err)
	}
	var as []string
	for _, it := range out.Items {
		as = append(as, it["action"].(*types.AttributeValueMemberS).Value)
	}
	return as
}

// TestSiteInvitations lists a site's invitations newest first across
// pages, by status (pending past expiry counts as expired), and refuses
// cursors it did not give.
func TestSiteInvitations(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		st := fx.St
		now := time.Now().UTC()
		var ids []string // oldest first
		var invs []domain.Invitation
		for i := 0; i < 6; i++ {
			n, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, "list"+string(rune('a'+i))+"@agency.example", domain.KindGuest, now.Add(time.Duration(i-10)*time.Minute))
			create(t, st, demo.SiteID, false, n)
			ids, invs = append(ids, n.Invitation.ID), append(invs, n.Invitation)
		}
		// 0: accepted, 1: revoked, 2: stored expired, 3: pending past expiry, 4 and 5 pending.
		a, r, x := invs[0], invs[1], invs[2]
		a.Status, r.Status, x.Status = domain.InvitationAccepted, domain.InvitationRevoked, domain.InvitationExpired
		if ch, err := emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: a, RetryAt: now}, {Invitation: r, RetryAt: now}, {Invitation: x, RetryAt: now}}); err != nil || len(ch) > 0 {
			t.Fatal(ch, err)
		}
		later := invs[3].ExpiresAt.Add(time.Second) // invs[3] expired; 4 and 5 (created later) not yet
		newest := slices.Clone(ids)
		slices.Reverse(newest)
		list := func(status domain.InvitationStatus, size int) []string {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("too many pages")
				}
				p, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{Status: status}, later, size, cursor)
				if err != nil {
					t.Fatalf("%s: %v", status, err)
				}
				if len(p.Items) > size {
					t.Fatalf("page of %d, limit %d", len(p.Items), size)
				}
				for _, inv := range p.Items {
					got = append(got, inv.ID)
				}
				if p.Next == "" {
					return got
				}
				cursor = p.Next
			}
		}
		if got := list("", 4); !slices.Equal(got, newest) {
			t.Errorf("all, newest first = %v, want %v", got, newest)
		}
		if got := list("", 2); !slices.Equal(got, newest) {
			t.Errorf("all by 2 = %v, want %v", got, newest)
		}
		for st, want := range map[domain.InvitationStatus][]string{
			domain.InvitationPending:  {ids[5], ids[4]},
			domain.InvitationExpired:  {ids[3], ids[2]},
			domain.InvitationAccepted: {ids[0]},
			domain.InvitationRevoked:  {ids[1]},
		} {
			for _, size := range []int{1, 50} {
				if got := list(st, size); !slices.Equal(got, want) {
					t.Errorf("%s by %d = %v, want %v", st, size, got, want)
				}
			}
		}
		// A filtered page is one Query here (the site has fewer than 100 invitations).
		fx.C.Reset()
		if _, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{Status: domain.InvitationRevoked}, later, 1, ""); err != nil || fx.C.Total() != 1 {
			t.Errorf("filtered page: %v calls, %v", fx.C.Counts(), err)
		}
		// Cursors of another site's list, of another list, or of nothing are a 400.
		p, _ := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{}, later, 1, "")
		groups, _ := st.Groups(ctx, demo.OrgID, 1, "")
		for _, c := range []string{"nope", p.Next[:len(p.Next)-2], groups.Next} {
			if _, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{}, later, 1, c); domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("cursor %q: %v", c, err)
			}
		}
		if _, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, "other", invitations.ListFilter{}, later, 1, p.Next); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("another site's cursor: %v", err)
		}
		if _, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, invitations.ListFilter{Status: "used"}, later, 1, ""); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("bad status: %v", err)
		}
	})
}

// TestSiteInvitationsByInviter: the invitedBy filter keeps the invitations
// one account sent, newest first across pages, and with a status both must
// hold; an inviter with none lists nothing.
func TestSiteInvitationsByInviter(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		st := fx.St
		now := time.Now().UTC()
		var invs []domain.Invitation // oldest first: ada, bob, ada, bob, ada
		for i := 0; i < 5; i++ {
			n, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, "by"+string(rune('a'+i))+"@agency.example", domain.KindGuest, now.Add(time.Duration(i-10)*time.Minute))
			n.Invitation.InvitedBy = []string{"ada-14west", "bob-14west"}[i%2]
			create(t, st, demo.SiteID, false, n)
			invs = append(invs, n.Invitation)
		}
		r := invs[2]
		r.Status = domain.InvitationRevoked
		if ch, err := emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: r, RetryAt: now}}); err != nil || len(ch) > 0 {
			t.Fatal(ch, err)
		}
		list := func(f invitations.ListFilter, size int) []string {
			var got []string
			cursor := ""
			for pages := 0; pages < 10; pages++ {
				p, err := invitationsdb.New(st).SiteInvitations(ctx, demo.OrgID, demo.SiteID, f, now, size, cursor)
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				for _, inv := range p.Items {
					got = append(got, inv.ID)
				}
				if p.Next == "" {
					return got
				}
				cursor = p.Next
			}
			t.Fatal("too many pages")
			return nil
		}
		for _, c := range []struct {
			f    invitations.ListFilter
			want []string
		}{
			{invitations.ListFilter{InvitedBy: "ada-14west"}, []string{invs[4].ID, invs[2].ID, invs[0].ID}},
			{invitations.ListFilter{InvitedBy: "bob-14west"}, []string{invs[3].ID, invs[1].ID}},
			{invitations.ListFilter{InvitedBy: "ada-14west", Status: domain.InvitationPending}, []string{invs[4].ID, invs[0].ID}},
			{invitations.ListFilter{InvitedBy: "ada-14west", Status: domain.InvitationRevoked}, []string{invs[2].ID}},
			{invitations.ListFilter{InvitedBy: "bob-14west", Status: domain.InvitationRevoked}, nil},
			{invitations.ListFilter{InvitedBy: "nobody-14west"}, nil},
		} {
			for _, size := range []int{1, 50} {
				if got := list(c.f, size); !slices.Equal(got, c.want) {
					t.Errorf("%+v by %d = %v, want %v", c.f, size, got, c.want)
				}
			}
		}
	})
}

// TestResendInvitation: the new token resolves and the old one does not,
// the invitation is due again, the email guard's expiry follows, the audit
// entry is written with it, and a stale or accepted invitation is refused
// unchanged.
func TestResendInvitation(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		st := fx.St
		now := time.Now().UTC()
		n, oldToken := storetest.NewGuest(demo.OrgID, demo.SiteID, "resend@agency.example", domain.KindGuest, now)
		create(t, st, demo.SiteID, false, n)
		sent := n.Invitation
		sent.Delivery = domain.DeliverySent
		if _, err := emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: sent, RetryAt: now}}); err != nil {
			t.Fatal(err)
		}
		if got := storetest.DueEntries(t, fx.DB, st.Table()); got != 0 {
			t.Fatalf("due before resend = %d", got)
		}
		if err := st.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: "other", Name: "Other", Host: "other.example", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		fx.C.Reset()
		sc, inv, err := invitationsdb.New(st).LoadInvitation(ctx, demo.OrgID, demo.SiteID, demo.AdminID, n.Invitation.ID)
		if err != nil || sc.Org == nil || sc.Site == nil || sc.Caller == nil || inv == nil || inv.Version != 1 {
			t.Fatalf("load: %+v %+v %v", sc, inv, err)
		}
		if c := fx.C.Counts(); c["BatchGetItem"] != 2 || fx.C.Total() != 2 {
			t.Errorf("load calls = %v, want 2 BatchGetItem", c)
		}
		for _, c := range []struct{ site, id string }{{"other", n.Invitation.ID}, {demo.SiteID, "unknown"}} {
			if _, inv, err := invitationsdb.New(st).LoadInvitation(ctx, demo.OrgID, c.site, demo.AdminID, c.id); inv != nil || err != nil {
				t.Errorf("load %s/%s = %+v %v", c.site, c.id, inv, err)
			}
		}

		token, hash := domain.NewToken()
		next := *inv
		next.TokenHash, next.Delivery, next.ExpiresAt, next.ResentAt = hash, domain.DeliveryPending, now.Add(48*time.Hour), now
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, "invitation.resend", domain.InvitationTarget(inv.ID), "req", now, nil, nil)
		fx.C.Reset()
		got, err := invitationsdb.New(st).ResendInvitation(ctx, *inv, next, audit)
		if err != nil || got.Version != 2 || fx.C.Total() != 1 {
			t.Fatalf("resend: %+v %v, %v calls", got, err, fx.C.Counts())
		}
		if _, err := invitationsdb.New(st).InvitationByToken(ctx, domain.HashToken(oldToken)); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("old token: %v", err)
		}
		byNew, err := invitationsdb.New(st).InvitationByToken(ctx, domain.HashToken(token))
		if err != nil || byNew.ID != inv.ID || !byNew.ExpiresAt.Equal(next.ExpiresAt) || !byNew.ResentAt.Equal(now) || byNew.Version != 2 {
			t.Errorf("new token: %+v %v", byNew, err)
		}
		if got := storetest.DueEntries(t, fx.DB, st.Table()); got != 1 {
			t.Errorf("due after resend = %d, want 1", got)
		}
		sc2, _ := invitationsdb.New(st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, nil, []string{"resend@agency.example"})
		if e := sc2.Accounts["resend@agency.example"]; !e.ExpiresAt.Equal(next.ExpiresAt.Truncate(time.Second)) || !e.PendingAt(now.Add(24*time.Hour)) {
			t.Errorf("email guard = %+v", e)
		}
		if as := auditActions(t, fx, now); !slices.Contains(as, "invitation.resend") {
			t.Errorf("audit actions = %v", as)
		}
		// The same resend again: stale version, refused, nothing written.
		before := len(auditActions(t, fx, now))
		_, other := domain.NewToken()
		stale := next
		stale.TokenHash = other
		if _, err := invitationsdb.New(st).ResendInvitation(ctx, *inv, stale, audit); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("stale resend: %v", err)
		}
		if _, err := invitationsdb.New(st).InvitationByToken(ctx, other); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("the refused resend's token resolves: %v", err)
		}
		if n := len(auditActions(t, fx, now)); n != before {
			t.Errorf("audit entries %d -> %d after a refused resend", before, n)
		}
		// Accepted: refused.
		if err := invitationsdb.New(st).AcceptInvitation(ctx, byNew, now, domain.NewAudit(demo.OrgID, byNew.AccountID, domain.ActionInvitationAccept, "user/x", "", now, nil, nil)); err != nil {
			t.Fatal(err)
		}
		acc, _ := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID)
		_, h3 := domain.NewToken()
		again := acc
		again.TokenHash = h3
		if _, err := invitationsdb.New(st).ResendInvitation(ctx, acc, again, audit); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("resend of an accepted invitation: %v", err)
		}
		if after, _ := st.Invitation(ctx, demo.OrgID, inv.AccountID, inv.ID); after.Status != domain.InvitationAccepted || after.TokenHash != acc.TokenHash {
			t.Errorf("accepted invitation changed: %+v", after)
		}
	})
}
