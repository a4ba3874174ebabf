package devstack_test

import (
	"net/url"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestDecomposedDomainIsOneAccount (issue 16, item 12): an address whose
// domain is typed decomposed (u + U+0308 combining diaeresis), in upper
// case or in fullwidth forms is the same mailbox as the composed spelling:
// inviting it again says "already invited", then "already a member", never
// a second account or a second email; the Punycode of the decomposed
// spelling is no domain at all. On both backends.
func TestDecomposedDomainIsOneAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		local := "nfd-" + domain.NewID()[:8]
		ascii := local + "@xn--bcher-kva.example"
		invite := func(emails ...string) []map[string]any {
			t.Helper()
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", emails...))
			if r.status != 200 {
				t.Fatalf("invite %q: %d %s", emails, r.status, r.body)
			}
			return results(t, r)
		}

		first := invite(local + "@bücher.example")[0] // NFC
		if first["status"] != "invited" || first["email"] != ascii {
			t.Fatalf("first invite = %v", first)
		}
		again := invite(local+"@bu\u0308cher.example", local+"@ｂüｃｈｅｒ．ｅｘａｍｐｌｅ")
		if got := again[0]; got["status"] != "already_invited" || got["email"] != ascii ||
			got["invitationId"] != first["invitationId"] || got["accountId"] != first["accountId"] {
			t.Errorf("re-invite by the decomposed (NFD) spelling = %v, want already_invited %v", got, first["invitationId"])
		}
		if got := again[1]; got["status"] != "duplicate" {
			t.Errorf("the fullwidth spelling in the same request = %v, want duplicate", got)
		}
		if mails := e.mailTo(t, ascii); len(mails) != 1 {
			t.Fatalf("%d mails to %s, want 1", len(mails), ascii)
		}

		token := e.acceptLink(t, ascii)
		if ok := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(token), "Content-Type", "application/x-www-form-urlencoded"); ok.status != 200 {
			t.Fatalf("accept: %d %s", ok.status, ok.body)
		}
		member := invite(local+"@BU\u0308CHER.EXAMPLE", local+"@xn--bucher-xyd.example")
		if got := member[0]; got["status"] != "already_member" || got["email"] != ascii || got["accountId"] != first["accountId"] {
			t.Errorf("invite by the upper-case NFD spelling after accept = %v, want already_member %v", got, first["accountId"])
		}
		if got := member[1]; got["status"] != "invalid" {
			t.Errorf("the Punycode of the NFD spelling = %v, want invalid", got)
		}
		if mails := e.mailTo(t, ascii); len(mails) != 1 {
			t.Errorf("%d mails to %s after the re-invites, want 1", len(mails), ascii)
		}
	})
}
