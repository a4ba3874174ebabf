package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devdns"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/domains"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/platform/dnscheck"
)

// proofEnv is a store with the domain service and the scheduled check,
// looking up challenges at a real DNS server on loopback, on a clock the
// test moves.
type proofEnv struct {
	fx  fixture
	dns *devdns.Server
	svc *extusers.Service
	job *domains.Job
	now time.Time
}

func newProofEnv(t *testing.T, fx fixture) *proofEnv {
	srv, err := devdns.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	p := &proofEnv{fx: fx, dns: srv, now: time.Now().UTC().Truncate(time.Second)}
	r := dnscheck.Resolver{Addr: srv.Addr(), Timeout: 2 * time.Second}
	checker := &domains.Checker{Ports: domains.PortsOf(fx.st), Lookup: r.LookupTXT}
	clock := func() time.Time { return p.now }
	p.svc = &extusers.Service{Ports: extusers.PortsOf(fx.st), Checker: checker, Now: clock}
	p.job = &domains.Job{Checker: *checker, Now: clock}
	return p
}

func (p *proofEnv) org(t *testing.T, id string) domain.Org {
	t.Helper()
	orgs, err := p.fx.st.Orgs(context.Background(), []string{id})
	if err != nil || orgs[id].ID == "" {
		t.Fatal(orgs, err)
	}
	return orgs[id]
}

// guestExternal is what the access decision decides of the guest: it reads
// the org and the profile in its one BatchGetItem and decides who is
// external from the org's verified domains.
func (p *proofEnv) guestExternal(t *testing.T) bool {
	t.Helper()
	sc, err := accessdb.New(p.fx.st).LoadDecision(context.Background(), demo.OrgID, demo.SiteID, demo.GuestID, domain.Confluence, "", "")
	if err != nil || sc.Org == nil || sc.User == nil {
		t.Fatal(sc, err)
	}
	return domain.DecisionInputOf(sc, domain.ClientWeb, "", p.now).User.External
}

