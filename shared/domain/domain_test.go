package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "Ann@Example.COM", want: "ann@example.com"},
		{in: "  bob@partner.example.net ", want: "bob@partner.example.net"},
		{in: "first.last+tag@sub.example.org", want: "first.last+tag@sub.example.org"},
		{in: "", bad: true},
		{in: "no-at-sign", bad: true},
		{in: "a@localhost", bad: true},
		{in: "Ann <ann@example.com>", bad: true},
		{in: "ann@example.com\r\nBcc: evil@example.com", bad: true},
		{in: "ann@exa\nmple.com", bad: true},
		{in: "ann@-bad.com", bad: true},
		{in: "a@b..com", bad: true},
		{in: strings.Repeat("a", 65) + "@example.com", bad: true},
		{in: "a@" + strings.Repeat("b", 250) + ".com", bad: true},
		{in: "ann@example.com,bob@example.com", bad: true},
		// One mailbox, one spelling: the domain in its IDNA ASCII form.
		{in: "x@bücher.example", want: "x@xn--bcher-kva.example"},
		{in: "X@BÜCHER.example", want: "x@xn--bcher-kva.example"},
		{in: "x@xn--bcher-kva.example", want: "x@xn--bcher-kva.example"},
		{in: "x@münchen.de", want: "x@xn--mnchen-3ya.de"},
		// SES sends only ASCII addresses.
		{in: "jörg@agency.example", bad: true},
		{in: "x@bad_domain.example", bad: true},
	}
	for _, c := range cases {
		got, why := NormalizeEmail(c.in)
		if c.bad != (why != "") {
			t.Errorf("NormalizeEmail(%q) = %q, %q; want bad=%v", c.in, got, why, c.bad)
			continue
		}
		if !c.bad && got != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIsExternal(t *testing.T) {
	if IsExternal("ann@14west.example", []string{"14West.example"}) {
		t.Error("verified domain counted as external")
	}
	if !IsExternal("ann@agency.example", []string{"14west.example"}) {
		t.Error("other domain counted as internal")
	}
	if !IsExternal("ann@sub.14west.example", []string{"14west.example"}) {
		t.Error("subdomain of a verified domain is not itself verified")
	}
}

func TestRoles(t *testing.T) {
	if got := EffectiveRole(RoleGuest, RoleNone, RoleUser); got != RoleUser {
		t.Errorf("EffectiveRole = %s, want user", got)
	}
	if got := EffectiveRole("", RoleGuest); got != RoleGuest {
		t.Errorf("EffectiveRole = %s, want guest", got)
	}
	if got := EffectiveRole(RoleNone); got != RoleNone {
		t.Errorf("EffectiveRole = %s, want none", got)
	}
	if KindOf(RoleAdmin) != KindPaid || KindOf(RoleUser) != KindPaid || KindOf(RoleGuest) != KindGuest || KindOf(RoleNone) != KindNone {
		t.Error("KindOf misclassifies")
	}
	if err := CheckRoleForProduct(Jira, RoleGuest); ErrorCode(err) != EINVALID {
		t.Errorf("guest on jira: %v", err)
	}
	if err := CheckRoleForProduct(Confluence, RoleGuest); err != nil {
		t.Errorf("guest on confluence: %v", err)
	}
}

func emails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%d@agency.example", i)
	}
	return out
}

func guestInput(es ...string) InviteInput {
	return InviteInput{Emails: es, Products: map[string]ProductInput{"confluence": {Role: "guest"}}}
}

func TestValidateInviteCounts(t *testing.T) {
	for _, n := range []int{0, 11, 50} {
		_, err := ValidateInvite(guestInput(emails(n)...))
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID || e.Fields["emails"] == "" {
			t.Errorf("%d addresses: err = %v, want EINVALID on emails", n, err)
		}
	}
	for _, n := range []int{1, 10} {
		inv, err := ValidateInvite(guestInput(emails(n)...))
		if err != nil || len(inv.Pending()) != n {
			t.Errorf("%d addresses: %v, %d pending", n, err, len(inv.Pending()))
		}
	}
}

