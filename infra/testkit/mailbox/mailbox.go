// Package mailbox reads the messages that an SES emulator "sent", so that
// end-to-end tests can assert on real delivered mail and follow its links.
//
// Two emulators are supported:
//
//   - moto (Moto): GET {BaseURL}/moto-api/data.json. Sent SendEmail messages
//     are under "ses" → "Message", each
//     {"id", "source", "subject", "body", "destinations": {"ToAddresses": [...],
//     "CcAddresses": [...], "BccAddresses": [...]}}. moto keeps only ONE body:
//     the HTML part when the request had one, else the text part. Moto
//     therefore fills HTML with that body and derives Text from it (tags
//     dropped, links kept as "label (url)", entities decoded); a body without
//     HTML markup is taken as Text. SendRawEmail messages ("ses" →
//     "RawMessage": {"id", "source", "destinations": [...], "raw_data"}) are
//     parsed as MIME. Templated messages are not rendered by moto and are
//     left out.
//   - aws-ses-v2-local (SESLocal): GET {BaseURL}/store, which answers
//     {"templates": {...}, "emails": [{"messageId", "from", "replyTo": [...],
//     "destination": {"to": [...], "cc": [...], "bcc": [...]}, "subject",
//     "body": {"text", "html"}, "attachments": [...], "at": <unix seconds>}]}.
//
// Both return every message the emulator holds, oldest first: tests should
// use unique recipient addresses and filter on them.
package mailbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
)

// Mail is one sent message as the emulator recorded it.
type Mail struct {
	// ID is the message id the emulator returned from the send call.
	ID string
	// From is the sender (SendEmail's Source) as sent.
	From string
	// To lists the To recipients, as bare addresses where they parse.
	To []string
	// Cc lists the Cc recipients, as bare addresses where they parse.
	Cc []string
	// Bcc lists the Bcc recipients, as bare addresses where they parse.
	Bcc []string
	// Subject is the subject line.
	Subject string
	// Text is the plain-text body (derived from HTML when the emulator kept
	// only the HTML body, as moto does).
	Text string
	// HTML is the HTML body, empty when the message had none.
	HTML string
}

// Reader lists the messages an emulator has accepted.
type Reader interface {
	// Messages returns every message sent so far, oldest first.
	Messages(ctx context.Context) ([]Mail, error)
}

var (
	_ Reader = Moto{}
	_ Reader = SESLocal{}
)

// maxResponse caps how much of an emulator's answer is read.
const maxResponse = 64 << 20

// getJSON fetches url and decodes its JSON body into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mailbox: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("mailbox: GET %s: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		snippet := string(body)
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return fmt.Errorf("mailbox: GET %s: status %d: %s", url, resp.StatusCode, snippet)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("mailbox: GET %s: decode JSON: %w", url, err)
	}
	return nil
}

// bareAddresses turns recipient strings, each possibly "Name <addr>" or a
// comma-separated list, into bare addresses; what does not parse is kept
// trimmed as it was.
func bareAddresses(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		list, err := mail.ParseAddressList(s)
		if err != nil {
			out = append(out, s)
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// FindLink returns the first URL in a text body that starts with prefix. The
// URL runs from the prefix to the first white space, quote or angle bracket,
// without trailing sentence punctuation. A match must start the body or
// follow white space or an opening delimiter, so a prefix embedded inside
// another URL is not taken.
func FindLink(body, prefix string) (string, bool) {
	if prefix == "" {
		return "", false
	}
	for from := 0; from < len(body); {
		i := strings.Index(body[from:], prefix)
		if i < 0 {
			return "", false
		}
		start := from + i
		from = start + 1
		if start > 0 && !strings.ContainsRune(" \t\r\n<([\"'", rune(body[start-1])) {
			continue
		}
		end := start + len(prefix)
		for end < len(body) && !strings.ContainsRune(" \t\r\n<>\"'`", rune(body[end])) {
			end++
		}
		link := body[start:end]
		for len(link) > len(prefix) && strings.ContainsRune(".,;:!?)]", rune(link[len(link)-1])) {
			link = link[:len(link)-1]
		}
		return link, true
	}
	return "", false
}
