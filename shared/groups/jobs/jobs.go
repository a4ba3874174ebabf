// Package jobs runs a group's change to every member — a new role on a
// site's product, or the group's deletion — as a job: the request that asks
// for it writes the job and queues its plan; the plan reads every member,
// refuses the whole change before any member changes when it would take a
// site past its guest limit, else reserves the slots it needs, sets the
// group's new role and queues the changes in pages; each page is one
// transaction (members, counters, progress, a marker that makes a
// redelivered page change nothing twice); a finisher closes the job. Pages
// that keep failing reach the dead-letter queue, whose consumer records them
// in the job. It knows nothing of DynamoDB, SQS or API Gateway.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The ports jobs read and write besides those of package groups (the
// organisation and caller, a role change's scope, a group, sites), one per
// use.

// JobReader reads a job (ENOTFOUND when absent).
type JobReader interface {
	Job(ctx context.Context, orgID, id string) (domain.Job, error)
}

// JobLedger records a job's life, each step all or nothing: its start (one
// job at a time per group), its beginning (the group's new roles and the
// reservations), a page that failed for good (its reservation released)
// and its end.
type JobLedger interface {
	StartJob(ctx context.Context, j domain.Job) error
	BeginJob(ctx context.Context, j domain.Job, groupRoles map[string]domain.Role) error
	FailPage(ctx context.Context, j domain.Job, p domain.JobPage, reason string) error
	EndJob(ctx context.Context, j domain.Job, from domain.JobState, groupName string, release map[string]int64) error
}

// MemberReader reads every member of a group.
type MemberReader interface {
	AllMembers(ctx context.Context, orgID, groupID string) ([]domain.Member, error)
}

// AccessReader reads members' access on the given SiteProductKeys, by
// account then key.
type AccessReader interface {
	AccessOf(ctx context.Context, orgID string, accounts []string, spKeys []string) (map[string]map[string]domain.Access, error)
}

// MembershipChecker reads which of the accounts are members of a group.
type MembershipChecker interface {
	Memberships(ctx context.Context, orgID, groupID string, accounts []string) (map[string]bool, error)
}

// PageApplier writes one page of a job in one transaction (members,
// counters, progress, the page's marker); false when the page was applied
// before. A StaleError names the members that changed since the plan.
type PageApplier interface {
	ApplyPage(ctx context.Context, j domain.Job, p domain.JobPage, conversions []domain.Conversion) (bool, error)
}

// Store is every port jobs use: what the table adapter implements, and
// what New wires.
type Store interface {
	groups.RoleScopeReader
	groups.CallerReader
	groups.GroupReader
	groups.SiteReader
	JobReader
	JobLedger
	MemberReader
	AccessReader
	MembershipChecker
	PageApplier
}

// New is the jobs service over one store that implements every port,
// sending to the jobs queue q.
func New(st Store, q Queue) *Service {
	return &Service{Scopes: st, Callers: st, Groups: st, Sites: st, Jobs: st, Ledger: st, Members: st, Access: st,
		Memberships: st, Pages: st, Queue: q}
}

// Queue sends messages to the jobs queue.
type Queue = queue.Sender

// Message is one jobs queue message.
type Message = queue.Message

// StaleError is what the store returns when members changed after the plan
// read them (store.StaleEntries satisfies it).
type StaleError interface {
	error
	StaleAccounts() []string
}

