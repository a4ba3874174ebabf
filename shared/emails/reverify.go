package emails

import (
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// Reverification is the email the re-verification job sends an external
// user whose two-step verification lapsed: their next access is denied
// until they verify again on the verification page.
type Reverification struct {
	// To is the recipient: a bare addr-spec.
	To string
	// OrgName is the name of the organisation whose policy requires it.
	OrgName string
	// VerifyURL is the absolute http(s) link of the org's verification page.
	VerifyURL string
	// LapsedAt is when the verification lapsed; zero when unknown (a reset).
	LapsedAt time.Time
}

// RenderReverification renders the subject, text and HTML bodies of a
// re-verification email. It fails when r.To is not a bare address (see
// CheckAddress) or r.VerifyURL is not an absolute http(s) URL.
func RenderReverification(r Reverification) (Message, error) {
	if err := CheckAddress(r.To); err != nil {
		return Message{}, err
	}
	link, err := checkAcceptURL(r.VerifyURL)
	if err != nil {
		return Message{}, err
	}
	org := headerText(r.OrgName, maxNameRunes)
	if org == "" {
		org = "your organisation"
	}
	subject := headerText("Verify your email again to keep access to "+org, maxSubjectRunes)
	lapsed := ""
	if !r.LapsedAt.IsZero() {
		lapsed = r.LapsedAt.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
	}

	var t strings.Builder
	t.WriteString("Hello,\n\n" + org + " asks external users to verify their email address with a one-time code from time to time.\n")
	if lapsed != "" {
		t.WriteString("Your last verification lapsed on " + lapsed + ".\n")
	} else {
		t.WriteString("Your last verification is no longer in force.\n")
	}
	t.WriteString("Until you verify again, your access is denied.\n\nVerify your email:\n" + link.String() + "\n\n")
	t.WriteString("The page emails you a 6-digit code to type in. If you did not expect this email, you can ignore it.\n")

	var h htmlx.Builder
	layoutStart(&h, subject)
	h.Markup(`<h1 style="font-size:22px;line-height:28px;margin:0 0 16px;color:#172b4d">Verify your email again</h1>
<p style="font-size:15px;line-height:22px;margin:0 0 16px"><strong>`)
	h.Text(org)
	h.Markup(`</strong> asks external users to verify their email address with a one-time code from time to time. `)
	if lapsed != "" {
		h.Markup(`Your last verification lapsed on `)
		h.Text(lapsed)
		h.Markup(`.`)
	} else {
		h.Markup(`Your last verification is no longer in force.`)
	}
	h.Markup(` Until you verify again, your access is denied.</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:24px 0"><tr><td style="background:#0052cc;border-radius:4px">
<a`)
	h.URLAttr("href", link)
	h.Markup(` style="display:inline-block;padding:12px 24px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none">Verify your email</a>
</td></tr></table>
<p style="font-size:13px;line-height:20px;margin:0 0 8px;color:#5e6c84">The page emails you a 6-digit code to type in. If the button does not work, copy this address into your browser:<br><a`)
	h.URLAttr("href", link)
	h.Markup(` style="color:#0052cc;word-break:break-all">`)
	h.Text(link.String())
	h.Markup(`</a></p>
<p style="font-size:13px;line-height:20px;margin:0;color:#5e6c84">If you did not expect this email, you can ignore it.</p>`)
	layoutEnd(&h)
	return Message{To: r.To, Subject: subject, Text: t.String(), HTML: h.String()}, nil
}
