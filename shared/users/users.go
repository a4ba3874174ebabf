// Package users is the application service of an account's life in its
// organisation: removing it (rules §6), suspending and restoring it, and revoking
// a pending invitation (rules §4), which releases what the invitee held. It knows
// nothing of DynamoDB or API Gateway.
//
// Rules decided here:
//   - Removal and suspension are org-wide (an account is the org's, not a
//     site's): only active org admins may, never on themselves. The caller
//     is conditioned to still be an active org admin when the change is
//     written, so two admins removing or suspending each other cannot both
//     succeed: the last org admin always stays.
//   - A suspended account keeps its access and its seats (billing counters
//     do not move): restoring it can never be refused by the guest limit,
//     and the access decision denies it with reason "suspended". To free a
//     seat, remove the access or the account.
//   - Only active and suspended accounts move between the two; an invited
//     (pending) account must accept its invitation (or be revoked).
//   - Revoking: org admins and admins of the invitation's site, pending
//     invitations only (409 otherwise).
package users

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The service's ports: one small interface a use, so a test's fake
// implements exactly the methods its path calls. The table's store
// implements them all (Store).

// RecordReader reads an account's record with the caller's scope (every use).
type RecordReader interface {
	LoadUserRecord(ctx context.Context, orgID, callerID, accountID string) (domain.Scope, *domain.UserRecord, error)
}

// InvitationReader reads one invitation of a site (revoking).
type InvitationReader interface {
	InvitationByID(ctx context.Context, orgID, siteID, id string) (domain.Invitation, error)
}

// Remover writes a removal, in as many transactions as it takes, reporting
// how many stood.
type Remover interface {
	RemoveUser(ctx context.Context, r domain.Removal) (int, error)
}

// StatusWriter writes a suspension or a restoration.
type StatusWriter interface {
	SetUserStatus(ctx context.Context, ch domain.StatusChange) error
}

// Revoker writes a revocation and releases what the invitee held.
type Revoker interface {
	RevokeInvitation(ctx context.Context, rv domain.Revocation) error
}

// Store is every port at once: what the table's store gives New.
type Store interface {
	RecordReader
	InvitationReader
	Remover
	StatusWriter
	Revoker
}