// Service runs jobs.
type Service struct {
	Scopes      groups.RoleScopeReader // SetGroupRole
	Callers     groups.CallerReader    // DeleteGroup, Job
	Groups      groups.GroupReader     // starting, planning, finishing
	Sites       groups.SiteReader      // planning: the sites' limits
	Jobs        JobReader
	Ledger      JobLedger
	Members     MemberReader      // planning
	Access      AccessReader      // planning, and a page's stale members
	Memberships MembershipChecker // a role job's stale members
	Pages       PageApplier
	Queue       Queue
	Now         func() time.Time
	Log         *slog.Logger
	// InlineMembers: a group with at most this many members is changed
	// before the answer (no queue); 0 means DefaultInlineMembers.
	InlineMembers int
	// FinishDelay is how long the finisher waits between checks.
	FinishDelay time.Duration
	// PageMembers caps the members of a page (0: as many as a transaction
	// holds); tests use it to make several pages of a small group.
	PageMembers int
	// PagePause is how long a consumer waits after applying a queued page
	// (0: not at all). Every page updates its site's counter item, which
	// DynamoDB lets one transaction hold at a time: pages applied back to
	// back hold it nearly always, and the site's invites, accepts and role
	// changes run out of tries (503) for the whole job. GroupJobsWorkerFunction
	// sets DefaultPagePause (docs/data-model.md, "Capacity").
	PagePause time.Duration
	// Sleep waits for PagePause (nil: a timer, or until ctx ends).
	Sleep func(ctx context.Context, d time.Duration)
}

// DefaultPagePause leaves a site's counter item free about four fifths of
// the time behind each consumer (a page's transaction holds it ~40 ms): with
// two consumers, invites at 5 a second on the site meet under 1% of 503s
// while a job runs (the store's conflict model, TestGroupJobPagesOnABusySite),
// and a job of 100,000 members (1,031 pages) takes about two minutes.
const DefaultPagePause = 200 * time.Millisecond

