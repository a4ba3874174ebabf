package suppressions

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
)

// Port fakes: each is a function implementing one port, and a fakeStore
// is made of the ports a test's path calls; a port left nil is one the path
// must not reach (calling it fails the test with a nil dereference).

type lookup func(orgID, email string) (*domain.Suppression, error)

func (f lookup) Suppression(_ context.Context, orgID, email string) (*domain.Suppression, error) {
	return f(orgID, email)
}

type readInvitation func(orgID, id string) (*domain.Invitation, error)

func (f readInvitation) InvitationOfOrg(_ context.Context, orgID, id string) (*domain.Invitation, error) {
	return f(orgID, id)
}

type recordEvent func(r domain.SESEventRecord) (bool, error)

func (f recordEvent) RecordSESEvent(_ context.Context, r domain.SESEventRecord) (bool, error) {
	return f(r)
}

type loadCaller func(orgID, callerID string) (domain.Scope, error)

func (f loadCaller) LoadCaller(_ context.Context, orgID, callerID string) (domain.Scope, error) {
	return f(orgID, callerID)
}

type listSuppressions func(orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error)

func (f listSuppressions) Suppressions(_ context.Context, orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error) {
	return f(orgID, limit, cursor)
}

type clearSuppression func(orgID, email string, audit domain.AuditEntry) error

func (f clearSuppression) ClearSuppression(_ context.Context, orgID, email string, audit domain.AuditEntry) error {
	return f(orgID, email, audit)
}

// fakeStore is every store the package's types take, made of port fakes.
type fakeStore struct {
	Lookup
	InvitationReader
	EventWriter
	CallerLoader
	Lister
	Clearer
}

type fakeSender struct {
	SendFn func(msg emails.Message) (string, error)
}

func (f fakeSender) Send(_ context.Context, msg emails.Message) (string, error) { return f.SendFn(msg) }

var (
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
	now   = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
)

func tagged(org string) emails.Message {
	return emails.Message{To: "pat@agency.example", Subject: "s", Text: "t", Tags: map[string]string{emails.TagOrg: org}}
}

// The gate refuses an email to a suppressed address without sending it,
// sends the others, and never sends unchecked: a failed read fails the send.
func TestGate(t *testing.T) {
	sent := 0
	next := fakeSender{func(emails.Message) (string, error) { sent++; return "m1", nil }}
	st := &fakeStore{Lookup: lookup(func(org, addr string) (*domain.Suppression, error) {
		switch org {
		case "bounced":
			return &domain.Suppression{OrgID: org, Email: addr, Reason: domain.SuppressedBounce}, nil
		case "down":
			return nil, errors.New("dynamodb down")
		}
		return nil, nil
	})}
	g := Gate{Next: next, Store: st}
	ctx := context.Background()

	_, err := g.Send(ctx, tagged("bounced"))
	var se *emails.SuppressedError
	if !errors.As(err, &se) || se.Reason != domain.SuppressedBounce || sent != 0 {
		t.Fatalf("suppressed: err %v, sent %d; want a SuppressedError and nothing sent", err, sent)
	}
	if _, err := g.Send(ctx, tagged("down")); err == nil || errors.As(err, &se) || sent != 0 {
		t.Fatalf("failed read: err %v, sent %d; want the read's error and nothing sent", err, sent)
	}
	if id, err := g.Send(ctx, tagged("fine")); err != nil || id != "m1" || sent != 1 {
		t.Fatalf("not suppressed: %q %v sent %d", id, err, sent)
	}
	// No org tag: nothing to check against (passcodes today).
	st.Lookup = nil
	if _, err := g.Send(ctx, emails.Message{To: "pat@agency.example"}); err != nil || sent != 2 {
		t.Fatalf("untagged: %v sent %d", err, sent)
	}
}

func bounce(kind, bounceType string) domain.SESEvent {
	return domain.SESEvent{Kind: domain.SESEventKind(kind), MessageID: "m1", Recipient: "Pat@Agency.example", BounceType: bounceType, BounceSubType: "General",
		Tags: map[string]string{emails.TagOrg: "14west", emails.TagInvitation: "inv1"}}
}

func pending(messageID string) *domain.Invitation {
	return &domain.Invitation{OrgID: "14west", ID: "inv1", Email: "pat@agency.example", Status: domain.InvitationPending,
		Delivery: domain.DeliverySent, MessageID: messageID, Version: 3}
}

