package emails

import (
	"errors"
	"time"

	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// Passcode is what a verification code email says and to whom.
type Passcode struct {
	// To is the recipient: a bare addr-spec.
	To string
	// OrgName is the organisation asking for the verification.
	OrgName string
	// Code is the 6-digit one-time passcode.
	Code string
	// ExpiresAt is when the code stops working.
	ExpiresAt time.Time
	// PageURL is the verification page (absolute http or https), where the
	// code is typed.
	PageURL string
	// LinkURL, when set, is the page with the address and the link key
	// (absolute http or https): opening it verifies without typing the code,
	// and it keeps working when wrong codes have used up the code's tries.
	LinkURL string
}

// ErrBadCode is returned when a passcode is not 6 digits.
var ErrBadCode = errors.New("email: passcode must be 6 digits")

// RenderPasscode renders the email carrying a one-time passcode: the code
// alone on its own line in the text body and in large type in the HTML
// body, when it expires, and the page to type it into. The organisation's
// name is the only user-controlled text; it is escaped like the
// invitation's.
func RenderPasscode(p Passcode) (Message, error) {
	if err := CheckAddress(p.To); err != nil {
		return Message{}, err
	}
	if len(p.Code) != 6 || !digits(p.Code) {
		return Message{}, ErrBadCode
	}
	page, err := checkAcceptURL(p.PageURL)
	if err != nil {
		return Message{}, err
	}
	var link htmlx.URL
	hasLink := p.LinkURL != ""
	if hasLink {
		if link, err = checkAcceptURL(p.LinkURL); err != nil {
			return Message{}, err
		}
	}
	org := headerText(p.OrgName, maxNameRunes)
	if org == "" {
		org = "your organisation"
	}
	expires := p.ExpiresAt.UTC().Format("15:04 UTC")
	subject := headerText("Your verification code for "+org+": "+p.Code, maxSubjectRunes)

	text := "Hello,\n\nYour verification code for " + org + " is:\n\n    " + p.Code + "\n\n" +
		"Type it on the verification page:\n" + page.String() + "\n\n"
	if hasLink {
		text += "Or open this link to verify without typing the code (it works even if someone else typed wrong codes):\n" + link.String() + "\n\n"
	}
	text += "It works until " + expires + " (10 minutes) and for 5 tries. " +
		"If you did not ask for it, you can ignore this email: nobody can use the code without your mailbox.\n"

	var h htmlx.Builder
	layoutStart(&h, subject)
	h.Markup(`<h1 style="font-size:22px;line-height:28px;margin:0 0 16px">Your verification code</h1>
<p style="font-size:15px;line-height:22px;margin:0 0 16px">Your verification code for <strong>`)
	h.Text(org)
	h.Markup(`</strong> is:</p>
<p style="font-size:32px;letter-spacing:6px;font-weight:bold;margin:0 0 16px" id="code">`)
	h.Text(p.Code)
	h.Markup(`</p>
<p style="font-size:15px;line-height:22px;margin:0 0 16px">Type it on the <a`)
	h.URLAttr("href", page)
	h.Markup(` style="color:#0052cc">verification page</a>. It works until `)
	h.Text(expires)
	h.Markup(` (10 minutes) and for 5 tries.</p>
`)
	if hasLink {
		h.Markup(`<p style="font-size:15px;line-height:22px;margin:0 0 16px">Or <a id="link"`)
		h.URLAttr("href", link)
		h.Markup(` style="color:#0052cc">verify with this link</a>, without typing the code (it works even if someone else typed wrong codes).</p>
`)
	}
	h.Markup(`<p style="font-size:13px;line-height:20px;margin:0;color:#5e6c84">If you did not ask for it, you can ignore this email: nobody can use the code without your mailbox.</p>`)
	layoutEnd(&h)
	return Message{To: p.To, Subject: subject, Text: text, HTML: h.String()}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
