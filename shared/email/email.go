// Package email renders the personalised invitation email. It is pure: no
// AWS imports, no I/O.
//
// Every user-controlled value (the inviter's name, the site and organisation
// names, the personal message) is treated as data. The only header values
// this package produces are the recipient, which must be a bare addr-spec
// with no control characters, and the subject, whose user-controlled parts
// have every control character replaced by a space and are length-capped. The
// personal message only ever reaches the bodies: quoted in the text body and
// HTML-escaped by html/template in the HTML body.
package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"
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
	// SiteName is the name of the Confluence site the guest is invited to.
	SiteName string
	// SiteHost is the host name of the site, such as acme.atlassian.net.
	SiteHost string
	// Message is the inviter's optional personal message, free text.
	Message string
	// AcceptURL is the absolute http(s) link that accepts the invitation.
	AcceptURL string
	// ExpiresAt is when the accept link stops working; zero means unknown.
	ExpiresAt time.Time
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
}

// Sender sends one rendered email and returns the provider's message id.
type Sender interface {
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

// CheckAddress returns nil only for a bare addr-spec (local@domain, no display
// name, no angle brackets, no list, no comments) that contains no control
// character: this is the only user-controlled value that reaches a header
// verbatim.
func CheckAddress(addr string) error {
	if addr == "" {
		return fmt.Errorf("%w: it is empty", ErrBadRecipient)
	}
	if strings.ContainsFunc(addr, isUnsafeRune) {
		return fmt.Errorf("%w: it contains control characters", ErrBadRecipient)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
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
// spaces, runs of white space collapse to one space, and the result is capped
// at max runes (ending in an ellipsis when cut).
func headerText(s string, max int) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if isUnsafeRune(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(string([]rune(s)[:max-1])) + "…"
	}
	return s
}

// bodyText normalises free text for the bodies: valid UTF-8, newlines as LF,
// and control characters other than LF and tab replaced by spaces.
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
	return strings.TrimSpace(s)
}

// view is what both templates see. Every field is plain text; html/template
// escapes each one for its context in the HTML body.
type view struct {
	Subject      string
	Inviter      string
	InviterEmail string
	Site         string
	Host         string
	Org          string
	MessageLines []string
	AcceptURL    string
	Expires      string
}

// QuotedMessage is the personal message quoted for the text body.
func (v view) QuotedMessage() string {
	return "> " + strings.Join(v.MessageLines, "\n> ")
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`Hello,

{{.Inviter}}{{if .InviterEmail}} ({{.InviterEmail}}){{end}} invited you to join {{.Site}}{{if .Host}} ({{.Host}}){{end}}{{if .Org}} of {{.Org}}{{end}} on Confluence as a guest.
{{if .MessageLines}}
{{.Inviter}} wrote:

{{.QuotedMessage}}
{{end}}
Accept the invitation:
{{.AcceptURL}}
{{if .Expires}}
This link works once and expires on {{.Expires}}.
{{- else}}
This link works once.
{{- end}}
If you did not expect this invitation, you can ignore this email.
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#172b4d">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:32px 16px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px"><tr><td style="padding:32px">
<h1 style="font-size:22px;line-height:28px;margin:0 0 16px;color:#172b4d">Join {{.Site}} on Confluence</h1>
<p style="font-size:15px;line-height:22px;margin:0 0 16px"><strong>{{.Inviter}}</strong>{{if .InviterEmail}} ({{.InviterEmail}}){{end}} invited you to join <strong>{{.Site}}</strong>{{if .Host}} ({{.Host}}){{end}}{{if .Org}} of {{.Org}}{{end}} on Confluence as a guest.</p>
{{- if .MessageLines}}
<p style="font-size:13px;line-height:20px;margin:0 0 4px;color:#5e6c84">{{.Inviter}} wrote:</p>
<blockquote style="margin:0 0 16px;padding:12px 16px;border-left:4px solid #dfe1e6;background:#f4f5f7;font-size:15px;line-height:22px;white-space:normal">{{range $i, $l := .MessageLines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</blockquote>
{{- end}}
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:24px 0"><tr><td style="background:#0052cc;border-radius:4px">
<a href="{{.AcceptURL}}" style="display:inline-block;padding:12px 24px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none">Accept invitation</a>
</td></tr></table>
<p style="font-size:13px;line-height:20px;margin:0 0 8px;color:#5e6c84">{{if .Expires}}This link works once and expires on {{.Expires}}.{{else}}This link works once.{{end}} If the button does not work, copy this address into your browser:<br><a href="{{.AcceptURL}}" style="color:#0052cc;word-break:break-all">{{.AcceptURL}}</a></p>
<p style="font-size:13px;line-height:20px;margin:0;color:#5e6c84">If you did not expect this invitation, you can ignore this email.</p>
</td></tr></table>
</td></tr></table>
</body></html>
`))

// RenderInvitation renders the subject, text body and HTML body of an
// invitation. It fails when inv.To is not a bare address without control
// characters (see CheckAddress) or when inv.AcceptURL is not an absolute http
// or https URL; errors never contain the URL or the message.
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
		site = "a Confluence site"
	}
	if host == site {
		host = ""
	}

	v := view{
		Subject:      headerText(inviter+" invited you to "+site+" on Confluence", maxSubjectRunes),
		Inviter:      inviter,
		InviterEmail: inviterEmail,
		Site:         site,
		Host:         host,
		Org:          headerText(inv.OrgName, maxNameRunes),
		AcceptURL:    accept,
	}
	if msg := bodyText(inv.Message); msg != "" {
		v.MessageLines = strings.Split(msg, "\n")
	}
	if !inv.ExpiresAt.IsZero() {
		v.Expires = inv.ExpiresAt.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
	}

	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, v); err != nil {
		return Message{}, errors.New("email: render text body: " + err.Error())
	}
	if err := htmlTmpl.Execute(&html, v); err != nil {
		return Message{}, errors.New("email: render HTML body: " + err.Error())
	}
	return Message{To: inv.To, Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}

// checkAcceptURL accepts only absolute http and https URLs with a host and
// without control characters or white space, and returns the URL as given.
func checkAcceptURL(raw string) (string, error) {
	if raw == "" || strings.ContainsFunc(raw, func(r rune) bool { return isUnsafeRune(r) || unicode.IsSpace(r) }) {
		return "", ErrBadAcceptURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", ErrBadAcceptURL
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", ErrBadAcceptURL
	}
	return raw, nil
}
