package devstack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

func resendPath(org, site, id string) string { return invitePath(org, site) + "/" + id + "/resend" }

// inviteGuest invites one new address as a guest of a site and returns the
// invitation id and the address.
func (e *env) inviteGuest(t *testing.T, admin, site string) (string, string) {
	t.Helper()
	addr := unique("inv")
	r := e.do(t, "POST", invitePath(demo.OrgID, site), admin, guestBody("", addr))
	res := results(t, r)
	if r.status != 200 || len(res) != 1 || res[0]["status"] != "invited" {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	return res[0]["invitationId"].(string), addr
}

// tokens returns the tokens of the accept links emailed to addr, in the
// order the emails were sent.
func (e *env) tokens(t *testing.T, addr string) []string {
	t.Helper()
	var out []string
	for _, m := range e.mailTo(t, addr) {
		link, ok := mailbox.FindLink(m.Text+m.HTML, e.URL+"/invitations/accept?token=")
		if !ok {
			t.Fatalf("no accept link in an email to %s", addr)
		}
		u, _ := url.Parse(link)
		out = append(out, u.Query().Get("token"))
	}
	return out
}

func (e *env) accept(t *testing.T, token string) response {
	t.Helper()
	return e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(token), "Content-Type", "application/x-www-form-urlencoded")
}

// listed returns the invitations of one list request by id, and their ids in order.
func listed(t *testing.T, m map[string]any) (map[string]map[string]any, []string) {
	t.Helper()
	byID := map[string]map[string]any{}
	var ids []string
	raw, _ := m["invitations"].([]any)
	for _, x := range raw {
		it := x.(map[string]any)
		byID[it["id"].(string)] = it
		ids = append(ids, it["id"].(string))
	}
	return byID, ids
}

