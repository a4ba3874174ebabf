// Package usersapi is the HTTP side of an account's life in its org
// (UsersFunction): the routes' handler and the function's constructor.
package usersapi

import (
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/users"
)

// Users is UsersFunction's handler: an account's life in its org (remove,
// suspend or restore) and revoking a site's pending invitation, with
// idempotency keys (kept in keys) on the changes.
func Users(env config.Env, st users.Store, keys httpapi.KeyStore) httpapi.Handler {
	svc := users.New(st, env.Now)
	return env.CORS(httpapi.Endpoint{Handler: UsersHandler{Service: svc, Log: env.Log}.Handle, Keys: keys, Now: env.Now, Log: env.Log}.Handle)
}
