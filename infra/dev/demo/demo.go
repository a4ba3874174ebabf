// Package demo seeds the demonstration organisation "14West" that `make dev`
// serves and the end-to-end tests use.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// The demo org's fixed ids.
const (
	OrgID          = "14west"
	SiteID         = "wiki"
	AdminID        = "admin-14west"     // org admin
	SiteAdminID    = "siteadmin-14west" // admin of SiteID only
	PlainUserID    = "alice-14west"     // paid user, no admin power
	OtherOrgID     = "acme"             // a second org
	OtherAdminID   = "admin-acme"       // its org admin
	VerifiedDomain = "14west.example"
	GuestGroup     = "partners" // Confluence guest on SiteID
	PaidGroup      = "staff"    // Confluence user on SiteID
)

// Seed writes the demo orgs. paidUsers is how many paid Confluence users the
// 14West site gets besides its admins (each allows 5 guests).
func Seed(ctx context.Context, st *store.Store, paidUsers int) error {
	return SeedLimited(ctx, st, paidUsers, 0)
}

// SeedLimited is Seed with the 14West site's user limit (paid users plus
// guests; 0 for domain.DefaultUserLimit), so that tests can reach it.
func SeedLimited(ctx context.Context, st *store.Store, paidUsers int, userLimit int64) error {
	now := time.Now().UTC()
	if err := st.CreateOrg(ctx, domain.Org{ID: OrgID, Name: "14West", VerifiedDomains: []string{VerifiedDomain}, CreatedAt: now}); err != nil {
		return err
	}
	if err := st.CreateSite(ctx, domain.Site{OrgID: OrgID, ID: SiteID, Name: "14West Wiki", Host: "14west.example.net", CreatedAt: now, UserLimit: userLimit}); err != nil {
		return err
	}
	paid := []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}
	users := []domain.User{
		{AccountID: AdminID, Email: "admin@" + VerifiedDomain, DisplayName: "Ada Admin", OrgAdmin: true},
		{AccountID: SiteAdminID, Email: "sam@" + VerifiedDomain, DisplayName: "Sam Siteadmin", SiteAdmin: []string{SiteID}},
		{AccountID: PlainUserID, Email: "alice@" + VerifiedDomain, DisplayName: "Alice Author"},
	}
	for i := 0; i < paidUsers; i++ {
		users = append(users, domain.User{AccountID: fmt.Sprintf("user%d-14west", i+1), Email: fmt.Sprintf("user%d@%s", i+1, VerifiedDomain), DisplayName: fmt.Sprintf("User %d", i+1)})
	}
	for _, u := range users {
		u.OrgID, u.Status, u.CreatedAt = OrgID, domain.UserActive, now
		if err := st.CreateUser(ctx, u, SiteID, paid); err != nil {
			return err
		}
	}
	for _, g := range []domain.Group{
		{OrgID: OrgID, ID: GuestGroup, Name: GuestGroup, CreatedAt: now, Roles: map[string]domain.Role{domain.SiteProductKey(SiteID, domain.Confluence): domain.RoleGuest}},
		{OrgID: OrgID, ID: PaidGroup, Name: PaidGroup, CreatedAt: now, Roles: map[string]domain.Role{domain.SiteProductKey(SiteID, domain.Confluence): domain.RoleUser}},
	} {
		if err := st.CreateGroup(ctx, g, nil); err != nil {
			return err
		}
	}
	if err := st.CreateOrg(ctx, domain.Org{ID: OtherOrgID, Name: "Acme", VerifiedDomains: []string{"acme.example"}, CreatedAt: now}); err != nil {
		return err
	}
	if err := st.CreateSite(ctx, domain.Site{OrgID: OtherOrgID, ID: "docs", Name: "Acme Docs", Host: "acme.example.net", CreatedAt: now}); err != nil {
		return err
	}
	return st.CreateUser(ctx, domain.User{OrgID: OtherOrgID, AccountID: OtherAdminID, Email: "admin@acme.example", DisplayName: "Acme Admin",
		Status: domain.UserActive, OrgAdmin: true, CreatedAt: now}, "docs", paid)
}

// The personas SeedPersonas adds to 14West: the powers of rules §5 and a guest.
const (
	ProductAdminID    = "confadmin-14west" // Confluence admin of SiteID (a product admin)
	SpaceAdminID      = "mktadmin-14west"  // paid user, admin of SpaceMKT
	OtherSpaceAdminID = "engadmin-14west"  // paid user, admin of SpaceENG
	GuestID           = "gus-14west"       // external guest assigned to SpaceMKT
	GuestEmail        = "gus@partner.example"
	SpaceMKT          = "MKT" // Marketing
	SpaceENG          = "ENG" // Engineering
	SpacePUB          = "PUB" // open to anonymous access
)

// SeedPersonas adds to 14West (after Seed) the spaces MKT, ENG and PUB (open
// to anonymous access), a Confluence product admin, an admin of each of MKT
// and ENG (paid users) and a guest assigned to MKT: 3 more paid users and 1
// more guest on SiteID.
func SeedPersonas(ctx context.Context, st *store.Store) error {
	now := time.Now().UTC()
	for _, sp := range []domain.Space{
		{Key: SpaceMKT, Name: "Marketing"},
		{Key: SpaceENG, Name: "Engineering"},
		{Key: SpacePUB, Name: "Public handbook", AnonymousAccess: true},
	} {
		sp.OrgID, sp.SiteID, sp.CreatedAt, sp.CreatedBy = OrgID, SiteID, now, AdminID
		audit := domain.NewAudit(OrgID, domain.ActorSystem, "space.create", domain.SpaceTarget(SiteID, sp.Key), "", now, nil, map[string]any{"name": sp.Name, "anonymousAccess": sp.AnonymousAccess})
		if err := st.CreateSpace(ctx, sp, audit); err != nil {
			return err
		}
	}
	conf := func(r domain.Role, space string) []domain.Access {
		return []domain.Access{{Product: domain.Confluence, Direct: r, Effective: r, Space: space}}
	}
	for _, p := range []struct {
		u      domain.User
		access []domain.Access
	}{
		{domain.User{AccountID: ProductAdminID, Email: "cora@" + VerifiedDomain, DisplayName: "Cora Confluence-admin"}, conf(domain.RoleAdmin, "")},
		{domain.User{AccountID: SpaceAdminID, Email: "mia@" + VerifiedDomain, DisplayName: "Mia Marketing"}, conf(domain.RoleUser, "")},
		{domain.User{AccountID: OtherSpaceAdminID, Email: "eli@" + VerifiedDomain, DisplayName: "Eli Engineering"}, conf(domain.RoleUser, "")},
		{domain.User{AccountID: GuestID, Email: GuestEmail, DisplayName: "Gus Guest", External: true}, conf(domain.RoleGuest, SpaceMKT)},
	} {
		p.u.OrgID, p.u.Status, p.u.CreatedAt = OrgID, domain.UserActive, now
		if err := st.CreateUser(ctx, p.u, SiteID, p.access); err != nil {
			return err
		}
	}
	for space, admin := range map[string]string{SpaceMKT: SpaceAdminID, SpaceENG: OtherSpaceAdminID} {
		audit := domain.NewAudit(OrgID, domain.ActorSystem, "space.admin.add", domain.SpaceTarget(SiteID, space), "", now, nil, map[string]any{"accountId": admin})
		if err := st.AddSpaceAdmin(ctx, OrgID, SiteID, space, admin, audit); err != nil {
			return err
		}
	}
	return nil
}
