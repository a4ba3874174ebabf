// The templates: the personalised invitation email (and, in otp.go and
// reverify.go, the passcode and re-verification emails). They are pure: no
// AWS imports, no I/O.
//
// Every user-controlled value (the inviter's name, the site and organisation
// names, the personal message) is treated as data. The only header values
// these templates produce are the recipient, which must be a bare addr-spec
// with no control characters, and the subject, whose user-controlled parts
// have every control character replaced by a space and are length-capped. The
// personal message only ever reaches the bodies: quoted in the text body and
// HTML-escaped (through htmlx, which has no way to write it raw) in the HTML
// body. Neither template package is used: their reflection keeps every AWS SDK
// operation in a Lambda binary.

package emails

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// Invitation is what an invitation email says and to whom.
type Invitation struct {
	// To is the recipient: a bare addr-spec such as pat@agency.example.
	To string
	// InviterName is the display name of the person who sent the invitation.
	InviterName string
	// InviterEmail is the inviter's address, shown in the bodies and used in
	// the subject when InviterName is empty.
	InviterEmail string
	// OrgName is the name of the inviting organisation.
	OrgName string
	// SiteName is the name of the site the invitee is invited to.
	SiteName string
	// SiteHost is the host name of the site, such as acme.atlassian.net.
	SiteHost string
	// Message is the inviter's optional personal message, free text.
	Message string
	// AcceptURL is the absolute http(s) link that accepts the invitation.
	AcceptURL string
	// ExpiresAt is when the accept link stops working; zero means unknown.
	ExpiresAt time.Time
	// Kind is what the invitee becomes on Confluence, by effective role:
	// KindGuest, KindPaid, or KindNone (or "") for no Confluence role. When
	// Kind is "", Roles["confluence"] decides.
	Kind string
	// Roles are the invitee's roles by product (product → role), such as
	// confluence: user, jira: user. Only guest, user and admin are shown; for
	// Confluence, a non-empty Kind takes precedence.
	Roles map[string]string
}

// Message is a rendered email ready to send.
type Message struct {
	// To is the single recipient, a bare addr-spec checked by CheckAddress.
	To string
	// Subject is the one-line subject, free of control characters.
	Subject string
	// Text is the plain-text body.
	Text string
	// HTML is the HTML body.
	HTML string
	// Tags are SES message tags (TagOrg, TagKind, TagInvitation): SES's
	// bounce, complaint and delivery events carry them back, and the
	// suppression check reads TagOrg. Names and values are ASCII letters,
	// digits, '_', '-' and '.' only (ValidTag).
	Tags map[string]string
}

// Message tag names.
const (
	// TagOrg is the org an email is sent for.
	TagOrg = "org"
	// TagKind is what the email is: KindTagInvitation, "passcode", ...
	TagKind = "kind"
	// TagInvitation is the id of the invitation an email carries.
	TagInvitation = "invitation"
)

// KindTagInvitation is TagKind's value on invitation emails.
const KindTagInvitation = "invitation"

// ValidTag reports a tag name or value SES accepts: 1 to 256 ASCII letters,
// digits, '_', '-' or '.'.
func ValidTag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// SuppressedError is a send refused because its recipient is suppressed for
// the org (a permanent bounce or a complaint, until an admin clears it). It
// is an outcome to record, not a failure to retry.
type SuppressedError struct {
	// Reason is why the address is suppressed.
	Reason domain.SuppressionReason
}

func (e *SuppressedError) Error() string {
	return "email: recipient is suppressed for this organisation (" + string(e.Reason) + ")"
}

// Mailer sends one rendered email and returns the provider's message id
// (sesmailer in a function; the suppression check wraps it).
type Mailer interface {
	Send(ctx context.Context, msg Message) (messageID string, err error)
}

// Length caps, in runes, for user-controlled text placed in the subject.
const (
	maxNameRunes    = 80
	maxSubjectRunes = 150
)

