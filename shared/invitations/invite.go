package invitations

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/metrics"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// InviteStore is what inviting needs from persistence: one read of all the
// request names, one write of all its invitations (each its own email's
// outbox entry).
type InviteStore interface {
	// LoadInvite reads the org, site, caller, named groups and the email
	// guards of the addresses at once.
	LoadInvite(ctx context.Context, orgID, siteID, callerID string, groups, emails []string) (InviteScope, error)
	// CreateInvitations writes the batch with the site's counters (all or
	// nothing when whole) and reports the invitees a condition refused.
	CreateInvitations(ctx context.Context, siteID string, batch []domain.NewInvitation, whole bool) (CreateResult, error)
}

// Inviter invites people to a site and queues each one's email with a
// personal link.
type Inviter struct {
	Store InviteStore
	// Emails is the email queue: the invitations written are handed to it
	// after the commit (emails).
	Emails queue.Sender
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
}

// Caller is who makes a request, from the verified token.
type Caller = domain.Caller

// AddressResult is what happened to one address.
type AddressResult struct {
	Email  string
	Status domain.Outcome
	Reason string
	// AccountID is the new account (invited) or the existing one.
	AccountID string
	// InvitationID is the new invitation, or the pending one (already_invited).
	InvitationID string
	// ExpiresAt is when the invitation's link expires.
	ExpiresAt     time.Time
	Kind          domain.Kind
	EmailDelivery domain.DeliveryStatus
}

// Summary counts the outcomes of a request. EmailsSent and EmailsFailed
// stay 0 since emails are queued (EmailsQueued): the email sender records
// each outcome on its invitation (lists show it).
type Summary struct {
	Invited, AlreadyMember, AlreadyInvited, Invalid, GuestLimit, UserLimit, EmailsSent, EmailsFailed int
	// EmailsQueued counts the emails handed to the email queue.
	EmailsQueued int
}

// Result is the answer to an invite request.
type Result struct {
	Results []AddressResult
	Summary Summary
	// Kind is what the invitees become on Confluence: guest, paid or none.
	Kind     domain.Kind
	Warnings []string
	Billing  domain.Billing
}

