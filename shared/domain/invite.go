package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of one invite request.
const (
	MaxInviteesPerRequest = 10
	MaxMessageLength      = 1000 // characters
	MaxGroupsPerInvite    = 10
)

// InviteInput is an invite request as decoded from JSON.
type InviteInput struct {
	Emails   []string
	Products map[string]ProductInput
	Groups   []string
	Message  string
	// AllOrNothing makes one refused address sink the whole request.
	AllOrNothing bool
}

// ProductInput is the role asked for on one product.
type ProductInput struct {
	Role string
}

// Outcome is what happened to one address of an invite request.
type Outcome string

// Outcomes per address.
const (
	OutcomeInvited       Outcome = "invited"
	OutcomeAlreadyMember Outcome = "already_member"
	// OutcomeAlreadyInvited: the address has a pending invitation (resend it
	// rather than invite twice).
	OutcomeAlreadyInvited Outcome = "already_invited"
	OutcomeInvalid        Outcome = "invalid"
	OutcomeDuplicate      Outcome = "duplicate"
	OutcomeGuestLimit     Outcome = "guest_limit"
	// OutcomeUserLimit: the site's paid users plus guests would pass its user limit.
	OutcomeUserLimit  Outcome = "user_limit"
	OutcomeNotInvited Outcome = "not_invited" // all-or-nothing request sunk by another address
)

// Invitee is one address of a validated invite request.
type Invitee struct {
	Input   string // as typed
	Email   string // normalised; "" when invalid
	Outcome Outcome
	Reason  string
	// Existing is the account behind the address when it already has one
	// (OutcomeAlreadyMember, OutcomeAlreadyInvited).
	Existing *ExistingAccount
}

// ExistingAccount is what an invite learns about an address that already has
// an account in the org: the account and, when the account came from an
// invitation, that invitation.
type ExistingAccount struct {
	AccountID    string
	InvitationID string
	SiteID       string
	ExpiresAt    time.Time
	// Status is the invitation's status ("" when the account was not invited).
	Status InvitationStatus
}

// PendingAt reports whether the account's invitation can still be accepted
// at now: the address is invited, not yet a member.
func (e ExistingAccount) PendingAt(now time.Time) bool {
	return e.InvitationID != "" && e.Status == InvitationPending && now.Before(e.ExpiresAt)
}

// MarkExisting sets the outcome of an invitee whose address already has an
// account: already_invited while its invitation is pending, else already_member.
func (iv *Invitee) MarkExisting(e ExistingAccount, now time.Time) {
	iv.Existing = &e
	if e.PendingAt(now) {
		iv.Outcome = OutcomeAlreadyInvited
		iv.Reason = "already has a pending invitation (expires " + e.ExpiresAt.UTC().Format(time.RFC3339) + "); resend it instead of inviting again"
		return
	}
	iv.Outcome = OutcomeAlreadyMember
	iv.Reason = "already has an account in this organisation"
	switch {
	case e.InvitationID == "" || e.Status == InvitationAccepted:
	case e.Status == InvitationRevoked:
		iv.Reason = "already has an account whose invitation was revoked"
	default:
		iv.Reason = "already has an account whose invitation expired; resend the invitation"
	}
}

// Invite is a validated invite request.
type Invite struct {
	Invitees     []Invitee
	Roles        map[Product]Role // direct roles, only products asked for
	Groups       []string
	Message      string
	AllOrNothing bool
}