// invitations follows the site's invitation list with a status filter, in
// pages of size, and returns the ids in order.
func (e *env) invitations(t *testing.T, token, status string, size int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for page := 0; page < 20; page++ {
		q := url.Values{"status": {status}, "limit": {fmt.Sprint(size)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		m := mustStatus(t, e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID)+"?"+q.Encode(), token, ""), 200, "list "+status)
		_, ids := listed(t, m)
		if len(ids) > size {
			t.Errorf("page of %d, limit %d", len(ids), size)
		}
		out = append(out, ids...)
		next, _ := m["next"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("more than 20 pages")
	return nil
}

// TestInvitationsListAndResend: invitations are listed newest first, by
// status, across pages; a resend sends exactly one new email whose link
// works while the old one is refused as invalid (not as accepted); a
// second resend within a minute is a 429 that sends nothing; an
// Idempotency-Key replays; an invitation past its expiry that the
// scheduled job has not released yet is renewed by a resend (a released
// one is a 409: TestExpiryReleasesTheSeat).
func TestInvitationsListAndResend(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.PaidUsers = 2 })
			admin := e.token(t, demo.AdminID)
			var ids, addrs []string
			for i := 0; i < 4; i++ {
				id, addr := e.inviteGuest(t, admin, demo.SiteID)
				ids, addrs = append(ids, id), append(addrs, addr)
				e.clock.Add(1)
			}
			newest := slices.Clone(ids)
			slices.Reverse(newest)
			path := invitePath(demo.OrgID, demo.SiteID)
			e.waitEmails(t) // the sender records each email sent
			all := mustStatus(t, e.do(t, "GET", path, admin, ""), 200, "list")
			byID, order := listed(t, all)
			if !slices.Equal(order, newest) {
				t.Fatalf("newest first = %v, want %v", order, newest)
			}
			first := byID[ids[0]]
			if first["email"] != addrs[0] || first["status"] != "pending" || first["emailDelivery"] != "sent" || first["kind"] != "guest" ||
				first["invitedBy"] != demo.AdminID || first["roles"].(map[string]any)["confluence"] != "guest" || first["accountId"] == "" {
				t.Errorf("item = %v", first)
			}
			if got := e.listAll(t, path, admin, "invitations", "id", 3); !slices.Equal(got, newest) {
				t.Errorf("pages of 3 = %v, want %v", got, newest)
			}

			// Accept the oldest: listed as accepted, no longer pending.
			if r := e.accept(t, e.tokens(t, addrs[0])[0]); r.status != 200 {
				t.Fatalf("accept: %d %s", r.status, r.body)
			}
			if got := e.invitations(t, admin, "accepted", 1); !slices.Equal(got, []string{ids[0]}) {
				t.Errorf("accepted = %v", got)
			}
			if got := e.invitations(t, admin, "pending", 2); !slices.Equal(got, newest[:3]) {
				t.Errorf("pending = %v, want %v", got, newest[:3])
			}
			if got := e.invitations(t, admin, "revoked", 2); len(got) != 0 {
				t.Errorf("revoked = %v", got)
			}

			// Within a minute of the invite: 429, nothing sent.
			r := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[1]), admin, "")
			problem(t, r, 429, "resend right after the invite")
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			e.clock.Add(120)
			old := e.tokens(t, addrs[1])[0]
			r = e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[1]), admin, "")
			m := mustStatus(t, r, 200, "resend")
			inv := m["invitation"].(map[string]any)
			if m["emailDelivery"] != "pending" || inv["status"] != "pending" || inv["emailDelivery"] != "pending" || inv["resentAt"] == nil {
				t.Errorf("resend = %v", m)
			}
			// A double click: the second is refused, exactly one new email.
			problem(t, e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[1]), admin, ""), 429, "second click")
			toks := e.tokens(t, addrs[1])
			if len(toks) != 2 || toks[0] != old {
				t.Fatalf("emails after resend: %d", len(toks))
			}
			// The old link is invalid (not "accepted"), on the page and on accept.
			if g := e.do(t, "GET", "/invitations/accept?token="+url.QueryEscape(old), "", ""); g.status != 404 || strings.Contains(string(g.body), "already been accepted") {
				t.Errorf("old link page: %d %s", g.status, g.body)
			}
			if p := e.accept(t, old); p.status != 404 {
				t.Errorf("old link accept: %d %s", p.status, p.body)
			}
			if p := e.accept(t, toks[1]); p.status != 200 {
				t.Errorf("new link accept: %d %s", p.status, p.body)
			}
			// Accepted: a resend is a 409, nothing sent.
			problem(t, e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[1]), admin, ""), 409, "resend of an accepted invitation")
			if n := len(e.mailTo(t, addrs[1])); n != 2 {
				t.Errorf("emails after refused resends: %d", n)
			}

			// An Idempotency-Key replays the first answer and sends once.
			key := []string{"Idempotency-Key", domain.NewID()}
			a1 := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[2]), admin, "", key...)
			a2 := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[2]), admin, "", key...)
			if a1.status != 200 || a2.status != 200 || string(a1.body) != string(a2.body) || a2.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("idempotent resend: %d %d %s", a1.status, a2.status, a2.header)
			}
			if n := len(e.mailTo(t, addrs[2])); n != 2 {
				t.Errorf("emails after an idempotent resend: %d, want 2", n)
			}

			// Past expiry, before the scheduled job ran: the pending ones are
			// listed as expired; a resend renews one, whose new link accepts.
			e.clock.Add(8 * 24 * 3600)
			if got := e.invitations(t, admin, "expired", 1); !slices.Equal(got, []string{ids[3], ids[2]}) {
				t.Errorf("expired = %v", got)
			}
			if got := e.invitations(t, admin, "pending", 5); len(got) != 0 {
				t.Errorf("pending after expiry = %v", got)
			}
			m = mustStatus(t, e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, ids[3]), admin, ""), 200, "resend of an expired invitation")
			if inv := m["invitation"].(map[string]any); inv["status"] != "pending" {
				t.Errorf("renewed = %v", inv)
			}
			toks = e.tokens(t, addrs[3])
			if len(toks) != 2 {
				t.Fatalf("emails after renewing: %d", len(toks))
			}
			if p := e.accept(t, toks[1]); p.status != 200 {
				t.Errorf("renewed link accept: %d %s", p.status, p.body)
			}
			if p := e.accept(t, toks[0]); p.status != 404 {
				t.Errorf("expired link after renewal: %d", p.status)
			}
		})
	}
}

