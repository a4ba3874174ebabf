package jobs

import (
	"fmt"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestJobNotRunningIsTheSentinel: the worker drops a page when the store
// refused it with domain.ErrJobNotRunning, however wrapped, and only then:
// another error that happens to carry the same English message is not it.
func TestJobNotRunningIsTheSentinel(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"the sentinel", domain.ErrJobNotRunning, true},
		{"wrapped", fmt.Errorf("apply page 3: %w", domain.ErrJobNotRunning), true},
		{"same message, another error", domain.Errorf(domain.ECONFLICT, "The job is not running."), false},
		{"another conflict", domain.Errorf(domain.ECONFLICT, "The group changed."), false},
		{"nil", nil, false},
	} {
		if got := jobNotRunning(c.err); got != c.want {
			t.Errorf("%s: jobNotRunning = %v, want %v", c.name, got, c.want)
		}
	}
}
