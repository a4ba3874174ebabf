// Package billingapi is the HTTP side of a site's guest list and billing
// (BillingFunction): the routes' handler and the function's constructor.
package billingapi

import (
	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

// Billing is BillingFunction's handler: a site's guest list, its billing
// summary and the recount of its counters (idempotency keys, kept in keys,
// on the recount, a POST).
func Billing(env config.Env, st billing.Store, keys httpapi.KeyStore) httpapi.Handler {
	svc := billing.New(st, env.Now)
	return env.CORS(httpapi.Endpoint{Handler: BillingHandler{Service: svc, Log: env.Log}.Handle, Keys: keys, Now: env.Now, Log: env.Log}.Handle)
}
