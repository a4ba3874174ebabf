package devstack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// The reference admin console (shared/console) in a real headless Chromium,
// on its own origin, calling the dev stack's API cross-origin, as an org
// admin uses it. Screenshots of the main screens are kept under
// .cache/artifacts/browser/<test>/.

// evalIn evaluates a JavaScript expression in the tab and answers its value.
func evalIn[T any](tab *browsertest.Tab, expr string) T {
	return browsertest.Get(tab, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// css names elements by a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// xpathLiteral quotes s for XPath (no quote characters in our values).
func xpathLiteral(s string) string { return `"` + s + `"` }

// waitText waits until the element sel's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//*[@id=%s][contains(., %s)]`, xpathLiteral(strings.TrimPrefix(sel, "#")), xpathLiteral(want))))
}

// goTo opens a console screen by its hash and waits for it to render.
func goTo(tab *browsertest.Tab, screen string, ready string) {
	tab.Do("open #/"+screen,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/`+screen+`"`),
		chromedp.WaitVisible(css(ready)))
	if a := evalIn[string](tab, `document.getElementById("alert").innerText`); a != "" {
		tab.Screenshot("failed-" + screen)
		panicf(tab, "screen %s shows a problem: %s", screen, a)
	}
}

// panicf is t.Fatalf for the tab's test (Tab holds it).
func panicf(tab *browsertest.Tab, format string, args ...any) {
	tab.Do("fail: "+fmt.Sprintf(format, args...), chromedp.Func(func(context.Context, *chromedp.Target) error {
		return fmt.Errorf(format, args...)
	}))
}

// inboxLink opens the SES emulator's inbox web UI, finds the email to addr,
// shows its HTML and answers the accept link in it.
func inboxLink(t *testing.T, tab *browsertest.Tab, sesURL, addr, shot string) string {
	t.Helper()
	tab.Do("open the inbox", chromedp.Navigate(sesURL+"/"),
		chromedp.WaitVisible(chromedp.Search(`//div[@class="email-inner"][contains(., `+xpathLiteral(addr)+`)]`)))
	tab.Do("show the email's HTML", chromedp.Click(chromedp.Search(`//div[@class="email-inner"][contains(., `+xpathLiteral(addr)+`)]//button[contains(., "Toggle HTML view")]`)))
	tab.Screenshot(shot)
	link := evalIn[string](tab, `[...document.querySelectorAll(".email-inner")].filter(n => n.innerText.includes(`+"`"+addr+"`"+`))
	  .map(n => { const f = n.querySelector("iframe"); const a = f && f.contentDocument.querySelector('a[href*="/invitations/accept"]'); return a ? a.href : ""; })
	  .find(Boolean) || ""`)
	if link == "" {
		t.Fatalf("no accept link in the inbox's email to %s", addr)
	}
	return link
}

// consoleFlow is the admin's session once signed in at base: invite two
// guests (one through the partners group), accept both from the inbox,
// assign a space, change a group's role and watch the job, preview and apply
// a policy change, and find each step in the audit log.
func consoleFlow(t *testing.T, tab *browsertest.Tab, e *env, base string) {
	t.Helper()
	direct, viaGroup := unique("console-direct"), unique("console-partner")

	// Invite: the paid-user warning first (staff makes paid users), then two guests.
	goTo(tab, "invite", `textarea[name=emails]`)
	tab.Screenshot("invite")
	tab.Do("choose staff: the warning shows",
		chromedp.SendKeys(css(`textarea[name=emails]`), viaGroup),
		chromedp.Click(css(`input[name=group][value=`+demo.PaidGroup+`]`)),
		chromedp.WaitVisible(css(`#paid-warning`)))
	if w := tab.Text(`#paid-warning`); !strings.Contains(w, "paid users") || !strings.Contains(w, "group staff") || !strings.Contains(w, "billed seat") || strings.Contains(w, "(s)") {
		t.Fatalf("paid warning: %q", w)
	}
	tab.Do("send without confirming: refused next to the checkbox",
		chromedp.Click(css(`#screen-body form button[type=submit]`)),
		chromedp.WaitVisible(css(`#confirm-paid[aria-invalid=true]`)))
	if msg := evalIn[string](tab, `document.getElementById(document.getElementById("confirm-paid").getAttribute("aria-describedby").split(" ").pop()).innerText`); !strings.Contains(msg, "confirm") {
		t.Fatalf("the confirmation's field error: %q", msg)
	}
	tab.Screenshot("invite paid warning")
	tab.Do("choose partners instead",
		chromedp.Click(css(`input[name=group][value=`+demo.PaidGroup+`]`)),
		chromedp.Click(css(`input[name=group][value=`+demo.GuestGroup+`]`)),
		waitText("#invite-kind", "guests"),
		chromedp.Click(css(`#screen-body form button[type=submit]`)),
		waitText("#invite-summary", "Invited 1"))
	if s := tab.Text("#invite-summary"); !strings.Contains(s, "The invitees are: guest") {
		t.Fatalf("summary: %q", s)
	}
	tab.Screenshot("invited via partners")
	goTo(tab, "invitations", `#invitation-list table`)
	goTo(tab, "invite", `textarea[name=emails]`)
	tab.Do("invite a guest with the direct role",
		chromedp.SendKeys(css(`textarea[name=emails]`), direct),
		chromedp.SetValue(css(`select[name="products.confluence.role"]`), "guest"),
		chromedp.Click(css(`#screen-body form button[type=submit]`)),
		waitText("#invite-summary", "Invited 1"))
	if r := tab.Text("#invite-results table"); !strings.Contains(r, direct) || !strings.Contains(r, "invited") || !strings.Contains(r, "guest") {
		t.Fatalf("results: %q", r)
	}

	// Each guest accepts from the link in their email (sent by the email
	// queue's sender, after the answer).
	e.waitEmails(t)
	for i, addr := range []string{viaGroup, direct} {
		link := inboxLink(t, tab, e.SESURL, addr, fmt.Sprintf("inbox %d", i+1))
		tab.Do("open the link of "+addr, chromedp.Navigate(link), chromedp.WaitVisible(css(`button[type=submit]`)))
		tab.Do("accept as "+addr, chromedp.Click(css(`button[type=submit]`)), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "You're in")]`)))
	}
	tab.Do("back to the console", chromedp.Navigate(base+"/#/invitations"), chromedp.WaitVisible(css(`#invitation-list table`)))
	if l := tab.Text("#invitation-list"); !strings.Contains(l, viaGroup) || !strings.Contains(l, "accepted") {
		t.Fatalf("invitations: %q", l)
	}
	tab.Screenshot("invitations")

	// Assign a space to the guest who came through partners.
	goTo(tab, "guests", `#guest-list table`)
	row := `//tr[contains(., ` + xpathLiteral(viaGroup) + `)]`
	tab.Do("assign ENG",
		chromedp.SetValue(chromedp.Search(row+`//select`), demo.SpaceENG),
		chromedp.Click(chromedp.Search(row+`//button[.="Assign"]`)),
		waitText("#status", "Assigned "+viaGroup+" to ENG"),
		chromedp.WaitVisible(chromedp.Search(row+`//span[@class="guest-space"][.="ENG"]`)))
	tab.Screenshot("guests")

	// A group's role: a job through the queue, followed to done.
	goTo(tab, "groups", `#group-list table`)
	tab.Screenshot("groups")
	goTo(tab, "groups/"+demo.GuestGroup, `#member-list table`)
	tab.Do("give partners Jira user",
		chromedp.SetValue(css(`select[name=product]`), "jira"),
		chromedp.SetValue(css(`select[name=role]`), "user"),
		chromedp.Click(chromedp.Search(`//button[.="Change role"]`)),
		chromedp.WaitVisible(css(`#role-job progress`)))
	tab.Do("the job reaches done", chromedp.WaitVisible(css(`#role-job .job[data-state=done]`)))
	if p := tab.Text("#role-job .progress-text"); !strings.Contains(p, "state: done") {
		t.Fatalf("job: %q", p)
	}
	tab.Screenshot("group role job done")

	// Billing as a picture.
	goTo(tab, "billing", `#billing-chart`)
	if d := evalIn[string](tab, `document.querySelector("#billing-chart desc").textContent`); !strings.Contains(d, "paid user") || !strings.Contains(d, "free guest slot") || strings.Contains(d, "(s)") {
		t.Fatalf("billing text alternative: %q", d)
	}
	tab.Screenshot("billing")

	// The external user policy: preview, then apply.
	goTo(tab, "external", `#domain-list table`)
	pf := `#screen-body form[aria-label="External user policy"] `
	tab.Do("preview two-step on",
		chromedp.SetValue(css(pf+`select[name=twoStepVerification]`), "on"),
		chromedp.Click(css(pf+`button[type=submit]`)),
		chromedp.WaitVisible(css(`#apply-policy`)))
	if p := tab.Text("#policy-preview"); !strings.Contains(p, direct) || !strings.Contains(p, "affected") {
		t.Fatalf("preview: %q", p)
	}
	tab.Screenshot("external policy preview")
	tab.Do("apply", chromedp.Click(css(`#apply-policy`)), waitText("#status", "Policy applied"))
	if c := tab.Text("#policy-current"); !strings.Contains(c, "two-step verification on") {
		t.Fatalf("policy now: %q", c)
	}
	// The CSV: inline for a small directory, and as a job with its parts.
	tab.Do("download the CSV", chromedp.Click(chromedp.Search(`//button[.="Download CSV"]`)), waitText("#export-done", "external-users.csv"))
	tab.Do("export as a job", chromedp.Click(chromedp.Search(`//button[.="Export as a job"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[.="Download part 1 of 1"]`)))
	if x := tab.Text("#export"); !strings.Contains(x, "done") || !strings.Contains(x, "3 rows in ") {
		t.Fatalf("export job: %q", x)
	}
	tab.Do("download its part", chromedp.Click(chromedp.Search(`//button[.="Download part 1 of 1"]`)),
		chromedp.WaitEnabled(chromedp.Search(`//button[.="Download part 1 of 1"]`)))
	if a := evalIn[string](tab, `document.getElementById("alert").innerText`); a != "" {
		t.Fatalf("downloading the part: %s", a)
	}
	tab.Screenshot("external users")

	// Every step in the audit log.
	goTo(tab, "audit", `#audit-list table`)
	log := tab.Text("#audit-list")
	for _, action := range []string{"invitation.create", "invitation.accept", "guest.space.assign", "group.role", "org.policy.update"} {
		if !strings.Contains(log, action) {
			t.Errorf("the audit log screen shows no %s:\n%s", action, log)
		}
	}
	tab.Screenshot("audit")
	tab.Do("filter by the admin", chromedp.SendKeys(css(`input[name=actor]`), demo.AdminID), chromedp.Click(chromedp.Search(`//button[.="Show entries"]`)),
		chromedp.WaitVisible(css(`#audit-list table`)))
	if strings.Contains(tab.Text("#audit-list"), "invitation.accept") {
		t.Errorf("filtered by actor %s, the log still shows the guests' acceptances", demo.AdminID)
	}
}

// keyboardInvite invites addr as a guest with key presses only (Tab, arrow
// keys, typing, Enter) from wherever the console has focus.
func keyboardInvite(t *testing.T, tab *browsertest.Tab, addr string) {
	t.Helper()
	tab.TabTo(`nav a[href="#/invite"]`)
	tab.FocusVisible()
	// The screen is drawn afresh and the focus moves to its heading.
	tab.Do("open Invite with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`h1#screen-title:focus`)), chromedp.WaitVisible(css(`textarea[name=emails]`)))
	tab.TabTo(`textarea[name=emails]`)
	tab.FocusVisible()
	tab.Type(addr)
	tab.TabTo(`select[name="products.confluence.role"]`)
	tab.Press("choose guest with the arrow key", kb.ArrowDown)
	if v := evalIn[string](tab, `document.activeElement.value`); v != "guest" {
		t.Fatalf("the Confluence role is %q after ArrowDown", v)
	}
	tab.TabTo(`#screen-body form button[type=submit]`)
	tab.Do("send with Enter", chromedp.KeyEvent(kb.Enter), waitText("#invite-summary", "Invited 1"))
	if f := tab.Focused(); f.Tag != "h2" {
		t.Errorf("after sending the focus is on %s, not the results' heading", f)
	}
	if r := tab.Text("#invite-results table"); !strings.Contains(r, addr) {
		t.Fatalf("results: %q", r)
	}
	tab.Screenshot("keyboard invite")
}

// keyboardDialog opens the revoke dialog of the newest pending invitation
// with Enter, checks that Tab stays inside it and Escape returns the focus
// to its button, with nothing revoked.
func keyboardDialog(t *testing.T, tab *browsertest.Tab, addr string) {
	t.Helper()
	tab.TabTo(`nav a[href="#/invitations"]`)
	tab.Do("open Invitations with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`h1#screen-title:focus`)), chromedp.WaitVisible(css(`#invitation-list table`)))
	revoke := `button[aria-label="Revoke invitation to ` + addr + `"]`
	tab.TabTo(revoke)
	tab.Do("open the dialog", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`dialog[open]`)))
	tab.Screenshot("revoke dialog")
	for i := 0; i < 4; i++ {
		if !evalIn[bool](tab, `!!document.activeElement.closest("dialog[open]")`) {
			t.Fatalf("Tab left the open dialog: focus on %s", tab.Focused())
		}
		tab.FocusVisible()
		tab.PressTab()
	}
	tab.Do("Escape closes it", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css(`dialog`)))
	if !evalIn[bool](tab, "document.activeElement.matches(`"+revoke+"`)") {
		t.Fatalf("after the dialog the focus is on %s, not the button that opened it", tab.Focused())
	}
	if r := tab.Text("#invitation-list"); !strings.Contains(r, "pending") {
		t.Fatalf("cancelled, the invitation should still be pending: %q", r)
	}
}

