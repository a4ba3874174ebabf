package groups

import (
	"slices"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestIDFor: a group's id derived from its name is a slug (lower-case
// letters and digits, other runs one hyphen, none at the ends), at most 48
// characters, "" when the name has no letter or digit.
func TestIDFor(t *testing.T) {
	for name, want := range map[string]string{
		"  Agency Partners! ": "agency-partners",
		"R&D — team 2":        "r-d-team-2",
		"名前":                  "",
		"---":                 "",
	} {
		if got := idFor(name); got != want {
			t.Errorf("idFor(%q) = %q, want %q", name, got, want)
		}
	}
	long := idFor("abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij")
	if len(long) > 48 || long[len(long)-1] == '-' || !domain.ValidSlug(long) {
		t.Errorf("long name: %q", long)
	}
}

// TestWhy: the sources of a role are the direct role (none left out), then
// each group's by id order, named where the name is known.
func TestWhy(t *testing.T) {
	a := domain.Access{Direct: domain.RoleUser, Groups: map[string]domain.Role{"staff": domain.RoleUser, "partners": domain.RoleGuest}}
	got := Why(a, map[string]string{"staff": "Staff"})
	if want := []string{"direct: user", "group partners: guest", "group Staff: user"}; !slices.Equal(got, want) {
		t.Errorf("Why = %q, want %q", got, want)
	}
	if got := Why(domain.Access{Direct: domain.RoleNone}, nil); got != nil {
		t.Errorf("no source: %q", got)
	}
}
