package domain

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Proof of a domain's ownership (rules §9, issue 16 item 4): an org admin claims a
// domain, the claim stays pending (its users external) until a DNS TXT
// record carrying the claim's challenge is seen at ChallengeName, and a
// scheduled check keeps looking. A verified domain whose record is gone is
// lapsing (still verified) for a grace period, then unverified (its users
// external again). Org.VerifiedDomains lists exactly the claims that are
// verified or lapsing: the access decision and the lists read only it.

// DomainStatus is where a domain claim stands.
type DomainStatus string

// Domain claim states.
const (
	// DomainPending: claimed, its challenge not seen yet; its users are external.
	DomainPending DomainStatus = "pending"
	// DomainVerified: its challenge was seen at the last check.
	DomainVerified DomainStatus = "verified"
	// DomainLapsing: verified, but its challenge was not seen since
	// LapsingSince; it stays verified until the grace period ends.
	DomainLapsing DomainStatus = "lapsing"
	// DomainUnverified: it lapsed (the grace period ended without the
	// record); its users are external, and the record seen again verifies it.
	DomainUnverified DomainStatus = "unverified"
)

// Audit actions of domain checks (adding and removing: ActionDomainAdd,
// ActionDomainRemove).
const (
	ActionDomainVerify   = "org.domain.verify"
	ActionDomainLapse    = "org.domain.lapse"
	ActionDomainRestore  = "org.domain.restore"
	ActionDomainUnverify = "org.domain.unverify"
)

// ChallengePrefix is the label under which a domain's challenge is published.
const ChallengePrefix = "_guestaccess-challenge."

// ChallengeValuePrefix starts the TXT record's value.
const ChallengeValuePrefix = "guestaccess-verification="

// ChallengeName is the DNS name of a domain's (IDNA ASCII) challenge record.
func ChallengeName(domain string) string { return ChallengePrefix + domain }

// NewChallengeToken is a new unguessable challenge token (160 random bits,
// lower-case base32): each claim has its own, kept with it, so a claim
// answers the same token until it is removed, and another org's (or
// another domain's) record proves nothing here.
func NewChallengeToken() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// DomainClaim is an org's claim of an email domain and its proof.
type DomainClaim struct {
	OrgID string
	// Domain is IDNA ASCII, lower case.
	Domain string
	Status DomainStatus
	// Token is the challenge the TXT record must carry.
	Token     string
	CreatedAt time.Time
	CreatedBy string
	// CheckedAt is the last DNS check (zero: never).
	CheckedAt time.Time
	// VerifiedAt is when the challenge was first seen in the current
	// verification (zero while pending or unverified).
	VerifiedAt time.Time
	// LapsingSince is the first check that missed the record (lapsing only).
	LapsingSince time.Time
	// NextCheck is when the scheduled check is due.
	NextCheck time.Time
	// Version counts the claim's writes (each is conditioned on it).
	Version int
}

// ChallengeValue is the TXT record's value that proves the claim.
func (c DomainClaim) ChallengeValue() string { return ChallengeValuePrefix + c.Token }

// Counts reports whether the claim makes its domain's users internal.
func (c DomainClaim) Counts() bool { return c.Status == DomainVerified || c.Status == DomainLapsing }

// DomainChecks are the schedule of domain checks; zero fields take the defaults.
type DomainChecks struct {
	// Verified is how often a verified domain is checked again.
	Verified time.Duration
	// Pending is how often a new pending domain (see PendingHourlyFor) and a
	// lapsing one are checked.
	Pending time.Duration
	// Grace is how long a verified domain's record may be missing before
	// the domain is unverified.
	Grace time.Duration
}

// Defaults of DomainChecks.
const (
	DefaultDomainRecheck = 24 * time.Hour
	DefaultPendingCheck  = time.Hour
	DefaultDomainGrace   = 72 * time.Hour
)

// PendingHourlyFor is how long a new claim is checked at the Pending
// interval; after it, and once unverified, a claim is checked at the
// Verified interval (an unpublished claim costs a lookup a day).
const PendingHourlyFor = 7 * 24 * time.Hour

// WithDefaults fills the zero fields.
func (p DomainChecks) WithDefaults() DomainChecks {
	if p.Verified <= 0 {
		p.Verified = DefaultDomainRecheck
	}
	if p.Pending <= 0 {
		p.Pending = DefaultPendingCheck
	}
	if p.Grace <= 0 {
		p.Grace = DefaultDomainGrace
	}
	return p
}

// NewDomainClaim is a pending claim, due for its first check after the
// pending interval (an admin asks for one sooner once the record is published).
func NewDomainClaim(orgID, domain, by string, now time.Time, p DomainChecks) DomainClaim {
	p = p.WithDefaults()
	return DomainClaim{OrgID: orgID, Domain: domain, Status: DomainPending, Token: NewChallengeToken(), CreatedAt: now, CreatedBy: by,
		NextCheck: now.Add(p.Pending)}
}

// Checked is the claim after a check at now that saw the challenge (seen)
// or not, and the audit action the change needs ("" for none: only the
// check's time moved). A failed lookup counts as not seen: only a record
// missing for the whole grace period unverifies a domain, so an outage of
// DNS shorter than it changes nothing but the state shown.
func (c DomainClaim) Checked(seen bool, now time.Time, p DomainChecks) (DomainClaim, string) {
	p = p.WithDefaults()
	n := c
	n.CheckedAt = now
	action := ""
	switch {
	case seen && c.Counts():
		if c.Status == DomainLapsing {
			action = ActionDomainRestore
		}
		n.Status, n.LapsingSince, n.NextCheck = DomainVerified, time.Time{}, now.Add(p.Verified)
	case seen:
		action = ActionDomainVerify
		n.Status, n.VerifiedAt, n.LapsingSince, n.NextCheck = DomainVerified, now, time.Time{}, now.Add(p.Verified)
	case c.Status == DomainVerified:
		action = ActionDomainLapse
		n.Status, n.LapsingSince = DomainLapsing, now
		n.NextCheck = minTime(now.Add(p.Pending), now.Add(p.Grace))
	case c.Status == DomainLapsing && !now.Before(c.LapsingSince.Add(p.Grace)):
		action = ActionDomainUnverify
		n.Status, n.VerifiedAt, n.LapsingSince, n.NextCheck = DomainUnverified, time.Time{}, time.Time{}, now.Add(p.Verified)
	case c.Status == DomainLapsing:
		n.NextCheck = minTime(now.Add(p.Pending), c.LapsingSince.Add(p.Grace))
	case c.Status == DomainPending && now.Sub(c.CreatedAt) < PendingHourlyFor:
		n.NextCheck = now.Add(p.Pending)
	default:
		// Unverified, or pending for long: looked at daily (an admin who
		// publishes the record asks for a check now).
		n.NextCheck = now.Add(p.Verified)
	}
	return n, action
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// HasChallenge reports whether TXT records (each record's strings joined)
// carry the claim's challenge exactly.
func (c DomainClaim) HasChallenge(records []string) bool {
	want := c.ChallengeValue()
	for _, r := range records {
		if strings.TrimSpace(r) == want {
			return true
		}
	}
	return false
}