// TestInvitationsBadInputChangesNothing: an unknown invitation, another
// site's invitation, a bad status or cursor are problems; no invitation
// changes and no email is sent.
func TestInvitationsBadInputChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, demo.AdminID)
		if err := e.Store.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: "other", Name: "Other", Host: "other.example", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		id, addr := e.inviteGuest(t, admin, demo.SiteID)
		// Its email sent and recorded (the sender's write is not a change
		// by bad input).
		e.mailTo(t, addr)
		e.clock.Add(120)
		path := invitePath(demo.OrgID, demo.SiteID)
		before, err := e.Store.InvitationByID(ctx, demo.OrgID, demo.SiteID, id)
		if err != nil {
			t.Fatal(err)
		}
		e.calls.Reset()
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{"POST", resendPath(demo.OrgID, demo.SiteID, domain.NewID()), 404},
			{"POST", resendPath(demo.OrgID, "other", id), 404},
			{"POST", resendPath(demo.OrgID, "nosuch", id), 404},
			{"POST", resendPath(demo.OtherOrgID, demo.SiteID, id), 404},
			{"GET", path + "?status=used", 400},
			{"GET", path + "?status=", 400},
			{"GET", path + "?invitedBy=", 400},
			{"GET", path + "?invitedBy=not%20an%20id", 400},
			{"GET", path + "?cursor=nope", 400},
			{"GET", path + "?limit=0", 400},
			{"GET", invitePath(demo.OrgID, "nosuch"), 404},
		} {
			problem(t, e.do(t, c.method, c.path, admin, ""), c.status, c.method+" "+c.path)
		}
		// Another site's cursor.
		// The other site has no paid user, so no room for guests: invite paid users.
		for i := 0; i < 2; i++ {
			r := e.do(t, "POST", invitePath(demo.OrgID, "other"), admin, `{"emails":["`+unique("paid")+`"],"products":{"confluence":{"role":"user"}}}`)
			if res := results(t, r); r.status != 200 || res[0]["status"] != "invited" {
				t.Fatalf("invite to the other site: %d %s", r.status, r.body)
			}
		}
		page := mustStatus(t, e.do(t, "GET", invitePath(demo.OrgID, "other")+"?limit=1", admin, ""), 200, "other site")
		next, _ := page["next"].(string)
		if next == "" {
			t.Fatal("no cursor on the other site's first page")
		}
		problem(t, e.do(t, "GET", path+"?cursor="+url.QueryEscape(next), admin, ""), 400, "another site's cursor")
		after, err := e.Store.InvitationByID(ctx, demo.OrgID, demo.SiteID, id)
		if err != nil || after.Version != before.Version || after.TokenHash != before.TokenHash || !after.ExpiresAt.Equal(before.ExpiresAt) {
			t.Errorf("invitation changed: %+v -> %+v (%v)", before, after, err)
		}
		if n := len(e.mailTo(t, addr)); n != 1 {
			t.Errorf("emails to %s: %d", addr, n)
		}
	})
}

// TestInvitationsAuthorisation: org admins and admins of the site may list
// and resend (the people who may invite); a Confluence product admin, a
// paid user, another org's admin, a product's token and no token may not.
func TestInvitationsAuthorisation(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.Personas = true })
			admin := e.token(t, demo.AdminID)
			id, _ := e.inviteGuest(t, admin, demo.SiteID)
			product, err := e.ProductToken("confluence")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				who    string
				token  string
				list   int
				resend int
			}{
				{"org admin", admin, 200, 200},
				{"site admin", e.token(t, demo.SiteAdminID), 200, 200},
				{"product admin", e.token(t, demo.ProductAdminID), 403, 403},
				{"space admin", e.token(t, demo.SpaceAdminID), 403, 403},
				{"paid user", e.token(t, demo.PlainUserID), 403, 403},
				{"guest", e.token(t, demo.GuestID), 403, 403},
				{"other org's admin", e.token(t, demo.OtherAdminID), 404, 404},
				{"product", product, 403, 403},
				{"anonymous", "", 401, 401},
			} {
				e.clock.Add(120) // past the resend interval each time
				if r := e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID), c.token, ""); r.status != c.list {
					t.Errorf("%s lists: %d, want %d", c.who, r.status, c.list)
				}
				if r := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, id), c.token, ""); r.status != c.resend {
					t.Errorf("%s resends: %d, want %d: %s", c.who, r.status, c.resend, r.body)
				}
			}
		})
	}
}

// TestResendSESFailureKeepsInvitation: SES refuses the emails (an
// unverified sender, MessageRejected): the resend is answered 200 with the
// email pending, then the sender records it failed with its new link kept
// (the list shows failed, never SES's words); once SES accepts, a resend
// goes out with a link that works.
func TestResendSESFailureKeepsInvitation(t *testing.T) {
	sender := "unverified-" + domain.NewID()[:8] + "@14west.example"
	e := start(t, "moto", func(o *devstack.Options) { o.Sender, o.VerifySender = sender, false })
	ctx := context.Background()
	admin := e.token(t, demo.AdminID)
	id, addr := e.inviteGuest(t, admin, demo.SiteID)
	e.waitEmails(t)
	before, _ := e.Store.InvitationByID(ctx, demo.OrgID, demo.SiteID, id)
	e.clock.Add(120)
	r := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, id), admin, "")
	m := mustStatus(t, r, 200, "resend while SES refuses")
	if m["emailDelivery"] != "pending" || strings.Contains(string(r.body), "MessageRejected") || strings.Contains(string(r.body), "not verified") {
		t.Errorf("answer = %s", r.body)
	}
	e.waitEmails(t)
	inv, err := e.Store.InvitationByID(ctx, demo.OrgID, demo.SiteID, id)
	if err != nil || inv.Status != domain.InvitationPending || inv.Delivery != domain.DeliveryFailed || inv.TokenHash == before.TokenHash || !inv.ExpiresAt.After(before.ExpiresAt) {
		t.Fatalf("kept invitation = %+v %v", inv, err)
	}
	// The list shows the failure, never SES's words.
	list := e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID)+"?status=pending", admin, "")
	if byID, _ := listed(t, mustStatus(t, list, 200, "list")); byID[id]["emailDelivery"] != "failed" || strings.Contains(string(list.body), inv.DeliveryNote) {
		t.Errorf("listed = %s", list.body)
	}
	// The inviter's filter keeps it; another account's does not.
	mine := e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID)+"?status=pending&invitedBy="+inv.InvitedBy, admin, "")
	if byID, _ := listed(t, mustStatus(t, mine, 200, "list by inviter")); byID[id] == nil {
		t.Errorf("invitedBy=%s lists %s", inv.InvitedBy, mine.body)
	}
	theirs := e.do(t, "GET", invitePath(demo.OrgID, demo.SiteID)+"?invitedBy=nobody-14west", admin, "")
	if byID, _ := listed(t, mustStatus(t, theirs, 200, "list by another inviter")); byID[id] != nil {
		t.Errorf("invitedBy=nobody-14west lists %s", theirs.body)
	}
	if _, err := e.SES.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(120)
	mustStatus(t, e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, id), admin, ""), 200, "resend once SES accepts")
	toks := e.tokens(t, addr)
	if len(toks) != 1 {
		t.Fatalf("emails: %d", len(toks))
	}
	if p := e.accept(t, toks[0]); p.status != 200 {
		t.Errorf("accept the resent link: %d %s", p.status, p.body)
	}
}