func (s *Service) pause(ctx context.Context) {
	if s.PagePause <= 0 {
		return
	}
	if s.Sleep != nil {
		s.Sleep(ctx, s.PagePause)
		return
	}
	t := time.NewTimer(s.PagePause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// DefaultInlineMembers is the largest group changed within the request.
const DefaultInlineMembers = 50

// Audit actions of jobs.
const (
	ActionGroupRole   = "group.role"
	ActionGroupDelete = "group.delete"
)

// jobAudit is the audit entry of a job's beginning: the change the
// administrator asked for (a group's role on a site's product, or a group's
// delete), by them, in their request.
func jobAudit(j domain.Job, g domain.Group, at time.Time) *domain.AuditEntry {
	action := ActionGroupRole
	before := map[string]any{"site": j.Site, "product": string(j.Product), "role": string(g.RoleOn(j.Site, j.Product))}
	after := map[string]any{"site": j.Site, "product": string(j.Product), "role": string(j.Role), "job": j.ID, "members": j.Members}
	if j.Kind == domain.JobGroupDelete {
		action = ActionGroupDelete
		before = map[string]any{"name": g.Name, "members": j.Members}
		after = map[string]any{"job": j.ID, "deleting": true}
	}
	a := domain.NewAudit(j.OrgID, j.CreatedBy, action, domain.GroupTarget(j.GroupID), j.RequestID, at, before, after)
	return &a
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// envelope is the body of every jobs queue message.
type envelope struct {
	Type string          `json:"type"` // plan, page, finish
	Job  jobRef          `json:"job"`
	Page *domain.JobPage `json:"page,omitempty"`
}

// jobRef carries what a page needs of its job, so that applying a page
// reads nothing first.
type jobRef struct {
	OrgID   string         `json:"org"`
	ID      string         `json:"id"`
	GroupID string         `json:"group"`
	Kind    domain.JobKind `json:"kind"`
	Role    domain.Role    `json:"role,omitempty"`
	Keys    []string       `json:"keys"`
	Plan    string         `json:"plan,omitempty"`
}

func refOf(j domain.Job, keys []string) jobRef {
	return jobRef{OrgID: j.OrgID, ID: j.ID, GroupID: j.GroupID, Kind: j.Kind, Role: j.Role, Keys: keys, Plan: j.Plan}
}

func (r jobRef) job() domain.Job {
	return domain.Job{OrgID: r.OrgID, ID: r.ID, GroupID: r.GroupID, Kind: r.Kind, Role: r.Role, Plan: r.Plan}
}

func body(e envelope) Message {
	b, _ := json.Marshal(e)
	return Message{Body: string(b)}
}

// SetGroupRole asks for a group's role on a site's product to change:
// org admins, the site's admins and the product's admins may. It answers
// with the job: finished already for a small group, else running (the
// caller follows its progress).
func (s *Service) SetGroupRole(ctx context.Context, c domain.Caller, orgID, groupID, siteID, product, role string) (domain.Job, error) {
	p, ok := domain.ParseProduct(product)
	if !ok {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such product; known: confluence, jira, jira-service-management.")
	}
	r, ok := domain.ParseRole(role)
	if !ok {
		return domain.Job{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"role": "role must be none, guest, user or admin"}}
	}
	if err := domain.CheckRoleForProduct(p, r); err != nil {
		return domain.Job{}, err
	}
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if !domain.ValidSlug(groupID) {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such group.")
	}
	sc, err := s.Scopes.LoadRole(ctx, orgID, siteID, c.AccountID, c.AccountID, p)
	if err != nil {
		return domain.Job{}, err
	}
	switch {
	case sc.Org == nil || sc.Caller == nil:
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	case sc.Site == nil:
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	case !sc.Caller.CanManageRoles(siteID, sc.CallerAccess):
		return domain.Job{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site and admins of its %s may change a group's role on it.", p)
	}
	g, err := s.Groups.Group(ctx, orgID, groupID)
	if err != nil {
		return domain.Job{}, err
	}
	j := s.newJob(c, orgID, g, domain.JobGroupRole)
	j.Site, j.Product, j.Role = siteID, p, r
	return s.start(ctx, j, g)
}

// DeleteGroup asks for a group to be deleted: every member leaves it first
// (their roles recomputed without it), then the group goes. Org admins only.
func (s *Service) DeleteGroup(ctx context.Context, c domain.Caller, orgID, groupID string) (domain.Job, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return domain.Job{}, err
	}
	if sc.Org == nil || sc.Caller == nil {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() {
		return domain.Job{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins delete groups.")
	}
	if !domain.ValidSlug(groupID) {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such group.")
	}
	g, err := s.Groups.Group(ctx, orgID, groupID)
	if err != nil {
		return domain.Job{}, err
	}
	return s.start(ctx, s.newJob(c, orgID, g, domain.JobGroupDelete), g)
}

func (s *Service) newJob(c domain.Caller, orgID string, g domain.Group, kind domain.JobKind) domain.Job {
	now := s.now()
	return domain.Job{OrgID: orgID, ID: domain.NewID(), GroupID: g.ID, Kind: kind, State: domain.JobPlanning, CreatedBy: c.AccountID,
		RequestID: c.RequestID, CreatedAt: now, UpdatedAt: now}
}

// start writes the job (one job at a time per group) and plans it: within
// the request for a small group, else through the queue.
//
// A job that holds its group must always be carried to its end: once
// StartJob may have taken effect, a failure hands the job to the queue (or
// ends it when nothing could be queued), never leaves it planning with the
// group locked, which would refuse every retry with 409 for good.
func (s *Service) start(ctx context.Context, j domain.Job, g domain.Group) (domain.Job, error) {
	if err := s.Ledger.StartJob(ctx, j); err != nil {
		// A refusal (a job in flight) is an answer; any other error may
		// have come after the write took effect (a lost answer): the job,
		// whose id is new, then reads back.
		var refused *domain.Error
		if errors.As(err, &refused) {
			return domain.Job{}, err
		}
		if _, rerr := s.Jobs.Job(ctx, j.OrgID, j.ID); rerr != nil {
			return domain.Job{}, err
		}
	}
	inline := s.InlineMembers
	if inline == 0 {
		inline = DefaultInlineMembers
	}
	if g.MemberCount <= int64(inline) {
		if err := s.plan(ctx, j, true); err != nil {
			// Planning failed before the job began: the queue plans it
			// again, as a redelivered plan message would.
			if s.Queue.Send(ctx, body(envelope{Type: "plan", Job: refOf(j, nil)})) != nil {
				return domain.Job{}, err
			}
			return j, nil
		}
		return s.Jobs.Job(ctx, j.OrgID, j.ID)
	}
	if err := s.Queue.Send(ctx, body(envelope{Type: "plan", Job: refOf(j, nil)})); err != nil {
		// Not queued, or not known to be: end the job, which has changed
		// nothing yet, so that the group is free and a retry starts again
		// (a plan message that did go finds the job ended and does nothing).
		j.State, j.Message, j.UpdatedAt = domain.JobFailed, "The job could not be queued; no member was changed.", s.now()
		if eerr := s.Ledger.EndJob(ctx, j, domain.JobPlanning, g.Name, nil); eerr != nil {
			s.logger().ErrorContext(ctx, "could not end a job that was not queued", "jobId", j.ID, "err", eerr)
		}
		return domain.Job{}, fmt.Errorf("fanout: queue the plan of job %s: %w", j.ID, err)
	}
	return j, nil
}

// begun reports whether a BeginJob that answered an error took effect
// (its answer was lost): the job reads back running under this plan.
func (s *Service) begun(ctx context.Context, j domain.Job) bool {
	got, err := s.Jobs.Job(ctx, j.OrgID, j.ID)
	return err == nil && got.State == domain.JobRunning && got.Plan == j.Plan
}

// handOff queues the pages of a begun job that the request could not
// apply itself, and its finisher: the worker ends it as a queued job's (a
// page already applied changes nothing twice). It returns cause when
// nothing could be queued.
func (s *Service) handOff(ctx context.Context, ref jobRef, pages []domain.JobPage, cause error) error {
	msgs := make([]Message, 0, len(pages)+1)
	for i := range pages {
		m := body(envelope{Type: "page", Job: ref, Page: &pages[i]})
		m.DelaySeconds = 1
		msgs = append(msgs, m)
	}
	fin := body(envelope{Type: "finish", Job: ref})
	fin.DelaySeconds = s.finishDelay()
	if err := s.Queue.Send(ctx, append(msgs, fin)...); err != nil {
		return cause
	}
	s.logger().WarnContext(ctx, "job handed to the queue after a failure", "jobId", ref.ID, "pages", len(pages), "err", cause)
	return nil
}

// Job returns a job with its progress and conversions (org admins).
func (s *Service) Job(ctx context.Context, c domain.Caller, orgID, id string) (domain.Job, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) || !domain.ValidSlug(id) && !validID(id) {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such job.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return domain.Job{}, err
	}
	if sc.Org == nil || sc.Caller == nil {
		return domain.Job{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	j, err := s.Jobs.Job(ctx, orgID, id)
	if err != nil {
		return j, err
	}
	if !sc.Caller.IsOrgAdmin() && !(j.Site != "" && sc.Caller.IsSiteAdmin(j.Site)) && j.CreatedBy != c.AccountID {
		return domain.Job{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins and the job's creator may read it.")
	}
	return j, nil
}

func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// keysOf are the SiteProductKeys a job changes in members' access.
func keysOf(j domain.Job, g domain.Group) []string {
	if j.Kind == domain.JobGroupRole {
		return []string{domain.SiteProductKey(j.Site, j.Product)}
	}
	ks := make([]string, 0, len(g.Roles))
	for k := range g.Roles {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// recompute is a member's access after the job.
func recompute(r jobRef, k string, cur domain.Access, had bool) domain.Access {
	if !had {
		_, p, _ := strings.Cut(k, "/")
		cur = domain.Access{Product: domain.Product(p), Direct: domain.RoleNone, Effective: domain.RoleNone}
	}
	role := domain.RoleNone
	if r.Kind == domain.JobGroupRole {
		role = r.Role
	}
	return cur.WithGroup(r.GroupID, role)
}

// pageItems is the transaction budget of a page: DynamoDB's 100 items
// (table.MaxTransactItems) less the job's
// progress, the page marker and one counter per site.
func pageItems(sites int) int { return table.MaxTransactItems - 2 - sites }

// plan reads every member and their access, refuses the whole change when a
// site would pass its guest limit, else reserves what it needs, sets the
// group's role, and applies (inline) or queues the pages.
func (s *Service) plan(ctx context.Context, j domain.Job, inline bool) error {
	g, err := s.Groups.Group(ctx, j.OrgID, j.GroupID)
	if err != nil {
		return err
	}
	keys := keysOf(j, g)
	ref := refOf(j, keys)
	members, err := s.Members.AllMembers(ctx, j.OrgID, j.GroupID)
	if err != nil {
		return err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.AccountID
	}
	access, err := s.Access.AccessOf(ctx, j.OrgID, ids, keys)
	if err != nil {
		return err
	}
	var entries []domain.JobEntry
	total := map[string]domain.Seats{}
	for _, m := range members {
		e := domain.JobEntry{AccountID: m.AccountID, Email: m.Email, Before: map[string]domain.Access{}, After: map[string]domain.Access{}}
		changed := j.Kind == domain.JobGroupDelete
		for _, k := range keys {
			cur, had := access[m.AccountID][k]
			next := recompute(ref, k, cur, had)
			if had {
				e.Before[k] = cur
			}
			if !had && next.Empty() {
				continue
			}
			if had && sameAccess(cur, next) {
				continue
			}
			e.After[k] = next
			changed = true
			if next.Product == domain.Confluence {
				site, _, _ := strings.Cut(k, "/")
				total[site] = total[site].Plus(domain.SeatsChange(cur.Effective, next.Effective))
			}
		}
		if changed {
			entries = append(entries, e)
		}
	}
	j.Members, j.Changed = len(members), len(entries)
	// Refuse the whole change, before any member changes, when a site would
	// pass its guest limit or its user limit; else reserve what each site
	// needs (guest slots, and user slots for the users it adds).
	var sites []string
	for site := range total {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	found, err := s.Sites.Sites(ctx, j.OrgID, sites)
	if err != nil {
		return err
	}
	j.Reserved, j.ReservedUsers = map[string]int64{}, map[string]int64{}
	for _, site := range sites {
		d := total[site]
		if !found[site].Fits(d) {
			e := domain.LimitError(found[site], d)
			return s.refuse(ctx, j, g, fmt.Sprintf("Refused before any member changed: on site %s, %s", site, e.Message))
		}
		if d.Limited() && d.Need() > 0 {
			j.Reserved[site] = d.Need()
		}
		if d.Users() > 0 {
			j.ReservedUsers[site] = d.Users()
		}
	}
	j.Plan = domain.NewID()
	ref.Plan = j.Plan
	pages := paginate(j, entries, len(sites), s.PageMembers)
	j.Pages = len(pages)
	var roles map[string]domain.Role
	if j.Kind == domain.JobGroupRole {
		roles = map[string]domain.Role{}
		for k, r := range g.Roles {
			roles[k] = r
		}
		if k := keys[0]; j.Role == domain.RoleNone {
			delete(roles, k)
		} else {
			roles[k] = j.Role
		}
	}
	if !inline && len(pages) > 0 {
		// The pages go out before the job begins: once it has begun, a
		// redelivered plan has nothing left to do. Pages that arrive first
		// wait for it; pages of a plan that never began change nothing.
		msgs := make([]Message, 0, len(pages)+1)
		for i := range pages {
			m := body(envelope{Type: "page", Job: ref, Page: &pages[i]})
			m.DelaySeconds = 1
			msgs = append(msgs, m)
		}
		fin := body(envelope{Type: "finish", Job: ref})
		fin.DelaySeconds = s.finishDelay()
		if err := s.Queue.Send(ctx, append(msgs, fin)...); err != nil {
			return err
		}
	}
	j.Audit = jobAudit(j, g, s.now())
	if err := s.Ledger.BeginJob(ctx, j, roles); err != nil {
		if c := domain.ErrorCode(err); c == domain.ELIMIT || c == domain.EUSERLIMIT {
			return s.refuse(ctx, j, g, domain.ErrorMessage(err))
		}
		if !s.begun(ctx, j) {
			return err
		}
	}
	j.State = domain.JobRunning
	// From here the job has begun: a redelivered plan does nothing, so a
	// failure hands what is left to the queue rather than return.
	if inline {
		for i, p := range pages {
			if err := s.apply(ctx, ref, p); err != nil {
				return s.handOff(ctx, ref, pages[i:], err)
			}
		}
	}
	if !inline && len(pages) > 0 {
		return nil // the pages and their finisher are queued
	}
	if err := s.finish(ctx, ref, g.Name); err != nil {
		return s.handOff(ctx, ref, nil, err)
	}
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) finishDelay() int32 {
	if s.FinishDelay <= 0 {
		return 2
	}
	return int32(max(1, s.FinishDelay/time.Second))
}

func sameAccess(a, b domain.Access) bool {
	if a.Direct != b.Direct || a.Effective != b.Effective || len(a.Groups) != len(b.Groups) {
		return false
	}
	for k, v := range a.Groups {
		if b.Groups[k] != v {
			return false
		}
	}
	return true
}

// paginate orders the entries so that those that free guest slots come
// first, cuts them into pages within a transaction's items, and gives each
// page needing slots its share of the reservation, in order.
func paginate(j domain.Job, entries []domain.JobEntry, sites, maxMembers int) []domain.JobPage {
	slot := func(e domain.JobEntry) int64 {
		var d int64
		for k, a := range e.After {
			if a.Product == domain.Confluence {
				d += domain.SeatsChange(e.Before[k].Effective, a.Effective).SlotChange()
			}
			_ = k
		}
		return d
	}
	slices.SortStableFunc(entries, func(a, b domain.JobEntry) int {
		sa, sb := slot(a), slot(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return strings.Compare(a.AccountID, b.AccountID)
	})
	budget := pageItems(sites)
	var pages []domain.JobPage
	var cur []domain.JobEntry
	n := 0
	for _, e := range entries {
		cost := len(e.After)
		if j.Kind == domain.JobGroupDelete {
			cost++
		}
		if len(cur) > 0 && (n+cost > budget || maxMembers > 0 && len(cur) >= maxMembers) {
			pages, cur, n = append(pages, domain.JobPage{OrgID: j.OrgID, JobID: j.ID, Index: len(pages), Entries: cur}), nil, 0
		}
		cur, n = append(cur, e), n+cost
	}
	if len(cur) > 0 {
		pages = append(pages, domain.JobPage{OrgID: j.OrgID, JobID: j.ID, Index: len(pages), Entries: cur})
	}
	share(pages, j.Reserved, func(d domain.Seats) int64 { return -d.SlotChange() }, func(p *domain.JobPage) *map[string]int64 { return &p.Reserved })
	share(pages, j.ReservedUsers, domain.Seats.Users, func(p *domain.JobPage) *map[string]int64 { return &p.ReservedUsers })
	return pages
}

// share gives each page, in order, its share of a job's reservation (what
// its entries need, by need), and whatever is left (freed by earlier pages
// of the same job) to the last page.
func share(pages []domain.JobPage, reserved map[string]int64, need func(domain.Seats) int64, of func(*domain.JobPage) *map[string]int64) {
	left := map[string]int64{}
	for site, r := range reserved {
		left[site] = r
	}
	give := func(p *domain.JobPage, site string, n int64) {
		m := of(p)
		if *m == nil {
			*m = map[string]int64{}
		}
		(*m)[site] += n
		left[site] -= n
	}
	for i := range pages {
		want := map[string]int64{}
		for _, e := range pages[i].Entries {
			for k, a := range e.After {
				if a.Product == domain.Confluence {
					site, _, _ := strings.Cut(k, "/")
					want[site] += need(domain.SeatsChange(e.Before[k].Effective, a.Effective))
				}
			}
		}
		for site, n := range want {
			if take := min(n, left[site]); take > 0 {
				give(&pages[i], site, take)
			}
		}
	}
	for site, r := range left {
		if r > 0 && len(pages) > 0 {
			give(&pages[len(pages)-1], site, r)
		}
	}
}

// refuse ends a job before any member changed.
func (s *Service) refuse(ctx context.Context, j domain.Job, g domain.Group, message string) error {
	j.State, j.Message, j.UpdatedAt = domain.JobRefused, message, s.now()
	return s.Ledger.EndJob(ctx, j, domain.JobPlanning, g.Name, nil)
}

// maxStale bounds the re-reads of a page whose members changed meanwhile.
const maxStale = 3

// apply writes one page, re-reading and recomputing members that changed
// since the plan.
func (s *Service) apply(ctx context.Context, r jobRef, p domain.JobPage) error {
	for attempt := 1; ; attempt++ {
		_, err := s.Pages.ApplyPage(ctx, r.job(), p, conversions(r, p))
		var stale StaleError
		if !errors.As(err, &stale) || attempt > maxStale {
			return err
		}
		fresh, err := s.Access.AccessOf(ctx, r.OrgID, stale.StaleAccounts(), r.Keys)
		if err != nil {
			return err
		}
		// A member who left the group meanwhile gets nothing from it: a
		// role job drops them (a delete job removes them anyway).
		member := map[string]bool{}
		if r.Kind == domain.JobGroupRole {
			if member, err = s.Memberships.Memberships(ctx, r.OrgID, r.GroupID, stale.StaleAccounts()); err != nil {
				return err
			}
		}
		kept := p.Entries[:0:0]
		for _, e := range p.Entries {
			if r.Kind == domain.JobGroupRole && slices.Contains(stale.StaleAccounts(), e.AccountID) && !member[e.AccountID] {
				continue
			}
			kept = append(kept, e)
		}
		p.Entries = kept
		for i, e := range p.Entries {
			if !slices.Contains(stale.StaleAccounts(), e.AccountID) {
				continue
			}
			e.Before, e.After = map[string]domain.Access{}, map[string]domain.Access{}
			for _, k := range r.Keys {
				cur, had := fresh[e.AccountID][k]
				if had {
					e.Before[k] = cur
				}
				if next := recompute(r, k, cur, had); had || !next.Empty() {
					e.After[k] = next
				}
			}
			p.Entries[i] = e
		}
	}
}

// conversions lists the page's members whose Confluence kind changes.
func conversions(r jobRef, p domain.JobPage) []domain.Conversion {
	var out []domain.Conversion
	for _, e := range p.Entries {
		for k, a := range e.After {
			if a.Product != domain.Confluence {
				continue
			}
			from, to := domain.KindOf(e.Before[k].Effective), domain.KindOf(a.Effective)
			if from != to {
				site, _, _ := strings.Cut(k, "/")
				out = append(out, domain.Conversion{AccountID: e.AccountID, Email: e.Email, SiteID: site, From: from, To: to, Why: groups.Why(a, nil)})
			}
		}
	}
	return out
}

// finish closes a job whose pages are all applied or failed; until then it
// asks to be called again later (errNotYet).
func (s *Service) finish(ctx context.Context, r jobRef, groupName string) error {
	j, err := s.Jobs.Job(ctx, r.OrgID, r.ID)
	if err != nil {
		return err
	}
	if j.State == domain.JobPlanning {
		return errNotYet
	}
	if j.State != domain.JobRunning || j.Plan != r.Plan && r.Plan != "" {
		return nil // finished, or a finisher of a plan that never began
	}
	if j.PagesDone+j.PagesFailed < j.Pages {
		return errNotYet
	}
	from := j.State
	j.State, j.UpdatedAt = domain.JobDone, s.now()
	if j.PagesFailed > 0 {
		j.State = domain.JobFailed
		j.Message = fmt.Sprintf("%d of %d pages kept failing and went to the dead-letter queue; their members were not changed.", j.PagesFailed, j.Pages)
	}
	if groupName == "" && j.Kind == domain.JobGroupDelete {
		if g, err := s.Groups.Group(ctx, r.OrgID, r.GroupID); err == nil {
			groupName = g.Name
		}
	}
	err = s.Ledger.EndJob(ctx, j, from, groupName, nil)
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return nil // another finisher did it
	}
	return err
}

var errNotYet = errors.New("fanout: job still has pages in flight")

// Handle runs one jobs-queue message. A returned error makes the queue
// deliver the message again later (and, after its redrive limit, to the
// dead-letter queue).
func (s *Service) Handle(ctx context.Context, msg string) error {
	var e envelope
	if err := json.Unmarshal([]byte(msg), &e); err != nil {
		s.log().ErrorContext(ctx, "jobs queue: message is not a job message; dropped", "err", err)
		return nil
	}
	switch e.Type {
	case "plan":
		j, err := s.Jobs.Job(ctx, e.Job.OrgID, e.Job.ID)
		if err != nil {
			return err
		}
		if j.State != domain.JobPlanning {
			return nil // planned before (a redelivery)
		}
		return s.plan(ctx, j, false)
	case "page":
		if e.Page == nil {
			return nil
		}
		err := s.apply(ctx, e.Job, *e.Page)
		if jobNotRunning(err) {
			return nil // the job ended (failed or finished): the page is dropped
		}
		if err == nil {
			s.pause(ctx)
		}
		return err
	case "finish":
		err := s.finish(ctx, e.Job, "")
		if err == errNotYet {
			next := body(e)
			next.DelaySeconds = s.finishDelay()
			return s.Queue.Send(ctx, next)
		}
		return err
	}
	s.log().ErrorContext(ctx, "jobs queue: unknown message type; dropped", "type", e.Type)
	return nil
}

// jobNotRunning reports the store's refusal of a page of a job that is no
// longer running (domain.ErrJobNotRunning, however wrapped).
func jobNotRunning(err error) bool { return errors.Is(err, domain.ErrJobNotRunning) }

// Dead records a message that reached the dead-letter queue: a page is
// counted as failed in its job (its reservation released); a plan that
// kept failing ends the job as failed.
func (s *Service) Dead(ctx context.Context, msg string) error {
	var e envelope
	if err := json.Unmarshal([]byte(msg), &e); err != nil {
		return nil
	}
	switch e.Type {
	case "page":
		if e.Page == nil {
			return nil
		}
		if err := s.Ledger.FailPage(ctx, e.Job.job(), *e.Page, "kept failing; moved to the dead-letter queue"); err != nil {
			return err
		}
		err := s.finish(ctx, e.Job, "")
		if err == errNotYet {
			return nil // the finisher in the queue closes it
		}
		return err
	case "plan":
		j, err := s.Jobs.Job(ctx, e.Job.OrgID, e.Job.ID)
		if err != nil || j.State != domain.JobPlanning {
			return err
		}
		j.State, j.Message, j.UpdatedAt = domain.JobFailed, "Planning kept failing; no member was changed.", s.now()
		return s.Ledger.EndJob(ctx, j, domain.JobPlanning, "", nil)
	}
	return nil
}
