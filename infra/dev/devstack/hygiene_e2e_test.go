package devstack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// writeOps are the DynamoDB operations that change the table.
var writeOps = []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}

// noWrites fails the test if the stack's functions changed the table since
// the counter was reset.
func (e *env) noWrites(t *testing.T, what string) {
	t.Helper()
	c := e.calls.Counts()
	for _, op := range writeOps {
		if c[op] != 0 {
			t.Errorf("%s: %d %s calls, want none (calls %v)", what, c[op], op, c)
		}
	}
}

// refused checks that r is a 400 problem (application/problem+json) that
// carries the request id API Gateway gave, and that it names field.
func refused(t *testing.T, r response, what, field string) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400: %s", what, r.status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: content type %q", what, ct)
		return
	}
	p := r.json(t)
	if id := r.header.Get(devstack.RequestIDHeader); id == "" || p["requestId"] != id {
		t.Errorf("%s: requestId %v, header %q", what, p["requestId"], id)
	}
	if errs, _ := p["errors"].(map[string]any); field != "" && errs[field] == nil {
		t.Errorf("%s: no error on %q: %v", what, field, p)
	}
}

// examplePath fills a route's path parameters with the demo's ids, so that
// every route is reached (a refusal before the handler does not depend on
// them existing).
func examplePath(route string) string {
	values := map[string]string{
		"orgId": demo.OrgID, "siteId": demo.SiteID, "product": "confluence", "accountId": demo.GuestID,
		"spaceKey": demo.SpaceMKT, "groupId": "partners", "domain": "partner.example",
	}
	return pathParam.ReplaceAllStringFunc(route, func(p string) string {
		if v, ok := values[strings.Trim(p, "{}")]; ok {
			return v
		}
		return "x" + domain.NewID()[:8]
	})
}

// TestRepeatedQueryParameterIsRefused (issue 16, item 7): the access
// decision read a repeated ?space= as its last value, so a guest of MKT
// asking "ENG, then MKT" was allowed where "MKT, then ENG" was refused.
// Both orders are now a 400 problem; so is a repeated parameter on every
// route of template.yaml, before its handler writes anything.
func TestRepeatedQueryParameterIsRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { repeatedQuery(t, start(t, b, func(o *devstack.Options) { o.Personas = true })) })
	}
}

func repeatedQuery(t *testing.T, e *env) {
	product, err := e.ProductToken("confluence")
	if err != nil {
		t.Fatal(err)
	}
	decide := "/orgs/" + demo.OrgID + "/sites/" + demo.SiteID + "/products/confluence/access/" + demo.GuestID
	if d := mustStatus(t, e.do(t, "GET", decide+"?client=web&space="+demo.SpaceMKT, product, ""), 200, "decision on MKT"); d["allow"] != true {
		t.Fatalf("the guest of MKT is not allowed in MKT: %v", d)
	}
	if d := mustStatus(t, e.do(t, "GET", decide+"?client=web&space="+demo.SpaceENG, product, ""), 200, "decision on ENG"); d["allow"] != false {
		t.Fatalf("the guest of MKT is allowed in ENG: %v", d)
	}
	for _, q := range []string{"?client=web&space=ENG&space=MKT", "?client=web&space=MKT&space=ENG", "?client=api&client=web&space=MKT"} {
		refused(t, e.do(t, "GET", decide+q, product, ""), "decision "+q, "")
	}

	admin := e.token(t, demo.AdminID)
	before, addr := e.site(t), unique("repeat")
	e.calls.Reset()
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID)+"?x=1&x=2", admin, guestBody("", addr))
	refused(t, r, "invite with a repeated parameter", "x")
	e.noWrites(t, "invite with a repeated parameter")
	if after := e.site(t); after != before {
		t.Errorf("the refused invite changed the site: %+v -> %+v", before, after)
	}
	if n := len(e.mailTo(t, addr)); n != 0 {
		t.Errorf("the refused invite sent %d emails", n)
	}

	e.calls.Reset()
	n := 0
	for _, rt := range e.Routes {
		if rt.Method == http.MethodOptions || rt.Method == "ANY" {
			continue // preflights; the public pages' other methods, a 405 that reads nothing
		}
		tok := admin
		switch {
		case rt.Public:
			tok = ""
		case strings.Contains(rt.Path, "/access/"):
			tok = product
		}
		what := rt.Method + " " + rt.Path
		refused(t, e.do(t, rt.Method, examplePath(rt.Path)+"?limit=10&limit=20", tok, ""), what, "limit")
		n++
	}
	e.noWrites(t, "every route with a repeated parameter")
	if n < 40 {
		t.Errorf("only %d routes tried", n)
	}
}

