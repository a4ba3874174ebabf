// Command invite-guests is InviteGuestsFunction: POST /orgs/{orgId}/sites/{siteId}/invitations.
package main

import "github.com/guestaccess/guestaccess/shared/app"

func main() {
	app.Main(func(d app.Deps) any { return d.InviteHandler() })
}
