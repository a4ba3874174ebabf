package jobs

import (
	"context"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestSetGroupRoleNeedsARole: the document requires the role of PUT
// .../roles/{siteId}/{product}; a body without one (the empty string) or
// with a padded one is a 400 before anything is read (the service has no
// store here), not "none", which would strip the group's role.
func TestSetGroupRoleNeedsARole(t *testing.T) {
	s := &Service{}
	for _, role := range []string{"", " guest", "none "} {
		_, err := s.SetGroupRole(context.Background(), domain.Caller{AccountID: "admin"}, "o", "g", "s", "confluence", role)
		if e, ok := err.(*domain.Error); !ok || e.Code != domain.EINVALID || e.Fields["role"] == "" {
			t.Errorf("role %q: %v, want EINVALID on role", role, err)
		}
	}
}
