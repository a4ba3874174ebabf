// Package app is the composition shared by the functions' mains and the dev
// stack: configuration from the Lambda environment, and one constructor per
// function that wires the store, the service and the API adapter. Each
// function's main builds only what its constructor needs, so it links only
// the AWS services it uses.
package app

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/apitokens"
	"github.com/guestaccess/guestaccess/shared/audit"
	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/decision"
	"github.com/guestaccess/guestaccess/shared/extpolicy"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/publicurl"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/spaces"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/users"
	"github.com/guestaccess/guestaccess/shared/verify"
)

// Store returns the table's store over a DynamoDB client built from env.
func Store(env config.Env) *store.Store {
	return store.New(dynamodb.NewFromConfig(env.AWS, env.DynamoDBOptions...), env.Table)
}

// CorsPreflight is CorsPreflightFunction's handler, for the dev stack (the
// function itself is built without this package's AWS clients: see
// functions/cors-preflight).
func CorsPreflight(env config.Env) httpapi.Handler { return httpapi.Preflight(env.Origins, env.Log) }

// VerifyPage is VerifyFunction's handler: the guest-facing two-step
// verification page (GET shows, POST sends a code or checks one). No
// idempotency keys: it is a public page, like the accept page.
func VerifyPage(env config.Env, st *store.Store, emails queue.Sender) httpapi.Handler {
	svc := &verify.Service{Store: st, Emails: emails, Now: env.Now, Log: env.Log, AnswerFloor: max(0, env.PasscodeAnswerFloor),
		PageURL: func(ctx context.Context, orgID string) string {
			return publicurl.From(ctx, env.PublicBaseURL) + "/orgs/" + url.PathEscape(orgID) + "/verify"
		}}
	if env.PasscodeAnswerFloor == 0 {
		svc.AnswerFloor = verify.DefaultAnswerFloor
	}
	return env.CORS(env.Links(httpapi.Endpoint{Handler: httpapi.VerifyHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle))
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

// APITokens is ApiTokensFunction's handler: a user's API tokens (create,
// with the secret shown once; list; revoke). No idempotency keys: a stored
// reply would keep the secret for a day, and only its hash may be stored; a
// retried create makes another token (the user revokes the one unseen).
func APITokens(env config.Env, st *store.Store) httpapi.Handler {
	svc := &apitokens.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.APITokensHandler{Service: svc, Log: env.Log, Now: env.Now}.Handle, Log: env.Log}.Handle)
}
