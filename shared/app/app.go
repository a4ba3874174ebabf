// Package app is the composition shared by the functions' mains and the dev
// stack: configuration from the Lambda environment, and one constructor per
// function that wires the store, the service and the API adapter. Each
// function's main builds only what its constructor needs, so it links only
// the AWS services it uses.
package app

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/fanout"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/roles"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Store returns the table's store over a DynamoDB client built from env.
func Store(env config.Env) *store.Store {
	return store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
}

// CorsPreflight is CorsPreflightFunction's handler, for the dev stack (the
// function itself is built without this package's AWS clients: see
// functions/cors-preflight).
func CorsPreflight(env config.Env) httpapi.Handler { return httpapi.Preflight(env.Origins, env.Log) }

// Groups is GroupsFunction's handler: an organisation's groups (create,
// list, get, rename) and memberships (add, remove, list; a user's groups),
// with idempotency keys on the changes.
func Groups(env config.Env, st *store.Store, jobs *fanout.Service) httpapi.Handler {
	svc := &groups.Service{Store: st, Now: env.Now, Log: env.Log}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.GroupsHandler{Service: svc, Jobs: jobs, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Roles is RolesFunction's handler: a user's direct role on a site's
// product and their effective roles with why, with idempotency keys on the
// changes.
func Roles(env config.Env, st *store.Store) httpapi.Handler {
	svc := &roles.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.RolesHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}
