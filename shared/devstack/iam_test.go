package devstack_test

import (
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/devstack"
)

// checkGrants fails t for every AWS call a function of the stack made that
// its policy in template.yaml does not grant: the emulators do not enforce
// IAM, so without this a missing grant would first show on real AWS.
func checkGrants(t *testing.T, st *devstack.Stack) {
	t.Helper()
	missing := st.Calls.Ungranted(st.Template)
	if len(missing) == 0 {
		return
	}
	var b strings.Builder
	for _, c := range missing {
		b.WriteString("\n\t" + c.String())
	}
	t.Errorf("template.yaml does not grant what the functions called (function: IAM action on resource):%s", b.String())
}
