package domain

import (
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// MaxEmailLength is the longest address accepted (RFC 5321's path limit less
// the angle brackets), counted after the domain is in its ASCII form.
const MaxEmailLength = 254

// Internationalised domains get the full UTS #46 processing for lookup
// (golang.org/x/net/idna, non-transitional): the mapping (case folding,
// width and compatibility forms, so "ＢÜＣＨＥＲ．example" is "bücher.example"),
// normalisation to NFC (so "bu\u0308cher", u + combining diaeresis, is
// "bücher"), then the validity checks (STD3 host names, hyphens, ContextJ
// joiners, the Bidi rule, NFC and canonical Punycode in "xn--" labels, DNS
// lengths), then Punycode. Every spelling of one domain thus has one ASCII
// form, and that form is what uniqueness, storage and sending use.
// NormalizeEmail returns the canonical form of an email address, or "" and a
// reason (for the person who typed it) when it is not one. Only a bare
// addr-spec with a dot-atom local part is accepted: no display name, no
// comments, no quoted local part, no control characters (so no CR/LF that
// could reach a mail header). The canonical form is lower case, with the
// domain in its IDNA ASCII form ("Bücher.example" becomes
// "xn--bcher-kva.example"), so that one mailbox has one spelling: that form
// is what uniqueness, storage and sending use. SES accepts only ASCII
// addresses, so a local part with non-ASCII characters is refused.
func NormalizeEmail(raw string) (string, string) {
	for _, r := range raw {
		if unicode.IsControl(r) {
			return "", "contains control characters (such as CR or LF)"
		}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "is empty"
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", "is not a valid email address"
	}
	local, host := s[:at], s[at+1:]
	for _, r := range local {
		if r > unicode.MaxASCII {
			return "", "has non-ASCII characters before the @; email can only be sent to ASCII local parts"
		}
	}
	if len(local) > 64 {
		return "", "has a local part longer than 64 characters"
	}
	if !validLocal(local) {
		return "", "is not a valid email address"
	}
	ascii := NormalizeDomain(host)
	if ascii == "" {
		return "", "has an invalid domain"
	}
	s = strings.ToLower(local) + "@" + ascii
	if len(s) > MaxEmailLength {
		return "", "is longer than 254 characters"
	}
	return s, ""
}

// domainProfile is UTS #46 processing for lookup, spelled out rather than
// idna.Lookup (whose options "may change over time"): the ASCII form is a
// stored key, so what maps to it must not change with a dependency update.
var domainProfile = idna.New(
	idna.MapForLookup(),      // UTS #46 mapping + NFC; STD3 rules; label validation
	idna.Transitional(false), // ß, ς, ZWJ and ZWNJ are kept, as IDNA2008 and browsers do
	idna.CheckHyphens(true),  // no leading/trailing hyphen, no "--" in positions 3-4 but "xn--"
	idna.CheckJoiners(true),  // RFC 5892 ContextJ
	idna.BidiRule(),          // RFC 5893
	idna.VerifyDNSLength(true),
)

// NormalizeDomain returns a domain in its IDNA ASCII form (lower case), or ""
// when it is not a valid domain: UTS #46 processing for lookup (see above),
// at least two labels, and Unicode labels of letters, digits, marks and
// hyphens only. The last rule is IDNA2008's: UTS #46 also admits symbols
// and punctuation (its NV8 status, such as "☃" or "♥"), which IDNA2008 and
// most registries refuse.
func NormalizeDomain(d string) string {
	ascii, err := domainProfile.ToASCII(strings.TrimSpace(d))
	if err != nil || !validDomain(ascii) {
		return ""
	}
	// The ASCII form must be canonical: its Unicode form, processed again,
	// gives it back (an "xn--" label that decodes to ASCII or to a
	// non-NFC string was refused above already).
	u, err := domainProfile.ToUnicode(ascii)
	if err != nil {
		return ""
	}
	if again, err := domainProfile.ToASCII(u); err != nil || again != ascii {
		return ""
	}
	for _, r := range u {
		if r > unicode.MaxASCII && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return ""
		}
	}
	return ascii
}

// ValidAddress reports whether s is a bare ASCII addr-spec: a dot-atom local
// part, "@", and a domain of at least two labels of letters, digits and
// hyphens. It is what may reach a mail header.
func ValidAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && len(s) <= MaxEmailLength && validLocal(s[:at]) && validDomain(s[at+1:])
}

// validLocal checks an RFC 5322 dot-atom: atext runs separated by single dots.
func validLocal(l string) bool {
	if l == "" || len(l) > 64 || l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return true
}

// validDomain checks an ASCII domain: at least two labels of letters, digits
// and hyphens, none starting or ending with a hyphen.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// EmailDomain returns the domain of a normalised address.
func EmailDomain(normalized string) string {
	return normalized[strings.LastIndexByte(normalized, '@')+1:]
}

// IsExternal reports whether a normalised address is outside the verified
// domains (exact domain match; subdomains are not implied). Verified domains
// may be given in Unicode or ASCII form.
func IsExternal(normalized string, verifiedDomains []string) bool {
	d := EmailDomain(normalized)
	for _, v := range verifiedDomains {
		if n := NormalizeDomain(v); n != "" && n == d {
			return false
		}
	}
	return true
}