func TestRecordPermanentBounceSuppressesAndMarksTheInvitation(t *testing.T) {
	var got domain.SESEventRecord
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) { return pending("m1"), nil }),
		EventWriter:      recordEvent(func(r domain.SESEventRecord) (bool, error) { got = r; return true, nil }),
	}
	out, err := Recorder{Store: st, Now: func() time.Time { return now }, Log: quiet}.Record(context.Background(), bounce("Bounce", "Permanent"))
	if err != nil || out != Recorded {
		t.Fatalf("%v %v", out, err)
	}
	s := got.Suppression
	if s == nil || s.OrgID != "14west" || s.Email != "pat@agency.example" || s.Reason != domain.SuppressedBounce || s.Detail != "Permanent/General" || s.InvitationID != "inv1" {
		t.Errorf("suppression = %+v", s)
	}
	if inv := got.Invitation; inv == nil || inv.Delivery != domain.DeliveryBounced || inv.Version != 3 {
		t.Errorf("invitation = %+v, want bounced under the version read", inv)
	}
	a := got.Audit
	if a.Actor != domain.ActorSystem || a.Action != domain.ActionEmailBounced || a.Target != domain.InvitationTarget("inv1") || a.After["delivery"] != "bounced" {
		t.Errorf("audit = %+v", a)
	}
	if got.Key != "m1#Bounce#Pat@Agency.example" || !got.KeyExpires.Equal(now.Add(domain.SESEventKeyTTL)) {
		t.Errorf("key = %q expires %v", got.Key, got.KeyExpires)
	}
}

func TestRecordComplaint(t *testing.T) {
	var got domain.SESEventRecord
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) { return pending("m1"), nil }),
		EventWriter:      recordEvent(func(r domain.SESEventRecord) (bool, error) { got = r; return true, nil }),
	}
	e := bounce("Complaint", "")
	e.FeedbackType = "abuse"
	if out, err := (Recorder{Store: st, Log: quiet}).Record(context.Background(), e); err != nil || out != Recorded {
		t.Fatalf("%v %v", out, err)
	}
	if got.Suppression == nil || got.Suppression.Reason != domain.SuppressedComplaint || got.Suppression.Detail != "complaint/abuse" ||
		got.Invitation == nil || got.Invitation.Delivery != domain.DeliveryComplained || got.Audit.Action != domain.ActionEmailComplained {
		t.Errorf("record = %+v", got)
	}
}

// A transient bounce is audited only: no suppression, the invitation left.
func TestRecordTransientBounceDoesNotSuppress(t *testing.T) {
	var got domain.SESEventRecord
	st := &fakeStore{EventWriter: recordEvent(func(r domain.SESEventRecord) (bool, error) { got = r; return true, nil })}
	if out, err := (Recorder{Store: st, Log: quiet}).Record(context.Background(), bounce("Bounce", "Transient")); err != nil || out != Recorded {
		t.Fatalf("%v %v", out, err)
	}
	if got.Suppression != nil || got.Invitation != nil || got.Audit.Action != domain.ActionEmailBouncedTransient || got.Audit.After["suppressed"] != false {
		t.Errorf("record = %+v", got)
	}
}

// An older email's bounce does not overwrite the delivery of a resend (a
// new message id): the address is suppressed, the invitation left.
func TestRecordOlderMessageLeavesTheInvitation(t *testing.T) {
	var got domain.SESEventRecord
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) { return pending("m2"), nil }),
		EventWriter:      recordEvent(func(r domain.SESEventRecord) (bool, error) { got = r; return true, nil }),
	}
	if _, err := (Recorder{Store: st, Log: quiet}).Record(context.Background(), bounce("Bounce", "Permanent")); err != nil {
		t.Fatal(err)
	}
	if got.Suppression == nil || got.Invitation != nil {
		t.Errorf("record = %+v", got)
	}
}

// SES's event can come before the sender records the delivery: the
// invitation, pending without a message id, is the one in flight and is
// marked, with the event's message id.
func TestRecordBeforeTheDeliveryIsRecorded(t *testing.T) {
	var got domain.SESEventRecord
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) {
			inv := pending("")
			inv.Delivery = domain.DeliveryPending
			return inv, nil
		}),
		EventWriter: recordEvent(func(r domain.SESEventRecord) (bool, error) { got = r; return true, nil }),
	}
	if _, err := (Recorder{Store: st, Log: quiet}).Record(context.Background(), bounce("Bounce", "Permanent")); err != nil {
		t.Fatal(err)
	}
	if inv := got.Invitation; inv == nil || inv.Delivery != domain.DeliveryBounced || inv.MessageID != "m1" {
		t.Errorf("invitation = %+v, want bounced with message m1", inv)
	}
}

