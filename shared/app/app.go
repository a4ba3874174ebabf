// Package app is the composition shared by the functions' mains and the dev
// stack: configuration from the Lambda environment, and one constructor per
// function that wires the store, the service and the API adapter. Each
// function's main builds only what its constructor needs, so it links only
// the AWS services it uses.
package app

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/audit"
	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/decision"
	"github.com/guestaccess/guestaccess/shared/extpolicy"
	"github.com/guestaccess/guestaccess/shared/fanout"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/roles"
	"github.com/guestaccess/guestaccess/shared/spaces"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/users"
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

// AccessDecision is AccessDecisionFunction's handler: GET
// /orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}, asked
// by products (tokens with the scope access:decide), one BatchGetItem a
// decision (the API token presented included) and at most one UpdateItem a
// user a day (last active). No idempotency keys: it changes nothing an
// admin made.
func AccessDecision(env config.Env, st *store.Store) httpapi.Handler {
	return env.CORS(httpapi.Endpoint{Handler: httpapi.DecisionHandler{Service: &decision.Service{Store: st, Now: env.Now, Log: env.Log}, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// Spaces is SpacesFunction's handler: a site's spaces (register, list,
// read, change), their admins and guests, and each guest's one space
// (assign, move, unassign), with idempotency keys on the changes.
func Spaces(env config.Env, st *store.Store) httpapi.Handler {
	svc := &spaces.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.SpacesHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Users is UsersFunction's handler: an account's life in its org (remove,
// suspend or restore) and revoking a site's pending invitation, with
// idempotency keys on the changes.
func Users(env config.Env, st *store.Store) httpapi.Handler {
	svc := &users.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.UsersHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Billing is BillingFunction's handler: a site's guest list, its billing
// summary and the recount of its counters (idempotency keys on the
// recount, a POST).
func Billing(env config.Env, st *store.Store) httpapi.Handler {
	svc := &billing.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.BillingHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}

// Audit is AuditFunction's handler: an organisation's audit log.
func Audit(env config.Env, st *store.Store) httpapi.Handler {
	svc := &audit.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.AuditHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle)
}

// ExternalPolicy is ExternalPolicyFunction's handler: the org's external
// user policy and test policy (read, change, preview a change) and the
// resets of sessions, with idempotency keys on the changes.
func ExternalPolicy(env config.Env, st *store.Store) httpapi.Handler {
	svc := &extpolicy.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.PolicyHandler{Service: svc, Log: env.Log}.Handle, Keys: st, Now: env.Now, Log: env.Log}.Handle)
}
