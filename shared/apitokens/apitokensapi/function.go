// Package apitokensapi is the HTTP side of users' API tokens: the handler
// of their routes (create, list, revoke) and ApiTokensFunction's
// constructor, which wires it to the service and the table.
package apitokensapi

import (
	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

// APITokens is ApiTokensFunction's handler: a user's API tokens (create,
// with the secret shown once; list; revoke). No idempotency keys: a stored
// reply would keep the secret for a day, and only its hash may be stored; a
// retried create makes another token (the user revokes the one unseen).
func APITokens(env config.Env, st *store.Store) httpapi.Handler {
	svc := &apitokens.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: Handler{Service: svc, Log: env.Log, Now: env.Now}.Handle, Log: env.Log}.Handle)
}
