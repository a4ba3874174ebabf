package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/decision"
	"github.com/guestaccess/guestaccess/shared/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// withPolicy is the store with an external user policy set on the org
// after the real read: the two reasons of external security in one read.
type withPolicy struct {
	*store.Store
	policy domain.PolicySettings
}

func (w withPolicy) LoadDecision(ctx context.Context, orgID, siteID, accountID string, p domain.Product, space, hash string) (domain.DecisionScope, error) {
	sc, err := w.Store.LoadDecision(ctx, orgID, siteID, accountID, p, space, hash)
	if sc.Org != nil {
		sc.Org.Policy = w.policy
	}
	return sc, err
}

// TestDecisionReadsOnce: every reason of the access decision, and every
// unknown org, site or account, is answered from exactly one BatchGetItem
// (one round trip, at most 5 keys), on both backends. Suspended and invited
// accounts are written with CreateUser.
func TestDecisionReadsOnce(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		if err := demo.SeedPersonas(ctx, fx.st); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		conf := func(r domain.Role, space string) []domain.Access {
			return []domain.Access{{Product: domain.Confluence, Direct: r, Effective: r, Space: space}}
		}
		for _, u := range []struct {
			id     string
			status domain.UserStatus
			access []domain.Access
		}{
			{"suspended-14west", domain.UserSuspended, conf(domain.RoleUser, "")},
			{"invited-14west", domain.UserInvited, conf(domain.RoleGuest, demo.SpaceMKT)},
			{"nospace-14west", domain.UserActive, conf(domain.RoleGuest, "")},
		} {
			if err := fx.st.CreateUser(ctx, domain.User{OrgID: demo.OrgID, AccountID: u.id, Email: u.id + "@partner.example", Status: u.status, External: true, CreatedAt: now},
				demo.SiteID, u.access); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			policy                          domain.PolicySettings
			account, product, client, space string
			allow                           bool
			reason                          domain.Reason
			notFound                        bool
		}{
			{account: demo.PlainUserID, product: "confluence", client: "web", space: demo.SpaceENG, allow: true, reason: domain.ReasonAllowed},
			{account: demo.GuestID, product: "confluence", client: "web", space: demo.SpaceMKT, allow: true, reason: domain.ReasonAllowed},
			{account: demo.GuestID, product: "confluence", client: "web", space: demo.SpacePUB, allow: true, reason: domain.ReasonAllowed},
			{account: demo.GuestID, product: "confluence", client: "web", allow: true, reason: domain.ReasonAllowed},
			{account: demo.GuestID, product: "confluence", client: "web", space: demo.SpaceENG, reason: domain.ReasonGuestOtherSpace},
			{account: demo.GuestID, product: "confluence", client: "web", space: "NOSUCH", reason: domain.ReasonUnknownSpace},
			{account: demo.GuestID, product: "confluence", client: "mobile", reason: domain.ReasonGuestOnMobile},
			{account: "nospace-14west", product: "confluence", client: "web", space: demo.SpacePUB, reason: domain.ReasonGuestWithoutSpace},
			{account: demo.PlainUserID, product: "jira", client: "web", reason: domain.ReasonNoProductAccess},
			{account: "suspended-14west", product: "confluence", client: "web", reason: domain.ReasonSuspended},
			{account: "invited-14west", product: "confluence", client: "web", space: demo.SpaceMKT, reason: domain.ReasonInvited},
			{policy: domain.PolicySettings{TwoStep: true}, account: demo.GuestID, product: "confluence", client: "web", space: demo.SpaceMKT, reason: domain.ReasonVerificationRequired},
			{policy: domain.PolicySettings{BlockAPITokens: true}, account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, reason: domain.ReasonAPITokenBlocked},
			{account: "nobody-14west", product: "confluence", client: "web", notFound: true},
		}
		for _, c := range cases {
			name := fmt.Sprintf("%s/%s/%s/%s", c.account, c.product, c.client, c.space)
			svc := &decision.Service{Store: withPolicy{fx.st, c.policy}}
			fx.c.Reset()
			d, err := svc.Decide(ctx, decision.Question{OrgID: demo.OrgID, SiteID: demo.SiteID, Product: c.product, AccountID: c.account, Client: c.client, Space: c.space})
			if calls := fx.c.Counts(); len(calls) != 1 || calls["BatchGetItem"] != 1 {
				t.Errorf("%s: DynamoDB calls %v, want one BatchGetItem", name, calls)
			}
			if c.notFound {
				if domain.ErrorCode(err) != domain.ENOTFOUND {
					t.Errorf("%s: %+v, %v; want not found", name, d, err)
				}
				continue
			}
			if err != nil || d.Allow != c.allow || d.Reason != c.reason {
				t.Errorf("%s: %+v, %v; want allow=%v %s", name, d, err, c.allow, c.reason)
			}
		}
		// Unknown org and site: one read too, and a 404.
		for _, q := range []decision.Question{
			{OrgID: "nosuch", SiteID: demo.SiteID, Product: "confluence", AccountID: demo.PlainUserID, Client: "web"},
			{OrgID: demo.OrgID, SiteID: "nosuch", Product: "confluence", AccountID: demo.PlainUserID, Client: "web"},
		} {
			fx.c.Reset()
			if _, err := (&decision.Service{Store: fx.st}).Decide(ctx, q); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Errorf("%+v: %v", q, err)
			}
			if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || len(calls) != 1 {
				t.Errorf("%+v: calls %v", q, calls)
			}
		}
	})
}
