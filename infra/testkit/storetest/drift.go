// Package storetest holds test helpers over the store for other packages'
// tests; no function imports it.
package storetest

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/billing/billingdb"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Recount counts a site's Confluence guests and paid users from the access
// items (as the billing recount does) and compares them with the site's
// counters.
func Recount(ctx context.Context, st *store.Store, orgID, siteID string) (billing.Recount, error) {
	site, err := st.Site(ctx, orgID, siteID)
	if err != nil {
		return billing.Recount{}, err
	}
	paid, guests, err := billingdb.New(st).CountSeats(ctx, orgID, siteID)
	if err != nil {
		return billing.Recount{}, err
	}
	return billing.RecountOf(site, paid, guests), nil
}

// AssertNoDrift fails the test when a site's counters differ from what its
// access items give (read with no write in flight: the counts come from an
// index), and returns the recount for a report.
func AssertNoDrift(t testing.TB, st *store.Store, orgID, siteID string) billing.Recount {
	t.Helper()
	r, err := Recount(context.Background(), st, orgID, siteID)
	if err != nil {
		t.Fatalf("recount %s/%s: %v", orgID, siteID, err)
	}
	if len(r.Drift) > 0 {
		t.Errorf("recount %s/%s: counters drift in %v: stored %+v, counted %+v (reserved %d)", orgID, siteID, r.Drift, r.Stored, r.Counted, r.Reserved)
	} else {
		t.Logf("recount %s/%s: no drift: %+v (reserved %d)", orgID, siteID, r.Counted, r.Reserved)
	}
	return r
}
