package devstack

import (
	"github.com/guestaccess/guestaccess/shared/access/accessapi"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/apitokens/apitokensapi"
	"github.com/guestaccess/guestaccess/shared/audit/auditapi"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/billing/billingapi"
	"github.com/guestaccess/guestaccess/shared/billing/billingdb"
	"github.com/guestaccess/guestaccess/shared/extpolicy/extpolicyapi"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/extusers/extusersapi"
	"github.com/guestaccess/guestaccess/shared/groups/groupsapi"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsapi"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/passcode/passcodeapi"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
	"github.com/guestaccess/guestaccess/shared/spaces/spacesapi"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/users/usersapi"
)

// apiHandlers maps the logical id of every API function in template.yaml to
// its handler, for the dev stack; a test checks that every Api event in the
// template has an entry here. emails is the email queue, exports the
// external users' exports queue.
func apiHandlers(env config.Env, st *store.Store, emails queue.Sender, jobs *jobs.Service, exports queue.Sender, limits extusers.Limits) map[string]httpapi.Handler {
	return map[string]httpapi.Handler{
		"InviteGuestsFunction":     invitationsapi.InviteGuests(env, st, invitationsdb.New(st), emails),
		"AcceptInvitationFunction": invitationsapi.AcceptInvitation(env, invitationsdb.New(st)),
		"GroupsFunction":           groupsapi.Groups(env, st, jobs),
		"RolesFunction":            groupsapi.Roles(env, st),
		"AccessDecisionFunction":   accessapi.AccessDecision(env, accessdb.New(st)),
		"SpacesFunction":           spacesapi.Spaces(env, st, st),
		"InvitationsFunction":      invitationsapi.Invitations(env, st, invitationsdb.New(st), emails),
		"UsersFunction":            usersapi.Users(env, st, st),
		"BillingFunction":          billingapi.Billing(env, billingdb.New(st), st),
		"AuditFunction":            auditapi.Audit(env, auditdb.New(st)),
		"ExternalPolicyFunction":   extpolicyapi.ExternalPolicy(env, st),
		"ExternalUsersFunction":    extusersapi.ExternalUsers(env, st, exports, limits),
		"VerifyFunction":           passcodeapi.VerifyPage(env, st, emails),
		"ApiTokensFunction":        apitokensapi.APITokens(env, st),
		"CorsPreflightFunction":    httpapi.Preflight(env.Origins, env.Log),
	}
}
