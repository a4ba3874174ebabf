// Package reverify is the scheduled re-verification job (rules §9, A18): it
// finds the external users whose two-step verification lapsed, marks them as
// needing it and emails them a link to the verification page.
//
// It reads only what is due: each shard of the due index from its start,
// entries whose due time is at or before now (a verified user's entry sits
// at the time their verification lapses; a marked one is parked after every
// real time). For the entries met it reads their orgs (one BatchGetItem per
// page, for the orgs this run has not read yet) and decides per user with
// the domain's rules, the same as the access decision's:
//
//   - no longer external, two-step off, or "once" (or not an active
//     account): the entry is parked, no email;
//   - not lapsed under the current settings (the frequency got longer): the
//     entry moves to its new due time;
//   - lapsed: claim (the entry moves forward by a lease, state notifying,
//     conditioned on the entry read: of two runs only one claims it),
//     email, mark (state required, entry parked, audit entry
//     user.verification.lapse by system, conditioned on the claim).
//
// Delivery is at least once: a run that dies between the claim and the
// mark (after the email went) leaves the entry due again when the lease
// ends, and the next run emails again. An email SES refuses leaves the claim
// to lapse: a later run retries it, nothing is lost.
//
// An org's rescan request (after a change of its verification settings)
// is an entry too: the job pages the org's external users from the request's
// cursor and moves each verified user's entry to what the current settings
// make it, saving the cursor as it goes and deleting the request when done.
//
// A run stops well before its deadline (the context's, less Margin) or after
// Budget entries, and the next run goes on: handled entries are no longer
// due, so the index itself is the cursor and nothing is lost or repeated.
package reverify

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
)

// DueReader reads one page (at most limit) of shard sh's entries due at
// now, from start ("" first; then the cursor returned, "" after the last
// page).
type DueReader interface {
	DueVerifications(ctx context.Context, sh int, now time.Time, start string, limit int) ([]domain.DueVerification, string, error)
}

// OrgReader reads up to 100 orgs by id; an absent org is absent from the map.
type OrgReader interface {
	Orgs(ctx context.Context, ids []string) (map[string]domain.Org, error)
}

// DueMover moves a user's entry, read as entry, to dueAt (zero: parked);
// ECONFLICT when it changed meanwhile.
type DueMover interface {
	MoveVerifyDue(ctx context.Context, u domain.User, entry string, dueAt time.Time) error
}

// Claimer claims a user's entry, read as entry, until the lease ends and
// returns the claim; ECONFLICT when it changed meanwhile.
type Claimer interface {
	ClaimVerification(ctx context.Context, u domain.User, entry string, until time.Time) (string, error)
}

// RequiredMarker marks a claimed user required and parks their entry, with
// the audit entry, conditioned on the claim.
type RequiredMarker interface {
	MarkVerificationRequired(ctx context.Context, u domain.User, claim string, audit domain.AuditEntry) error
}

// ExternalLister reads a page of an org's external users from cursor.
type ExternalLister interface {
	ExternalUsers(ctx context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error)
}

// Rescanner moves a verified user's entry to dueAt (zero: parked) with
// state, conditioned on verifiedAt as read and no claim.
type Rescanner interface {
	RescanVerification(ctx context.Context, u domain.User, dueAt time.Time, state domain.VerifyState) error
}

// ScanSaver saves a rescan's cursor; ECONFLICT when a newer request
// replaced it.
type ScanSaver interface {
	SaveVerifyScan(ctx context.Context, sc domain.VerifyScan, cursor string) error
}

// ScanDeleter deletes a finished rescan; ECONFLICT when a newer request
// replaced it.
type ScanDeleter interface {
	DeleteVerifyScan(ctx context.Context, sc domain.VerifyScan) error
}

// Ports are the job's persistence, one small interface a use.
type Ports struct {
	Due         DueReader
	Orgs        OrgReader
	Moves       DueMover
	Claims      Claimer
	Marks       RequiredMarker
	External    ExternalLister
	Rescans     Rescanner
	ScanSaves   ScanSaver
	ScanDeletes ScanDeleter
}

