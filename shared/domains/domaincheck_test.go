package domains_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/domains"
)

// fakeStore is a function-field fake of the check's store; each test wires
// as ports only the methods its path calls (a port left unset is nil).
type fakeStore struct {
	due    func(sh int, start string) ([]domain.DomainClaim, string, error)
	orgs   map[string]domain.Org
	claims map[string]domain.DomainClaim
	apply  func(org domain.Org, before, next domain.DomainClaim, audit *domain.AuditEntry) (domain.Org, error)
	reads  int
}

func (f *fakeStore) DueDomainClaims(_ context.Context, sh int, _ time.Time, start string, _ int) ([]domain.DomainClaim, string, error) {
	return f.due(sh, start)
}

func (f *fakeStore) Orgs(_ context.Context, ids []string) (map[string]domain.Org, error) {
	out := map[string]domain.Org{}
	for _, id := range ids {
		if o, ok := f.orgs[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func (f *fakeStore) DomainClaim(_ context.Context, orgID, d string) (*domain.DomainClaim, error) {
	f.reads++
	c, ok := f.claims[orgID+"/"+d]
	if !ok {
		return nil, nil
	}
	return &c, nil
}

func (f *fakeStore) ApplyDomainCheck(_ context.Context, org domain.Org, before, next domain.DomainClaim, _ string, audit *domain.AuditEntry) (domain.Org, error) {
	return f.apply(org, before, next, audit)
}

func lookupOf(recs map[string][]string, err error) domains.LookupTXT {
	return func(_ context.Context, name string) ([]string, error) { return recs[name], err }
}

// TestCheckRereadsAfterAConcurrentChange: a check whose write finds the
// claim changed meanwhile (another check, a removal and new claim) reads the
// claim and the org again and applies what it saw to them; a claim
// removed meanwhile is ENOTFOUND; a conflict that persists gives up (the
// claim stays due).
func TestCheckRereadsAfterAConcurrentChange(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cl := domain.NewDomainClaim("o", "a.example", "admin", now.Add(-time.Hour), domain.DomainChecks{})
	org := domain.Org{ID: "o", PolicyVersion: 3}
	moved := cl
	moved.Version = 1
	f := &fakeStore{orgs: map[string]domain.Org{"o": {ID: "o", PolicyVersion: 4}}, claims: map[string]domain.DomainClaim{"o/a.example": moved}}
	var writes []int
	f.apply = func(o domain.Org, before, next domain.DomainClaim, audit *domain.AuditEntry) (domain.Org, error) {
		writes = append(writes, before.Version)
		if before.Version != 1 || o.PolicyVersion != 4 {
			return o, domain.Errorf(domain.ECONFLICT, "changed")
		}
		if next.Status != domain.DomainVerified || audit == nil || audit.Action != domain.ActionDomainVerify || audit.Actor != "admin" {
			t.Errorf("next %+v audit %+v", next, audit)
		}
		return o, nil
	}
	c := &domains.Checker{Ports: domains.Ports{Orgs: f, Claims: f, Writes: f}, Lookup: lookupOf(map[string][]string{domain.ChallengeName("a.example"): {cl.ChallengeValue()}}, nil)}
	out, err := c.Check(context.Background(), org, cl, "admin", "req", now)
	if err != nil || out.Claim.Version != 2 || out.Action != domain.ActionDomainVerify || len(writes) != 2 {
		t.Fatalf("check: %+v %v, writes %v", out, err, writes)
	}

	// Removed meanwhile.
	delete(f.claims, "o/a.example")
	if _, err := c.Check(context.Background(), org, cl, "admin", "req", now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("a claim removed meanwhile: %v", err)
	}
	// A conflict every time: gives up after a bounded number of tries.
	f.claims["o/a.example"] = cl
	writes = nil
	f.apply = func(o domain.Org, before, _ domain.DomainClaim, _ *domain.AuditEntry) (domain.Org, error) {
		writes = append(writes, before.Version)
		return o, domain.Errorf(domain.ECONFLICT, "changed")
	}
	if _, err := c.Check(context.Background(), org, cl, "", "req", now); domain.ErrorCode(err) != domain.ECONFLICT || len(writes) != 3 {
		t.Fatalf("a persistent conflict: %v after %d writes", err, len(writes))
	}
}

// TestJobRun: a run reads each shard's pages of claims due, checks them
// with their orgs (a claim whose org is gone is skipped), counts a failed
// lookup as not seen (a verified domain lapses, audited with the error) and
// stops at its deadline's margin.
func TestJobRun(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	verified := domain.DomainClaim{OrgID: "o", Domain: "v.example", Status: domain.DomainVerified, Token: "t", VerifiedAt: now.Add(-48 * time.Hour)}
	orphan := domain.DomainClaim{OrgID: "gone", Domain: "x.example", Status: domain.DomainPending, Token: "u"}
	f := &fakeStore{orgs: map[string]domain.Org{"o": {ID: "o", VerifiedDomains: []string{"v.example"}}}}
	f.due = func(sh int, start string) ([]domain.DomainClaim, string, error) {
		switch {
		case sh == 1 && start == "":
			return []domain.DomainClaim{verified}, "k1", nil
		case sh == 1 && start == "k1":
			return []domain.DomainClaim{orphan}, "", nil
		}
		return nil, "", nil
	}
	var audits []domain.AuditEntry
	f.apply = func(o domain.Org, _, next domain.DomainClaim, audit *domain.AuditEntry) (domain.Org, error) {
		if audit != nil {
			audits = append(audits, *audit)
		}
		return o, nil
	}
	j := &domains.Job{Checker: domains.Checker{Ports: domains.Ports{Due: f, Orgs: f, Writes: f}, Lookup: lookupOf(nil, errors.New("i/o timeout"))}, Now: func() time.Time { return now }}
	rep, err := j.Run(context.Background(), "run")
	if err != nil || rep.Due != 2 || rep.Lapsing != 1 || rep.LookupErrors != 1 || rep.Skipped != 1 || rep.OrgsRead != 1 || rep.Stopped {
		t.Fatalf("run: %+v %v", rep, err)
	}
	if len(audits) != 1 || audits[0].Actor != domain.ActorSystem || audits[0].RequestID != "run" || audits[0].After["lookupError"] != "i/o timeout" {
		t.Fatalf("audits: %+v", audits)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if rep, err := j.Run(ctx, "late"); err != nil || !rep.Stopped || rep.Due != 0 {
		t.Fatalf("a run within its margin of the deadline: %+v %v", rep, err)
	}
}