// ValidateInvite checks the shape of a request: the number of addresses, the
// products and roles, the groups and the message. A structural error is
// returned as EINVALID and nothing is invited. Bad addresses are not errors
// here: each gets its own outcome, and the good ones go ahead (unless
// AllOrNothing).
func ValidateInvite(in InviteInput) (Invite, error) {
	fields := map[string]string{}
	switch n := len(in.Emails); {
	case n == 0:
		fields["emails"] = "at least one address is required"
	case n > MaxInviteesPerRequest:
		fields["emails"] = fmt.Sprintf("at most %d addresses per request, got %d", MaxInviteesPerRequest, n)
	}
	inv := Invite{Roles: map[Product]Role{}, AllOrNothing: in.AllOrNothing}
	names := make([]string, 0, len(in.Products))
	for name := range in.Products {
		names = append(names, name)
	}
	slices.Sort(names)
	var roleErr error
	for _, name := range names {
		p, ok := ParseProduct(name)
		if !ok {
			fields["products."+name] = "unknown product; known: confluence, jira, jira-service-management"
			continue
		}
		role := in.Products[name].Role
		if role == "" {
			role = string(RoleNone) // a product's role is optional: none
		}
		r, ok := ParseRole(role)
		if !ok || r == RoleAdmin {
			fields["products."+name+".role"] = "role must be guest, user or none"
			continue
		}
		if err := CheckRoleForProduct(p, r); err != nil {
			roleErr = err
			continue
		}
		if r != RoleNone {
			inv.Roles[p] = r
		}
	}
	if len(in.Groups) > MaxGroupsPerInvite {
		fields["groups"] = fmt.Sprintf("at most %d groups", MaxGroupsPerInvite)
	}
	for _, name := range in.Groups {
		g, err := CheckName("groups", name, MaxGroupName)
		if err != nil {
			fields["groups"] = "group names are 1 to 128 characters, at least one not a space, none invisible, control or direction-changing"
			break
		}
		if !slices.Contains(inv.Groups, g) {
			inv.Groups = append(inv.Groups, g)
		}
	}
	msg, reason := cleanMessage(in.Message)
	if reason != "" {
		fields["message"] = reason
	}
	inv.Message = msg
	if roleErr != nil && len(fields) == 0 {
		return Invite{}, roleErr
	}
	if len(fields) == 0 && len(inv.Roles) == 0 && len(inv.Groups) == 0 {
		fields["products"] = "choose a role on at least one product, or at least one group"
	}
	if len(fields) > 0 {
		if e, ok := roleErr.(*Error); ok {
			for k, v := range e.Fields {
				fields[k] = v
			}
		}
		return Invite{}, &Error{Code: EINVALID, Message: "The invite request is not valid.", Fields: fields}
	}
	seen := map[string]bool{}
	for _, raw := range in.Emails {
		norm, why := NormalizeEmail(raw)
		iv := Invitee{Input: raw, Email: norm}
		switch {
		case why != "":
			iv.Email, iv.Outcome, iv.Reason = "", OutcomeInvalid, "address "+why
		case seen[norm]:
			iv.Outcome, iv.Reason = OutcomeDuplicate, "address appears earlier in this request"
		}
		seen[norm] = true
		inv.Invitees = append(inv.Invitees, iv)
	}
	return inv, nil
}

// cleanMessage normalises line endings of the personal message and refuses
// other control characters (MessagePattern) and more than MaxMessageLength
// characters as given (the document's maxLength). The message is data:
// renderers escape it, and it never reaches a mail header.
func cleanMessage(s string) (string, string) {
	if !utf8.ValidString(s) {
		return "", "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > MaxMessageLength {
		return "", fmt.Sprintf("at most %d characters, got %d", MaxMessageLength, n)
	}
	// Checked as given: a control character is refused at either end too.
	if strings.ContainsFunc(s, messageControl) {
		return "", "must not contain control characters other than line breaks and tabs"
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimSpace(s), ""
}

// Pending returns the indexes of invitees still to be decided.
func (iv Invite) Pending() []int {
	var out []int
	for i, x := range iv.Invitees {
		if x.Outcome == "" {
			out = append(out, i)
		}
	}
	return out
}

// GuestLimitError is the refusal of the billing rule, with its numbers.
func GuestLimitError(site Site, wantGuests int64) *Error {
	b := site.Billing()
	return &Error{
		Code: ELIMIT,
		Message: fmt.Sprintf("Guest limit reached: %s %s %s on this site, %d already %s the guest role, and %d more %s asked for.",
			Count(b.PaidUsers, "paid user", "paid users"), Agree(b.PaidUsers, "allows", "allow"), Count(b.GuestLimit, "guest", "guests"),
			b.Guests, Agree(b.Guests, "holds", "hold"), wantGuests, Agree(wantGuests, "was", "were")),
		Extra: map[string]any{"paidUsers": b.PaidUsers, "guests": b.Guests, "guestLimit": b.GuestLimit, "freeGuestSlots": b.FreeGuestSlots, "requested": wantGuests},
	}
}

// UserLimitError is the refusal of the user limit (rules §7: paid users plus
// guests never exceed it), with the site's numbers.
func UserLimitError(site Site, wantUsers int64) *Error {
	b := site.Billing()
	return &Error{
		Code: EUSERLIMIT,
		Message: fmt.Sprintf("User limit reached: this site allows %s (paid users plus guests), it has %s and %s, and %d more %s asked for.",
			Count(b.UserLimit, "user", "users"), Count(b.PaidUsers, "paid user", "paid users"), Count(b.Guests, "guest", "guests"), wantUsers, Agree(wantUsers, "was", "were")),
		Extra: map[string]any{"userLimit": b.UserLimit, "paidUsers": b.PaidUsers, "guests": b.Guests, "freeUserSlots": b.FreeUserSlots, "requested": wantUsers},
	}
}

// messageControl reports a control character the personal message refuses:
// every one but the line feed, the carriage return (line breaks become line
// feeds) and the tab.
func messageControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// MessagePattern is the regular expression of the personal messages the
// API accepts, as the OpenAPI document states it: no control character
// but line breaks and tabs (messageControl), each written \uXXXX.
func MessagePattern() string {
	return "^[^" + charClass(messageControl) + "]*$"
}
