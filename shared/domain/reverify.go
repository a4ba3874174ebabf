package domain

import "time"

// ActionVerificationLapse is the audit action of the re-verification job
// marking an external user whose verification lapsed (and emailing them).
const ActionVerificationLapse = "user.verification.lapse"

// DueVerification is one entry of the re-verification due index (A18) as
// the scheduled job reads it: a profile whose verification is due, or an
// org's rescan request (A18b).
type DueVerification struct {
	// Entry is the entry's index sort key as read: the job's writes are
	// conditioned on it, so two runs cannot both act on one entry.
	Entry string
	// User is set for a profile's entry.
	User *User
	// Scan is set for an org's rescan request.
	Scan *VerifyScan
}

// VerifyScan asks the re-verification job to move an org's due entries to
// the due times of its current verification settings, after a change of
// them. There is at most one per org: a newer request replaces it.
type VerifyScan struct {
	OrgID string
	// RequestedAt tells requests apart: the job's writes to the scan are
	// conditioned on it, so a newer request restarts the scan.
	RequestedAt   time.Time
	PolicyVersion int
	// Cursor is where the scan has got to in the org's external users
	// (store.ExternalUsers' cursor); "" before the first page.
	Cursor string
}
