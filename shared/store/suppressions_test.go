package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
)

// A bounce's record is one transaction: the suppression, the invitation
// marked bounced (out of the retry index, into the expiry index), the audit
// entry; the same event again writes nothing; an invitation that changed
// meanwhile refuses the whole record.
func TestRecordSESEvent(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		now := time.Now().UTC().Truncate(time.Millisecond)
		addr := "bounced@agency.example"
		n, _ := newGuest(demo.OrgID, demo.SiteID, addr, domain.KindGuest, now)
		create(t, st, demo.SiteID, false, n)
		inv := n.Invitation
		inv.Delivery, inv.MessageID, inv.Attempts = domain.DeliverySent, "m-1", 1
		if changed, err := emailsdb.New(st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: inv, RetryAt: now}}); err != nil || len(changed) != 0 {
			t.Fatalf("SaveDeliveries: %v %v", changed, err)
		}
		got, err := st.InvitationOfOrg(ctx, demo.OrgID, inv.ID)
		if err != nil || got == nil || got.MessageID != "m-1" || got.Delivery != domain.DeliverySent {
			t.Fatalf("InvitationOfOrg = %+v %v", got, err)
		}
		if none, err := st.InvitationOfOrg(ctx, demo.OrgID, "nope"); none != nil || err != nil {
			t.Fatalf("unknown invitation = %+v %v", none, err)
		}

		next := *got
		next.Delivery, next.DeliveryNote = domain.DeliveryBounced, "Permanent/General"
		rec := domain.SESEventRecord{Key: "m-1#Bounce#" + addr, KeyExpires: now.Add(domain.SESEventKeyTTL),
			Audit:       domain.NewAudit(demo.OrgID, domain.ActorSystem, domain.ActionEmailBounced, domain.InvitationTarget(inv.ID), "ses:m-1", now, nil, map[string]any{"email": addr}),
			Suppression: &domain.Suppression{OrgID: demo.OrgID, Email: addr, Reason: domain.SuppressedBounce, Detail: "Permanent/General", MessageID: "m-1", InvitationID: inv.ID, At: now},
			Invitation:  &next}

		// The invitation changed under the event: nothing is written.
		stale := next
		stale.Version--
		staleRec := rec
		staleRec.Invitation = &stale
		if ok, err := st.RecordSESEvent(ctx, staleRec); ok || domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("stale record = %v %v, want ECONFLICT", ok, err)
		}
		if s, err := st.Suppression(ctx, demo.OrgID, addr); s != nil || err != nil {
			t.Fatalf("a refused record left a suppression: %+v %v", s, err)
		}

		fx.c.Reset()
		if ok, err := st.RecordSESEvent(ctx, rec); !ok || err != nil {
			t.Fatalf("RecordSESEvent = %v %v", ok, err)
		}
		if c := fx.c.Counts(); c["TransactWriteItems"] != 1 || fx.c.Total() != 1 {
			t.Errorf("record cost %v, want one TransactWriteItems", c)
		}
		// Delivered twice: recorded once.
		if ok, err := st.RecordSESEvent(ctx, rec); ok || err != nil {
			t.Fatalf("second RecordSESEvent = %v %v, want false, nil", ok, err)
		}
		s, err := st.Suppression(ctx, demo.OrgID, addr)
		if err != nil || s == nil || s.Reason != domain.SuppressedBounce || s.InvitationID != inv.ID || !s.At.Equal(now) || s.Detail != "Permanent/General" {
			t.Fatalf("Suppression = %+v %v", s, err)
		}
		// An invite reads the suppressions of its addresses with the rest.
		fx.c.Reset()
		sc, err := invitationsdb.New(st).LoadInvite(ctx, demo.OrgID, demo.SiteID, demo.AdminID, nil, []string{addr, "clean@agency.example"})
		if err != nil || sc.Suppressed[addr] != domain.SuppressedBounce || len(sc.Suppressed) != 1 || fx.c.Total() != 1 {
			t.Errorf("LoadInvite suppressed = %v (%v), %d calls; want %s bounced in one call", sc.Suppressed, err, fx.c.Total(), addr)
		}
		if other, err := st.Suppression(ctx, demo.OtherOrgID, addr); other != nil || err != nil {
			t.Errorf("another org sees the suppression: %+v %v", other, err)
		}
		got, err = st.InvitationOfOrg(ctx, demo.OrgID, inv.ID)
		if err != nil || got.Delivery != domain.DeliveryBounced || got.Version != inv.Version+2 {
			t.Fatalf("invitation = %+v %v", got, err)
		}
		// Bounced is settled: the retry job never sees it.
		due, err := invitationsdb.New(st).DueInvitations(ctx, now.Add(365*24*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if d.ID == inv.ID {
				t.Errorf("a bounced invitation is due for an email: %+v", d)
			}
		}
		entries, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.InvitationTarget(inv.ID), From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		bounced := 0
		for _, a := range entries.Items {
			if a.Action == domain.ActionEmailBounced {
				bounced++
			}
		}
		if bounced != 1 {
			t.Errorf("%d bounce entries in the audit log, want 1: %+v", bounced, entries.Items)
		}
	})
}