// Store is every port at once (the table's store implements it).
type Store interface {
	DueReader
	OrgReader
	DueMover
	Claimer
	RequiredMarker
	ExternalLister
	Rescanner
	ScanSaver
	ScanDeleter
}

// PortsOf takes every port from one store.
func PortsOf(st Store) Ports {
	return Ports{Due: st, Orgs: st, Moves: st, Claims: st, Marks: st, External: st, Rescans: st, ScanSaves: st, ScanDeletes: st}
}

// Shards is how many due shards the job reads (store.DueShards).
const Shards = 4

// Defaults of the Job's settings.
const (
	DefaultLease    = 15 * time.Minute
	DefaultMargin   = 30 * time.Second
	DefaultPageSize = 100
	// MaxSendFailures is how many emails in a row SES may refuse before the
	// run stops (SES is down: the rest waits for the next run).
	MaxSendFailures = 3
)

// Job is one deployment's re-verification job.
type Job struct {
	Ports
	Mailer emails.Mailer
	// BaseURL is the public base URL; the link is BaseURL/orgs/{orgId}/verify.
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
	// Lease is how long a claim lasts (0: DefaultLease): a run that dies
	// between claiming and marking leaves the user due again after it.
	Lease time.Duration
	// Margin is how long before the context's deadline a run stops (0:
	// DefaultMargin).
	Margin time.Duration
	// PageSize is how many due entries one Query reads (0: DefaultPageSize,
	// at most 100, the most orgs one BatchGetItem reads).
	PageSize int
	// Budget is how many entries one run handles at most (0: no bound but
	// the deadline).
	Budget int
	// SendRate caps emails per second (0: no pacing).
	SendRate int
}

// Report is what one run did.
type Report struct {
	// Due is how many users' entries were due (read); Scans how many
	// rescan requests.
	Due   int `json:"due"`
	Scans int `json:"scans"`
	// OrgsRead is how many orgs were read (BatchGetItem).
	OrgsRead int `json:"orgsRead"`
	// Emailed users were marked required and emailed.
	Emailed int `json:"emailed"`
	// Failed emails were refused by SES: their claims lapse and a later run
	// retries them.
	Failed int `json:"failed"`
	// Undeliverable users were marked without an email (an address SES
	// cannot take).
	Undeliverable int `json:"undeliverable"`
	// Moved entries were not lapsed under the current settings and moved to
	// their new due time; Parked ones need no verification any more.
	Moved  int `json:"moved"`
	Parked int `json:"parked"`
	// Skipped entries changed meanwhile (verified, claimed by another run).
	Skipped int `json:"skipped"`
	// Rescanned is how many entries rescans moved; ScansDone how many
	// rescans finished.
	Rescanned int `json:"rescanned"`
	ScansDone int `json:"scansDone"`
	// Stopped: the run stopped at its deadline, its budget or an SES
	// outage; what is left is still due and the next run goes on.
	Stopped bool `json:"stopped"`
}

// run is one run's state.
type run struct {
	j        *Job
	id       string
	now      time.Time
	orgs     map[string]*domain.Org
	handled  int
	failures int
	lastSend time.Time
	rep      Report
}

// Run is one run of the job; runID (the schedule event's id) is the request
// id of its audit entries.
func (j *Job) Run(ctx context.Context, runID string) (Report, error) {
	now := time.Now().UTC()
	if j.Now != nil {
		now = j.Now().UTC()
	}
	r := &run{j: j, id: runID, now: now, orgs: map[string]*domain.Org{}}
	err := r.all(ctx)
	rep := r.rep
	j.log().InfoContext(ctx, "re-verification run", "due", rep.Due, "scans", rep.Scans, "orgsRead", rep.OrgsRead, "emailed", rep.Emailed,
		"failed", rep.Failed, "moved", rep.Moved, "parked", rep.Parked, "skipped", rep.Skipped, "rescanned", rep.Rescanned,
		"stopped", rep.Stopped, "at", now.Format(time.RFC3339))
	return rep, err
}

func (j *Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
}

func (j *Job) pageSize() int {
	if j.PageSize <= 0 {
		return DefaultPageSize
	}
	return min(j.PageSize, 100)
}

