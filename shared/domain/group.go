package domain

import (
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
