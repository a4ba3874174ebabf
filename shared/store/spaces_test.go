package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestSpacesAndPersonas: the personas seed (spaces, space admins, a guest
// with a space) writes what the store reads back, and a space key is unique
// per site and needs its site.
func TestSpacesAndPersonas(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		if err := demo.SeedPersonas(ctx, fx.st); err != nil {
			t.Fatal(err)
		}
		sp, err := fx.st.Space(ctx, demo.OrgID, demo.SiteID, demo.SpacePUB)
		if err != nil || !sp.AnonymousAccess || sp.Name != "Public handbook" {
			t.Fatalf("space = %+v, %v", sp, err)
		}
		a, err := fx.st.Access(ctx, demo.OrgID, demo.GuestID, demo.SiteID, domain.Confluence)
		if err != nil || a.Space != demo.SpaceMKT || a.Effective != domain.RoleGuest {
			t.Fatalf("guest access = %+v, %v", a, err)
		}
		now := time.Now()
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, "space.create", "space/x", "r", now, nil, nil)
		if err := fx.st.CreateSpace(ctx, domain.Space{OrgID: demo.OrgID, SiteID: demo.SiteID, Key: demo.SpaceMKT, Name: "again"}, audit); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("duplicate space: %v", err)
		}
		if err := fx.st.CreateSpace(ctx, domain.Space{OrgID: demo.OrgID, SiteID: "nosite", Key: "X"}, audit); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("space of no site: %v", err)
		}
		if err := fx.st.AddSpaceAdmin(ctx, demo.OrgID, demo.SiteID, "NOPE", demo.AdminID, audit); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("admin of no space: %v", err)
		}
		if site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID); site.PaidUsers != 6 || site.Guests != 1 || site.GuestSlots != 29 {
			t.Errorf("site = %+v", site)
		}
	})
}
