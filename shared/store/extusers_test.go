package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/billing/billingdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestSetVerifiedDomainsUnderVersion: a domain change is one transaction
// of the org (policyVersion moved by one) and its audit entry; a change
// made from a stale read writes nothing (ECONFLICT); the last domain can
// be removed (no list is stored).
func TestSetVerifiedDomainsUnderVersion(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		sc, err := fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID)
		if err != nil || sc.Org == nil {
			t.Fatal(sc, err)
		}
		before := *sc.Org
		audit := func() domain.AuditEntry {
			return domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionDomainAdd, domain.OrgTarget(demo.OrgID), "req", time.Now(), nil, nil)
		}
		next, err := fx.st.SetVerifiedDomains(ctx, before, []string{"14west.example", "partner.example"}, audit())
		if err != nil || next.PolicyVersion != before.PolicyVersion+1 {
			t.Fatal(next, err)
		}
		// The stale read: refused, nothing written.
		if _, err := fx.st.SetVerifiedDomains(ctx, before, []string{"other.example"}, audit()); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("stale write: %v", err)
		}
		sc, _ = fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID)
		if got := sc.Org.VerifiedDomains; len(got) != 2 || got[1] != "partner.example" || sc.Org.PolicyVersion != next.PolicyVersion {
			t.Fatalf("org after the stale write: %+v", sc.Org)
		}
		last, err := fx.st.SetVerifiedDomains(ctx, *sc.Org, nil, audit())
		if err != nil {
			t.Fatal(err)
		}
		sc, _ = fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID)
		if len(sc.Org.VerifiedDomains) != 0 || sc.Org.PolicyVersion != last.PolicyVersion || sc.Org.Name != before.Name {
			t.Fatalf("org after removing every domain: %+v", sc.Org)
		}
		// A caller who is no longer an org admin: refused in the transaction, nothing written.
		notAdmin := domain.NewAudit(demo.OrgID, demo.SiteAdminID, domain.ActionDomainAdd, domain.OrgTarget(demo.OrgID), "req", time.Now(), nil, nil)
		if _, err := fx.st.SetVerifiedDomains(ctx, last, []string{"sneaky.example"}, notAdmin); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Fatalf("a site admin's write: %v", err)
		}
		if sc, _ = fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID); len(sc.Org.VerifiedDomains) != 0 || sc.Org.PolicyVersion != last.PolicyVersion {
			t.Fatalf("org after a refused write: %+v", sc.Org)
		}
		log, err := auditdb.New(fx.st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.OrgTarget(demo.OrgID), To: time.Now().Add(time.Hour), Limit: 10})
		if err != nil || len(log.Items) != 2 {
			t.Fatalf("audit entries: %v %v", log.Items, err)
		}
	})
}

// TestGuestPageExternalIsTheOrgsAnswer: the guest list's external flag is
// decided from the org's verified domains now, not the stored flag.
func TestGuestPageExternalIsTheOrgsAnswer(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		if err := demo.SeedPersonas(ctx, fx.st); err != nil {
			t.Fatal(err)
		}
		external := func() map[string]bool {
			gs, _, err := billingdb.New(fx.st).GuestPage(ctx, demo.OrgID, demo.SiteID, "", 50, "")
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, g := range gs {
				out[g.Email] = g.External
			}
			return out
		}
		if !external()[demo.GuestEmail] {
			t.Fatalf("guests: %v", external())
		}
		sc, _ := fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID)
		if _, err := fx.st.SetVerifiedDomains(ctx, *sc.Org, []string{demo.VerifiedDomain, domain.EmailDomain(demo.GuestEmail)},
			domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionDomainAdd, domain.OrgTarget(demo.OrgID), "req", time.Now(), nil, nil)); err != nil {
			t.Fatal(err)
		}
		if g, ok := external()[demo.GuestEmail]; !ok || g {
			t.Fatalf("after verifying the guest's domain: %v", external())
		}
	})
}

