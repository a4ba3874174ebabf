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
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/publicurl"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/store"
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

// APITokens is ApiTokensFunction's handler: a user's API tokens (create,
// with the secret shown once; list; revoke). No idempotency keys: a stored
// reply would keep the secret for a day, and only its hash may be stored; a
// retried create makes another token (the user revokes the one unseen).
func APITokens(env config.Env, st *store.Store) httpapi.Handler {
	svc := &apitokens.Service{Store: st, Now: env.Now}
	return env.CORS(httpapi.Endpoint{Handler: httpapi.APITokensHandler{Service: svc, Log: env.Log, Now: env.Now}.Handle, Log: env.Log}.Handle)
}