// Service runs the users capability.
type Service struct {
	Records     RecordReader
	Invitations InvitationReader
	Removals    Remover
	Statuses    StatusWriter
	Revocations Revoker
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New is the service over one store that implements every port.
func New(st Store, now func() time.Time) *Service {
	return &Service{Records: st, Invitations: st, Removals: st, Statuses: st, Revocations: st, Now: now}
}

// maxAttempts bounds the re-reads when the account changed meanwhile.
const maxAttempts = 4

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Removed is the answer to a removal: who went, what they held, and how
// many transactions it took.
type Removed struct {
	AccountID, Email string
	// Roles are the effective roles the account held, by "<site>/<product>".
	Roles map[string]domain.Role
	// Groups it was a member of; Invitations it had (ids).
	Groups, Invitations []string
	// Released are the seats freed per site (negative numbers: counters go down).
	Released map[string]domain.Seats
	Stages   int
}

func validIDs(orgID, callerID, accountID string) error {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(callerID) {
		return domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !domain.ValidAccountID(accountID) {
		return domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	return nil
}

// load reads an account's record and checks the caller is an active org
// admin acting on someone else.
func (s *Service) load(ctx context.Context, c domain.Caller, orgID, accountID, verb string) (*domain.UserRecord, error) {
	if err := validIDs(orgID, c.AccountID, accountID); err != nil {
		return nil, err
	}
	sc, rec, err := s.Records.LoadUserRecord(ctx, orgID, c.AccountID, accountID)
	switch {
	case err != nil:
		return nil, err
	case sc.Org == nil || sc.Caller == nil:
		return nil, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	case !sc.Caller.IsOrgAdmin():
		return nil, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins may %s accounts: an account belongs to the whole organisation.", verb)
	case rec == nil:
		return nil, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	case accountID == c.AccountID:
		return nil, domain.Errorf(domain.ECONFLICT, "You cannot %s your own account; ask another organisation admin.", verb)
	}
	return rec, nil
}

// before is what the audit log keeps of an account: email, status, roles
// per site and product, groups and a guest's space per site.
func before(rec *domain.UserRecord) map[string]any {
	roles, spaces := map[string]any{}, map[string]any{}
	for k, a := range rec.Access {
		if a.Empty() {
			continue
		}
		roles[k] = string(a.Effective)
		if a.Space != "" {
			spaces[k] = a.Space
		}
	}
	out := map[string]any{"email": rec.User.Email, "status": string(rec.User.Status), "roles": roles, "groups": slices.Clone(rec.Groups)}
	if len(spaces) > 0 {
		out["spaces"] = spaces
	}
	if rec.User.OrgAdmin {
		out["orgAdmin"] = true
	}
	return out
}

// Remove takes an account out of the organisation (rules §6): every access,
// membership and invitation goes, the counters follow, the email can be
// invited again, and the audit log keeps what it held. Refused (409, naming
// the groups) while a group of the account has a job in flight.
func (s *Service) Remove(ctx context.Context, c domain.Caller, orgID, accountID string) (Removed, error) {
	res := Removed{AccountID: accountID}
	written := 0 // transactions of earlier attempts (stages that stood)
	for attempt := 1; ; attempt++ {
		rec, err := s.load(ctx, c, orgID, accountID, "remove")
		if err != nil {
			return res, err
		}
		if err := busyError("The user", rec.Busy()); err != nil {
			return res, err
		}
		res = Removed{AccountID: accountID, Email: rec.User.Email, Roles: map[string]domain.Role{}, Groups: slices.Clone(rec.Groups), Released: rec.Seats()}
		for k, a := range rec.Access {
			if !a.Empty() {
				res.Roles[k] = a.Effective
			}
		}
		for _, inv := range rec.Invitations {
			res.Invitations = append(res.Invitations, inv.ID)
		}
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionUserRemove, domain.UserTarget(accountID), c.RequestID, s.now(), before(rec), nil)
		n, err := s.Removals.RemoveUser(ctx, domain.Removal{Record: *rec, CallerID: c.AccountID, Audit: audit})
		written += n
		res.Stages = written
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		return res, err
	}
}

// SetStatus suspends an active account or restores a suspended one. Access
// and seats stay; the access decision denies a suspended account.
func (s *Service) SetStatus(ctx context.Context, c domain.Caller, orgID, accountID, status string) (domain.User, error) {
	to := domain.UserStatus(status)
	if to != domain.UserActive && to != domain.UserSuspended {
		return domain.User{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"status": "must be active or suspended"}}
	}
	verb := map[domain.UserStatus]string{domain.UserActive: "restore", domain.UserSuspended: "suspend"}[to]
	for attempt := 1; ; attempt++ {
		rec, err := s.load(ctx, c, orgID, accountID, verb)
		if err != nil {
			return domain.User{}, err
		}
		u := rec.User
		switch {
		case u.Status == domain.UserInvited:
			return u, domain.Errorf(domain.ECONFLICT, "%s has not accepted their invitation yet: only they can activate the account (or revoke the invitation).", u.Email)
		case u.Status == to:
			return u, nil // already so: nothing to change, nothing logged
		}
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionUserStatus, domain.UserTarget(accountID), c.RequestID, s.now(),
			map[string]any{"status": string(u.Status)}, map[string]any{"status": string(to)})
		err = s.Statuses.SetUserStatus(ctx, domain.StatusChange{User: u, From: u.Status, To: to, CallerID: c.AccountID, Audit: audit})
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return u, err
		}
		u.Status = to
		return u, nil
	}
}

// Revoked is the answer to a revocation: the invitation as it is now and
// the seats released per site.
type Revoked struct {
	Invitation domain.Invitation
	Released   map[string]domain.Seats
	Groups     []string
}

