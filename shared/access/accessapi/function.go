// Package accessapi is the HTTP side of the access decision
// (AccessDecisionFunction): the route's handler, which only products'
// tokens pass, and the function's constructor.
package accessapi

import (
	"github.com/guestaccess/guestaccess/shared/access"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

// AccessDecision is AccessDecisionFunction's handler: GET
// /orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}, asked
// by products (tokens with the scope access:decide), one BatchGetItem a
// decision (the API token presented included) and at most one UpdateItem a
// user a day (last active). No idempotency keys: it changes nothing an
// admin made.
func AccessDecision(env config.Env, st access.Store) httpapi.Handler {
	return env.CORS(httpapi.Endpoint{Handler: DecisionHandler{Service: access.New(st, env.Now, env.Log), Log: env.Log}.Handle, Log: env.Log}.Handle)
}
