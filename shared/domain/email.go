package domain

import (
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// MaxEmailLength is the longest address accepted (RFC 5321's path limit less
// the angle brackets), counted after the domain is in its ASCII form.
const MaxEmailLength = 254

// idnaProfile maps a domain the way a browser's lookup does (case folding,
// NFC, UTS #46 mapping) and refuses what is not a valid host name.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true), idna.StrictDomainName(true), idna.Transitional(false))

// NormalizeEmail returns the canonical form of an email address, or "" and a
// reason (for the person who typed it) when it is not one. The canonical form
// is lower case, with the domain in its IDNA ASCII form ("bücher.example"
// becomes "xn--bcher-kva.example"), so that one mailbox has one spelling:
// that form is what uniqueness, storage and sending use. SES accepts only
// ASCII addresses, so a local part with non-ASCII characters is refused.
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
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil || !validDomain(ascii) {
		return "", "has an invalid domain"
	}
	s = local + "@" + ascii
	if len(s) > MaxEmailLength {
		return "", "is longer than 254 characters"
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", "is not a valid email address"
	}
	return strings.ToLower(s), ""
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

// NormalizeDomain returns a domain in its lower-case IDNA ASCII form, or ""
// when it is not a valid domain.
func NormalizeDomain(d string) string {
	ascii, err := idnaProfile.ToASCII(strings.TrimSpace(d))
	if err != nil || !validDomain(ascii) {
		return ""
	}
	return strings.ToLower(ascii)
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