func TestValidateInvitePerAddress(t *testing.T) {
	inv, err := ValidateInvite(guestInput("Ann@Agency.example", "ann@agency.example", "bad", "x@y.example\r\nBcc: z@y.example", "bob@agency.example"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Outcome{"", OutcomeDuplicate, OutcomeInvalid, OutcomeInvalid, ""}
	for i, w := range want {
		if inv.Invitees[i].Outcome != w {
			t.Errorf("invitee %d (%q): outcome %q, want %q", i, inv.Invitees[i].Input, inv.Invitees[i].Outcome, w)
		}
	}
	if inv.Invitees[0].Email != "ann@agency.example" {
		t.Errorf("not normalised: %q", inv.Invitees[0].Email)
	}
	if !strings.Contains(inv.Invitees[3].Reason, "control") {
		t.Errorf("CR/LF reason = %q", inv.Invitees[3].Reason)
	}
}

func TestValidateInviteShape(t *testing.T) {
	bad := []InviteInput{
		{Emails: emails(1), Products: map[string]ProductInput{"jira": {Role: "guest"}}},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "admin"}}},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "owner"}}},
		{Emails: emails(1), Products: map[string]ProductInput{"trello": {Role: "user"}}},
		{Emails: emails(1)},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "none"}}},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "guest"}}, Message: strings.Repeat("x", MaxMessageLength+1)},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "guest"}}, Message: "hi\x00there"},
		{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "guest"}}, Groups: []string{""}},
	}
	for i, in := range bad {
		if _, err := ValidateInvite(in); ErrorCode(err) != EINVALID {
			t.Errorf("case %d: err = %v, want EINVALID", i, err)
		}
	}
	_, err := ValidateInvite(InviteInput{Emails: emails(1), Products: map[string]ProductInput{"jira": {Role: "guest"}}})
	if !strings.Contains(ErrorMessage(err), "only for Confluence") {
		t.Errorf("guest on jira message = %q", ErrorMessage(err))
	}
	inv, err := ValidateInvite(InviteInput{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: "guest"}}, Message: "Line one\r\nLine two\rThree"})
	if err != nil || inv.Message != "Line one\nLine two\nThree" {
		t.Errorf("message = %q, %v", inv.Message, err)
	}
	inv, err = ValidateInvite(InviteInput{Emails: emails(1), Groups: []string{"partners", "partners"}})
	if err != nil || len(inv.Groups) != 1 {
		t.Errorf("groups only: %v %v", inv.Groups, err)
	}
	// The groups an invite names are names as CheckName and the document
	// count them: characters as given, not bytes, one of them not a space.
	long := strings.Repeat("é", MaxGroupName)
	if inv, err := ValidateInvite(InviteInput{Emails: emails(1), Groups: []string{" Partners ", long}}); err != nil || !slices.Equal(inv.Groups, []string{"Partners", long}) {
		t.Errorf("groups of 128 characters (256 bytes): %q %v", inv.Groups, err)
	}
	for _, g := range []string{" " + strings.Repeat("n", MaxGroupName), "\u3000\u00a0", "Partners\n"} {
		if _, err := ValidateInvite(InviteInput{Emails: emails(1), Groups: []string{g}}); ErrorCode(err) != EINVALID {
			t.Errorf("group %+q: %v, want EINVALID", g, err)
		}
	}
}

func TestBillingAndLimitError(t *testing.T) {
	s := Site{PaidUsers: 2, Guests: 10, GuestSlots: 0}
	b := s.Billing()
	if b.GuestLimit != 10 || b.FreeGuestSlots != 0 {
		t.Errorf("billing %+v", b)
	}
	if (Site{PaidUsers: 1, Guests: 8, GuestSlots: -3}).Billing().FreeGuestSlots != 0 {
		t.Error("negative free slots shown")
	}
	e := GuestLimitError(s, 1)
	for _, want := range []string{"2 paid", "10 guest", "10 already"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("limit message %q lacks %q", e.Message, want)
		}
	}
	if e.Code != ELIMIT || e.Extra["guestLimit"] != int64(10) {
		t.Errorf("limit error %+v", e)
	}
}

func TestTokens(t *testing.T) {
	p1, h1 := NewToken()
	p2, h2 := NewToken()
	if p1 == p2 || h1 == h2 || h1 == p1 {
		t.Fatal("tokens repeat or hash equals token")
	}
	if !ValidTokenShape(p1) || ValidTokenShape(p1+"x") || ValidTokenShape("") || ValidTokenShape(strings.Repeat("!", 43)) {
		t.Error("ValidTokenShape wrong")
	}
	if HashToken(p1) != h1 || len(h1) != 64 {
		t.Error("HashToken mismatch")
	}
}