// everyControlLabelled visits every screen (and a group's and a user's
// page, and a space's panel) and fails on a form control without a label,
// a button or link without a name (browsertest.CheckLabels), or a page
// without its landmarks and heading.
func everyControlLabelled(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	for _, s := range []struct{ screen, ready string }{
		{"invite", `textarea[name=emails]`}, {"invitations", `#invitation-list table`}, {"groups", `#group-list table`},
		{"groups/" + demo.GuestGroup, `#member-list`}, {"user/" + demo.GuestID, `#user-tokens`}, {"guests", `#guest-list table`},
		{"billing", `#billing-chart`}, {"audit", `#audit-list table`}, {"external", `#external-list table`},
	} {
		goTo(tab, s.screen, s.ready)
		if err := tab.CheckLabels(); err != nil {
			t.Errorf("screen %s: %v", s.screen, err)
		}
		if n := evalIn[int](tab, `document.querySelectorAll("header, nav, main").length`); n != 3 {
			t.Errorf("screen %s: %d of the header, nav and main landmarks", s.screen, n)
		}
		if h := evalIn[string](tab, `document.querySelector("h1").textContent`); h == "" {
			t.Errorf("screen %s has no heading", s.screen)
		}
	}
	// A space's panel, opened by keyboard.
	goTo(tab, "guests", `#guest-list table`)
	tab.TabTo(`button[aria-label="Manage space ` + demo.SpaceMKT + `"]`)
	tab.Do("open the space's panel", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`#sm-h:focus`)))
	tab.Labels()
	if a := tab.Text("#space-guests table"); !strings.Contains(a, demo.SpaceAdminID) {
		t.Errorf("the space's admins: %q", a)
	}
	tab.Screenshot("space panel")
}

