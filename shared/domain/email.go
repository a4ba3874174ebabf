package domain

import (
	"net/mail"
	"strings"
	"unicode"
)

// MaxEmailLength is the longest address accepted (RFC 5321 path limit).
const MaxEmailLength = 254

// NormalizeEmail validates one address as typed by an admin and returns its
// normalised (lower-case) form, or a reason it is refused. Only a bare
// addr-spec is accepted: no display name, no comments, no control characters
// (so no CR/LF that could reach a mail header).
func NormalizeEmail(raw string) (string, string) {
	for _, r := range raw {
		if unicode.IsControl(r) {
			return "", "contains control characters (such as CR or LF)"
		}
	}
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", "is empty"
	case len(s) > MaxEmailLength:
		return "", "is longer than 254 characters"
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", "is not a valid email address"
	}
	at := strings.LastIndexByte(s, '@')
	local, domainPart := s[:at], s[at+1:]
	if len(local) > 64 {
		return "", "has a local part longer than 64 characters"
	}
	if !validDomain(domainPart) {
		return "", "has an invalid domain"
	}
	return strings.ToLower(s), ""
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > unicode.MaxASCII && unicode.IsLetter(r)) {
				return false
			}
		}
	}
	return true
}

// EmailDomain returns the lower-case domain of a normalised address.
func EmailDomain(normalized string) string {
	return normalized[strings.LastIndexByte(normalized, '@')+1:]
}

// IsExternal reports whether an address is outside the org's verified domains.
func IsExternal(normalized string, verifiedDomains []string) bool {
	d := EmailDomain(normalized)
	for _, v := range verifiedDomains {
		if strings.EqualFold(d, v) {
			return false
		}
	}
	return true
}