// An org's suppressions list in address order, page by page; clearing one
// deletes it with its audit entry; clearing what is not there is a 404 and
// writes nothing.
func TestSuppressionsListAndClear(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		now := time.Now().UTC()
		addrs := []string{"c@agency.example", "a@agency.example", "b@agency.example"}
		for _, a := range addrs {
			rec := domain.SESEventRecord{Key: "k-" + a, KeyExpires: now.Add(time.Hour),
				Audit:       domain.NewAudit(demo.OrgID, domain.ActorSystem, domain.ActionEmailComplained, domain.OrgTarget(demo.OrgID), "", now, nil, nil),
				Suppression: &domain.Suppression{OrgID: demo.OrgID, Email: a, Reason: domain.SuppressedComplaint, Detail: "complaint", MessageID: "m-" + a, At: now}}
			if ok, err := st.RecordSESEvent(ctx, rec); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		fx.c.Reset()
		p1, err := st.Suppressions(ctx, demo.OrgID, 2, "")
		if err != nil || len(p1.Items) != 2 || p1.Items[0].Email != "a@agency.example" || p1.Items[1].Email != "b@agency.example" || p1.Next == "" {
			t.Fatalf("page 1 = %+v %v", p1, err)
		}
		if c := fx.c.Counts(); c["Query"] != 1 || fx.c.Total() != 1 {
			t.Errorf("a page cost %v, want one Query", c)
		}
		p2, err := st.Suppressions(ctx, demo.OrgID, 2, p1.Next)
		if err != nil || len(p2.Items) != 1 || p2.Items[0].Email != "c@agency.example" || p2.Next != "" {
			t.Fatalf("page 2 = %+v %v", p2, err)
		}
		if other, err := st.Suppressions(ctx, demo.OtherOrgID, 10, ""); err != nil || len(other.Items) != 0 {
			t.Errorf("another org lists %+v %v", other, err)
		}

		audit := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionSuppressionClear, domain.OrgTarget(demo.OrgID), "req-clear", now, map[string]any{"email": "a@agency.example"}, nil)
		if err := st.ClearSuppression(ctx, demo.OrgID, "a@agency.example", audit); err != nil {
			t.Fatal(err)
		}
		if s, err := st.Suppression(ctx, demo.OrgID, "a@agency.example"); s != nil || err != nil {
			t.Errorf("cleared suppression still there: %+v %v", s, err)
		}
		again := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionSuppressionClear, domain.OrgTarget(demo.OrgID), "req-again", now, nil, nil)
		if err := st.ClearSuppression(ctx, demo.OrgID, "a@agency.example", again); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("second clear = %v, want ENOTFOUND", err)
		}
		log, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Actor: demo.AdminID, From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		clears := map[string]bool{}
		for _, a := range log.Items {
			if a.Action == domain.ActionSuppressionClear {
				clears[a.RequestID] = true
			}
		}
		if !clears["req-clear"] || clears["req-again"] {
			t.Errorf("clear audit entries = %v, want only req-clear", clears)
		}
	})
}