// TestResendCallCount counts the DynamoDB calls of a resend and the
// longest chain that ran one after the other, with and without an
// Idempotency-Key.
func TestResendCallCount(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			tr := &testenv.Trace{Latency: 60 * time.Millisecond}
			e := start(t, b, func(o *devstack.Options) {
				o.WrapQueue = func(queue.Sender) queue.Sender { return heldQueue{} }
				o.DynamoAPIOptions = append(o.DynamoAPIOptions, tr.Add)
				o.SESAPIOptions = append(o.SESAPIOptions, tr.Add)
			})
			admin := e.token(t, demo.AdminID)
			id, _ := e.inviteGuest(t, admin, demo.SiteID)
			for _, withKey := range []bool{false, true} {
				e.clock.Add(120)
				hdr := []string{}
				if withKey {
					hdr = []string{"Idempotency-Key", domain.NewID()}
				}
				e.calls.Reset()
				tr.Reset()
				mustStatus(t, e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, id), admin, "", hdr...), 200, "resend")
				c := e.calls.Counts()
				db := tr.Chain(func(c testenv.Call) bool { return c.Service == "DynamoDB" })
				all := tr.Chain(nil)
				t.Logf("resend (Idempotency-Key: %v) on %s: %d DynamoDB calls %v; longest chain: %d DynamoDB round trips, %d steps with SES %v",
					withKey, b, e.calls.Total(), c, len(db), len(all), ops(all))
				// Two reads (scope with the reference, then the invitation)
				// and the resend transaction (the email's outbox entry: its
				// sender's calls are held here); with a key, the claim and
				// the kept answer.
				want := map[string]int{"BatchGetItem": 2, "TransactWriteItems": 1}
				if withKey {
					want["PutItem"] = 2
				}
				if fmt.Sprint(c) != fmt.Sprint(want) {
					t.Errorf("calls = %v, want %v", c, want)
				}
				if len(db) > 5 {
					t.Errorf("longest DynamoDB chain = %d %v, want ≤ 5", len(db), ops(db))
				}
				if len(all) != len(db) {
					t.Errorf("calls besides DynamoDB = %v", ops(all))
				}
			}
		})
	}
}

// TestConcurrentResendsSendOneEmail: two resends of one invitation at the
// same moment (a double click that reached two Lambdas): the version
// condition lets one write; the other reads again and is answered 429.
// Exactly one new email leaves.
func TestConcurrentResendsSendOneEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		for round := 0; round < 3; round++ {
			id, addr := e.inviteGuest(t, admin, demo.SiteID)
			e.waitEmails(t) // the invite's email left (a resend before would replace it)
			e.clock.Add(120)
			statuses := make(chan int, 2)
			for i := 0; i < 2; i++ {
				go func() {
					req, _ := http.NewRequest("POST", e.URL+resendPath(demo.OrgID, demo.SiteID, id), nil)
					req.Header.Set("Authorization", "Bearer "+admin)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						statuses <- 0
						return
					}
					resp.Body.Close()
					statuses <- resp.StatusCode
				}()
			}
			got := []int{<-statuses, <-statuses}
			slices.Sort(got)
			if !slices.Equal(got, []int{200, 429}) {
				t.Errorf("round %d: statuses %v, want one 200 and one 429", round, got)
			}
			if n := len(e.mailTo(t, addr)); n != 2 {
				t.Errorf("round %d: %d emails, want the invite's and one resend", round, n)
			}
		}
	})
}
