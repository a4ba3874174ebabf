// Package extpolicyapi is the external user policy's HTTP side: the
// handler of ExternalPolicyFunction's routes and the constructor that wires
// it to the store and the service.
package extpolicyapi

import (
	"github.com/guestaccess/guestaccess/shared/extpolicy"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

// ExternalPolicy is ExternalPolicyFunction's handler: the org's external
// user policy and test policy (read, change, preview a change) and the
// resets of sessions, with idempotency keys on the changes.
func ExternalPolicy(env config.Env, st *store.Store) httpapi.Handler {
	svc := &extpolicy.Service{Ports: extpolicy.PortsOf(st), Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: PolicyHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}