// The invitation changed under the event: read again and record on the new one.
func TestRecordRetriesAConflict(t *testing.T) {
	reads, writes := 0, 0
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) { reads++; return pending("m1"), nil }),
		EventWriter: recordEvent(func(r domain.SESEventRecord) (bool, error) {
			writes++
			if writes == 1 {
				return false, domain.Errorf(domain.ECONFLICT, "changed")
			}
			return true, nil
		}),
	}
	if out, err := (Recorder{Store: st, Log: quiet}).Record(context.Background(), bounce("Bounce", "Permanent")); err != nil || out != Recorded || reads != 2 || writes != 2 {
		t.Fatalf("%v %v reads %d writes %d", out, err, reads, writes)
	}
}

func TestRecordDuplicateAndIgnored(t *testing.T) {
	st := &fakeStore{
		InvitationReader: readInvitation(func(org, id string) (*domain.Invitation, error) { return nil, nil }),
		EventWriter:      recordEvent(func(r domain.SESEventRecord) (bool, error) { return false, nil }),
	}
	r := Recorder{Store: st, Log: quiet}
	if out, err := r.Record(context.Background(), bounce("Bounce", "Permanent")); err != nil || out != Duplicate {
		t.Errorf("duplicate: %v %v", out, err)
	}
	st.EventWriter, st.InvitationReader = nil, nil // nothing below may touch the store
	for name, e := range map[string]domain.SESEvent{
		"delivery":   {Kind: domain.SESDelivery, MessageID: "m1", Recipient: "pat@agency.example", Tags: map[string]string{emails.TagOrg: "14west"}},
		"no org":     {Kind: domain.SESBounce, BounceType: "Permanent", MessageID: "m1", Recipient: "pat@agency.example"},
		"bad org":    {Kind: domain.SESBounce, BounceType: "Permanent", MessageID: "m1", Recipient: "pat@agency.example", Tags: map[string]string{emails.TagOrg: "ORG#x"}},
		"bad rcpt":   {Kind: domain.SESBounce, BounceType: "Permanent", MessageID: "m1", Recipient: "not an address", Tags: map[string]string{emails.TagOrg: "14west"}},
		"no message": {Kind: domain.SESBounce, BounceType: "Permanent", Recipient: "pat@agency.example", Tags: map[string]string{emails.TagOrg: "14west"}},
	} {
		if out, err := r.Record(context.Background(), e); err != nil || out != Ignored {
			t.Errorf("%s: %v %v, want ignored", name, out, err)
		}
	}
}

func callerStore(t *testing.T, u *domain.User) *fakeStore {
	return &fakeStore{CallerLoader: loadCaller(func(org, caller string) (domain.Scope, error) {
		if org != "14west" {
			return domain.Scope{}, nil
		}
		return domain.Scope{Org: &domain.Org{ID: org}, Caller: u}, nil
	})}
}

// Only an org's admins list or clear its suppressions; a clear is audited
// with what was cleared.
func TestAdmin(t *testing.T) {
	ctx := context.Background()
	admin := &domain.User{AccountID: "ada", Status: domain.UserActive, OrgAdmin: true}
	siteAdmin := &domain.User{AccountID: "sam", Status: domain.UserActive, SiteAdmin: []string{"wiki"}}
	c := domain.Caller{AccountID: "ada", RequestID: "r1"}

	st := callerStore(t, siteAdmin)
	if _, err := (Admin{Store: st}).List(ctx, c, "14west", 10, ""); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("site admin list: %v", err)
	}
	if err := (Admin{Store: st}).Clear(ctx, c, "14west", "pat@agency.example"); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("site admin clear: %v", err)
	}
	if err := (Admin{Store: st}).Clear(ctx, c, "other", "pat@agency.example"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("unknown org: %v", err)
	}

	st = callerStore(t, admin)
	at := now.Add(-time.Hour)
	st.Lookup = lookup(func(org, addr string) (*domain.Suppression, error) {
		if addr != "pat@agency.example" {
			return nil, nil
		}
		return &domain.Suppression{OrgID: org, Email: addr, Reason: domain.SuppressedComplaint, Detail: "complaint/abuse", InvitationID: "inv1", At: at}, nil
	})
	var audit domain.AuditEntry
	st.Clearer = clearSuppression(func(org, addr string, a domain.AuditEntry) error { audit = a; return nil })
	a := Admin{Store: st, Now: func() time.Time { return now }}
	if err := a.Clear(ctx, c, "14west", " Pat@AGENCY.example"); err != nil {
		t.Fatal(err)
	}
	if audit.Actor != "ada" || audit.Action != domain.ActionSuppressionClear || audit.Target != domain.OrgTarget("14west") || audit.RequestID != "r1" ||
		audit.Before["reason"] != "complained" || audit.Before["invitationId"] != "inv1" || audit.After["email"] != "pat@agency.example" {
		t.Errorf("audit = %+v", audit)
	}
	st.Clearer = nil
	if err := a.Clear(ctx, c, "14west", "other@agency.example"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("not suppressed: %v", err)
	}
	if err := a.Clear(ctx, c, "14west", "not an address"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("not an address: %v, want ENOTFOUND (names no suppression)", err)
	}
	st.Lister = listSuppressions(func(org string, limit int, cursor string) (domain.Page[domain.Suppression], error) {
		return domain.Page[domain.Suppression]{Items: []domain.Suppression{{Email: "x@y.example"}}}, nil
	})
	if p, err := a.List(ctx, c, "14west", 10, ""); err != nil || len(p.Items) != 1 {
		t.Errorf("list: %+v %v", p, err)
	}
}