// TestIdempotencyKeyCoversTheQuery (issue 16, item 8): the same key with
// another ?domain= replayed the first export. Now it is refused (422) and
// starts no second job; the same query in another order is the same
// request and replays.
func TestIdempotencyKeyCoversTheQuery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		key := "export-" + domain.NewID()
		path := "/orgs/" + demo.OrgID + "/external-users/exports"
		first := e.do(t, "POST", path+"?domain=partner.example&status=active", admin, "", "Idempotency-Key", key)
		job := mustStatus(t, first, 202, "first export")
		again := e.do(t, "POST", path+"?status=active&domain=partner.example", admin, "", "Idempotency-Key", key)
		if again.status != 202 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
			t.Errorf("same query in another order: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
		}
		// The export runs in the background: let it finish, so that any write
		// counted below is one of the refused requests'.
		e.waitExport(t, job["statusUrl"].(string))
		e.calls.Reset()
		for _, q := range []string{"?domain=other.example&status=active", "?domain=partner.example", ""} {
			r := e.do(t, "POST", path+q, admin, "", "Idempotency-Key", key)
			if r.status != http.StatusUnprocessableEntity || r.header.Get("Idempotent-Replayed") != "" || strings.Contains(string(r.body), job["id"].(string)) {
				t.Errorf("same key, query %q: %d %s", q, r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" || r.json(t)["requestId"] != r.header.Get(devstack.RequestIDHeader) {
				t.Errorf("same key, query %q: %s %s", q, ct, r.body)
			}
		}
		// Each refused request made one write call: the conditional PutItem
		// that tried to claim the key and failed on it. The export itself
		// (a transaction) was never written again.
		if c := e.calls.Counts(); c["PutItem"] != 3 || c["TransactWriteItems"]+c["UpdateItem"]+c["DeleteItem"]+c["BatchWriteItem"] != 0 {
			t.Errorf("a key reused with another query: calls %v, want only the 3 failed claims", c)
		}
	})
}

// TestDuplicateJSONMembersAreRefused (issue 16, item 9): {"role":"user",
// "role":"guest"} made a guest (the last won). A member named twice, at any
// depth and in any case, is now a 400 naming it, and nothing changes.
func TestDuplicateJSONMembersAreRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		before, addr := e.site(t), unique("dup")
		e.calls.Reset()
		for body, field := range map[string]string{
			`{"emails":["` + addr + `"],"products":{"confluence":{"role":"user","role":"guest"}}}`:                       "products.confluence.role",
			`{"emails":["` + addr + `"],"products":{"confluence":{"role":"guest","Role":"user"}}}`:                       "products.confluence.Role",
			`{"emails":["` + addr + `"],"emails":["` + unique("dup2") + `"],"products":{"confluence":{"role":"guest"}}}`: "emails",
		} {
			refused(t, e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, body), "invite "+body, field)
		}
		rolePath := "/orgs/" + demo.OrgID + "/sites/" + demo.SiteID + "/products/confluence/users/" + demo.PlainUserID + "/role"
		refused(t, e.do(t, "PUT", rolePath, admin, `{"role":"user","role":"guest"}`), "direct role", "role")
		refused(t, e.do(t, "POST", "/orgs/"+demo.OrgID+"/groups", admin, `{"name":"n","roles":[{"site":"`+demo.SiteID+`","product":"confluence","role":"guest","site":"x"}]}`), "group", "roles[0].site")
		e.noWrites(t, "duplicate members")
		if after := e.site(t); after != before {
			t.Errorf("refused requests changed the site: %+v -> %+v", before, after)
		}
		if n := len(e.mailTo(t, addr)); n != 0 {
			t.Errorf("a refused invite sent %d emails", n)
		}
		roles := mustStatus(t, e.do(t, "GET", "/orgs/"+demo.OrgID+"/users/"+demo.PlainUserID+"/roles", admin, ""), 200, "roles")
		if !strings.Contains(mustJSON(roles), `"user"`) || strings.Contains(mustJSON(roles), `"guest"`) {
			t.Errorf("the paid user's roles changed: %v", roles)
		}
	})
}