func (p *proofEnv) actions(t *testing.T, org string) []string {
	t.Helper()
	log, err := auditdb.New(p.fx.st).AuditLog(context.Background(), org, domain.AuditQuery{Target: domain.OrgTarget(org), To: p.now.Add(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(log.Items) - 1; i >= 0; i-- {
		out = append(out, log.Items[i].Action)
	}
	return out
}

// TestDomainProvenByDNSChallenge: a claimed domain stays pending (its users
// external, in the access decision too) until its own challenge is
// published: no record, a wrong value and another org's challenge for the
// same domain prove nothing. Once seen it is verified (audited, one
// transaction with the org). When the record goes, the scheduled check
// marks it lapsing (still verified) and, after the grace period,
// unverified: its users are external again; every change is audited.
func TestDomainProvenByDNSChallenge(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		if err := demo.SeedPersonas(ctx, fx.st); err != nil {
			t.Fatal(err)
		}
		p := newProofEnv(t, fx)
		admin := domain.Caller{AccountID: demo.AdminID, RequestID: "req-add"}
		const d = "partner.example"

		cl, created, err := p.svc.AddDomain(ctx, admin, demo.OrgID, "Partner.Example")
		if err != nil || !created || cl.Status != domain.DomainPending || cl.Token == "" {
			t.Fatalf("claim: %+v %v %v", cl, created, err)
		}
		again, created, err := p.svc.AddDomain(ctx, admin, demo.OrgID, d)
		if err != nil || created || again.Token != cl.Token {
			t.Fatalf("claimed again: %+v %v %v (the challenge must stay the same)", again, created, err)
		}
		if !p.guestExternal(t) || slices.Contains(p.org(t, demo.OrgID).VerifiedDomains, d) {
			t.Fatal("a pending domain made its users internal")
		}
		check := func(want domain.DomainStatus) domain.DomainClaim {
			t.Helper()
			p.now = p.now.Add(time.Minute) // audit entries of one instant have no order
			got, err := p.svc.CheckDomain(ctx, admin, demo.OrgID, d)
			if err != nil || got.Status != want {
				t.Fatalf("check: %+v %v, want %s", got, err, want)
			}
			return got
		}

		// Nothing published; a wrong value; another org's challenge.
		if got := check(domain.DomainPending); !got.CheckedAt.Equal(p.now) {
			t.Errorf("checkedAt %v", got.CheckedAt)
		}
		p.dns.Publish(domain.ChallengeName(d), "guestaccess-verification=not-the-token")
		p.dns.Publish(domain.ChallengeName(d), cl.Token) // the token without the prefix
		check(domain.DomainPending)
		other, _, err := p.svc.AddDomain(ctx, domain.Caller{AccountID: demo.OtherAdminID}, demo.OtherOrgID, d)
		if err != nil || other.Token == cl.Token {
			t.Fatalf("the other org's claim: %+v %v", other, err)
		}
		p.dns.Publish(domain.ChallengeName(d), other.ChallengeValue())
		check(domain.DomainPending)
		if !p.guestExternal(t) {
			t.Fatal("another org's record verified this org's domain")
		}
		if acts := p.actions(t, demo.OrgID); !slices.Equal(acts, []string{domain.ActionDomainAdd}) {
			t.Fatalf("audit after the checks that saw nothing: %v", acts)
		}

		// The right record: verified at once, and the guest is internal.
		p.dns.Publish(domain.ChallengeName(d), cl.ChallengeValue())
		v := check(domain.DomainVerified)
		if !v.VerifiedAt.Equal(p.now) || !slices.Contains(p.org(t, demo.OrgID).VerifiedDomains, d) || p.guestExternal(t) {
			t.Fatalf("verified: %+v, org %v", v, p.org(t, demo.OrgID).VerifiedDomains)
		}
		if slices.Contains(p.org(t, demo.OtherOrgID).VerifiedDomains, d) {
			t.Fatal("the other org is verified without checking")
		}
		if _, err := p.svc.RemoveDomain(ctx, domain.Caller{AccountID: demo.OtherAdminID}, demo.OtherOrgID, d); err != nil {
			t.Fatal(err)
		}

		// The record goes. Nothing is due before the re-check.
		p.dns.Remove(domain.ChallengeName(d), "")
		p.now = p.now.Add(time.Hour)
		if rep, err := p.job.Run(ctx, "run-1"); err != nil || rep.Due != 0 {
			t.Fatalf("run before due: %+v %v", rep, err)
		}
		p.now = p.now.Add(domain.DefaultDomainRecheck)
		if rep, err := p.job.Run(ctx, "run-2"); err != nil || rep.Lapsing != 1 || rep.Due != 1 {
			t.Fatalf("run after the record went: %+v %v", rep, err)
		}
		lapsedAt := p.now
		if p.guestExternal(t) {
			t.Fatal("a lapsing domain is still verified during its grace period")
		}
		for _, step := range []time.Duration{time.Hour, domain.DefaultDomainGrace - 2*time.Hour} {
			p.now = p.now.Add(step)
			if rep, err := p.job.Run(ctx, "run-grace"); err != nil || rep.Unchanged != 1 || rep.Unverified != 0 {
				t.Fatalf("run within the grace period: %+v %v", rep, err)
			}
		}
		p.now = lapsedAt.Add(domain.DefaultDomainGrace)
		rep, err := p.job.Run(ctx, "run-3")
		if err != nil || rep.Unverified != 1 {
			t.Fatalf("run after the grace period: %+v %v", rep, err)
		}
		if !p.guestExternal(t) || slices.Contains(p.org(t, demo.OrgID).VerifiedDomains, d) {
			t.Fatal("an unverified domain still makes its users internal")
		}
		cls, err := fx.st.DomainClaims(ctx, demo.OrgID)
		if err != nil || len(cls) != 1 || cls[0].Status != domain.DomainUnverified || cls[0].Token != cl.Token {
			t.Fatalf("claims: %+v %v", cls, err)
		}

		// Published again: the next check verifies it again.
		p.dns.Publish(domain.ChallengeName(d), cl.ChallengeValue())
		p.now = p.now.Add(domain.DefaultPendingCheck)
		if rep, err := p.job.Run(ctx, "run-3b"); err != nil || rep.Due != 0 {
			t.Fatalf("an unverified domain is looked at daily: %+v %v", rep, err)
		}
		p.now = p.now.Add(domain.DefaultDomainRecheck)
		if rep, err := p.job.Run(ctx, "run-4"); err != nil || rep.Verified != 1 {
			t.Fatalf("run after publishing again: %+v %v", rep, err)
		}
		if p.guestExternal(t) {
			t.Fatal("verified again, still external")
		}
		want := []string{domain.ActionDomainAdd, domain.ActionDomainVerify, domain.ActionDomainLapse, domain.ActionDomainUnverify, domain.ActionDomainVerify}
		if acts := p.actions(t, demo.OrgID); !slices.Equal(acts, want) {
			t.Fatalf("audit: %v, want %v", acts, want)
		}
		log, _ := auditdb.New(fx.st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.OrgTarget(demo.OrgID), To: p.now.Add(time.Hour), Limit: 100})
		for _, e := range log.Items {
			if e.Action != domain.ActionDomainAdd && (e.Actor != domain.ActorSystem && e.Action != domain.ActionDomainVerify || e.RequestID == "") {
				t.Errorf("audit entry %+v: by system with the run's id", e)
			}
		}

		// Removing it: one transaction, the users external at once.
		l, err := p.svc.RemoveDomain(ctx, admin, demo.OrgID, d)
		if err != nil || slices.Contains(l.Verified, d) || !p.guestExternal(t) {
			t.Fatalf("remove: %+v %v", l, err)
		}
		if cls, _ := fx.st.DomainClaims(ctx, demo.OrgID); len(cls) != 0 {
			t.Fatalf("claims after removing: %+v", cls)
		}
	})
}