// Revoke revokes a pending invitation of a site (rules §4): its link stops
// working at once, and what the invitee held (access, counted seats,
// memberships, the invited account and its email guard) is released in the
// same transaction; the invitation stays, revoked, as the record. Org
// admins and admins of the site may. An accepted, revoked or expired
// invitation is a 409 and nothing changes.
func (s *Service) Revoke(ctx context.Context, c domain.Caller, orgID, siteID, invitationID string) (Revoked, error) {
	var res Revoked
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if !domain.ValidAccountID(invitationID) {
		return res, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
	}
	for attempt := 1; ; attempt++ {
		inv, err := s.Invitations.InvitationByID(ctx, orgID, siteID, invitationID)
		if err != nil && domain.ErrorCode(err) != domain.ENOTFOUND {
			return res, err
		}
		found := err == nil
		acct := inv.AccountID
		if !found {
			acct = c.AccountID // read the caller anyway: a stranger learns nothing
		}
		sc, rec, err := s.Records.LoadUserRecord(ctx, orgID, c.AccountID, acct)
		switch {
		case err != nil:
			return res, err
		case sc.Org == nil || sc.Caller == nil:
			return res, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
		case !sc.Caller.IsSiteAdmin(siteID):
			return res, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins and admins of this site may revoke its invitations.")
		case !found:
			return res, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
		}
		res.Invitation = inv
		now := s.now()
		switch {
		case inv.Status == domain.InvitationPending && inv.Expired(now):
			return res, domain.Errorf(domain.ECONFLICT, "This invitation has expired; only a pending invitation can be revoked.")
		case inv.Status != domain.InvitationPending:
			return res, domain.Errorf(domain.ECONFLICT, "This invitation is %s; only a pending invitation can be revoked.", inv.Status)
		case rec == nil || rec.User.Status != domain.UserInvited:
			return res, domain.Errorf(domain.ECONFLICT, "The invited account is no longer pending.")
		}
		if err := busyError("The invitee", rec.Busy()); err != nil {
			return res, err
		}
		if !sc.Caller.IsOrgAdmin() {
			if what := beyondInvitation(rec, inv); what != "" {
				return res, domain.Errorf(domain.EFORBIDDEN, "The invitee also holds %s, which this invitation did not give; only an organisation admin may revoke it (revoking removes the invited account).", what)
			}
		}
		res.Released, res.Groups = rec.Seats(), slices.Clone(rec.Groups)
		b := before(rec)
		b["invitation"] = string(inv.Status)
		audit := domain.NewAudit(orgID, c.AccountID, domain.ActionInvitationRevoke, domain.InvitationTarget(inv.ID), c.RequestID, now,
			b, map[string]any{"invitation": string(domain.InvitationRevoked), "account": inv.AccountID})
		err = s.Revocations.RevokeInvitation(ctx, domain.Revocation{Invitation: inv, Record: *rec, Audit: audit})
		if err == domain.ErrAccessChanged && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return res, err
		}
		res.Invitation.Status = domain.InvitationRevoked
		res.Invitation.Version++
		return res, nil
	}
}

// beyondInvitation names what a pending invitee holds that their invitation
// did not give: access on another site (given by another site's admin while
// the invitation was pending) or a membership of a group it did not name.
// Revoking removes the invited account with all it holds, so a site admin
// may revoke only when everything it holds came with the invitation.
func beyondInvitation(rec *domain.UserRecord, inv domain.Invitation) string {
	keys := make([]string, 0, len(rec.Access))
	for k := range rec.Access {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if site, _, _ := strings.Cut(k, "/"); site != inv.SiteID && !rec.Access[k].Empty() {
			return "access on site " + site
		}
	}
	for _, g := range rec.Groups {
		if !slices.Contains(inv.Groups, g) {
			return "a membership of group " + g
		}
	}
	return ""
}

// busyError is the conflict of a change refused while groups the account is
// in have a job in flight: it names them all (nil when there are none).
func busyError(who string, busy []domain.GroupState) error {
	if len(busy) == 0 {
		return nil
	}
	ids, names := make([]string, 0, len(busy)), make([]string, 0, len(busy))
	for _, g := range busy {
		ids, names = append(ids, g.ID), append(names, g.Name)
	}
	return &domain.Error{Code: domain.ECONFLICT, Message: who + " is in " + domain.Named("group", "groups", names) +
		" with a job in flight; retry when it has finished.", Extra: map[string]any{"groups": ids}}
}