// ErrBadRecipient is returned (wrapped) when a recipient address has control
// characters or is not a bare addr-spec. Its text never contains the address.
var ErrBadRecipient = errors.New("email: recipient is not a bare email address")

// ErrBadAcceptURL is returned when the accept link is not an absolute http or
// https URL. Its text never contains the URL (which carries a secret token).
var ErrBadAcceptURL = errors.New("email: accept URL must be an absolute http(s) URL")

// CheckAddress returns nil only for a bare ASCII addr-spec (a dot-atom
// local part @ a domain: no display name, no angle brackets, no list, no
// comments, no quoting) that contains no control character: this is the only
// user-controlled value that reaches a header verbatim.
func CheckAddress(addr string) error {
	if addr == "" {
		return fmt.Errorf("%w: it is empty", ErrBadRecipient)
	}
	if strings.ContainsFunc(addr, isUnsafeRune) {
		return fmt.Errorf("%w: it contains control characters", ErrBadRecipient)
	}
	if !domain.ValidAddress(addr) {
		return ErrBadRecipient
	}
	return nil
}

// isUnsafeRune reports control characters (all of Unicode Cc: CR, LF, tab,
// NUL, DEL, C1 controls) and the Unicode line and paragraph separators.
func isUnsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// headerText makes user text safe for a header: control characters become
// spaces, invisible and direction-changing characters go
// (domain.NeutralizeText), runs of white space collapse to one space, and
// the result is capped at max runes (ending in an ellipsis when cut).
func headerText(s string, max int) string {
	s = strings.ToValidUTF8(s, " ")
	s = domain.NeutralizeText(strings.Map(func(r rune) rune {
		if isUnsafeRune(r) {
			return ' '
		}
		return r
	}, s))
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(string([]rune(s)[:max-1])) + "…"
	}
	return s
}

// bodyText normalises free text for the bodies: valid UTF-8, newlines as LF,
// control characters other than LF and tab replaced by spaces, invisible and
// direction-changing characters gone (domain.NeutralizeText), so that the
// inviter's message cannot reorder or hide text in the email.
func bodyText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(domain.NeutralizeText(s))
}

// Kinds of invitee on Confluence, as Invitation.Kind spells them (the same
// words as the domain's kinds).
const (
	KindGuest = "guest"
	KindPaid  = "paid"
	KindNone  = "none"
)

// productNames are the display names of the known products, in the order the
// email lists them.
var productNames = []struct{ key, name string }{
	{"confluence", "Confluence"},
	{"jira", "Jira"},
	{"jira-service-management", "Jira Service Management"},
}

// grant is one product the invitee gets and the role on it (guest, user or
// admin).
type grant struct {
	product string // display name
	role    string
}

// grants lists what the invitee gets: Confluence by kind (by
// roles["confluence"] when kind is empty), then the other products of roles,
// known products first, the rest by name. Roles other than guest, user and
// admin are left out: the email never claims what it does not know.
func grants(kind string, roles map[string]string) []grant {
	role := func(p string) string {
		switch r := strings.ToLower(strings.TrimSpace(roles[p])); r {
		case "guest", "user", "admin":
			return r
		}
		return ""
	}
	var out []grant
	confluence := ""
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case KindGuest:
		confluence = "guest"
	case KindPaid:
		confluence = "user"
		if role("confluence") == "admin" {
			confluence = "admin"
		}
	case "":
		confluence = role("confluence")
	}
	if confluence != "" {
		out = append(out, grant{"Confluence", confluence})
	}
	known := map[string]bool{}
	for _, p := range productNames {
		known[p.key] = true
		if p.key != "confluence" {
			if r := role(p.key); r != "" {
				out = append(out, grant{p.name, r})
			}
		}
	}
	var others []string
	for p := range roles {
		if !known[p] && role(p) != "" && headerText(p, maxNameRunes) != "" {
			others = append(others, p)
		}
	}
	slices.Sort(others)
	for _, p := range others {
		out = append(out, grant{headerText(p, maxNameRunes), role(p)})
	}
	return out
}

