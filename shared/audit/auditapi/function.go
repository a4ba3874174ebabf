// Package auditapi is the HTTP side of an organisation's audit log
// (AuditFunction): the route's handler and the function's constructor.
package auditapi

import (
	"github.com/guestaccess/guestaccess/shared/audit"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
)

// Audit is AuditFunction's handler: an organisation's audit log. No
// idempotency keys: it only reads.
func Audit(env config.Env, st audit.Store) httpapi.Handler {
	svc := audit.New(st, env.Now)
	return env.CORS(httpapi.Endpoint{Handler: AuditHandler{Service: svc, Log: env.Log}.Handle, Log: env.Log}.Handle)
}