// signInAsAdmin opens the console, presses its sign-in button and the
// org admin's button on the dev identity provider's page, and checks where
// the token went: sessionStorage only, and the code and state gone from the
// address bar.
func signInAsAdmin(t *testing.T, tab *browsertest.Tab, e *env) {
	t.Helper()
	tab.Do("open the console", chromedp.Navigate(e.ConsoleURL+"/"), chromedp.WaitVisible(css(`#signin`)))
	tab.Screenshot("sign in")
	admin := `button[name=sub][value="` + demo.AdminID + `"]`
	tab.Do("press sign in", chromedp.Click(css(`#signin`)), chromedp.WaitVisible(css(admin)))
	tab.Screenshot("identity provider")
	tab.Do("choose the org admin", chromedp.Click(css(admin)), chromedp.WaitVisible(css(`textarea[name=emails]`)))
	checkSignedIn(t, tab, e)
}

// checkSignedIn: the console is on its origin, with no code or state in
// the address, the token in sessionStorage and nowhere else.
func checkSignedIn(t *testing.T, tab *browsertest.Tab, e *env) {
	t.Helper()
	loc := tab.Location()
	if !strings.HasPrefix(loc, e.ConsoleURL+"/") || strings.Contains(loc, "code=") || strings.Contains(loc, "state=") {
		t.Fatalf("after sign-in the address is %s", loc)
	}
	if who := tab.Text("#who"); !strings.Contains(who, demo.AdminID) {
		t.Fatalf("signed in as %q", who)
	}
	if n := evalIn[int](tab, `localStorage.length`); n != 0 {
		t.Errorf("localStorage holds %d item(s)", n)
	}
	if c := evalIn[string](tab, `document.cookie`); c != "" {
		t.Errorf("cookies: %q", c)
	}
	if !evalIn[bool](tab, `(JSON.parse(sessionStorage.getItem("ga.token") || "{}").accessToken || "").split(".").length === 3`) {
		t.Error("no token in sessionStorage")
	}
	if evalIn[bool](tab, `sessionStorage.getItem("ga.pkce") !== null`) {
		t.Error("the PKCE verifier outlived the sign-in")
	}
}