// phrase says one grant as a noun phrase: "a guest in Confluence (you will get
// access to one space)", "a Jira user", "a Confluence administrator".
func (g grant) phrase() string {
	switch {
	case g.product == "Confluence" && g.role == "guest":
		return "a guest in Confluence (you will get access to one space)"
	case g.role == "guest":
		return "a guest in " + g.product
	case g.role == "admin":
		return article(g.product) + g.product + " administrator"
	}
	return article(g.product) + g.product + " user"
}

// article is "an " before a vowel, else "a ".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an "
	}
	return "a "
}

// andList joins words as "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// Becomes says what an invitee of this kind and with these roles becomes, as
// the end of "… invited you to join <site>": "as a guest in Confluence (you
// will get access to one space)", "as a Confluence user", "as a Confluence
// user and a Jira user", "as a Jira user". It is empty when kind and roles
// grant nothing known. kind and roles mean what Invitation.Kind and
// Invitation.Roles mean; the result is plain text (escape it for HTML).
func Becomes(kind string, roles map[string]string) string {
	var phrases []string
	for _, g := range grants(kind, roles) {
		phrases = append(phrases, g.phrase())
	}
	if len(phrases) == 0 {
		return ""
	}
	return "as " + andList(phrases)
}

// productList names the products of the grants: "Confluence", "Confluence
// and Jira"; empty when there are none.
func productList(gs []grant) string {
	var names []string
	for _, g := range gs {
		names = append(names, g.product)
	}
	return andList(names)
}

