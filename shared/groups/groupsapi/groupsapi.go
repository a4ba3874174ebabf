// Package groupsapi is the HTTP side of the groups capability: the handlers
// of GroupsFunction (groups, memberships, and the jobs that change a
// group's role or delete it) and RolesFunction (direct and effective
// roles), and the constructors that wire each function (and
// GroupJobsWorkerFunction) from its configuration and the store.
package groupsapi

import (
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Groups is GroupsFunction's handler: an organisation's groups (create,
// list, get, rename) and memberships (add, remove, list; a user's groups),
// with idempotency keys on the changes.
func Groups(env config.Env, st *store.Store, roleJobs *jobs.Service) httpapi.Handler {
	svc := groups.New(st)
	svc.Now, svc.Log = env.Now, env.Log
	return env.CORS(httpapi.Endpoint{Handler: GroupsHandler{Service: svc, Jobs: roleJobs, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Roles is RolesFunction's handler: a user's direct role on a site's
// product and their effective roles with why, with idempotency keys on the
// changes.
func Roles(env config.Env, st *store.Store) httpapi.Handler {
	svc := groups.NewRoles(st)
	svc.Now = env.Now
	return env.CORS(httpapi.Endpoint{Handler: RolesHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}
