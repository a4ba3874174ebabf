package domain

import "time"

// Audit actions of the external users' directory (rules §9).
const (
	// ActionDomainAdd and ActionDomainRemove change the org's verified
	// domains (target OrgTarget, before/after the domain list).
	ActionDomainAdd    = "org.domain.add"
	ActionDomainRemove = "org.domain.remove"
	// ActionExternalUsersExport records who exported the external users'
	// directory (inline or as a job): a read, audited because a security
	// admin wants to know who took the list.
	ActionExternalUsersExport = "external-users.export"
)

// ExternalFilter selects external users in the list and the export; an
// empty field selects all.
type ExternalFilter struct {
	// Domain keeps the users of one email domain (IDNA ASCII).
	Domain string
	// Status keeps one account status (invited, active, suspended).
	Status UserStatus
	// Verification keeps one verification state (VerificationNotRequired,
	// VerificationVerified, VerificationRequired) as VerificationOf says now.
	Verification string
}

// Keeps reports whether a user passes the status and verification filters
// (the domain is chosen by the read).
func (f ExternalFilter) Keeps(o Org, u User, now time.Time) bool {
	if f.Status != "" && u.Status != f.Status {
		return false
	}
	return f.Verification == "" || o.VerificationOf(u, now).State == f.Verification
}

// ExportStatus is where an export job stands.
type ExportStatus string

// Export job states.
const (
	ExportRunning ExportStatus = "running"
	ExportDone    ExportStatus = "done"
	ExportFailed  ExportStatus = "failed"
)

// ExportJob is an export of the external users too large for one response:
// a worker writes it page by page as CSV chunks the admin downloads later.
type ExportJob struct {
	OrgID     string
	ID        string
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is when the job and its chunks go (TTL).
	ExpiresAt time.Time
	Status    ExportStatus
	Filter    ExternalFilter
	// Pages is how many pages of users are written; Rows how many users.
	Pages int
	Rows  int
	// Parts is how many downloadable parts the CSV has so far (each within
	// the response size limit); PartBytes the escaped size of the last.
	Parts     int
	PartBytes int
	// Cursor is where the next page reads on ("" once done).
	Cursor string
	// Error says why a failed job failed.
	Error string
	// UpdatedAt is the last write of a page or of the status.
	UpdatedAt time.Time
}

// ExportChunk is one piece of an export's CSV, written with its page: at
// most a few hundred KB of whole rows, in one part of the download.
type ExportChunk struct {
	Part  int
	Page  int
	Index int
	Data  string
}
