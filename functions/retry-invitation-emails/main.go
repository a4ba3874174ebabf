// Command retry-invitation-emails is RetryInvitationEmailsFunction: on a
// schedule, it sends the invitation emails that failed or were never sent.
package main

import "github.com/guestaccess/guestaccess/shared/app"

func main() {
	app.Main(func(d app.Deps) any { return d.RetryHandler() })
}