func TestIDs(t *testing.T) {
	for _, s := range []string{"14west", "wiki", "a"} {
		if !ValidSlug(s) {
			t.Errorf("ValidSlug(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-x", "A", "a#b", "a/b", strings.Repeat("a", 64)} {
		if ValidSlug(s) {
			t.Errorf("ValidSlug(%q) = true", s)
		}
	}
	if !ValidAccountID("auth0|123") || ValidAccountID("a#b") || ValidAccountID("a b") || ValidAccountID("") {
		t.Error("ValidAccountID wrong")
	}
}

func TestCanInvite(t *testing.T) {
	if !(User{Status: UserActive, OrgAdmin: true}).CanInvite("wiki") {
		t.Error("org admin refused")
	}
	if !(User{Status: UserActive, SiteAdmin: []string{"wiki"}}).CanInvite("wiki") {
		t.Error("site admin refused")
	}
	if (User{Status: UserActive, SiteAdmin: []string{"other"}}).CanInvite("wiki") {
		t.Error("admin of another site allowed")
	}
	if (User{Status: UserSuspended, OrgAdmin: true}).CanInvite("wiki") {
		t.Error("suspended admin allowed")
	}
	if (User{Status: UserActive}).CanInvite("wiki") {
		t.Error("plain user allowed")
	}
}

func TestNonASCIILocalPartReason(t *testing.T) {
	if _, why := NormalizeEmail("jörg@agency.example"); !strings.Contains(why, "ASCII") {
		t.Errorf("reason = %q", why)
	}
	if !IsExternal("x@xn--bcher-kva.example", []string{"agency.example"}) || IsExternal("x@xn--bcher-kva.example", []string{"Bücher.example"}) {
		t.Error("verified domains are not compared in their ASCII form")
	}
}

func TestSeats(t *testing.T) {
	site := Site{PaidUsers: 1, GuestSlots: 5}
	five := SeatsOf(KindGuest).Times(5)
	if !site.Fits(five) || site.Fits(five.Plus(SeatsOf(KindGuest))) {
		t.Error("5 guests must fit one paid user's slots, 6 must not")
	}
	if !site.Fits(five.Plus(SeatsOf(KindGuest)).Plus(SeatsOf(KindPaid))) {
		t.Error("a paid user in the same change adds 5 slots")
	}
	after := site.With(five.Plus(SeatsOf(KindPaid)))
	if after.Guests != 5 || after.PaidUsers != 2 || after.GuestSlots != 5 || after.Billing().GuestLimit != 10 {
		t.Errorf("after = %+v", after)
	}
	release := SeatsOf(KindPaid).Times(-1)
	if release.Limited() || !after.Fits(release) || after.With(release).GuestSlots != 0 {
		t.Error("releasing a paid user is never refused and lowers the slots")
	}
	if (Seats{}).Need() != 0 || !(Seats{}).Zero() {
		t.Error("zero change")
	}
}

func TestMarkExisting(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var iv Invitee
	iv.MarkExisting(ExistingAccount{AccountID: "a", InvitationID: "i", ExpiresAt: now.Add(time.Hour), Status: InvitationPending}, now)
	if iv.Outcome != OutcomeAlreadyInvited || !strings.Contains(iv.Reason, "resend") {
		t.Errorf("pending: %+v", iv)
	}
	iv.MarkExisting(ExistingAccount{AccountID: "a", InvitationID: "i", ExpiresAt: now, Status: InvitationPending}, now)
	if iv.Outcome != OutcomeAlreadyMember || !strings.Contains(iv.Reason, "expired") {
		t.Errorf("expired: %+v", iv)
	}
	iv.MarkExisting(ExistingAccount{AccountID: "a"}, now)
	if iv.Outcome != OutcomeAlreadyMember || iv.Existing.AccountID != "a" {
		t.Errorf("member: %+v", iv)
	}
}

func TestSpaceIsAGuestsAlone(t *testing.T) {
	a := Access{Product: Confluence, Direct: RoleGuest, Space: "MKT"}.Recompute()
	if a.Space != "MKT" {
		t.Fatalf("guest lost the space: %+v", a)
	}
	if b := a.WithGroup("staff", RoleUser); b.Space != "" || b.Effective != RoleUser {
		t.Errorf("paid user kept a space: %+v", b)
	}
	if b := a.WithDirect(RoleNone); b.Space != "" || b.Effective != RoleNone {
		t.Errorf("no access kept a space: %+v", b)
	}
	if b := a.WithGroup("partners", RoleGuest).WithDirect(RoleNone); b.Space != "MKT" || b.Effective != RoleGuest {
		t.Errorf("still a guest through a group, lost the space: %+v", b)
	}
	for k, want := range map[string]bool{"MKT": true, "A1": true, "mkt": false, "1A": false, "": false, "M-K": false, "M#K": false} {
		if ValidSpaceKey(k) != want {
			t.Errorf("ValidSpaceKey(%q) = %v", k, !want)
		}
	}
}

// TestParseRole: a role is one of the document's names, exactly; a missing
// (empty) or padded role is not none but no role (a 400 where the document
// requires one). Only an invite's product role is optional (none when
// absent), which ValidateInvite decides.
func TestParseRole(t *testing.T) {
	for _, s := range []string{"none", "guest", "user", "admin"} {
		if r, ok := ParseRole(s); !ok || string(r) != s {
			t.Errorf("ParseRole(%q) = %q, %v", s, r, ok)
		}
	}
	for _, s := range []string{"", " guest", "user ", "Admin", "owner"} {
		if r, ok := ParseRole(s); ok {
			t.Errorf("ParseRole(%q) = %q, want no role", s, r)
		}
	}
	inv, err := ValidateInvite(InviteInput{Emails: emails(1), Groups: []string{"partners"}, Products: map[string]ProductInput{"confluence": {}}})
	if err != nil || len(inv.Roles) != 0 {
		t.Errorf("an invite's product without a role: %v %v, want none", inv.Roles, err)
	}
	if _, err := ValidateInvite(InviteInput{Emails: emails(1), Products: map[string]ProductInput{"confluence": {Role: " guest"}}}); ErrorCode(err) != EINVALID {
		t.Errorf("an invite's padded role: %v, want EINVALID", err)
	}
}
