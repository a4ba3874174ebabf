package domain

import "time"

// Space is a Confluence space on a site. Guests are assigned to at most one
// space; spaces open to anonymous access are visible to guests too.
type Space struct {
	OrgID  string
	SiteID string
	// Key is the space's key, e.g. "MKT": upper-case letters and digits.
	Key             string
	Name            string
	AnonymousAccess bool
	CreatedAt       time.Time
	CreatedBy       string
}

// MaxSpaceKey is the longest space key accepted.
const MaxSpaceKey = 64

// ValidSpaceKey reports whether s is a space key: 1 to MaxSpaceKey upper-case
// ASCII letters and digits, starting with a letter (Confluence's rule). Keys
// end up in table keys, so nothing else is let through.
func ValidSpaceKey(s string) bool {
	if len(s) == 0 || len(s) > MaxSpaceKey || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
