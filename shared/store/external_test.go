package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestExternalUsersSkipsVerifiedDomains: the external users are read by
// ranges of the by-domain index around the verified domains, page by page
// with any page size, and a domain added between pages changes the rest of
// the walk.
func TestExternalUsersSkipsVerifiedDomains(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		org := domain.Org{ID: "acme", Name: "Acme", VerifiedDomains: []string{"d.example", "b.example"}, CreatedAt: now}
		if err := fx.st.CreateOrg(ctx, org); err != nil {
			t.Fatal(err)
		}
		if err := fx.st.CreateSite(ctx, domain.Site{OrgID: "acme", ID: "wiki", Name: "Wiki", Host: "wiki.example", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// b.example.org and b-x.example sort right after the verified b.example: they are external.
		var want []string
		for _, d := range []string{"a.example", "b.example", "b.example.org", "b-x.example", "c.example", "d.example", "e.example"} {
			for i := range 3 {
				addr := fmt.Sprintf("u%d@%s", i, d)
				u := domain.User{OrgID: "acme", AccountID: fmt.Sprintf("%s-%d", d, i), Email: addr, Status: domain.UserActive, CreatedAt: now}
				if err := fx.st.CreateUser(ctx, u, "wiki", nil); err != nil {
					t.Fatal(err)
				}
				if org.IsExternal(addr) {
					want = append(want, addr)
				}
			}
		}
		// The index's order: by domain, then address ("b-x" before "b.example.org").
		slices.SortFunc(want, func(a, b string) int {
			return strings.Compare(domain.EmailDomain(a)+"#"+a, domain.EmailDomain(b)+"#"+b)
		})
		for _, limit := range []int{1, 2, 4, 100} {
			var got []string
			cursor := ""
			fx.c.Reset()
			for pages := 0; ; pages++ {
				us, next, err := fx.st.ExternalUsers(ctx, org, cursor, limit)
				if err != nil || len(us) > limit || pages > 20 {
					t.Fatalf("limit %d: %v %v", limit, us, err)
				}
				for _, u := range us {
					got = append(got, u.Email)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
			}
		}
		// A domain verified between pages: the rest of the walk skips it.
		us, next, err := fx.st.ExternalUsers(ctx, org, "", 3)
		if err != nil || len(us) != 3 || next == "" {
			t.Fatal(us, next, err)
		}
		org.VerifiedDomains = append(org.VerifiedDomains, "c.example")
		rest, _, err := fx.st.ExternalUsers(ctx, org, next, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range rest {
			if domain.EmailDomain(u.Email) == "c.example" || domain.EmailDomain(u.Email) == "a.example" {
				t.Errorf("read %s", u.Email)
			}
		}
		if len(rest) != 9 {
			t.Errorf("rest: %d users", len(rest))
		}
		if _, _, err := fx.st.ExternalUsers(ctx, org, "not base64!", 10); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("bad cursor: %v", err)
		}
	})
}
