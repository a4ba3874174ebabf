package devstack

import (
	"github.com/guestaccess/guestaccess/shared/app"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/store"
)

// apiHandlers maps the logical id of every API function in template.yaml to
// its handler, for the dev stack; a test checks that every Api event in the
// template has an entry here. emails is the email queue, exports the
// external users' exports queue.
func apiHandlers(env config.Env, st *store.Store, emails queue.Sender, jobs *jobs.Service, exports queue.Sender, limits extusers.Limits) map[string]httpapi.Handler {
	return map[string]httpapi.Handler{
		"InviteGuestsFunction":     invitationsapi.InviteGuests(env, st, emails),
		"AcceptInvitationFunction": invitationsapi.AcceptInvitation(env, st),
		"GroupsFunction":           groupsapi.Groups(env, st, jobs),
		"RolesFunction":            groupsapi.Roles(env, st),
		"AccessDecisionFunction":   app.AccessDecision(env, st),
		"SpacesFunction":           app.Spaces(env, st),
		"InvitationsFunction":      invitationsapi.Invitations(env, st, emails),
		"UsersFunction":            app.Users(env, st),
		"BillingFunction":          app.Billing(env, st),
		"AuditFunction":            app.Audit(env, st),
		"ExternalPolicyFunction":   app.ExternalPolicy(env, st),
		"ExternalUsersFunction":    app.ExternalUsers(env, st, exports, limits),
		"VerifyFunction":           app.VerifyPage(env, st, emails),
		"ApiTokensFunction":        app.APITokens(env, st),
		"CorsPreflightFunction":    app.CorsPreflight(env),
	}
}
