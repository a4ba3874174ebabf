package mailbox

import (
	"html"
	"regexp"
	"strings"
)

var (
	reHTMLMarkup = regexp.MustCompile(`(?i)<(!doctype|html|head|body|p|br|div|table|td|a|span|b|strong|em|i|h[1-6]|blockquote|ul|ol|li)\b[^>]*>`)
	reDropBlocks = regexp.MustCompile(`(?is)<(head|style|script|title)\b[^>]*>.*?</(head|style|script|title)\s*>`)
	reComment    = regexp.MustCompile(`(?s)<!--.*?-->`)
	reAnchor     = regexp.MustCompile(`(?is)<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>`)
	reLineBreak  = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|h[1-6]|blockquote|li|table|ul|ol)\s*>|<(p|div|tr|h[1-6]|blockquote|li|table|ul|ol)\b[^>]*>`)
	reTag        = regexp.MustCompile(`<[^>]*>`)
	reSpaces     = regexp.MustCompile(`[ \t\f\v\r]+`)
	reBlankLines = regexp.MustCompile(`\n{3,}`)
)

// looksLikeHTML reports whether body carries HTML markup.
func looksLikeHTML(body string) bool { return reHTMLMarkup.MatchString(body) }

// HTMLToText renders an HTML body as plain text, for emulators that keep only
// the HTML part: head, style and script are dropped, block ends and <br>
// become line breaks, each link becomes "label (url)" (just the url when the
// label is the url), other tags are dropped and entities are decoded.
func HTMLToText(s string) string {
	s = reComment.ReplaceAllString(s, "")
	s = reDropBlocks.ReplaceAllString(s, "")
	s = reAnchor.ReplaceAllStringFunc(s, func(a string) string {
		g := reAnchor.FindStringSubmatch(a)
		href := strings.TrimSpace(html.UnescapeString(g[1] + g[2] + g[3]))
		label := strings.TrimSpace(html.UnescapeString(reTag.ReplaceAllString(g[4], "")))
		switch {
		case href == "" || label == href:
			// keep the label only
		case label == "":
			label = href
		default:
			label += " (" + href + ")"
		}
		// Re-escape so the later entity decoding yields the text once.
		return html.EscapeString(label)
	})
	s = reLineBreak.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(reSpaces.ReplaceAllString(l, " "))
	}
	s = reBlankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s) + "\n"
}