// Invite invites the request's addresses to a site. A structural error, an
// unknown org or site, or a caller without the power returns an error and
// changes nothing. Otherwise each address gets its own outcome (rules §3), even
// when none is valid (then nothing is written or sent); with
// AllOrNothing, one refused address refuses them all (EREFUSED, ELIMIT or EUSERLIMIT, with
// the per-address results in the error's Extra).
//
// DynamoDB round trips, one after the other: one read of everything the
// request names and one transaction for every invitee; then the emails'
// jobs go to the email queue (one SendMessageBatch per 10), whose sender
// sends them within the account's send rate. The answer says each email
// is pending.
func (s *Inviter) Invite(ctx context.Context, c Caller, orgID, siteID string, in domain.InviteInput) (Result, error) {
	inv, err := domain.ValidateInvite(in)
	if err != nil {
		return Result{}, err
	}
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return Result{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	var emails []string
	for _, i := range inv.Pending() {
		emails = append(emails, inv.Invitees[i].Email)
	}
	sc, err := s.Store.LoadInvite(ctx, orgID, siteID, c.AccountID, inv.Groups, emails)
	if err != nil {
		return Result{}, err
	}
	// Someone outside the org learns nothing about it: same answer as no org.
	if sc.Org == nil || sc.Caller == nil {
		return Result{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if sc.Site == nil {
		return Result{}, domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	}
	if !sc.Caller.CanInvite(siteID) {
		return Result{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins and admins of this site may invite people.")
	}
	var groups []domain.Group
	var missing []string
	for _, name := range inv.Groups {
		if g, ok := sc.Groups[name]; ok {
			groups = append(groups, g)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		// As an unknown site: a group the organisation does not have is a 404.
		return Result{}, &domain.Error{Code: domain.ENOTFOUND, Message: "Some groups do not exist in this organisation.",
			Fields: map[string]string{"groups": fmt.Sprintf("unknown: %v", missing)}}
	}
	grant := PlanGrant(siteID, inv.Roles, groups)
	now := clock(s.Now)
	for _, i := range inv.Pending() {
		if e, ok := sc.Accounts[inv.Invitees[i].Email]; ok {
			inv.Invitees[i].MarkExisting(e, now)
		}
	}

	pending := inv.Pending()
	if inv.AllOrNothing && len(pending) != len(inv.Invitees) {
		return Result{}, refuse(inv, domain.Errorf(domain.EREFUSED, "Nothing was invited: the request asks for all or nothing and some addresses cannot be invited."))
	}
	if len(pending) == 0 {
		// No address to invite (each is invalid, repeated, a member or
		// invited already): each says so, and nothing is written or sent.
		res := Result{Kind: grant.Kind, Warnings: grant.Warnings(), Billing: sc.Site.Billing()}
		res.Results, res.Summary = results(inv, nil), summary(inv, nil)
		return res, nil
	}
	batch := make([]domain.NewInvitation, len(pending))
	tokens := make([]string, len(pending))
	for k, i := range pending {
		batch[k], tokens[k] = newInvitation(c, sc.Scope, inv, grant, groups, inv.Invitees[i].Email, now, s.Config.Lifetime)
	}
	created, err := s.Store.CreateInvitations(ctx, siteID, batch, inv.AllOrNothing)
	if err != nil {
		return Result{}, err
	}
	site := *sc.Site
	if created.Site != nil {
		site = *created.Site
	}
	refused := map[int]InviteRefused{}
	for _, r := range created.Refused {
		refused[r.Index] = r
	}
	if inv.AllOrNothing && len(refused) > 0 {
		for k, i := range pending {
			if r, ok := refused[k]; ok && r.Existing != nil {
				inv.Invitees[i].MarkExisting(*r.Existing, now)
			} else if ok {
				inv.Invitees[i].Outcome = r.Outcome
			}
		}
		for _, r := range created.Refused {
			if r.Outcome == domain.OutcomeGuestLimit {
				s.Metrics.Count(map[string]int{metrics.GuestLimitRefusals: len(pending)})
				return Result{}, refuse(inv, domain.GuestLimitError(site, int64(len(pending))))
			}
			if r.Outcome == domain.OutcomeUserLimit {
				return Result{}, refuse(inv, domain.UserLimitError(site, int64(len(pending))))
			}
		}
		return Result{}, refuse(inv, domain.Errorf(domain.EREFUSED, "Nothing was invited: an address already has an account (it was created meanwhile)."))
	}
	var sent []domain.Invitation
	var where []int // invitee of each sent invitation
	var added domain.Seats
	for k, i := range pending {
		r, no := refused[k]
		switch {
		case !no:
			inv.Invitees[i].Outcome = domain.OutcomeInvited
			sent, where = append(sent, batch[k].Invitation), append(where, i)
			added = added.Plus(batch[k].Seats())
		case r.Outcome == domain.OutcomeGuestLimit:
			inv.Invitees[i].Outcome, inv.Invitees[i].Reason = domain.OutcomeGuestLimit, domain.GuestLimitError(site, 1).Message
		case r.Outcome == domain.OutcomeUserLimit:
			inv.Invitees[i].Outcome, inv.Invitees[i].Reason = r.Outcome, domain.UserLimitError(site, 1).Message
		case r.Existing != nil:
			inv.Invitees[i].MarkExisting(*r.Existing, now)
		default:
			inv.Invitees[i].Outcome, inv.Invitees[i].Reason = r.Outcome, "already has an account in this organisation"
		}
	}

	queued := handOff(ctx, s.Emails, logger(s.Log), sent)
	byInvitee := map[int]domain.Invitation{}
	for k, inv := range sent {
		byInvitee[where[k]] = inv
	}
	res := Result{Kind: grant.Kind, Warnings: grant.Warnings(), Billing: site.With(added).Billing()}
	res.Results, res.Summary = results(inv, byInvitee), summary(inv, byInvitee)
	res.Summary.EmailsQueued = queued
	s.Metrics.Count(map[string]int{metrics.InvitesSent: res.Summary.Invited, metrics.GuestLimitRefusals: res.Summary.GuestLimit})
	return res, nil
}

// refuse answers an all-or-nothing request that wrote nothing.
func refuse(inv domain.Invite, e *domain.Error) *domain.Error {
	for i := range inv.Invitees {
		if inv.Invitees[i].Outcome == "" {
			inv.Invitees[i].Outcome = domain.OutcomeNotInvited
		}
	}
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra["results"] = results(inv, nil)
	return e
}

// results lists each address's outcome; invited ones carry their new
// invitation (from written, by invitee index).
func results(inv domain.Invite, written map[int]domain.Invitation) []AddressResult {
	out := make([]AddressResult, 0, len(inv.Invitees))
	for i, x := range inv.Invitees {
		r := AddressResult{Email: x.Email, Status: x.Outcome, Reason: x.Reason}
		if r.Email == "" {
			r.Email = x.Input
		}
		if e := x.Existing; e != nil {
			r.AccountID = e.AccountID
			if x.Outcome == domain.OutcomeAlreadyInvited {
				r.InvitationID, r.ExpiresAt = e.InvitationID, e.ExpiresAt
			}
		}
		if n, ok := written[i]; ok && x.Outcome == domain.OutcomeInvited {
			r.AccountID, r.InvitationID, r.ExpiresAt, r.Kind, r.EmailDelivery = n.AccountID, n.ID, n.ExpiresAt, n.Kind, n.Delivery
			switch n.Delivery {
			case domain.DeliveryFailed:
				r.Reason = "the invitation is saved but its email could not be sent; it will be retried"
			case domain.DeliveryBounced, domain.DeliveryComplained:
				r.Reason = "the invitation is saved but not emailed: this address " + string(n.Delivery) + " before; an organisation admin must clear it first"
			}
		}
		out = append(out, r)
	}
	return out
}

func summary(inv domain.Invite, written map[int]domain.Invitation) Summary {
	var sum Summary
	for i, x := range inv.Invitees {
		switch x.Outcome {
		case domain.OutcomeInvited:
			sum.Invited++
			switch written[i].Delivery {
			case domain.DeliverySent:
				sum.EmailsSent++
			case domain.DeliveryFailed:
				sum.EmailsFailed++
			}
		case domain.OutcomeAlreadyMember:
			sum.AlreadyMember++
		case domain.OutcomeAlreadyInvited:
			sum.AlreadyInvited++
		case domain.OutcomeInvalid, domain.OutcomeDuplicate:
			sum.Invalid++
		case domain.OutcomeGuestLimit:
			sum.GuestLimit++
		case domain.OutcomeUserLimit:
			sum.UserLimit++
		}
	}
	return sum
}

// newInvitation builds what one invitee's invitation writes, and its token.
func newInvitation(c Caller, sc domain.Scope, inv domain.Invite, g Grant, groups []domain.Group, addr string, now time.Time, lifetime time.Duration) (domain.NewInvitation, string) {
	org, site, inviter := *sc.Org, *sc.Site, *sc.Caller
	token, hash := domain.NewToken()
	u := domain.User{OrgID: org.ID, AccountID: domain.NewID(), Email: addr, Status: domain.UserInvited,
		External: domain.IsExternal(addr, org.VerifiedDomains), CreatedAt: now, InvitedBy: inviter.AccountID}
	var access []domain.Access
	for _, p := range domain.Products {
		if _, ok := g.Effective[p]; ok {
			a := domain.Access{Product: p}.WithDirect(g.Direct[p])
			// The groups are sources of the role too, so their later role
			// changes reach the invitee.
			for _, gr := range groups {
				a = a.WithGroup(gr.ID, gr.RoleOn(site.ID, p))
			}
			access = append(access, a)
		}
	}
	name := inviter.DisplayName
	if name == "" {
		name = inviter.Email
	}
	if lifetime <= 0 {
		lifetime = 7 * 24 * time.Hour
	}
	invitation := domain.Invitation{OrgID: org.ID, ID: domain.NewID(), SiteID: site.ID, AccountID: u.AccountID, Email: addr,
		InvitedBy: inviter.AccountID, InviterName: name, OrgName: org.Name, SiteName: site.Name, SiteHost: site.Host,
		Roles: inv.Roles, EffectiveRoles: g.Effective, Groups: inv.Groups, Kind: g.Kind, Message: inv.Message, TokenHash: hash,
		Status: domain.InvitationPending, Delivery: domain.DeliveryPending, CreatedAt: now, ExpiresAt: now.Add(lifetime), RequestID: c.RequestID}
	roles := map[string]any{}
	for p, r := range g.Effective {
		roles[string(p)] = string(r)
	}
	audit := domain.NewAudit(org.ID, c.AccountID, domain.ActionInvitationCreate, domain.UserTarget(u.AccountID), c.RequestID, now, nil,
		map[string]any{"email": addr, "site": site.ID, "roles": roles, "groups": inv.Groups, "kind": string(g.Kind), "invitationId": invitation.ID})
	return domain.NewInvitation{User: u, Access: access, Groups: inv.Groups, Invitation: invitation, Audit: audit}, token
}
