package domain

import "time"

// JobKind is what a fan-out job does to every member of a group.
type JobKind string

// Job kinds.
const (
	// JobGroupRole materialises a group's new role on one site's product in
	// every member's access.
	JobGroupRole JobKind = "group-role"
	// JobGroupDelete takes every member out of a group, then deletes it.
	JobGroupDelete JobKind = "group-delete"
)

// JobState is where a job is.
type JobState string

// Job states.
const (
	JobPlanning JobState = "planning" // reading the members, before any change
	JobRunning  JobState = "running"  // slots reserved, pages being applied
	JobDone     JobState = "done"     // every page applied
	JobRefused  JobState = "refused"  // refused whole before any member changed (guest limit)
	JobFailed   JobState = "failed"   // some pages kept failing and went to the dead-letter queue
)

// Finished reports a final state.
func (s JobState) Finished() bool { return s == JobDone || s == JobRefused || s == JobFailed }

// Job is one fan-out of a group change to its members, run page by page
// through a queue, its progress kept in the table.
type Job struct {
	OrgID   string
	ID      string
	GroupID string
	Kind    JobKind
	// Site, Product and Role are the group role being set (JobGroupRole).
	Site    string
	Product Product
	Role    Role
	State   JobState
	// Members is how many members the plan read; Changed how many of them
	// the job changes; Done how many of those are written.
	Members, Changed, Done int
	// Pages of changes, applied and failed (dead-lettered).
	Pages, PagesDone, PagesFailed int
	// Reserved is the guest slots reserved per site before any change.
	Reserved map[string]int64
	// ReservedUsers is the user slots (paid users plus guests) reserved per
	// site before any change.
	ReservedUsers map[string]int64
	// Conversions lists members whose Confluence kind changed, with why
	// (read from the applied pages).
	Conversions []Conversion
	// Message explains a refusal or a failure.
	Message string
	// Plan identifies the plan whose pages are queued: a page of another
	// plan (an earlier attempt that never began) changes nothing.
	Plan      string
	CreatedBy string
	RequestID string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
	// Audit is the entry the job's beginning writes in its transaction (the
	// group's role set, or its delete begun); it is not kept in the job.
	Audit *AuditEntry
}

// JobEntry is one member's planned change in a page: their access items
// (by SiteProductKey) as read and as they become, and for a group delete
// the membership to remove.
type JobEntry struct {
	AccountID, Email string
	Before, After    map[string]Access
}

// JobPage is one page of a job's changes, the unit of work of one queue
// message: at most a transaction's worth of items.
type JobPage struct {
	OrgID, JobID string
	Index        int
	Entries      []JobEntry
	// Reserved is the share of the job's reserved slots, per site, this
	// page consumes.
	Reserved map[string]int64
	// ReservedUsers is the share of the job's reserved user slots, per
	// site, this page consumes.
	ReservedUsers map[string]int64
}

// ErrJobNotRunning is the refusal of a page of a job that is no longer
// running (finished, or failed) or runs another plan: the page is dropped.
// Compare with errors.Is.
var ErrJobNotRunning = Errorf(ECONFLICT, "The job is not running.")
