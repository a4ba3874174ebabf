// Package passcodeapi is the HTTP side of two-step verification: the
// guest-facing verification page and VerifyFunction's constructor, which
// wires it to the passcode service, the table and the email queue.
package passcodeapi

import (
	"context"
	"net/url"

	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/passcode"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/publicurl"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/store"
)

// VerifyPage is VerifyFunction's handler: the guest-facing two-step
// verification page (GET shows, POST sends a code or checks one). No
// idempotency keys: it is a public page, like the accept page.
func VerifyPage(env config.Env, st *store.Store, emails queue.Sender) httpapi.Handler {
	svc := &passcode.Service{Store: st, Emails: emails, Now: env.Now, Log: env.Log, AnswerFloor: max(0, env.PasscodeAnswerFloor),
		PageURL: func(ctx context.Context, orgID string) string {
			return publicurl.From(ctx, env.PublicBaseURL) + "/orgs/" + url.PathEscape(orgID) + "/verify"
		}}
	if env.PasscodeAnswerFloor == 0 {
		svc.AnswerFloor = passcode.DefaultAnswerFloor
	}
	return env.CORS(env.Links(httpapi.Endpoint{Handler: Handler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle))
}
