package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Backend is one DynamoDB implementation a table adapter is tested against.
type Backend struct {
	Name string
	DB   func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client
}

// Backends are moto and the embedded minidyn backend of make dev: every
// table test runs on both.
var Backends = []Backend{
	{"moto", func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client {
		return dynamodb.NewFromConfig(testenv.AWSConfig(testenv.Endpoint(t, "MOTO_ENDPOINT")), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, c.Add)
		}}, opts...)...)
	}},
	{"embedded", func(t *testing.T, c *testenv.Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client {
		return testenv.Minidyn(t, c, opts...)
	}},
}

// Fixture is a store over a fresh table on one backend, with the counter
// of its DynamoDB calls.
type Fixture struct {
	St *store.Store
	DB *dynamodb.Client
	C  *testenv.Counter
}

// Each runs f on every backend, with a fresh table (as shared/store's own
// tests do).
func Each(t *testing.T, f func(t *testing.T, fx Fixture), opts ...func(*dynamodb.Options)) {
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) {
			c := &testenv.Counter{}
			db := b.DB(t, c, opts...)
			st := store.New(db, testenv.Table(t, db))
			st.Retry.Base, st.Retry.Max = time.Millisecond, 5*time.Millisecond
			f(t, Fixture{st, db, c})
		})
	}
}

// SeededEach is Each with the demo org written and the counter reset.
func SeededEach(t *testing.T, f func(t *testing.T, fx Fixture), opts ...func(*dynamodb.Options)) {
	Each(t, func(t *testing.T, fx Fixture) {
		if err := demo.Seed(context.Background(), fx.St, 0); err != nil {
			t.Fatalf("seed: %v", err)
		}
		fx.C.Reset()
		f(t, fx)
	}, opts...)
}

// NewGuest is a new invitation of addr to a site (invited by the demo
// admin, expiring in an hour) and its link's token.
func NewGuest(org, site, addr string, kind domain.Kind, now time.Time) (domain.NewInvitation, string) {
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
