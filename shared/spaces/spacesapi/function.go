// Package spacesapi is the HTTP side of a site's Confluence spaces and
// single-space guests (SpacesFunction): the routes' handler and the
// function's constructor.
package spacesapi

import (
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/spaces"
)

// Spaces is SpacesFunction's handler: a site's spaces (register, list,
// read, change), their admins and guests, and each guest's one space
// (assign, move, unassign), with idempotency keys (kept in keys) on the
// changes.
func Spaces(env config.Env, st spaces.Store, keys httpapi.KeyStore) httpapi.Handler {
	svc := spaces.New(st, env.Now)
	return env.CORS(httpapi.Endpoint{Handler: SpacesHandler{Service: svc, Log: env.Log}.Handle, Keys: keys, Now: env.Now, Log: env.Log}.Handle)
}
