// Package domainsapi wires the verified domains' checks: the scheduled
// check of the claims due (DomainCheckFunction) and the checker the
// external users' "check now" runs, each over a real DNS lookup.
package domainsapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domains"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/dnscheck"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Checker checks domain proofs with a real DNS lookup, at
// env.DNSResolver (the system's resolver when empty).
func Checker(env config.Env, st *store.Store) *domains.Checker {
	r := dnscheck.Resolver{Addr: env.DNSResolver}
	return &domains.Checker{Ports: domains.PortsOf(st), Lookup: r.LookupTXT, Checks: env.DomainChecks, Log: env.Log}
}

// DomainCheck is DomainCheckFunction's handler: one run of the scheduled
// check of domain proofs (EventBridge rule). It reads the claims due from
// the due index, looks up each one's TXT challenge and writes what it
// found (verified, lapsing, unverified: audited), stopping well before the
// invocation's deadline; the next run goes on. Its audit entries carry the
// event's id.
func DomainCheck(env config.Env, st *store.Store) func(context.Context, events.EventBridgeEvent) (domains.Report, error) {
	job := &domains.Job{Checker: *Checker(env, st), Now: env.Now}
	return func(ctx context.Context, ev events.EventBridgeEvent) (domains.Report, error) {
		return job.Run(ctx, ev.ID)
	}
}
