// Package htmlx builds small HTML documents without html/template, whose
// reflection (reflect.Value.Method) turns off the linker's dead-code removal.
//
// A Builder takes markup only as string constants written in the program
// (the parameter type is unexported, so a string variable does not compile),
// text only through Text, which escapes it, attribute values only through
// Attr, which quotes and escapes them, and URLs only through URLAttr, which
// takes a URL checked by ParseURL (absolute http or https). User data thus
// never reaches the document unescaped.
//
// Callers must pass Markup complete tags and text, never an unfinished tag or
// attribute: Text and Attr are correct in element content and in quoted
// attribute values respectively, not inside <script>, <style> or event
// handlers, which Builder offers no way to fill.
package htmlx

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// constant is the type of markup parameters. It is unexported so that only an
// untyped string constant converts to it implicitly: a string variable (user
// data) passed to Markup or as an attribute name is a compile error.
type constant string

// Builder accumulates one HTML document. The zero value is ready to use.
type Builder struct {
	b strings.Builder
}

// Markup appends trusted markup as it is. Only string constants are accepted.
func (b *Builder) Markup(s constant) {
	b.b.WriteString(string(s))
}

// Text appends s as element content, escaped (see Escape) and without the
// characters that are invisible or change the direction of what follows
// (domain.NeutralizeText), so that no text can hide or reorder the page
// around it.
func (b *Builder) Text(s string) {
	b.b.WriteString(domain.NeutralizeText(Escape(s)))
}

// Attr appends ` name="value"` with value escaped and neutralised as Text
// does. It panics if
// name is an attribute whose value is a URL, a script or a style (href, src,
// action, formaction, style, on*, …), which are written through URLAttr or as
// constant Markup only; attribute names are constants, so the panic is a
// programming error that any test rendering the call finds.
func (b *Builder) Attr(name constant, value string) {
	checkName(name, false)
	b.b.WriteByte(' ')
	b.b.WriteString(string(name))
	b.b.WriteString(`="`)
	b.b.WriteString(domain.NeutralizeText(Escape(value)))
	b.b.WriteByte('"')
}

// URLAttr appends ` name="url"` with the URL escaped for the attribute. It
// panics, like Attr, if name is not a URL attribute (href, src, action,
// formaction, cite).
func (b *Builder) URLAttr(name constant, u URL) {
	checkName(name, true)
	b.b.WriteByte(' ')
	b.b.WriteString(string(name))
	b.b.WriteString(`="`)
	b.b.WriteString(Escape(u.s))
	b.b.WriteByte('"')
}

// String returns the document built so far.
func (b *Builder) String() string {
	return b.b.String()
}

// urlAttrs are the attributes URLAttr may write.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "cite": true}

// checkName panics unless name is a plain attribute name of the kind asked
// for: for URLAttr one of urlAttrs, for Attr anything else that is neither a
// URL, an event handler, a style nor a srcset/xlink/data-bearing attribute.
func checkName(name constant, wantURL bool) {
	n := strings.ToLower(string(name))
	if n == "" || strings.ContainsFunc(n, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) {
		panic("htmlx: bad attribute name " + string(name))
	}
	if wantURL {
		if !urlAttrs[n] {
			panic("htmlx: URLAttr used for non-URL attribute " + n)
		}
		return
	}
	if urlAttrs[n] || strings.HasPrefix(n, "on") || n == "style" || n == "srcset" || n == "data" ||
		n == "codebase" || n == "background" || n == "poster" || n == "formaction" || n == "http-equiv" || n == "content" {
		panic("htmlx: Attr used for URL, script or style attribute " + n)
	}
}

// escaper replaces the five characters that are special in HTML content and
// quoted attribute values, and NUL, which HTML parsers treat inconsistently.
var escaper = strings.NewReplacer(
	`&`, "&amp;",
	`<`, "&lt;",
	`>`, "&gt;",
	`"`, "&#34;",
	`'`, "&#39;",
	"\x00", "\uFFFD",
)

// Escape returns s safe for HTML element content and for a quoted attribute
// value: &, <, >, " and ' become character references, NUL and invalid UTF-8
// become U+FFFD.
func Escape(s string) string {
	return escaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// URL is an absolute http or https URL checked by ParseURL. Its zero value is
// the empty URL.
type URL struct {
	s string
}

// String returns the URL as it was given to ParseURL.
func (u URL) String() string { return u.s }

// ErrURL is returned by ParseURL. Its text never contains the URL, which may
// carry a secret.
var ErrURL = errors.New("htmlx: not an absolute http(s) URL")

// ParseURL accepts only absolute http and https URLs with a host, without
// white space, control characters or invalid UTF-8, so javascript:, data:,
// relative and scheme-relative URLs are refused. The URL is kept as given.
func ParseURL(raw string) (URL, error) {
	if raw == "" || !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029'
	}) {
		return URL{}, ErrURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return URL{}, ErrURL
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return URL{}, ErrURL
	}
	return URL{s: raw}, nil
}
