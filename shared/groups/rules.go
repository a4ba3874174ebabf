package groups

import (
	"slices"
	"strings"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The rules only this capability uses.

// idFor derives a group id (a slug) from a name: lower-case letters and
// digits, other runs as one hyphen; "" when nothing is left (the caller then
// generates one).
func idFor(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// Why lists the sources of an access's effective role, for the answers that
// say why someone has a role: the direct role and each group's role, with
// group ids mapped to names where known.
func Why(a domain.Access, groupNames map[string]string) []string {
	var out []string
	if a.Direct != "" && a.Direct != domain.RoleNone {
		out = append(out, "direct: "+string(a.Direct))
	}
	ids := make([]string, 0, len(a.Groups))
	for g := range a.Groups {
		ids = append(ids, g)
	}
	slices.Sort(ids)
	for _, g := range ids {
		name := groupNames[g]
		if name == "" {
			name = g
		}
		out = append(out, "group "+name+": "+string(a.Groups[g]))
	}
	return out
}
