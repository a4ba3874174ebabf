// Package extusers is the application service of an organisation's
// external users (rules §9): its verified domains (who is external is decided
// when read from them), the paginated, filtered list of external users with
// their product roles, space, billable seat and verification, and the CSV
// export (inline when the directory fits one response, else a job that a
// queue worker writes page by page). It knows nothing of DynamoDB, SQS or
// API Gateway.
package extusers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/domains"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// CallerLoader reads the org and the caller (every route).
type CallerLoader interface {
	LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error)
}

// ClaimLister reads an org's domain claims.
type ClaimLister interface {
	DomainClaims(ctx context.Context, orgID string) ([]domain.DomainClaim, error)
}

// ClaimReader reads one domain claim (nil: none).
type ClaimReader interface {
	DomainClaim(ctx context.Context, orgID, d string) (*domain.DomainClaim, error)
}

// ClaimCreator writes a new domain claim with its audit entry.
type ClaimCreator interface {
	CreateDomainClaim(ctx context.Context, c domain.DomainClaim, audit domain.AuditEntry) error
}

// ClaimDeleter removes a domain (its claim, and the org's verified list) with its audit entry.
type ClaimDeleter interface {
	DeleteDomainClaim(ctx context.Context, org domain.Org, d string, claim *domain.DomainClaim, audit domain.AuditEntry) (domain.Org, error)
}

// ExternalLister reads a page of an org's external users.
type ExternalLister interface {
	ExternalUsers(ctx context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error)
}

// DomainUserLister reads a page of an org's users of one domain.
type DomainUserLister interface {
	DomainUsers(ctx context.Context, org domain.Org, dom, cursor string, limit int) ([]domain.User, string, error)
}

// AccessReader reads the product access of the accounts named.
type AccessReader interface {
	UsersAccess(ctx context.Context, orgID string, accounts []string) (map[string]map[string]domain.Access, error)
}

// AuditRecorder writes an audit entry (the inline export's).
type AuditRecorder interface {
	RecordAudit(ctx context.Context, audit domain.AuditEntry) error
}

// ExportCreator writes a new export job with its audit entry.
type ExportCreator interface {
	CreateExport(ctx context.Context, j domain.ExportJob, audit domain.AuditEntry) error
}

// ExportReader reads an export job.
type ExportReader interface {
	ExportJob(ctx context.Context, orgID, id string, now time.Time) (domain.ExportJob, error)
}

// PageScopeReader reads an export job and its org for the worker's page.
type PageScopeReader interface {
	ExportPageScope(ctx context.Context, orgID, id string, now time.Time) (domain.ExportJob, *domain.Org, error)
}

// PageWriter writes a page's chunks and the job's progress, under the job as read.
type PageWriter interface {
	WriteExportPage(ctx context.Context, before, next domain.ExportJob, chunks []domain.ExportChunk) (bool, error)
}

// ExportFailer marks an export job failed.
type ExportFailer interface {
	FailExport(ctx context.Context, j domain.ExportJob, reason string, at time.Time) error
}

// PartReader reads one downloadable part's chunks.
type PartReader interface {
	ExportPart(ctx context.Context, orgID, id string, part int) ([]string, error)
}

// Ports are the service's persistence, one small interface a use.
type Ports struct {
	Callers       CallerLoader
	ClaimList     ClaimLister
	ClaimReads    ClaimReader
	ClaimCreates  ClaimCreator
	ClaimDeletes  ClaimDeleter
	External      ExternalLister
	ByDomain      DomainUserLister
	Access        AccessReader
	Audits        AuditRecorder
	ExportCreates ExportCreator
	Jobs          ExportReader
	PageScopes    PageScopeReader
	PageWrites    PageWriter
	Failures      ExportFailer
	Parts         PartReader
}

// Store is every port at once (the table's store implements it).
type Store interface {
	CallerLoader
	ClaimLister
	ClaimReader
	ClaimCreator
	ClaimDeleter
	ExternalLister
	DomainUserLister
	AccessReader
	AuditRecorder
	ExportCreator
	ExportReader
	PageScopeReader
	PageWriter
	ExportFailer
	PartReader
}

