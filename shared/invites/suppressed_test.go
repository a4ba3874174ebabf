package invites

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/email"
)

// An email refused because its address is suppressed is recorded as
// bounced or complained, due now (not after a backoff), and not counted as
// a failure: nothing retries it. Every invitation email names its org and
// invitation in its tags.
func TestInviteSuppressedAddressIsRecordedNotRetried(t *testing.T) {
	for _, reason := range []domain.SuppressionReason{domain.SuppressedBounce, domain.SuppressedComplaint} {
		var saved []domain.Delivery
		var tags map[string]string
		st := &fakeStore{t: t,
			LoadInviteFn: func(_, _, _ string, _, _ []string) (domain.InviteScope, error) { return scope(), nil },
			CreateFn: func(string, []domain.NewInvitation, bool) (domain.CreateResult, error) {
				return domain.CreateResult{}, nil
			},
			SaveDeliveriesFn: func(ds []domain.Delivery) ([]int, error) {
				saved = ds
				return nil, nil
			},
		}
		res, err := inviter(st, func(m email.Message) (string, error) {
			tags = m.Tags
			return "", &email.SuppressedError{Reason: reason}
		}).Invite(context.Background(), Caller{AccountID: "admin"}, "o", "s", guests("a@x.example"))
		want := reason.Delivery()
		if err != nil || res.Results[0].EmailDelivery != want || res.Summary.EmailsFailed != 0 || res.Summary.EmailsSent != 0 {
			t.Fatalf("%s: %+v %v", reason, res, err)
		}
		if len(saved) != 1 || !saved[0].RetryAt.Equal(now) || saved[0].Invitation.Delivery != want || !saved[0].Invitation.Delivery.Settled() {
			t.Errorf("%s: saved = %+v", reason, saved)
		}
		inv := saved[0].Invitation
		if tags[email.TagOrg] != "o" || tags[email.TagInvitation] != inv.ID || tags[email.TagKind] != email.KindTagInvitation {
			t.Errorf("tags = %v, want the org and invitation %s", tags, inv.ID)
		}
	}
}
