// Package invites is the application service behind inviting people to a site
// and accepting an invitation: it applies the domain rules, writes through a
// domain.InviteStore and sends mail through a Sender. It knows nothing of
// DynamoDB, SES or API Gateway.
package invites

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/email"
	"github.com/guestaccess/guestaccess/shared/metrics"
)

// Sender sends one rendered email and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, msg email.Message) (string, error)
}

// Config is the deployment's settings for invitations.
type Config struct {
	// AcceptURL is the absolute URL of the accept page; the token is added as ?token=.
	AcceptURL string
	// Lifetime is how long an invitation link stays valid.
	Lifetime time.Duration
	// RetryAfter is when an undelivered email is due again.
	RetryAfter time.Duration
}

// Service runs the invite and accept flows.
type Service struct {
	Store  domain.InviteStore
	Mailer Sender
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics receives EMF counts (nil: none).
	Metrics *metrics.Recorder
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

// Caller is who makes a request, from the verified token.
type Caller struct {
	AccountID string
	RequestID string
	// IdempotencyKey, when set, makes a retried request replay the first
	// one's result instead of inviting (and emailing) again.
	IdempotencyKey string
}

// AddressResult is what happened to one address.
type AddressResult struct {
	Email         string         `json:"email"`
	Status        domain.Outcome `json:"status"`
	Reason        string         `json:"reason,omitempty"`
	AccountID     string         `json:"accountId,omitempty"`
	InvitationID  string         `json:"invitationId,omitempty"`
	Kind          domain.Kind    `json:"kind,omitempty"`
	EmailDelivery string         `json:"emailDelivery,omitempty"`
}

// Summary counts the outcomes of a request.
type Summary struct {
	Invited       int `json:"invited"`
	AlreadyMember int `json:"alreadyMember"`
	Invalid       int `json:"invalid"`
	GuestLimit    int `json:"refusedByGuestLimit"`
	EmailsSent    int `json:"emailsSent"`
	EmailsFailed  int `json:"emailsFailed"`
}

// Result is the answer to an invite request.
type Result struct {
	Results []AddressResult `json:"results"`
	Summary Summary         `json:"summary"`
	// Kind is what the invitees become on Confluence: guest, paid or none.
	Kind     domain.Kind    `json:"kind"`
	Warnings []string       `json:"warnings"`
	Billing  domain.Billing `json:"billing"`
	// Replayed is set when the result is the kept answer to an earlier
	// request with the same idempotency key.
	Replayed bool `json:"-"`
}

// Invite invites the request's addresses to a site. A structural error, an
// unknown org or site, or a caller without the power returns an error and
// changes nothing. Otherwise each address gets its own outcome; with
// AllOrNothing, one refused address refuses them all (EREFUSED or ELIMIT, with
// the per-address results in the error's Extra).
func (s *Service) Invite(ctx context.Context, c Caller, orgID, siteID string, in domain.InviteInput) (Result, error) {
	inv, err := domain.ValidateInvite(in)
	if err != nil {
		return Result{}, err
	}
	if len(inv.Pending()) == 0 {
		rs, _ := results(inv, nil)
		return Result{}, &domain.Error{Code: domain.EINVALID, Message: "No address in the request is valid; nothing was invited.",
			Fields: map[string]string{"emails": "no valid address"}, Extra: map[string]any{"results": rs}}
	}
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return Result{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	sc, err := s.Store.LoadScope(ctx, orgID, siteID, c.AccountID)
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
	if c.IdempotencyKey == "" {
		return s.invite(ctx, c, sc, inv)
	}
	return s.idempotent(ctx, c, sc, in, inv)
}

// idempotent runs invite under an idempotency key, scoped to the caller. Only
// a completed invite is kept; a failed one frees the key for the retry.
func (s *Service) idempotent(ctx context.Context, c Caller, sc domain.Scope, in domain.InviteInput, inv domain.Invite) (Result, error) {
	key := hashOf(c.AccountID, c.IdempotencyKey)
	canon, _ := json.Marshal(in)
	reqHash := hashOf(sc.Site.ID, string(canon))
	prev, err := s.Store.BeginIdempotent(ctx, sc.Org.ID, key, reqHash, s.now())
	if err != nil {
		return Result{}, err
	}
	if prev != nil {
		switch {
		case prev.RequestHash != reqHash:
			return Result{}, domain.Errorf(domain.EREFUSED, "This Idempotency-Key was already used for a different request.")
		case !prev.Done:
			return Result{}, domain.Errorf(domain.ECONFLICT, "A request with this Idempotency-Key is still in progress; retry shortly.")
		}
		var r Result
		if err := json.Unmarshal(prev.Body, &r); err != nil {
			return Result{}, fmt.Errorf("invites: kept response: %w", err)
		}
		r.Replayed = true
		return r, nil
	}
	res, err := s.invite(ctx, c, sc, inv)
	if err != nil {
		if rerr := s.Store.ReleaseIdempotent(ctx, sc.Org.ID, key); rerr != nil {
			s.log().ErrorContext(ctx, "could not release idempotency key", "err", rerr)
		}
		return res, err
	}
	body, _ := json.Marshal(res)
	if err := s.Store.FinishIdempotent(ctx, sc.Org.ID, key, domain.IdempotentResponse{RequestHash: reqHash, Done: true, Status: 200, Body: body}, s.now()); err != nil {
		// The invitations stand; a retry will find the key locked, then free.
		s.log().ErrorContext(ctx, "could not keep idempotent response", "err", err)
	}
	return res, nil
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) invite(ctx context.Context, c Caller, sc domain.Scope, inv domain.Invite) (Result, error) {
	orgID, siteID := sc.Org.ID, sc.Site.ID
	var groups []domain.Group
	if len(inv.Groups) > 0 {
		found, err := s.Store.Groups(ctx, orgID, inv.Groups)
		if err != nil {
			return Result{}, err
		}
		var missing []string
		for _, name := range inv.Groups {
			if g, ok := found[name]; ok {
				groups = append(groups, g)
			} else {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return Result{}, &domain.Error{Code: domain.EINVALID, Message: "Some groups do not exist in this organisation.",
				Fields: map[string]string{"groups": fmt.Sprintf("unknown: %v", missing)}}
		}
	}
	grant := domain.PlanGrant(siteID, inv.Roles, groups)

	var valid []string
	for _, i := range inv.Pending() {
		valid = append(valid, inv.Invitees[i].Email)
	}
	if len(valid) > 0 {
		existing, err := s.Store.FindAccounts(ctx, orgID, valid)
		if err != nil {
			return Result{}, err
		}
		for _, i := range inv.Pending() {
			if id, ok := existing[inv.Invitees[i].Email]; ok {
				inv.Invitees[i].Outcome, inv.Invitees[i].Reason = domain.OutcomeAlreadyMember, "already has an account in this organisation ("+id+")"
			}
		}
	}

	now := s.now()
	res := Result{Kind: grant.Kind, Warnings: grant.Warnings(), Billing: sc.Site.Billing()}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	pending := inv.Pending()
	tokens := map[int]string{}
	batch := map[int]domain.NewInvitation{}
	for _, i := range pending {
		n, token := s.newInvitation(c, *sc.Org, *sc.Site, *sc.Caller, inv, grant, inv.Invitees[i].Email, now)
		batch[i], tokens[i] = n, token
	}

	site := *sc.Site
	if inv.AllOrNothing {
		if len(pending) != len(inv.Invitees) {
			return s.refuse(inv, domain.Errorf(domain.EREFUSED, "Nothing was invited: the request asks for all or nothing and some addresses cannot be invited."))
		}
		all := make([]domain.NewInvitation, 0, len(pending))
		for _, i := range pending {
			all = append(all, batch[i])
		}
		if err := s.Store.CreateInvitations(ctx, siteID, all); err != nil {
			if r, ok := err.(*domain.InviteRefused); ok {
				if r.Outcome == domain.OutcomeGuestLimit {
					fresh, ferr := s.Store.Site(ctx, orgID, siteID)
					if ferr != nil {
						return Result{}, ferr
					}
					for _, i := range pending {
						inv.Invitees[i].Outcome = domain.OutcomeGuestLimit
					}
					s.Metrics.Count(map[string]int{metrics.GuestLimitRefusals: len(pending)})
					return s.refuse(inv, domain.GuestLimitError(fresh, int64(len(pending))))
				}
				inv.Invitees[pending[r.Index]].Outcome, inv.Invitees[pending[r.Index]].Reason = r.Outcome, "already has an account in this organisation"
				return s.refuse(inv, domain.Errorf(domain.EREFUSED, "Nothing was invited: an address already has an account (it was created meanwhile)."))
			}
			return Result{}, err
		}
		for _, i := range pending {
			inv.Invitees[i].Outcome = domain.OutcomeInvited
			site = applyKind(site, grant.Kind)
		}
	} else {
		var limitReason string
		for _, i := range pending {
			err := s.Store.CreateInvitations(ctx, siteID, []domain.NewInvitation{batch[i]})
			r, refused := err.(*domain.InviteRefused)
			switch {
			case err == nil:
				inv.Invitees[i].Outcome = domain.OutcomeInvited
				site = applyKind(site, grant.Kind)
			case refused && r.Outcome == domain.OutcomeGuestLimit:
				if limitReason == "" {
					fresh, ferr := s.Store.Site(ctx, orgID, siteID)
					if ferr != nil {
						return Result{}, ferr
					}
					site = fresh
					limitReason = domain.GuestLimitError(fresh, 1).Message
				}
				inv.Invitees[i].Outcome, inv.Invitees[i].Reason = domain.OutcomeGuestLimit, limitReason
			case refused:
				inv.Invitees[i].Outcome, inv.Invitees[i].Reason = domain.OutcomeAlreadyMember, "already has an account in this organisation"
			default:
				// Nothing of this invitee was written (one transaction); earlier ones stand.
				if !anyInvited(inv) {
					return Result{}, err
				}
				s.log().ErrorContext(ctx, "invite failed for one address", "err", err, "requestId", c.RequestID)
				inv.Invitees[i].Outcome, inv.Invitees[i].Reason = domain.OutcomeNotInvited, "a temporary error stopped this address; retry it"
			}
		}
	}
	res.Billing = site.Billing()

	s.sendAll(ctx, inv, batch, tokens, now)
	res.Results, res.Summary = results(inv, batch)
	s.Metrics.Count(map[string]int{metrics.InvitesSent: res.Summary.Invited, metrics.EmailsSent: res.Summary.EmailsSent,
		metrics.EmailsFailed: res.Summary.EmailsFailed, metrics.GuestLimitRefusals: res.Summary.GuestLimit})
	return res, nil
}

func anyInvited(inv domain.Invite) bool {
	for _, x := range inv.Invitees {
		if x.Outcome == domain.OutcomeInvited {
			return true
		}
	}
	return false
}

func applyKind(s domain.Site, k domain.Kind) domain.Site {
	switch k {
	case domain.KindGuest:
		s.Guests++
		s.GuestSlots--
	case domain.KindPaid:
		s.PaidUsers++
		s.GuestSlots += domain.GuestsPerPaidUser
	}
	return s
}

// refuse answers an all-or-nothing request that wrote nothing.
func (s *Service) refuse(inv domain.Invite, e *domain.Error) (Result, error) {
	for i := range inv.Invitees {
		if inv.Invitees[i].Outcome == "" {
			inv.Invitees[i].Outcome = domain.OutcomeNotInvited
		}
	}
	rs, _ := results(inv, nil)
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra["results"] = rs
	return Result{}, e
}

func results(inv domain.Invite, batch map[int]domain.NewInvitation) ([]AddressResult, Summary) {
	var sum Summary
	out := make([]AddressResult, 0, len(inv.Invitees))
	for i, x := range inv.Invitees {
		r := AddressResult{Email: x.Email, Status: x.Outcome, Reason: x.Reason}
		if r.Email == "" {
			r.Email = x.Input
		}
		switch x.Outcome {
		case domain.OutcomeInvited:
			sum.Invited++
			n := batch[i]
			r.AccountID, r.InvitationID, r.Kind, r.EmailDelivery = n.User.AccountID, n.Invitation.ID, n.Invitation.Kind, string(n.Invitation.Delivery)
			switch n.Invitation.Delivery {
			case domain.DeliverySent:
				sum.EmailsSent++
			case domain.DeliveryFailed:
				sum.EmailsFailed++
				r.Reason = "the invitation is saved but its email could not be sent; it will be retried"
			}
		case domain.OutcomeAlreadyMember:
			sum.AlreadyMember++
		case domain.OutcomeInvalid, domain.OutcomeDuplicate:
			sum.Invalid++
		case domain.OutcomeGuestLimit:
			sum.GuestLimit++
		}
		out = append(out, r)
	}
	return out, sum
}

func (s *Service) newInvitation(c Caller, org domain.Org, site domain.Site, inviter domain.User, inv domain.Invite, g domain.Grant, addr string, now time.Time) (domain.NewInvitation, string) {
	token, hash := domain.NewToken()
	u := domain.User{OrgID: org.ID, AccountID: domain.NewID(), Email: addr, Status: domain.UserInvited,
		External: domain.IsExternal(addr, org.VerifiedDomains), CreatedAt: now, InvitedBy: inviter.AccountID}
	var access []domain.Access
	for _, p := range domain.Products {
		if eff, ok := g.Effective[p]; ok {
			d := g.Direct[p]
			if d == "" {
				d = domain.RoleNone
			}
			access = append(access, domain.Access{Product: p, Direct: d, Effective: eff})
		}
	}
	name := inviter.DisplayName
	if name == "" {
		name = inviter.Email
	}
	invitation := domain.Invitation{OrgID: org.ID, ID: domain.NewID(), SiteID: site.ID, AccountID: u.AccountID, Email: addr,
		InvitedBy: inviter.AccountID, InviterName: name, OrgName: org.Name, SiteName: site.Name, SiteHost: site.Host,
		Roles: inv.Roles, Groups: inv.Groups, Kind: g.Kind, Message: inv.Message, TokenHash: hash,
		Status: domain.InvitationPending, Delivery: domain.DeliveryPending, CreatedAt: now, ExpiresAt: now.Add(s.Config.Lifetime), RequestID: c.RequestID}
	roles := map[string]any{}
	for p, r := range g.Effective {
		roles[string(p)] = string(r)
	}
	audit := domain.AuditEntry{OrgID: org.ID, ID: domain.NewID(), At: now, Actor: c.AccountID, Action: "invitation.create",
		Target: "user/" + u.AccountID, After: map[string]any{"email": addr, "site": site.ID, "roles": roles, "groups": inv.Groups, "kind": string(g.Kind), "invitationId": invitation.ID},
		RequestID: c.RequestID}
	return domain.NewInvitation{User: u, Access: access, Groups: inv.Groups, Invitation: invitation, Audit: audit}, token
}

// AcceptLink returns the link a token is accepted through.
func (s *Service) AcceptLink(token string) string {
	u, err := url.Parse(s.Config.AcceptURL)
	if err != nil {
		return s.Config.AcceptURL + "?token=" + url.QueryEscape(token)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}

// sendAll emails every new invitation, a few at a time, and records each
// outcome. A failed send keeps the invitation, marked failed and due for retry.
func (s *Service) sendAll(ctx context.Context, inv domain.Invite, batch map[int]domain.NewInvitation, tokens map[int]string, now time.Time) {
	var idx []int
	for i, x := range inv.Invitees {
		if x.Outcome == domain.OutcomeInvited {
			idx = append(idx, i)
		}
	}
	// Each goroutine reads its own input and writes its own slot: no shared map.
	in := make([]domain.Invitation, len(idx))
	out := make([]domain.Invitation, len(idx))
	for k, i := range idx {
		in[k] = batch[i].Invitation
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for k, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func(k int, token string) {
			defer wg.Done()
			defer func() { <-sem }()
			out[k] = s.deliver(ctx, in[k], token, now)
		}(k, tokens[i])
	}
	wg.Wait()
	for k, i := range idx {
		n := batch[i]
		n.Invitation = out[k]
		batch[i] = n
	}
}

func (s *Service) deliver(ctx context.Context, inv domain.Invitation, token string, now time.Time) domain.Invitation {
	msg, err := email.RenderInvitation(email.Invitation{To: inv.Email, InviterName: inv.InviterName, OrgName: inv.OrgName,
		SiteName: inv.SiteName, SiteHost: inv.SiteHost, Message: inv.Message, AcceptURL: s.AcceptLink(token), ExpiresAt: inv.ExpiresAt})
	var id string
	if err == nil {
		id, err = s.Mailer.Send(ctx, msg)
	}
	inv.Attempts++
	retryAt := now
	if err != nil {
		s.log().WarnContext(ctx, "invitation email not sent", "invitationId", inv.ID, "attempt", inv.Attempts, "err", err)
		inv.Delivery, inv.DeliveryNote = domain.DeliveryFailed, truncate(err.Error(), 500)
		retryAt = now.Add(Backoff(s.Config.RetryAfter, inv.Attempts))
	} else {
		inv.Delivery, inv.MessageID, inv.DeliveryNote = domain.DeliverySent, id, ""
	}
	if err := s.Store.SaveDelivery(ctx, inv, retryAt); err != nil {
		// The invitation stays in the due index as pending: nothing is lost.
		s.log().ErrorContext(ctx, "could not record email delivery", "invitationId", inv.ID, "err", err)
		return inv
	}
	inv.Version++
	return inv
}

// MaxRetryDelay caps the wait between two attempts at one email.
const MaxRetryDelay = 6 * time.Hour

// Backoff is the wait before attempt n+1 after n failed attempts: base,
// doubling, capped at MaxRetryDelay.
func Backoff(base time.Duration, attempts int) time.Duration {
	if base <= 0 {
		base = 15 * time.Minute
	}
	d := base
	for i := 1; i < attempts && d < MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, MaxRetryDelay)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