// TestInvisibleCharactersInNames (issue 16, item 10): "adm\u202Enimda"
// showed as "admadmin". Names (groups, spaces, API token labels, the groups
// an invite names) with an invisible or direction-changing character are a
// 400 naming the field and the character, and change nothing; the invite's
// personal message is free text, accepted, and its email shows it without
// them.
func TestInvisibleCharactersInNames(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		org := "/orgs/" + demo.OrgID
		e.calls.Reset()
		for _, c := range []struct{ method, path, body, field, char string }{
			{"POST", org + "/groups", `{"name":"adm\u202enimda"}`, "name", "U+202E"},
			{"POST", org + "/groups", `{"name":"ad\u200bmin"}`, "name", "U+200B"},
			{"PATCH", org + "/groups/" + demo.GuestGroup, `{"name":"\u2066partners\u2069"}`, "name", "U+2066"},
			{"POST", org + "/sites/" + demo.SiteID + "/spaces", `{"key":"ZW","name":"Zero\u200dWidth"}`, "name", "U+200D"},
			{"POST", org + "/users/" + demo.AdminID + "/api-tokens", `{"label":"ci\ufefftoken"}`, "label", "U+FEFF"},
			{"POST", invitePath(demo.OrgID, demo.SiteID), `{"emails":["` + unique("names") + `"],"groups":["part\u202eners"]}`, "groups", ""},
		} {
			what := c.method + " " + c.path + " " + c.body
			r := e.do(t, c.method, c.path, admin, c.body)
			refused(t, r, what, c.field)
			if r.status == http.StatusBadRequest && c.char != "" {
				if errs, _ := r.json(t)["errors"].(map[string]any); !strings.Contains(errs[c.field].(string), c.char) {
					t.Errorf("%s: the error does not name %s: %v", what, c.char, errs)
				}
			}
		}
		e.noWrites(t, "names with invisible characters")
		if g := mustStatus(t, e.do(t, "GET", org+"/groups/"+demo.GuestGroup, admin, ""), 200, "group"); g["name"] != demo.GuestGroup {
			t.Errorf("the group was renamed: %v", g)
		}

		addr := unique("message")
		msg := "Log in at adm\u202enimda.example\u202c, not ad\u200bmin"
		if r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody(msg, addr)); r.status != 200 {
			t.Fatalf("invite with a message: %d %s", r.status, r.body)
		}
		mails := e.mailTo(t, addr)
		if len(mails) != 1 {
			t.Fatalf("%d emails", len(mails))
		}
		m := mails[0]
		for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
			if strings.ContainsAny(body, "\u202e\u202c\u200b") {
				t.Errorf("the %s part shows invisible characters: %+q", part, body)
			}
			if !strings.Contains(body, "admnimda.example, not admin") {
				t.Errorf("the %s part lost the message: %s", part, body)
			}
		}
	})
}
