package domain

import (
	"slices"
	"strings"
)

// MaxGroupName is the longest group name, in characters.
const MaxGroupName = 128

// CleanGroupName trims a group name and checks it (CheckName): 1 to 128
// characters, none of them Invisible. It returns the name, or an EINVALID
// error on the field.
func CleanGroupName(name string) (string, error) { return CheckName("name", name, MaxGroupName) }

// GroupNameKey is the form group names are compared in (case-insensitive).
func GroupNameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// GroupIDFor derives a group id (a slug) from a name: lower-case letters and
// digits, other runs as one hyphen; "" when nothing is left (the caller then
// generates one).
func GroupIDFor(name string) string {
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

func fieldError(field, msg string) *Error {
	return &Error{Code: EINVALID, Message: "The request is not valid.", Fields: map[string]string{field: msg}}
}

// Conversion is one user whose kind on a site's Confluence changed (guest
// to paid, paid to guest, none to either, either to none), and why: the
// sources of their new effective role.
type Conversion struct {
	AccountID string
	Email     string
	SiteID    string
	From, To  Kind
	// Why names what gives the new role: "direct: user", "group staff: user".
	Why []string
}

// Why lists the sources of an access's effective role, for the answers that
// say why someone has a role: the direct role and each group's role, with
// group ids mapped to names where known.
func Why(a Access, groupNames map[string]string) []string {
	var out []string
	if a.Direct != "" && a.Direct != RoleNone {
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