func testdata(t *testing.T, name string) []byte {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SES's published JSON (as documented for configuration set events and
// identity notifications) parses to one event per recipient with its tags.
func TestParse(t *testing.T) {
	evs, err := Parse(testdata(t, "bounce.json"))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%+v %v", evs, err)
	}
	e := evs[0]
	if e.Kind != domain.SESBounce || e.MessageID != "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000" || e.Recipient != "recipient@example.com" ||
		e.BounceType != "Permanent" || e.BounceSubType != "General" || e.Tags[emails.TagOrg] != "14west" || e.Tags[emails.TagInvitation] != "inv1" {
		t.Errorf("bounce = %+v", e)
	}
	if r, ok := e.Suppresses(); !ok || r != domain.SuppressedBounce {
		t.Errorf("Suppresses = %v %v", r, ok)
	}
	evs, err = Parse(testdata(t, "complaint.json"))
	if err != nil || len(evs) != 1 || evs[0].Kind != domain.SESComplaint || evs[0].FeedbackType != "abuse" || evs[0].Recipient != "recipient@example.com" {
		t.Errorf("complaint = %+v %v", evs, err)
	}
	evs, err = Parse(testdata(t, "delivery.json"))
	if err != nil || len(evs) != 1 || evs[0].Kind != domain.SESDelivery || evs[0].Recorded() {
		t.Errorf("delivery = %+v %v", evs, err)
	}
	// Identity notifications name their kind notificationType.
	evs, err = Parse([]byte(`{"notificationType":"Bounce","bounce":{"bounceType":"Transient","bouncedRecipients":[{"emailAddress":"a@b.example"}]},"mail":{"messageId":"m"}}`))
	if err != nil || len(evs) != 1 || evs[0].BounceType != "Transient" {
		t.Errorf("notification = %+v %v", evs, err)
	}
	for name, body := range map[string]string{
		"not json":          "not an SES event",
		"no type":           `{"mail":{"messageId":"m"}}`,
		"no message id":     `{"eventType":"Bounce","bounce":{"bounceType":"Permanent"}}`,
		"bounce no details": `{"eventType":"Bounce","mail":{"messageId":"m"}}`,
		"SNS envelope":      `{"Type":"Notification","MessageId":"x","Message":"{}"}`,
	} {
		if _, err := Parse([]byte(body)); !errors.Is(err, ErrNotSESEvent) {
			t.Errorf("%s: err = %v, want ErrNotSESEvent", name, err)
		}
	}
}

// What the request read already (Checked) answers the gate without a read:
// the suppressed address refused, the others sent; another org's check, or
// an address not read, is read.
func TestGateUsesWhatWasRead(t *testing.T) {
	sent, reads := 0, 0
	st := &fakeStore{Lookup: lookup(func(org, addr string) (*domain.Suppression, error) { reads++; return nil, nil })}
	g := Gate{Next: fakeSender{func(emails.Message) (string, error) { sent++; return "m", nil }}, Store: st}
	ctx := Checked(context.Background(), "14west", []string{"pat@agency.example", "lee@agency.example"},
		map[string]domain.SuppressionReason{"lee@agency.example": domain.SuppressedComplaint})
	msg := func(org, to string) emails.Message {
		return emails.Message{To: to, Tags: map[string]string{emails.TagOrg: org}}
	}
	if _, err := g.Send(ctx, msg("14west", "pat@agency.example")); err != nil || sent != 1 || reads != 0 {
		t.Fatalf("read and clean: %v sent %d reads %d", err, sent, reads)
	}
	var se *emails.SuppressedError
	if _, err := g.Send(ctx, msg("14west", "lee@agency.example")); !errors.As(err, &se) || se.Reason != domain.SuppressedComplaint || sent != 1 || reads != 0 {
		t.Fatalf("read and suppressed: %v sent %d reads %d", err, sent, reads)
	}
	if _, err := g.Send(ctx, msg("acme", "lee@agency.example")); err != nil || reads != 1 {
		t.Fatalf("another org: %v reads %d", err, reads)
	}
	if _, err := g.Send(ctx, msg("14west", "kim@agency.example")); err != nil || reads != 2 {
		t.Fatalf("an address not read: %v reads %d", err, reads)
	}
}
