package devstack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// TestConsoleAllowEmailKeyboard: an invitation to SES's bounce simulator
// shows in the console's invitation list as bounced and not emailed; by
// keys alone the org admin opens "Allow email", confirms, and the address
// is no longer suppressed; the screen's controls are all labelled.
func TestConsoleAllowEmailKeyboard(t *testing.T) {
	tab := browsertest.New(t)
	e := start(t, "embedded", func(o *devstack.Options) { o.Personas = true })
	admin := e.token(t, demo.AdminID)
	addr := simulator("bounce")
	r := e.do(t, http.MethodPost, invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
	if r.status != 200 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	e.waitDelivery(t, admin, results(t, r)[0]["invitationId"].(string), "bounced")

	tab.Do("open the console", chromedp.Navigate(e.ConsoleURL+"/"), chromedp.WaitVisible(css(`#signin`)))
	tab.TabTo(`#signin`)
	persona := `button[name=sub][value="` + demo.AdminID + `"]`
	tab.Do("sign in with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(persona)))
	tab.TabTo(persona)
	tab.Do("choose the org admin with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`textarea[name=emails]`)))
	tab.TabTo(`nav a[href="#/invitations"]`)
	tab.Do("open Invitations with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`#invitation-list table`)))
	if got := tab.Text("#invitation-list"); !strings.Contains(got, "bounced: not emailed") {
		t.Fatalf("the list does not show the bounce: %q", got)
	}
	if err := tab.CheckLabels(); err != nil {
		t.Errorf("invitations screen: %v", err)
	}
	allow := `button[aria-label="Allow email to ` + addr + ` again"]`
	tab.TabTo(allow)
	tab.Do("open the dialog", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`dialog[open]`)))
	tab.Screenshot("allow email dialog")
	tab.TabTo(`dialog[open] button:not(.secondary)`)
	tab.Do("confirm with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(css(`dialog`)), waitText("#status", "may be emailed again"))
	tab.Screenshot("allowed")
	if got := e.suppressions(t, admin); got[addr] != "" {
		t.Errorf("still suppressed after the console's clear: %v", got)
	}
}