// TestUsersAccessIsOneQueryPerUser counts the calls behind a page's roles:
// one Query of each user's partition, whatever the concurrency.
func TestUsersAccessIsOneQueryPerUser(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		var users []domain.User
		access := map[string][]domain.Access{}
		var ids []string
		for i := range 40 {
			u := domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("x-%02d", i), Email: fmt.Sprintf("x%02d@outside.example", i), Status: domain.UserActive}
			users = append(users, u)
			ids = append(ids, u.AccountID)
			access[u.AccountID] = []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest, Space: demo.SpaceMKT}}
		}
		if err := fx.st.BulkLoadUsers(ctx, users, demo.SiteID, access); err != nil {
			t.Fatal(err)
		}
		fx.c.Reset()
		got, err := fx.st.UsersAccess(ctx, demo.OrgID, ids)
		if err != nil {
			t.Fatal(err)
		}
		if n := fx.c.Counts()["Query"]; n != 40 || fx.c.Total() != 40 {
			t.Errorf("calls: %v, want 40 Queries", fx.c.Counts())
		}
		for _, id := range ids {
			a := got[id][domain.SiteProductKey(demo.SiteID, domain.Confluence)]
			if a.Effective != domain.RoleGuest || a.Space != demo.SpaceMKT {
				t.Fatalf("%s: %+v", id, got[id])
			}
		}
		// The domain's users: one Query for the page.
		sc, _ := fx.st.LoadCaller(ctx, demo.OrgID, demo.AdminID)
		fx.c.Reset()
		us, next, err := fx.st.DomainUsers(ctx, *sc.Org, "outside.example", "", 25)
		if err != nil || len(us) != 25 || next == "" || fx.c.Total() != 1 {
			t.Fatalf("domain users: %d %q %v %v", len(us), next, err, fx.c.Counts())
		}
		rest, next, err := fx.st.DomainUsers(ctx, *sc.Org, "outside.example", next, 25)
		if err != nil || len(rest) != 15 || next != "" || rest[0].Email != "x25@outside.example" || !rest[0].External {
			t.Fatalf("rest: %d %q %v", len(rest), next, err)
		}
	})
}

// TestExportPageIsWrittenOnce: a page's chunks and the job's progress are
// one transaction conditioned on the pages written; the same page again
// (a redelivered message) writes nothing.
func TestExportPageIsWrittenOnce(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		j := domain.ExportJob{OrgID: demo.OrgID, ID: domain.NewID(), CreatedBy: demo.AdminID, CreatedAt: now, UpdatedAt: now,
			ExpiresAt: now.Add(time.Hour), Status: domain.ExportRunning, Parts: 1}
		if err := fx.st.CreateExport(ctx, j, domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionExternalUsersExport, domain.OrgTarget(demo.OrgID), "req", now, nil, nil)); err != nil {
			t.Fatal(err)
		}
		next := j
		next.Pages, next.Rows, next.Cursor = 1, 2, "c1"
		chunks := []domain.ExportChunk{{Part: 1, Page: 1, Index: 0, Data: "a\r\n"}, {Part: 1, Page: 1, Index: 1, Data: "b\r\n"}}
		for i, want := range []bool{true, false} {
			applied, err := fx.st.WriteExportPage(ctx, j, next, chunks)
			if err != nil || applied != want {
				t.Fatalf("write %d: %v %v", i, applied, err)
			}
		}
		got, err := fx.st.ExportJob(ctx, demo.OrgID, j.ID, now)
		if err != nil || got.Pages != 1 || got.Rows != 2 || got.Cursor != "c1" {
			t.Fatalf("job: %+v %v", got, err)
		}
		part, err := fx.st.ExportPart(ctx, demo.OrgID, j.ID, 1)
		if err != nil || len(part) != 2 || part[0] != "a\r\n" || part[1] != "b\r\n" {
			t.Fatalf("part: %q %v", part, err)
		}
		if err := fx.st.FailExport(ctx, got, "page 2 kept failing", now); err != nil {
			t.Fatal(err)
		}
		if got, _ = fx.st.ExportJob(ctx, demo.OrgID, j.ID, now); got.Status != domain.ExportFailed || got.Error == "" {
			t.Fatalf("failed job: %+v", got)
		}
		if _, err := fx.st.ExportJob(ctx, demo.OrgID, j.ID, now.Add(2*time.Hour)); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("expired job: %v", err)
		}
	})
}
