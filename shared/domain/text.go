package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Invisible reports whether r is a character that a person cannot see, or
// that changes how the text around it is shown, the one rule for names and
// free text alike:
//
//   - control characters (Unicode Cc: C0, DEL, C1);
//   - format characters (Cf), among them the direction controls (U+200E,
//     U+200F, U+061C, the embeddings and overrides U+202A–U+202E, the
//     isolates U+2066–U+2069), the zero-width characters (U+200B–U+200D,
//     U+2060–U+2064, U+FEFF), the soft hyphen and the tag characters;
//   - the line and paragraph separators U+2028 and U+2029;
//   - the characters that draw nothing although they are letters or marks:
//     the combining grapheme joiner U+034F, the Hangul fillers U+115F,
//     U+1160, U+3164 and U+FFA0, the Khmer inherent vowels U+17B4 and
//     U+17B5 and the Mongolian variation selectors U+180B–U+180F.
//
// "adm\u202Enimda" shows as "admadmin"; "ad\u200Bmin" looks like "admin".
// Names refuse them (CheckName); free text is shown without them
// (NeutralizeText).
func Invisible(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
		return true
	}
	switch r {
	case '\u2028', '\u2029', '\u034F', '\u115F', '\u1160', '\u17B4', '\u17B5', '\u3164', '\uFFA0':
		return true
	}
	return r >= '\u180B' && r <= '\u180F'
}

// CheckName checks a display name (a group's, a space's, an API token's
// label, …) and trims it: valid UTF-8, 1 to max characters as given, at
// least one of them neither a space nor Invisible, and nothing Invisible.
// The spaces it trims from both ends are those of unicode.IsSpace; the
// count is of the characters as given (as JSON Schema's maxLength counts
// them), so a name the document allows is never refused for its length and
// one it refuses never passes. It returns the trimmed name, or an EINVALID
// error on field that says which character was refused and where.
func CheckName(field, name string, max int) (string, error) {
	if !utf8.ValidString(name) {
		return "", fieldError(field, "must be valid UTF-8")
	}
	n := strings.TrimSpace(name)
	if n == "" {
		return "", fieldError(field, "is required")
	}
	if why := InvisibleIn(name); why != "" {
		return "", fieldError(field, why)
	}
	if c := utf8.RuneCountInString(name); c > max {
		return "", fieldError(field, fmt.Sprintf("at most %d characters, got %d", max, c))
	}
	return n, nil
}

// InvisibleIn says why s is refused as a name ("" when it is not): the first
// Invisible character, as U+XXXX, and its position in characters.
func InvisibleIn(s string) string {
	i := 0
	for _, r := range s {
		i++
		if Invisible(r) {
			return fmt.Sprintf("must not contain invisible, control or direction-changing characters (U+%04X at character %d)", r, i)
		}
	}
	return ""
}

// NamePattern is the regular expression that every name the API accepts
// matches (CheckName), as the OpenAPI document states it: no Invisible
// character of the Basic Multilingual Plane, and at least one character
// that is not a space CheckName trims. It is written without lookahead
// (Go's regexp, which kin-openapi uses, has none) and without \s (which
// means other characters in ECMA-262, Python and Go): leading spaces, one
// character neither space nor Invisible, then anything not Invisible, each
// character written \uXXXX, the one notation that ECMA-262 (the document's
// dialect), Python's re and kin-openapi all read. The few Invisible
// characters beyond the Basic Multilingual Plane (the tags, some musical
// and Egyptian format controls) are refused all the same and named in the
// document's description.
func NamePattern() string {
	spaces := charClass(func(r rune) bool { return unicode.IsSpace(r) && !Invisible(r) })
	invisible := charClass(Invisible)
	return "^[" + spaces + "]*[^" + invisible + spaces + "][^" + invisible + "]*$"
}

// charClass writes the characters of the Basic Multilingual Plane for which
// in holds as the ranges of a regular expression's character class, each
// character as \uXXXX.
func charClass(in func(rune) bool) string {
	var b strings.Builder
	for r := rune(0); r <= 0xFFFF; r++ {
		if !in(r) {
			continue
		}
		end := r
		for end+1 <= 0xFFFF && in(end+1) {
			end++
		}
		fmt.Fprintf(&b, "\\u%04X", r)
		if end > r {
			fmt.Fprintf(&b, "-\\u%04X", end)
		}
		r = end
	}
	return b.String()
}

// NeutralizeText returns free text (a personal message, a name read from
// elsewhere) as it may be shown: invalid UTF-8 becomes U+FFFD and every
// Invisible character goes, except line feeds and tabs, and the zero-width
// joiner and non-joiner between two visible characters, where they shape
// a script (Persian, Indic) or an emoji sequence and cannot hide anything.
func NeutralizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, Invisible) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch {
		case r == '\n' || r == '\t' || !Invisible(r):
		case (r == '\u200C' || r == '\u200D') && i > 0 && i+1 < len(rs) && visible(rs[i-1]) && visible(rs[i+1]):
		default:
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// visible reports a character that draws something.
func visible(r rune) bool { return !Invisible(r) && !unicode.IsSpace(r) }
