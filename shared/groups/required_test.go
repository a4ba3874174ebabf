package groups

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestSetDirectNeedsARole: SetRoleRequest requires the role; a body
// without one is a 400 before anything is read (no store here), not
// "none", which would remove the user's direct role.
func TestSetDirectNeedsARole(t *testing.T) {
	s := &RoleService{}
	for _, role := range []string{"", " user"} {
		_, err := s.SetDirect(context.Background(), domain.Caller{AccountID: "admin"}, "o", "s", "confluence", "u", role)
		if e, ok := err.(*domain.Error); !ok || e.Code != domain.EINVALID || e.Fields["role"] == "" {
			t.Errorf("role %q: %v, want EINVALID on role", role, err)
		}
	}
}
