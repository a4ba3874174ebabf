package accessdb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/access"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// withPolicy is the access decision's store with an external user policy set on the org
// after the real read: the two reasons of external security in one read.
type withPolicy struct {
	*accessdb.Store
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
// (one round trip, at most 6 keys: the API token presented on the api
// client is one of them), on both backends; the first decision of a day
// that allows a user adds one UpdateItem (last active), a second one the
// same day none. Suspended and invited accounts are written with
// CreateUser.
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
		one := func(svc *apitokens.Service, acct string, days int) string {
			made, err := svc.Create(ctx, domain.Caller{AccountID: acct, RequestID: "r"}, demo.OrgID, acct, "t", &days)
			if err != nil {
				t.Fatal(err)
			}
			return made.Secret
		}
		gusToken := one(&apitokens.Service{Store: fx.st}, demo.GuestID, 30)
		aliceToken := one(&apitokens.Service{Store: fx.st}, demo.PlainUserID, 30)
		expired := one(&apitokens.Service{Store: fx.st, Now: func() time.Time { return now.AddDate(0, 0, -2) }}, demo.GuestID, 1)
		unknown, _ := domain.NewAPITokenSecret()
		cases := []struct {
			policy                          domain.PolicySettings
			account, product, client, space string
			token                           string
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
			{policy: domain.PolicySettings{BlockAPITokens: true}, account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: gusToken, reason: domain.ReasonAPITokenBlocked},
			{account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: gusToken, allow: true, reason: domain.ReasonAllowed},
			{account: demo.PlainUserID, product: "confluence", client: "api", token: aliceToken, allow: true, reason: domain.ReasonAllowed},
			{account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, reason: domain.ReasonAPITokenInvalid},
			{account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: unknown, reason: domain.ReasonAPITokenInvalid},
			{account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: expired, reason: domain.ReasonAPITokenInvalid},
			{account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: aliceToken, reason: domain.ReasonAPITokenInvalid},
			{policy: domain.PolicySettings{BlockAPITokens: true}, account: demo.GuestID, product: "confluence", client: "api", space: demo.SpaceMKT, token: aliceToken, reason: domain.ReasonAPITokenInvalid},
			{account: "nobody-14west", product: "confluence", client: "web", notFound: true},
		}
		touched := map[string]bool{}
		for _, c := range cases {
			name := fmt.Sprintf("%s/%s/%s/%s/token=%v", c.account, c.product, c.client, c.space, c.token != "")
			svc := access.New(withPolicy{accessdb.New(fx.st), c.policy}, nil, nil)
			fx.c.Reset()
			d, err := svc.Decide(ctx, access.Question{Grant: domain.NewProductGrant(c.product, []string{demo.OrgID}, nil), OrgID: demo.OrgID, SiteID: demo.SiteID, Product: c.product, AccountID: c.account, Client: c.client, Space: c.space, APIToken: c.token})
			calls := fx.c.Counts()
			if c.allow && !touched[c.account] {
				touched[c.account] = true
				if len(calls) != 2 || calls["BatchGetItem"] != 1 || calls["UpdateItem"] != 1 {
					t.Errorf("%s: DynamoDB calls %v, want one BatchGetItem and the day's one UpdateItem (last active)", name, calls)
				}
			} else if len(calls) != 1 || calls["BatchGetItem"] != 1 {
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
		for _, q := range []access.Question{
			{Grant: domain.ProductGrant{Product: domain.Confluence, Orgs: []string{"nosuch"}}, OrgID: "nosuch", SiteID: demo.SiteID, Product: "confluence", AccountID: demo.PlainUserID, Client: "web"},
			{Grant: domain.NewProductGrant("confluence", []string{demo.OrgID}, nil), OrgID: demo.OrgID, SiteID: "nosuch", Product: "confluence", AccountID: demo.PlainUserID, Client: "web"},
		} {
			fx.c.Reset()
			if _, err := access.New(accessdb.New(fx.st), nil, nil).Decide(ctx, q); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Errorf("%+v: %v", q, err)
			}
			if calls := fx.c.Counts(); calls["BatchGetItem"] != 1 || len(calls) != 1 {
				t.Errorf("%+v: calls %v", q, calls)
			}
		}
	})
}