// RenderInvitation renders the subject, text body and HTML body of an
// invitation. It fails when inv.To is not a bare address without control
// characters (see CheckAddress) or when inv.AcceptURL is not an absolute http
// or https URL; errors never contain the URL or the message.
//
// The subject names the products ("… invited you to 14West Wiki on
// Confluence"); both bodies say what the invitee becomes (see Becomes).
func RenderInvitation(inv Invitation) (Message, error) {
	if err := CheckAddress(inv.To); err != nil {
		return Message{}, err
	}
	accept, err := checkAcceptURL(inv.AcceptURL)
	if err != nil {
		return Message{}, err
	}

	inviter := headerText(inv.InviterName, maxNameRunes)
	inviterEmail := headerText(inv.InviterEmail, maxNameRunes)
	if inviter == "" {
		inviter, inviterEmail = inviterEmail, ""
	}
	if inviter == "" {
		inviter = "An administrator"
	}
	host := headerText(inv.SiteHost, maxNameRunes)
	site := headerText(inv.SiteName, maxNameRunes)
	if site == "" {
		site = host
	}
	if site == "" {
		site = "an Atlassian site"
	}
	if host == site {
		host = ""
	}
	org := headerText(inv.OrgName, maxNameRunes)
	products := productList(grants(inv.Kind, inv.Roles))
	becomes := Becomes(inv.Kind, inv.Roles)
	var lines []string
	if msg := bodyText(inv.Message); msg != "" {
		lines = strings.Split(msg, "\n")
	}
	expires := ""
	if !inv.ExpiresAt.IsZero() {
		expires = inv.ExpiresAt.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
	}
	subject := inviter + " invited you to " + site
	if products != "" {
		subject += " on " + products
	}
	subject = headerText(subject, maxSubjectRunes)

	var t strings.Builder
	t.WriteString("Hello,\n\n" + inviter)
	if inviterEmail != "" {
		t.WriteString(" (" + inviterEmail + ")")
	}
	t.WriteString(" invited you to join " + site)
	if host != "" {
		t.WriteString(" (" + host + ")")
	}
	if org != "" {
		t.WriteString(" of " + org)
	}
	if becomes != "" {
		t.WriteString(" " + becomes)
	}
	t.WriteString(".\n")
	if len(lines) > 0 {
		t.WriteString("\n" + inviter + " wrote:\n\n> " + strings.Join(lines, "\n> ") + "\n")
	}
	t.WriteString("\nAccept the invitation:\n" + accept.String() + "\n\n")
	if expires != "" {
		t.WriteString("This link works once and expires on " + expires + ".\n")
	} else {
		t.WriteString("This link works once.\n")
	}
	t.WriteString("If you did not expect this invitation, you can ignore this email.\n")

	var h htmlx.Builder
	layoutStart(&h, subject)
	h.Markup(`<h1 style="font-size:22px;line-height:28px;margin:0 0 16px;color:#172b4d">Join `)
	h.Text(site)
	if products != "" {
		h.Markup(` on `)
		h.Text(products)
	}
	h.Markup(`</h1>
<p style="font-size:15px;line-height:22px;margin:0 0 16px"><strong>`)
	h.Text(inviter)
	h.Markup(`</strong>`)
	if inviterEmail != "" {
		h.Markup(` (`)
		h.Text(inviterEmail)
		h.Markup(`)`)
	}
	h.Markup(` invited you to join <strong>`)
	h.Text(site)
	h.Markup(`</strong>`)
	if host != "" {
		h.Markup(` (`)
		h.Text(host)
		h.Markup(`)`)
	}
	if org != "" {
		h.Markup(` of `)
		h.Text(org)
	}
	if becomes != "" {
		h.Markup(` `)
		h.Text(becomes)
	}
	h.Markup(`.</p>`)
	if len(lines) > 0 {
		h.Markup(`
<p style="font-size:13px;line-height:20px;margin:0 0 4px;color:#5e6c84">`)
		h.Text(inviter)
		h.Markup(` wrote:</p>
<blockquote style="margin:0 0 16px;padding:12px 16px;border-left:4px solid #dfe1e6;background:#f4f5f7;font-size:15px;line-height:22px;white-space:normal">`)
		for i, l := range lines {
			if i > 0 {
				h.Markup(`<br>`)
			}
			h.Text(l)
		}
		h.Markup(`</blockquote>`)
	}
	h.Markup(`
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:24px 0"><tr><td style="background:#0052cc;border-radius:4px">
<a`)
	h.URLAttr("href", accept)
	h.Markup(` style="display:inline-block;padding:12px 24px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none">Accept invitation</a>
</td></tr></table>
<p style="font-size:13px;line-height:20px;margin:0 0 8px;color:#5e6c84">`)
	if expires != "" {
		h.Markup(`This link works once and expires on `)
		h.Text(expires)
		h.Markup(`.`)
	} else {
		h.Markup(`This link works once.`)
	}
	h.Markup(` If the button does not work, copy this address into your browser:<br><a`)
	h.URLAttr("href", accept)
	h.Markup(` style="color:#0052cc;word-break:break-all">`)
	h.Text(accept.String())
	h.Markup(`</a></p>
<p style="font-size:13px;line-height:20px;margin:0;color:#5e6c84">If you did not expect this invitation, you can ignore this email.</p>`)
	layoutEnd(&h)
	return Message{To: inv.To, Subject: subject, Text: t.String(), HTML: h.String()}, nil
}

// checkAcceptURL accepts only absolute http and https URLs with a host and
// without control characters or white space (see htmlx.ParseURL), and returns
// the URL as given.
func checkAcceptURL(raw string) (htmlx.URL, error) {
	if strings.ContainsFunc(raw, isUnsafeRune) {
		return htmlx.URL{}, ErrBadAcceptURL
	}
	u, err := htmlx.ParseURL(raw)
	if err != nil {
		return htmlx.URL{}, ErrBadAcceptURL
	}
	return u, nil
}

// layoutStart opens the HTML layout every email shares (a centred white
// card on grey, with the subject as the title); its content follows.
func layoutStart(h *htmlx.Builder, subject string) {
	h.Markup(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>`)
	h.Text(subject)
	h.Markup(`</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#172b4d">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:32px 16px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px"><tr><td style="padding:32px">
`)
}

// layoutEnd closes what layoutStart opened.
func layoutEnd(h *htmlx.Builder) {
	h.Markup(`
</td></tr></table>
</td></tr></table>
</body></html>
`)
}
