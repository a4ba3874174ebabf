package devstack_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/browsertest"
)

// The guest-facing pages in a real headless Chromium, as a guest uses them,
// against the dev stack over HTTP (embedded backend: the API-level flows
// run on both backends). Screenshots of every step are kept under
// .cache/artifacts/browser/<test>/.

// TestBrowserAcceptInvitation: an admin invites through the API; the guest
// opens the link from the email, presses the button and reads the success
// page.
func TestBrowserAcceptInvitation(t *testing.T) {
	tab := browsertest.New(t)
	e := start(t, "embedded")
	admin := e.token(t, demo.AdminID)
	addr := unique("browser")
	mustStatus(t, e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("Welcome aboard", addr)), 200, "invite")
	link := e.URL + "/invitations/accept?token=" + url.QueryEscape(e.acceptLink(t, addr))

	tab.Do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)))
	if h := tab.Text("h1"); !strings.Contains(h, "Join") {
		t.Fatalf("invitation page heading %q", h)
	}
	if p := tab.Text("main p"); !strings.Contains(p, addr) {
		t.Fatalf("the page names the invitee: %q", p)
	}
	tab.Screenshot("invitation")
	tab.Do("press accept", chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "You're in")]`)))
	tab.Screenshot("accepted")
	if p := tab.Text("main p"); !strings.Contains(p, addr) || !strings.Contains(p, "is active") {
		t.Fatalf("success page: %q", p)
	}
	// Opening the link again says it was used.
	tab.Do("open the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("h1")))
	tab.Screenshot("used")
	if h := tab.Text("h1"); !strings.Contains(h, "already used") {
		t.Fatalf("a used link: %q", h)
	}
}

// TestBrowserVerification: a guest whose org requires two-step
// verification is denied (verification_required); in the browser they open
// the verification page, type their address, press send, read the code
// from the inbox, type a wrong code (the page says so), then the right
// one, press verify and read the success page; the decision then allows.
func TestBrowserVerification(t *testing.T) {
	tab := browsertest.New(t)
	e := start(t, "embedded")
	org, acct, addr := e.verifyOrg(t)
	if d := e.decide(t, org, acct); d["reason"] != "verification_required" {
		t.Fatalf("before: %v", d)
	}

	tab.Do("open the page", chromedp.Navigate(e.URL+verifyPath(org)), chromedp.WaitVisible(chromedp.CSS("#email")))
	if l := tab.Text(`label[for=email]`); l != "Email address" {
		t.Fatalf("label %q", l)
	}
	tab.Screenshot("start")
	tab.Do("type the address and send", chromedp.SendKeys(chromedp.CSS("#email"), addr), chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#code")))
	if p := tab.Text("#sent"); !strings.Contains(p, addr) || !strings.Contains(p, "code is on its way") {
		t.Fatalf("code page: %q", p)
	}
	tab.Screenshot("code-sent")
	right := e.passcode(t, addr, 1)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	tab.Do("type a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), wrong), chromedp.Click(chromedp.CSS("#verify")),
		chromedp.WaitVisible(chromedp.CSS("#problem")))
	if p := tab.Text("#problem"); !strings.Contains(p, "not right") || !strings.Contains(p, "4 tries left") {
		t.Fatalf("wrong code page: %q", p)
	}
	tab.Screenshot("wrong-code")
	tab.Do("type the right code", chromedp.SendKeys(chromedp.CSS("#code"), right), chromedp.Click(chromedp.CSS("#verify")),
		chromedp.WaitVisible(chromedp.CSS("#verified")))
	tab.Screenshot("verified")
	if h, p := tab.Text("h1"), tab.Text("#verified"); h != "You're verified" || !strings.Contains(p, addr) || !strings.Contains(p, " until ") {
		t.Fatalf("success page: %q %q", h, p)
	}
	if d := e.decide(t, org, acct); d["allow"] != true {
		t.Fatalf("after: %v", d)
	}
}
