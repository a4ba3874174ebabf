// Package invitationsapi is the HTTP side of invitations: the handlers of
// InviteGuestsFunction (invite), InvitationsFunction (list, resend, and the
// org's suppressed addresses), the guest-facing accept page
// (AcceptInvitationFunction), and the constructors that wire each of those
// functions and the scheduled RetryInvitationEmailsFunction.
package invitationsapi