// PortsOf takes every port from one store.
func PortsOf(st Store) Ports {
	return Ports{Callers: st, ClaimList: st, ClaimReads: st, ClaimCreates: st, ClaimDeletes: st, External: st, ByDomain: st, Access: st, Audits: st, ExportCreates: st, Jobs: st, PageScopes: st, PageWrites: st, Failures: st, Parts: st}
}

// Limits bound the list and the export; the zero value takes the defaults.
type Limits struct {
	// ListReads is the most index reads (of a page's size each) one page
	// of a filtered list makes before it answers short, with a cursor.
	ListReads int
	// Inline is the most external users the export answers in one
	// response; past it, it becomes a job.
	Inline int
	// Page is how many external users a job's page reads (one message).
	Page int
	// ChunkBytes bounds one chunk item's CSV (DynamoDB's item limit is 400 KB).
	ChunkBytes int
	// PartBytes bounds one downloadable part, as JSON-escaped in the
	// Lambda response (its payload limit is 6 MB).
	PartBytes int
	// TTL is how long an export job and its CSV are kept.
	TTL time.Duration
}

// Defaults of Limits.
const (
	DefaultListReads  = 5
	DefaultInline     = 1000
	DefaultPage       = 500
	DefaultChunkBytes = 350 << 10
	DefaultPartBytes  = 4 << 20
	DefaultTTL        = 7 * 24 * time.Hour
	// MaxVerifiedDomains is how many domains (claimed or verified) an org may have (each
	// is one more Query range of the external users' list, and the org item
	// is read by every access decision).
	MaxVerifiedDomains = 100
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ListReads, DefaultListReads)
	def(&l.Inline, DefaultInline)
	def(&l.Page, DefaultPage)
	def(&l.ChunkBytes, DefaultChunkBytes)
	def(&l.PartBytes, DefaultPartBytes)
	if l.TTL <= 0 {
		l.TTL = DefaultTTL
	}
	return l
}

