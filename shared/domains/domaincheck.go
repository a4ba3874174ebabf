// Package domains proves an org's ownership of its email domains by DNS
// (rules §9, issue 16 item 4): it looks up each claim's TXT challenge and applies
// the outcome (domain.DomainClaim.Checked): a pending claim whose record is
// seen becomes verified and its users internal; a verified one whose record
// is gone is lapsing, and unverified once the grace period ends. Each change
// of state is audited in the transaction that makes it.
//
// Job is the scheduled check (DomainCheckFunction): it reads only the
// claims due, shard by shard of the due index (cost ∝ claims due, not
// claims held), as the re-verification job reads its users. Check is one
// check of one claim, which the API's "check now" runs too.
package domains

import (
	"context"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// LookupTXT reads a name's TXT records (each record's strings joined): no
// records and no error when the name holds none; an error when the lookup
// failed.
type LookupTXT func(ctx context.Context, name string) ([]string, error)

// DueReader reads one page of shard sh's claims due at now.
type DueReader interface {
	DueDomainClaims(ctx context.Context, sh int, now time.Time, start string, limit int) ([]domain.DomainClaim, string, error)
}

// OrgReader reads up to 100 orgs by id.
type OrgReader interface {
	Orgs(ctx context.Context, ids []string) (map[string]domain.Org, error)
}

// ClaimReader reads one claim (nil: none).
type ClaimReader interface {
	DomainClaim(ctx context.Context, orgID, d string) (*domain.DomainClaim, error)
}

// CheckWriter writes a check's outcome (with the org when the domain
// starts or stops counting, and the audit entry) under the versions read;
// ECONFLICT when either changed meanwhile.
type CheckWriter interface {
	ApplyDomainCheck(ctx context.Context, org domain.Org, before, next domain.DomainClaim, caller string, audit *domain.AuditEntry) (domain.Org, error)
}

// Ports are the checks' persistence, one small interface a use.
type Ports struct {
	Due    DueReader
	Orgs   OrgReader
	Claims ClaimReader
	Writes CheckWriter
}

// Store is every port at once (the table's store implements it).
type Store interface {
	DueReader
	OrgReader
	ClaimReader
	CheckWriter
}

// PortsOf takes every port from one store.
func PortsOf(st Store) Ports { return Ports{Due: st, Orgs: st, Claims: st, Writes: st} }

// Shards is how many due shards the job reads (store.DueShards).
const Shards = 4

// Defaults of the job's settings.
const (
	DefaultMargin   = 30 * time.Second
	DefaultPageSize = 100
	// applyAttempts is how often a check's write reads the claim and the
	// org again after a concurrent change before giving up (the claim stays
	// due: the next run checks it again).
	applyAttempts = 3
)

// Outcome is what one check found and did.
type Outcome struct {
	Claim domain.DomainClaim
	// Seen: the challenge was in the TXT records.
	Seen bool
	// LookupError is why the lookup failed ("" when it answered).
	LookupError string
	// Action is the audit action written ("" when only the check's time moved).
	Action string
	// Org is the org as written (or as read when unchanged).
	Org domain.Org
}

// Checker checks claims.
type Checker struct {
	Ports
	Lookup LookupTXT
	Checks domain.DomainChecks
	Log    *slog.Logger
}

func (c *Checker) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// look looks up a claim's challenge.
func (c *Checker) look(ctx context.Context, cl domain.DomainClaim) (bool, string) {
	recs, err := c.Lookup(ctx, domain.ChallengeName(cl.Domain))
	if err != nil {
		c.log().WarnContext(ctx, "domain challenge lookup failed", "org", cl.OrgID, "domain", cl.Domain, "error", err.Error())
		return false, err.Error()
	}
	return cl.HasChallenge(recs), ""
}

// Check looks up a claim's challenge now and writes the outcome, with the
// org as read: caller is the admin who asked ("" for the schedule; then the
// audit entries are by system), requestID the audit entries' request id.
// A concurrent change of the claim or the org is read again and the
// outcome applied to what is there now; ENOTFOUND when the claim is gone.
func (c *Checker) Check(ctx context.Context, org domain.Org, cl domain.DomainClaim, caller, requestID string, now time.Time) (Outcome, error) {
	seen, lookupErr := c.look(ctx, cl)
	for attempt := 1; ; attempt++ {
		next, action := cl.Checked(seen, now, c.Checks)
		var audit *domain.AuditEntry
		if action != "" {
			actor := caller
			if actor == "" {
				actor = domain.ActorSystem
			}
			before := map[string]any{"domain": cl.Domain, "status": string(cl.Status), "verifiedDomains": nonNil(org.VerifiedDomains)}
			after := map[string]any{"domain": cl.Domain, "status": string(next.Status), "record": domain.ChallengeName(cl.Domain)}
			if lookupErr != "" {
				after["lookupError"] = lookupErr
			}
			if !next.LapsingSince.IsZero() {
				after["lapsingSince"] = next.LapsingSince.UTC().Format(time.RFC3339)
			}
			a := domain.NewAudit(cl.OrgID, actor, action, domain.OrgTarget(cl.OrgID), requestID, now, before, after)
			audit = &a
		}
		o, err := c.Writes.ApplyDomainCheck(ctx, org, cl, next, caller, audit)
		if err == nil {
			next.Version = cl.Version + 1
			return Outcome{Claim: next, Seen: seen, LookupError: lookupErr, Action: action, Org: o}, nil
		}
		if domain.ErrorCode(err) != domain.ECONFLICT || attempt >= applyAttempts {
			return Outcome{Claim: cl}, err
		}
		// Read the claim and the org again: the outcome applies to them now.
		fresh, err := c.Claims.DomainClaim(ctx, cl.OrgID, cl.Domain)
		if err != nil {
			return Outcome{Claim: cl}, err
		}
		if fresh == nil {
			return Outcome{Claim: cl}, domain.Errorf(domain.ENOTFOUND, "%s is not a domain of this organisation.", cl.Domain)
		}
		orgs, err := c.Orgs.Orgs(ctx, []string{cl.OrgID})
		if err != nil {
			return Outcome{Claim: cl}, err
		}
		o, ok := orgs[cl.OrgID]
		if !ok {
			return Outcome{Claim: cl}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
		}
		org, cl = o, *fresh
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Job is the scheduled check of the claims due.
type Job struct {
	Checker
	Now func() time.Time
	// Margin is how long before the context's deadline a run stops (0: DefaultMargin).
	Margin time.Duration
	// PageSize is how many due claims one Query reads (0: DefaultPageSize, at most 100).
	PageSize int
}

// Report is what one run did.
type Report struct {
	// Due is how many claims were due (read and checked).
	Due int `json:"due"`
	// OrgsRead is how many orgs were read.
	OrgsRead int `json:"orgsRead"`
	// Verified, Restored, Lapsing, Unverified count the changes of state.
	Verified   int `json:"verified"`
	Restored   int `json:"restored"`
	Lapsing    int `json:"lapsing"`
	Unverified int `json:"unverified"`
	// Unchanged claims were checked and kept their state (their next check moved).
	Unchanged int `json:"unchanged"`
	// LookupErrors counts lookups that failed (taken as "not seen").
	LookupErrors int `json:"lookupErrors"`
	// Skipped claims could not be written (changed meanwhile, org gone):
	// they stay due and a later run checks them.
	Skipped int `json:"skipped"`
	// Stopped: the run stopped at its deadline; the rest is still due.
	Stopped bool `json:"stopped"`
}

// Run is one run; runID (the schedule event's id) is the request id of its
// audit entries.
func (j *Job) Run(ctx context.Context, runID string) (Report, error) {
	now := time.Now().UTC()
	if j.Now != nil {
		now = j.Now().UTC()
	}
	var rep Report
	err := j.run(ctx, runID, now, &rep)
	j.log().InfoContext(ctx, "domain check run", "due", rep.Due, "verified", rep.Verified, "restored", rep.Restored, "lapsing", rep.Lapsing,
		"unverified", rep.Unverified, "unchanged", rep.Unchanged, "lookupErrors", rep.LookupErrors, "skipped", rep.Skipped, "stopped", rep.Stopped)
	return rep, err
}

func (j *Job) out(ctx context.Context, rep *Report) bool {
	margin := j.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	dl, ok := ctx.Deadline()
	if ctx.Err() != nil || ok && !time.Now().Before(dl.Add(-margin)) {
		rep.Stopped = true
	}
	return rep.Stopped
}

func (j *Job) run(ctx context.Context, runID string, now time.Time, rep *Report) error {
	size := j.PageSize
	if size <= 0 || size > 100 {
		size = DefaultPageSize
	}
	orgs := map[string]*domain.Org{}
	for sh := 0; sh < Shards; sh++ {
		start := ""
		for {
			if j.out(ctx, rep) {
				return ctx.Err()
			}
			page, next, err := j.Due.DueDomainClaims(ctx, sh, now, start, size)
			if err != nil {
				return err
			}
			var ids []string
			for _, cl := range page {
				if _, ok := orgs[cl.OrgID]; !ok {
					orgs[cl.OrgID] = nil
					ids = append(ids, cl.OrgID)
				}
			}
			if len(ids) > 0 {
				got, err := j.Orgs.Orgs(ctx, ids)
				if err != nil {
					return err
				}
				rep.OrgsRead += len(got)
				for id, o := range got {
					orgs[id] = &o
				}
			}
			for _, cl := range page {
				if j.out(ctx, rep) {
					return ctx.Err()
				}
				rep.Due++
				org := orgs[cl.OrgID]
				if org == nil {
					rep.Skipped++
					continue
				}
				o, err := j.Check(ctx, *org, cl, "", runID, now)
				switch {
				case domain.ErrorCode(err) == domain.ECONFLICT || domain.ErrorCode(err) == domain.ENOTFOUND:
					// It stays due: a later run checks it again.
					rep.Skipped++
					continue
				case err != nil:
					return err
				}
				if o.LookupError != "" {
					rep.LookupErrors++
				}
				switch o.Action {
				case domain.ActionDomainVerify:
					rep.Verified++
				case domain.ActionDomainRestore:
					rep.Restored++
				case domain.ActionDomainLapse:
					rep.Lapsing++
				case domain.ActionDomainUnverify:
					rep.Unverified++
				default:
					rep.Unchanged++
				}
				// The org as written: its next claim's write is conditioned on it.
				orgs[cl.OrgID] = &o.Org
			}
			if next == "" {
				break
			}
			start = next
		}
	}
	return nil
}