// TestDomainCheckFailuresAndCost: a lookup that fails (the server answers
// SERVFAIL) is not a record seen: a verified domain lapses (audited with
// the error) but stays verified, and is restored when the record is seen
// again. A run reads only the claims due: with none due it makes one Query
// per shard and nothing else.
func TestDomainCheckFailuresAndCost(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		p := newProofEnv(t, fx)
		admin := domain.Caller{AccountID: demo.AdminID}
		var claims []domain.DomainClaim
		for _, d := range []string{"a.example", "b.example", "c.example"} {
			cl, _, err := p.svc.AddDomain(ctx, admin, demo.OrgID, d)
			if err != nil {
				t.Fatal(err)
			}
			p.dns.Publish(domain.ChallengeName(d), cl.ChallengeValue())
			claims = append(claims, cl)
		}
		p.now = p.now.Add(domain.DefaultPendingCheck)
		if rep, err := p.job.Run(ctx, "run-1"); err != nil || rep.Verified != 3 || rep.OrgsRead != 1 {
			t.Fatalf("first run: %+v %v", rep, err)
		}
		fx.c.Reset()
		if rep, err := p.job.Run(ctx, "run-idle"); err != nil || rep.Due != 0 {
			t.Fatalf("idle run: %+v %v", rep, err)
		}
		if got := fx.c.Counts(); got["Query"] != 4 || fx.c.Total() != 4 {
			t.Errorf("an idle run made %v, want 4 Queries (one per shard)", got)
		}

		p.dns.SetFailing(true)
		p.now = p.now.Add(domain.DefaultDomainRecheck)
		rep, err := p.job.Run(ctx, "run-fail")
		if err != nil || rep.Lapsing != 3 || rep.LookupErrors != 3 {
			t.Fatalf("run with DNS failing: %+v %v", rep, err)
		}
		if got := p.org(t, demo.OrgID).VerifiedDomains; len(got) != 4 {
			t.Fatalf("lapsing domains left the verified list: %v", got)
		}
		p.dns.SetFailing(false)
		p.now = p.now.Add(domain.DefaultPendingCheck)
		if rep, err := p.job.Run(ctx, "run-back"); err != nil || rep.Restored != 3 {
			t.Fatalf("run with DNS back: %+v %v", rep, err)
		}
		log, _ := auditdb.New(fx.st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.OrgTarget(demo.OrgID), To: p.now.Add(time.Hour), Limit: 100})
		lapses := 0
		for _, e := range log.Items {
			if e.Action == domain.ActionDomainLapse {
				lapses++
				if e.After["lookupError"] == nil {
					t.Errorf("lapse without the lookup's error: %+v", e.After)
				}
			}
		}
		if lapses != 3 {
			t.Errorf("%d lapse entries, want 3", lapses)
		}
	})
}