// TestConsoleBrowser: an org admin signs in to the console on its own origin
// (authorization code with PKCE on the dev identity provider) and, with
// every call a real cross-origin call through the local gateway, invites two
// guests (one through the partners group, after the paid-user warning for
// staff), each guest accepts from the email read in the inbox's web UI, the
// admin assigns a space, changes a group's role and watches the job finish
// through the queue, previews and applies a policy change, and finds each
// step in the audit log. Then a token the API refuses sends the admin back
// to sign in, and signing out forgets the token.
func TestConsoleBrowser(t *testing.T) {
	began := time.Now()
	tab := browsertest.New(t)
	e := start(t, "embedded", func(o *devstack.Options) { o.Personas = true; o.JobsInlineMembers = -1 })
	signInAsAdmin(t, tab, e)
	consoleFlow(t, tab, e, e.ConsoleURL)

	// A token the API refuses (401): back to sign in, the token forgotten.
	tab.Do("spoil the token and reload",
		chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("ga.token", JSON.stringify({accessToken: "x.y.z"}))`),
		chromedp.Reload(), chromedp.WaitVisible(css(`#signin-reason`)))
	if r := tab.Text("#signin-reason"); !strings.Contains(r, "401") {
		t.Fatalf("after a 401: %q", r)
	}
	if evalIn[bool](tab, `sessionStorage.getItem("ga.token") !== null`) {
		t.Error("a refused token is kept")
	}
	// Sign in again (the provider's page), then out.
	admin := `button[name=sub][value="` + demo.AdminID + `"]`
	tab.Do("sign in again", chromedp.Click(css(`#signin`)), chromedp.WaitVisible(css(admin)), chromedp.Click(css(admin)),
		chromedp.WaitVisible(css(`#audit-list table`)))
	checkSignedIn(t, tab, e) // back on the screen it left: the audit log
	tab.Do("sign out", chromedp.Click(css(`#signout`)), chromedp.WaitVisible(css(`#signin`)))
	if evalIn[bool](tab, `sessionStorage.getItem("ga.token") !== null`) {
		t.Error("signed out, the token is still in sessionStorage")
	}
	t.Logf("console browser test: %s", time.Since(began).Round(100*time.Millisecond))
}

// TestConsoleKeyboard: the console by keyboard alone (Tab, arrow keys,
// typing, Enter, Escape; no clicks): sign in, invite a guest, open and
// cancel a confirmation dialog; and every form control of every screen has
// a label.
func TestConsoleKeyboard(t *testing.T) {
	began := time.Now()
	tab := browsertest.New(t)
	e := start(t, "embedded", func(o *devstack.Options) { o.Personas = true })
	tab.Do("open the console", chromedp.Navigate(e.ConsoleURL+"/"), chromedp.WaitVisible(css(`#signin`)))
	if first := evalIn[string](tab, `document.querySelector("a[href], button, input, select, textarea").textContent`); first != "Skip to content" {
		t.Errorf("the first focusable element is %q, not the skip link", first)
	}
	tab.TabTo(`#signin`)
	tab.FocusVisible()
	admin := `button[name=sub][value="` + demo.AdminID + `"]`
	tab.Do("sign in with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(admin)))
	tab.TabTo(admin)
	tab.Do("choose the org admin with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`textarea[name=emails]`)))
	checkSignedIn(t, tab, e)
	addr := unique("keys")
	keyboardInvite(t, tab, addr)
	keyboardDialog(t, tab, addr)
	everyControlLabelled(t, tab)
	t.Logf("console keyboard test: %s", time.Since(began).Round(100*time.Millisecond))
}