// out reports whether the run must stop now: its context is done, its
// deadline less the margin has come, its budget is spent or SES is down.
func (r *run) out(ctx context.Context) bool {
	margin := r.j.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	dl, ok := ctx.Deadline()
	stop := ctx.Err() != nil || ok && !time.Now().Before(dl.Add(-margin)) ||
		r.j.Budget > 0 && r.handled >= r.j.Budget || r.failures >= MaxSendFailures
	if stop {
		r.rep.Stopped = true
	}
	return stop
}

func (r *run) all(ctx context.Context) error {
	for sh := 0; sh < Shards; sh++ {
		start := ""
		for {
			if r.out(ctx) {
				return ctx.Err()
			}
			page, next, err := r.j.Due.DueVerifications(ctx, sh, r.now, start, r.j.pageSize())
			if err != nil {
				return err
			}
			if err := r.readOrgs(ctx, page); err != nil {
				return err
			}
			for _, e := range page {
				if r.out(ctx) {
					return ctx.Err()
				}
				r.handled++
				if e.Scan != nil {
					err = r.rescan(ctx, *e.Scan)
				} else {
					err = r.user(ctx, e)
				}
				if err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			start = next
		}
	}
	return nil
}

// readOrgs reads, in one BatchGetItem, the orgs of a page's entries that
// this run has not read yet.
func (r *run) readOrgs(ctx context.Context, page []domain.DueVerification) error {
	var ids []string
	for _, e := range page {
		id := ""
		if e.Scan != nil {
			id = e.Scan.OrgID
		} else {
			id = e.User.OrgID
		}
		if _, ok := r.orgs[id]; !ok {
			r.orgs[id] = nil
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	got, err := r.j.Orgs.Orgs(ctx, ids)
	if err != nil {
		return err
	}
	r.rep.OrgsRead += len(got)
	for id, o := range got {
		r.orgs[id] = &o
	}
	return nil
}

// user decides one due user's entry.
func (r *run) user(ctx context.Context, e domain.DueVerification) error {
	u := *e.User
	r.rep.Due++
	org := r.orgs[u.OrgID]
	var due time.Time
	switch {
	case org == nil || u.Status != domain.UserActive || !org.IsExternal(u.Email):
		// Parked: no email. A later verification or rescan writes a new entry.
	default:
		v := org.VerificationOf(u, r.now)
		switch v.State {
		case domain.VerificationRequired:
			return r.notify(ctx, *org, e)
		case domain.VerificationVerified:
			due = v.DueAt // zero for "once": parked
		}
	}
	err := r.j.Moves.MoveVerifyDue(ctx, u, e.Entry, due)
	switch {
	case domain.ErrorCode(err) == domain.ECONFLICT:
		r.rep.Skipped++
	case err != nil:
		return err
	case due.IsZero():
		r.rep.Parked++
	default:
		r.rep.Moved++
	}
	return nil
}

// notify claims a lapsed user, emails them and marks them required.
func (r *run) notify(ctx context.Context, org domain.Org, e domain.DueVerification) error {
	u := *e.User
	lease := r.j.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	claim, err := r.j.Claims.ClaimVerification(ctx, u, e.Entry, r.now.Add(lease))
	if domain.ErrorCode(err) == domain.ECONFLICT {
		r.rep.Skipped++
		return nil
	} else if err != nil {
		return err
	}
	lapsedAt := org.PolicyFor(u.AccountID).VerifyDue(u.VerifiedAt)
	if lapsedAt.After(r.now) {
		lapsedAt = time.Time{} // lapsed by a reset of sessions
	}
	emailed := true
	msg, err := emails.RenderReverification(emails.Reverification{To: u.Email, OrgName: org.Name, LapsedAt: lapsedAt,
		VerifyURL: r.j.BaseURL + "/orgs/" + url.PathEscape(org.ID) + "/verify"})
	if err != nil {
		// Retrying cannot help: mark the user, who is denied until they verify.
		emailed = false
		r.rep.Undeliverable++
		r.j.log().WarnContext(ctx, "re-verification email not rendered", "org", u.OrgID, "accountId", u.AccountID, "error", err.Error())
	} else {
		r.pace(ctx)
		if _, err := r.j.Mailer.Send(ctx, msg); err != nil {
			r.rep.Failed++
			r.failures++
			r.j.log().WarnContext(ctx, "re-verification email failed; the claim lapses and a later run retries", "org", u.OrgID,
				"accountId", u.AccountID, "error", err.Error())
			return nil
		}
		r.failures = 0
	}
	before := map[string]any{"verification": domain.VerificationVerified, "verifiedAt": u.VerifiedAt.UTC().Format(time.RFC3339)}
	after := map[string]any{"verification": domain.VerificationRequired, "emailed": emailed}
	if !lapsedAt.IsZero() {
		after["lapsedAt"] = lapsedAt.UTC().Format(time.RFC3339)
	}
	audit := domain.NewAudit(u.OrgID, domain.ActorSystem, domain.ActionVerificationLapse, domain.UserTarget(u.AccountID), r.id, r.now, before, after)
	// The mark is written even when ctx was cancelled after the email: the
	// email went, so the mark must follow if it still can.
	err = r.j.Marks.MarkVerificationRequired(context.WithoutCancel(ctx), u, claim, audit)
	switch {
	case domain.ErrorCode(err) == domain.ECONFLICT:
		r.rep.Skipped++
	case err != nil:
		return err
	case emailed:
		r.rep.Emailed++
	}
	return nil
}

// pace waits so that emails go at most SendRate a second.
func (r *run) pace(ctx context.Context) {
	if r.j.SendRate <= 0 {
		return
	}
	next := r.lastSend.Add(time.Second / time.Duration(r.j.SendRate))
	if d := time.Until(next); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	r.lastSend = time.Now()
}

// rescan moves the due entries of an org's verified external users to what
// its current settings make them, page by page from the request's cursor.
func (r *run) rescan(ctx context.Context, sc domain.VerifyScan) error {
	r.rep.Scans++
	org := r.orgs[sc.OrgID]
	if org == nil {
		return r.finishScan(ctx, sc)
	}
	cursor := sc.Cursor
	for {
		if r.out(ctx) {
			return ctx.Err()
		}
		users, next, err := r.j.External.ExternalUsers(ctx, *org, cursor, r.j.pageSize())
		if domain.ErrorCode(err) == domain.EINVALID && cursor != "" {
			// A cursor that no longer reads: start the scan again.
			cursor = ""
			continue
		} else if err != nil {
			return err
		}
		for _, u := range users {
			if u.VerifiedAt.IsZero() || u.VerifyState == domain.VerifyNotifying {
				continue // no entry yet; or a run's claim decides
			}
			due, state := rescanned(*org, u, r.now)
			err := r.j.Rescans.RescanVerification(ctx, u, due, state)
			if domain.ErrorCode(err) == domain.ECONFLICT {
				continue
			} else if err != nil {
				return err
			}
			r.rep.Rescanned++
		}
		if next == "" {
			return r.finishScan(ctx, sc)
		}
		err = r.j.ScanSaves.SaveVerifyScan(ctx, sc, next)
		if domain.ErrorCode(err) == domain.ECONFLICT {
			return nil // a newer request: it starts again from its own entry
		} else if err != nil {
			return err
		}
		cursor = next
	}
}

func (r *run) finishScan(ctx context.Context, sc domain.VerifyScan) error {
	err := r.j.ScanDeletes.DeleteVerifyScan(ctx, sc)
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return nil
	}
	if err == nil {
		r.rep.ScansDone++
	}
	return err
}

// rescanned is where a verified external user's entry belongs under the
// org's current settings: at the lapse of a verification in force (state
// verified); parked when none is to lapse (two-step off, "once"); due now
// when it lapsed and the user is not marked yet (the job claims and emails
// them); parked when they are marked already.
func rescanned(org domain.Org, u domain.User, now time.Time) (time.Time, domain.VerifyState) {
	v := org.VerificationOf(u, now)
	switch {
	case v.State == domain.VerificationVerified:
		return v.DueAt, domain.VerifyVerified
	case v.State == domain.VerificationRequired && u.VerifyState != domain.VerifyRequired:
		due := org.PolicyFor(u.AccountID).VerifyDue(u.VerifiedAt)
		if due.IsZero() || due.After(now) {
			due = now
		}
		return due, u.VerifyState
	}
	return time.Time{}, u.VerifyState
}