// TestDomainClaimWritesAreConditioned: a claim is created once (a second
// create is ECONFLICT) and only by an active org admin (EFORBIDDEN,
// nothing written); a check's write made from a stale claim or a stale org
// is ECONFLICT and writes nothing (neither the claim, nor the org, nor the
// audit entry); a removal from a stale claim likewise.
func TestDomainClaimWritesAreConditioned(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		cl := domain.NewDomainClaim(demo.OrgID, "cond.example", demo.AdminID, now, domain.DomainChecks{})
		audit := func(actor, action string) domain.AuditEntry {
			return domain.NewAudit(demo.OrgID, actor, action, domain.OrgTarget(demo.OrgID), "req", now, nil, nil)
		}
		if err := fx.st.CreateDomainClaim(ctx, cl, audit(demo.SiteAdminID, domain.ActionDomainAdd)); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Fatalf("a site admin's claim: %v", err)
		}
		if got, err := fx.st.DomainClaim(ctx, demo.OrgID, cl.Domain); err != nil || got != nil {
			t.Fatalf("after a refused claim: %+v %v", got, err)
		}
		if err := fx.st.CreateDomainClaim(ctx, cl, audit(demo.AdminID, domain.ActionDomainAdd)); err != nil {
			t.Fatal(err)
		}
		other := domain.NewDomainClaim(demo.OrgID, "cond.example", demo.AdminID, now, domain.DomainChecks{})
		if err := fx.st.CreateDomainClaim(ctx, other, audit(demo.AdminID, domain.ActionDomainAdd)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("a second claim: %v", err)
		}
		org := p0org(t, fx)
		next, _ := cl.Checked(true, now, domain.DomainChecks{})
		a := audit(domain.ActorSystem, domain.ActionDomainVerify)
		o, err := fx.st.ApplyDomainCheck(ctx, org, cl, next, "", &a)
		if err != nil || !slices.Contains(o.VerifiedDomains, cl.Domain) || o.PolicyVersion != org.PolicyVersion+1 {
			t.Fatalf("verify: %+v %v", o, err)
		}
		// Stale claim (version 0 read, 1 stored), then a stale org.
		lapse, _ := next.Checked(false, now.Add(time.Hour), domain.DomainChecks{})
		if _, err := fx.st.ApplyDomainCheck(ctx, o, cl, lapse, "", &a); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("a write from a stale claim: %v", err)
		}
		stored, _ := fx.st.DomainClaim(ctx, demo.OrgID, cl.Domain)
		unverify := *stored
		unverify.Status = domain.DomainUnverified
		if _, err := fx.st.ApplyDomainCheck(ctx, org, *stored, unverify, "", &a); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("a write from a stale org: %v", err)
		}
		if got, _ := fx.st.DomainClaim(ctx, demo.OrgID, cl.Domain); got.Version != 1 || got.Status != domain.DomainVerified {
			t.Fatalf("claim after refused writes: %+v", got)
		}
		if now := p0org(t, fx); !slices.Contains(now.VerifiedDomains, cl.Domain) || now.PolicyVersion != o.PolicyVersion {
			t.Fatalf("org after refused writes: %+v", now)
		}
		if _, err := fx.st.DeleteDomainClaim(ctx, o, cl.Domain, &cl, audit(demo.AdminID, domain.ActionDomainRemove)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("a removal from a stale claim: %v", err)
		}
		log, _ := auditdb.New(fx.st).AuditLog(ctx, demo.OrgID, domain.AuditQuery{Target: domain.OrgTarget(demo.OrgID), To: now.Add(time.Hour), Limit: 100})
		if len(log.Items) != 2 {
			t.Fatalf("audit entries: %d, want 2 (the claim, the verification)", len(log.Items))
		}
	})
}

func p0org(t *testing.T, fx fixture) domain.Org {
	t.Helper()
	orgs, err := fx.st.Orgs(context.Background(), []string{demo.OrgID})
	if err != nil {
		t.Fatal(err)
	}
	return orgs[demo.OrgID]
}