// Service runs the external users' capability.
type Service struct {
	Ports
	// Queue carries an export job's pages to the worker.
	Queue  queue.Sender
	Limits Limits
	// Checker looks up domain challenges (CheckDomain); Checks is the
	// schedule of checks a new claim starts on.
	Checker *domains.Checker
	Checks  domain.DomainChecks
	Now     func() time.Time
	Log     *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// admin reads the org and the caller: ENOTFOUND for an unknown org or a
// caller outside it, EFORBIDDEN for anyone but an active org admin.
func (s *Service) admin(ctx context.Context, c domain.Caller, orgID string) (domain.Org, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Org{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return domain.Org{}, err
	}
	if sc.Org == nil || sc.Caller == nil {
		return domain.Org{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() {
		return domain.Org{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins may manage verified domains and read the external users.")
	}
	return *sc.Org, nil
}

// DomainList is an org's domains: the verified ones (verified or lapsing:
// their users are internal) and every claim with its proof.
type DomainList struct {
	// Verified are the domains whose users are internal (IDNA ASCII, sorted).
	Verified []string
	// Claims are the org's domains with their state and challenge, by
	// domain; a domain verified before proofs were asked has a claim with
	// no token (PUT it again for a challenge).
	Claims []domain.DomainClaim
}

// Domains lists the org's domains: the verified ones and every claim.
func (s *Service) Domains(ctx context.Context, c domain.Caller, orgID string) (DomainList, error) {
	org, err := s.admin(ctx, c, orgID)
	if err != nil {
		return DomainList{}, err
	}
	claims, err := s.ClaimList.DomainClaims(ctx, orgID)
	return listOf(org, claims), err
}

// listOf joins the org's verified domains and its claims.
func listOf(org domain.Org, claims []domain.DomainClaim) DomainList {
	l := DomainList{Verified: sortedDomains(org.VerifiedDomains)}
	have := map[string]bool{}
	for _, cl := range claims {
		have[cl.Domain] = true
		l.Claims = append(l.Claims, cl)
	}
	for _, d := range l.Verified {
		if !have[d] {
			l.Claims = append(l.Claims, domain.DomainClaim{OrgID: org.ID, Domain: d, Status: domain.DomainVerified})
		}
	}
	slices.SortFunc(l.Claims, func(a, b domain.DomainClaim) int { return strings.Compare(a.Domain, b.Domain) })
	return l
}

func sortedDomains(ds []string) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		if n := domain.NormalizeDomain(d); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseDomain normalises a domain named in a path (Unicode or ASCII) to its
// IDNA ASCII form; EINVALID when it is no domain.
func ParseDomain(raw string) (string, error) {
	d := domain.NormalizeDomain(raw)
	if d == "" {
		return "", &domain.Error{Code: domain.EINVALID, Message: "The domain is not valid.",
			Fields: map[string]string{"domain": "a domain name such as example.com (Unicode or ASCII)"}}
	}
	return d, nil
}

// domainWriteAttempts is how often a domain change reads the org again
// after a concurrent change of its settings before answering 409.
const domainWriteAttempts = 3

// AddDomain claims a domain for the org: a new claim is pending, with its
// own challenge to publish as a DNS TXT record (domain.ChallengeName,
// ChallengeValue); its users stay external until a check sees the record
// (CheckDomain, or the scheduled check). Idempotent: a domain claimed
// already answers its claim and writes nothing (created false). A domain
// verified before proofs were asked (no claim) is given a claim, still
// verified, whose record the next scheduled check looks for: published,
// it stays verified; not, it lapses and after the grace period its users
// are external. The claim and its audit entry org.domain.add are one
// transaction, while the caller is an org admin.
func (s *Service) AddDomain(ctx context.Context, c domain.Caller, orgID, raw string) (cl domain.DomainClaim, created bool, err error) {
	d, err := ParseDomain(raw)
	if err != nil {
		return cl, false, err
	}
	for attempt := 1; ; attempt++ {
		org, err := s.admin(ctx, c, orgID)
		if err != nil {
			return cl, false, err
		}
		claims, err := s.ClaimList.DomainClaims(ctx, orgID)
		if err != nil {
			return cl, false, err
		}
		l := listOf(org, claims)
		for _, x := range claims {
			if x.Domain == d {
				return x, false, nil
			}
		}
		if len(l.Claims) >= MaxVerifiedDomains {
			return cl, false, &domain.Error{Code: domain.EINVALID, Message: fmt.Sprintf("An organisation may have at most %d domains.", MaxVerifiedDomains),
				Fields: map[string]string{"domain": "one domain too many"}}
		}
		now := s.now()
		cl = domain.NewDomainClaim(orgID, d, c.AccountID, now, s.Checks)
		if slices.Contains(l.Verified, d) {
			// Verified before proofs were asked: it stays verified until a check misses its record.
			cl.Status, cl.NextCheck = domain.DomainVerified, now.Add(s.Checks.WithDefaults().Verified)
		}
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionDomainAdd, domain.OrgTarget(orgID), c.RequestID, now,
			map[string]any{"verifiedDomains": nonNil(l.Verified)},
			map[string]any{"verifiedDomains": nonNil(l.Verified), "domain": d, "status": string(cl.Status), "record": domain.ChallengeName(d)})
		err = s.ClaimCreates.CreateDomainClaim(ctx, cl, audit)
		if domain.ErrorCode(err) == domain.ECONFLICT && attempt < domainWriteAttempts {
			continue // claimed meanwhile: answer that claim
		}
		if err != nil {
			return domain.DomainClaim{}, false, err
		}
		return cl, true, nil
	}
}

// CheckDomain looks up a claimed domain's challenge now (an admin who has
// just published it need not wait for the schedule) and applies what it
// finds, as the scheduled check would, audited by the caller. ENOTFOUND
// when the domain is not claimed.
func (s *Service) CheckDomain(ctx context.Context, c domain.Caller, orgID, raw string) (domain.DomainClaim, error) {
	d, err := ParseDomain(raw)
	if err != nil {
		return domain.DomainClaim{}, err
	}
	org, err := s.admin(ctx, c, orgID)
	if err != nil {
		return domain.DomainClaim{}, err
	}
	if s.Checker == nil || s.Checker.Lookup == nil {
		return domain.DomainClaim{}, errors.New("extusers: no DNS lookup configured")
	}
	cl, err := s.ClaimReads.DomainClaim(ctx, orgID, d)
	if err != nil {
		return domain.DomainClaim{}, err
	}
	if cl == nil {
		return domain.DomainClaim{}, domain.Errorf(domain.ENOTFOUND, "%s is not claimed by this organisation: PUT it first for its challenge.", d)
	}
	out, err := s.Checker.Check(ctx, org, *cl, c.AccountID, c.RequestID, s.now())
	return out.Claim, err
}

// RemoveDomain removes a domain, claimed or verified (ENOTFOUND when it is
// neither): its users become external at once, and no user is rewritten.
func (s *Service) RemoveDomain(ctx context.Context, c domain.Caller, orgID, raw string) (DomainList, error) {
	d, err := ParseDomain(raw)
	if err != nil {
		return DomainList{}, err
	}
	for attempt := 1; ; attempt++ {
		org, err := s.admin(ctx, c, orgID)
		if err != nil {
			return DomainList{}, err
		}
		claims, err := s.ClaimList.DomainClaims(ctx, orgID)
		if err != nil {
			return DomainList{}, err
		}
		var claim *domain.DomainClaim
		var rest []domain.DomainClaim
		for i := range claims {
			if claims[i].Domain == d {
				claim = &claims[i]
			} else {
				rest = append(rest, claims[i])
			}
		}
		before := sortedDomains(org.VerifiedDomains)
		if claim == nil && !slices.Contains(before, d) {
			return DomainList{}, domain.Errorf(domain.ENOTFOUND, "%s is not a domain of this organisation.", d)
		}
		after := slices.DeleteFunc(slices.Clone(before), func(x string) bool { return x == d })
		status := string(domain.DomainVerified)
		if claim != nil {
			status = string(claim.Status)
		}
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionDomainRemove, domain.OrgTarget(orgID), c.RequestID, s.now(),
			map[string]any{"verifiedDomains": nonNil(before), "domain": d, "status": status}, map[string]any{"verifiedDomains": nonNil(after), "domain": d})
		next, err := s.ClaimDeletes.DeleteDomainClaim(ctx, org, d, claim, audit)
		if domain.ErrorCode(err) == domain.ECONFLICT && attempt < domainWriteAttempts {
			continue
		}
		if err != nil {
			return DomainList{}, err
		}
		return listOf(next, rest), nil
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ProductRole is a user's effective role on one product of one site.
type ProductRole struct {
	Site    string
	Product domain.Product
	Role    domain.Role
}

// SiteSpace is a Confluence guest's one space on a site.
type SiteSpace struct {
	Site  string
	Space string
}

// Entry is one external user as the list and the export show them.
type Entry struct {
	User domain.User
	// Roles are the effective roles other than none, by site then product.
	Roles []ProductRole
	// Spaces are the spaces the user is a Confluence guest of, by site.
	Spaces []SiteSpace
	// Billable: the user holds a paid Confluence seat on some site — an
	// effective Confluence role of user or admin (a guest is free within
	// five per paid user, none holds nothing; Jira is not billed here).
	Billable     bool
	Verification domain.Verification
}

// EntryOf builds an entry from a user and their access items.
func EntryOf(org domain.Org, u domain.User, access map[string]domain.Access, now time.Time) Entry {
	e := Entry{User: u, Verification: org.VerificationOf(u, now)}
	keys := make([]string, 0, len(access))
	for k := range access {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := access[k]
		if a.Effective == "" || a.Effective == domain.RoleNone {
			continue
		}
		site := k[:len(k)-len(a.Product)-1]
		e.Roles = append(e.Roles, ProductRole{Site: site, Product: a.Product, Role: a.Effective})
		if a.Product == domain.Confluence {
			if a.Effective == domain.RoleGuest && a.Space != "" {
				e.Spaces = append(e.Spaces, SiteSpace{Site: site, Space: a.Space})
			}
			if a.Effective == domain.RoleUser || a.Effective == domain.RoleAdmin {
				e.Billable = true
			}
		}
	}
	return e
}

// Query selects a page of the external users.
type Query struct {
	Filter domain.ExternalFilter
	Limit  int
	Cursor string
}

// ParseFilter checks the filters as given (domain in Unicode or ASCII).
func ParseFilter(dom, status, verification string) (domain.ExternalFilter, error) {
	var f domain.ExternalFilter
	fields := map[string]string{}
	if dom != "" {
		if f.Domain = domain.NormalizeDomain(dom); f.Domain == "" {
			fields["domain"] = "a domain name such as example.com"
		}
	}
	switch st := domain.UserStatus(status); st {
	case "", domain.UserInvited, domain.UserActive, domain.UserSuspended:
		f.Status = st
	default:
		fields["status"] = "one of invited, active, suspended"
	}
	switch verification {
	case "", domain.VerificationNotRequired, domain.VerificationVerified, domain.VerificationRequired:
		f.Verification = verification
	default:
		fields["verification"] = "one of not_required, verified, required"
	}
	if len(fields) > 0 {
		return f, &domain.Error{Code: domain.EINVALID, Message: "A filter is not valid.", Fields: fields}
	}
	return f, nil
}

// scan reads up to limit external users of the filter's domain (or all)
// from cursor: the index read, before the status and verification filters.
// A verified domain has no external users: nothing is read.
func (s *Service) scan(ctx context.Context, org domain.Org, f domain.ExternalFilter, cursor string, limit int) ([]domain.User, string, error) {
	if f.Domain == "" {
		return s.External.ExternalUsers(ctx, org, cursor, limit)
	}
	if !org.IsExternal("x@" + f.Domain) {
		return nil, "", nil
	}
	return s.ByDomain.DomainUsers(ctx, org, f.Domain, cursor, limit)
}

// List answers a page of the org's external users (org admins). With a
// status or verification filter the users read are filtered in memory and
// the read goes on, at most Limits.ListReads index reads a page, so a page
// may come back short with a cursor. Each user's access is one Query of
// their partition, AccessConcurrency at once.
func (s *Service) List(ctx context.Context, c domain.Caller, orgID string, q Query) (domain.Page[Entry], error) {
	var out domain.Page[Entry]
	org, err := s.admin(ctx, c, orgID)
	if err != nil {
		return out, err
	}
	lim := s.Limits.withDefaults()
	now := s.now()
	var kept []domain.User
	cursor := q.Cursor
	for range lim.ListReads {
		us, next, err := s.scan(ctx, org, q.Filter, cursor, q.Limit-len(kept))
		if err != nil {
			return out, err
		}
		for _, u := range us {
			if q.Filter.Keeps(org, u, now) {
				kept = append(kept, u)
			}
		}
		out.Next, cursor = next, next
		if next == "" || len(kept) >= q.Limit {
			break
		}
	}
	out.Items, err = s.entries(ctx, org, kept, now)
	return out, err
}

// entries joins users with their access items.
func (s *Service) entries(ctx context.Context, org domain.Org, us []domain.User, now time.Time) ([]Entry, error) {
	if len(us) == 0 {
		return nil, nil
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.AccountID
	}
	access, err := s.Access.UsersAccess(ctx, org.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(us))
	for i, u := range us {
		out[i] = EntryOf(org, u, access[u.AccountID], now)
	}
	return out, nil
}
