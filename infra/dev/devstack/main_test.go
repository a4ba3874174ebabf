package devstack_test

import (
	"os"
	"testing"

	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// TestMain stops the binary's one headless browser (if a test started it)
// after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Shutdown()
	os.Exit(code)
}
