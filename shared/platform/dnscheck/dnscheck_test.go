package dnscheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/devdns"
	"github.com/guestaccess/guestaccess/shared/platform/dnscheck"
)

// TestLookupTXTAgainstARealServer reads TXT records from a DNS server on
// loopback through the standard library's resolver: a published record is
// read (a long one joined from its strings), a removed one and an unknown
// name are no records and no error, and a failing server is an error
// (which must not be taken for "the record is gone").
func TestLookupTXTAgainstARealServer(t *testing.T) {
	srv, err := devdns.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	r := dnscheck.Resolver{Addr: srv.Addr(), Timeout: 2 * time.Second}
	ctx := context.Background()
	name := "_guestaccess-challenge.example.test"
	long := "guestaccess-verification=" + strings.Repeat("a", 300)
	srv.Publish(name, "v=spf1 -all")
	srv.Publish(name, long)
	got, err := r.LookupTXT(ctx, name)
	if err != nil || len(got) != 2 || !slices.Contains(got, long) || !slices.Contains(got, "v=spf1 -all") {
		t.Fatalf("published: %q %v", got, err)
	}
	srv.Remove(name, long)
	if got, err := r.LookupTXT(ctx, name+"."); err != nil || len(got) != 1 {
		t.Fatalf("after removing one: %q %v", got, err)
	}
	srv.Remove(name, "")
	if got, err := r.LookupTXT(ctx, name); err != nil || len(got) != 0 {
		t.Fatalf("removed: %q %v", got, err)
	}
	if got, err := r.LookupTXT(ctx, "_guestaccess-challenge.nowhere.test"); err != nil || len(got) != 0 {
		t.Fatalf("unknown name: %q %v", got, err)
	}
	srv.SetFailing(true)
	if got, err := r.LookupTXT(ctx, name); err == nil {
		t.Fatalf("a failing server answered %q and no error", got)
	}
}
