package emailsdb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/store"
)

// A new invitation's email is claimable at once (within SendGrace of its
// write); a claim holds it for the lease (a second claim, as a duplicate
// SQS delivery makes, is ECONFLICT), gives it a new token that resolves to
// it, and lets it be claimed again once the lease ends (a sender that died).
// Guard: the claim's GSI3SK <= :upper condition.
func TestClaimInvitationEmailOnce(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		n, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, "claim@agency.example", domain.KindGuest, now)
		create(t, fx.St, demo.SiteID, n)
		inv, err := emailsdb.New(fx.St).InvitationForEmail(ctx, demo.OrgID, n.User.AccountID, n.Invitation.ID)
		if err != nil || inv == nil {
			t.Fatalf("read: %v %v", inv, err)
		}
		if none, err := emailsdb.New(fx.St).InvitationForEmail(ctx, demo.OrgID, n.User.AccountID, domain.NewID()); none != nil || err != nil {
			t.Fatalf("absent: %v %v", none, err)
		}
		tok, hash := domain.NewToken()
		claimed, err := emailsdb.New(fx.St).ClaimInvitationEmail(ctx, *inv, hash, now, 2*time.Minute)
		if err != nil || claimed.Version != inv.Version+1 {
			t.Fatalf("claim: %v %v", claimed.Version, err)
		}
		if got, err := invitationsdb.New(fx.St).InvitationByToken(ctx, domain.HashToken(tok)); err != nil || got.ID != inv.ID {
			t.Fatalf("the claimed token does not resolve to the invitation: %+v %v", got, err)
		}
		if _, err := invitationsdb.New(fx.St).InvitationByToken(ctx, inv.TokenHash); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("the previous token still resolves: %v", err)
		}
		// A duplicate delivery reads the claimed version and tries again
		// within the lease: refused.
		again, _ := emailsdb.New(fx.St).InvitationForEmail(ctx, demo.OrgID, n.User.AccountID, n.Invitation.ID)
		_, h2 := domain.NewToken()
		if _, err := emailsdb.New(fx.St).ClaimInvitationEmail(ctx, *again, h2, now.Add(time.Minute), 2*time.Minute); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("second claim within the lease: %v", err)
		}
		// After the lease: claimable again.
		if _, err := emailsdb.New(fx.St).ClaimInvitationEmail(ctx, *again, h2, now.Add(2*time.Minute), 2*time.Minute); err != nil {
			t.Fatalf("claim after the lease: %v", err)
		}
		// Sent: never claimable again.
		sent, _ := emailsdb.New(fx.St).InvitationForEmail(ctx, demo.OrgID, n.User.AccountID, n.Invitation.ID)
		sent.Delivery = domain.DeliverySent
		if _, err := emailsdb.New(fx.St).SaveDeliveries(ctx, []domain.Delivery{{Invitation: *sent, RetryAt: now}}); err != nil {
			t.Fatal(err)
		}
		done, _ := emailsdb.New(fx.St).InvitationForEmail(ctx, demo.OrgID, n.User.AccountID, n.Invitation.ID)
		_, h3 := domain.NewToken()
		if _, err := emailsdb.New(fx.St).ClaimInvitationEmail(ctx, *done, h3, now.Add(time.Hour), 2*time.Minute); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("claim of a sent email: %v", err)
		}
	})
}

// Four senders take slots of one second at once: exactly rate succeed,
// whatever the interleaving; the next second has its own count. Guard:
// TakeSendSlot's sends < :rate condition.
func TestTakeSendSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		const rate, senders, tries = 14, 4, 10
		sec := time.Now().Unix()
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range tries {
					ok, err := emailsdb.New(fx.St).TakeSendSlot(ctx, sec, rate)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if won != rate {
			t.Fatalf("%d slots taken in one second by %d senders, want %d", won, senders, rate)
		}
		if ok, err := (emailsdb.SendWindow{Store: emailsdb.New(fx.St)}).TakeSlot(ctx, sec+1, rate); !ok || err != nil {
			t.Fatalf("next second: %v %v", ok, err)
		}
	})
}

// sesOK is a mailer that accepts every email.
type sesOK struct{ n int }

func (m *sesOK) Send(context.Context, emails.Message) (string, error) { m.n++; return "ses-id", nil }

// TestEmailSenderCallCount counts the DynamoDB calls of one email through
// the sender on both backends: the read, the claim (a transaction of the
// new token, the old token's delete and the invitation), the send slot,
// the outcome. A duplicate delivery afterwards costs the read alone.
func TestEmailSenderCallCount(t *testing.T) {
	storetest.SeededEach(t, func(t *testing.T, fx storetest.Fixture) {
		ctx := context.Background()
		n, _ := storetest.NewGuest(demo.OrgID, demo.SiteID, "count@agency.example", domain.KindGuest, time.Now().UTC())
		create(t, fx.St, demo.SiteID, n)
		m := &sesOK{}
		s := &emails.Sender{Store: emailsdb.New(fx.St), Mailer: m, Pacer: &emails.Pacer{Window: emailsdb.SendWindow{Store: emailsdb.New(fx.St)}},
			Render: invitations.Renderer("https://x.example/invitations/accept")}
		body := emails.InvitationJob(n.Invitation).Message(0).Body
		fx.C.Reset()
		if out, err := s.Process(ctx, body); err != nil || out != emails.Sent || m.n != 1 {
			t.Fatalf("process: %v %v (%d sent)", out, err, m.n)
		}
		want := map[string]int{"BatchGetItem": 1, "TransactWriteItems": 2, "UpdateItem": 1}
		if got := fx.C.Counts(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("calls of one email = %v, want %v", got, want)
		}
		fx.C.Reset()
		if out, err := s.Process(ctx, body); err != nil || out != emails.Dropped || m.n != 1 {
			t.Fatalf("duplicate: %v %v (%d sent)", out, err, m.n)
		}
		if got := fx.C.Counts(); fmt.Sprint(got) != fmt.Sprint(map[string]int{"BatchGetItem": 1}) {
			t.Errorf("calls of a duplicate = %v", got)
		}
	})
}

// create writes a batch of invitations (CreateInvitations, not whole).
func create(t *testing.T, st *store.Store, site string, batch ...domain.NewInvitation) {
	t.Helper()
	if _, err := invitationsdb.New(st).CreateInvitations(context.Background(), site, batch, false); err != nil {
		t.Fatalf("CreateInvitations: %v", err)
	}
}
