// Command accept-invitation is AcceptInvitationFunction: the page behind the
// invitation email link (GET shows, POST accepts).
package main

import "github.com/guestaccess/guestaccess/shared/app"

func main() {
	app.Main(func(d app.Deps) any { return d.AcceptHandler() })
}
