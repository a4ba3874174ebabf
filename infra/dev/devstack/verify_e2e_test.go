package devstack_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// verifyOrg makes an org of its own with two-step verification on every
// 7 days (the policy routes are another part of the API), a site, and an
// external paid user; it returns the org id, the account id and address.
func (e *env) verifyOrg(t *testing.T) (string, string, string) {
	t.Helper()
	ctx := context.Background()
	id := "vrf" + strings.ToLower(domain.NewID()[:6])
	now := time.Now().UTC()
	if err := e.Store.CreateOrg(ctx, domain.Org{ID: id, Name: "Verify Org", VerifiedDomains: []string{"vrf.example"}, CreatedAt: now,
		Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateSite(ctx, domain.Site{OrgID: id, ID: "wiki", Name: "Wiki", Host: "wiki.vrf.example", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	addr := "pat-" + strings.ToLower(domain.NewID()[:6]) + "@agency.example"
	if err := e.Store.CreateUser(ctx, domain.User{OrgID: id, AccountID: "pat", Email: addr, Status: domain.UserActive, External: true, CreatedAt: now}, "wiki",
		[]domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}); err != nil {
		t.Fatal(err)
	}
	return id, "pat", addr
}

func verifyPath(org string) string { return "/orgs/" + org + "/verify" }

// form posts a form as a browser does.
func (e *env) form(t *testing.T, path string, v url.Values) response {
	t.Helper()
	return e.do(t, "POST", path, "", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

var (
	codeInHTML = regexp.MustCompile(`id="code">([0-9]{6})<`)
	codeInText = regexp.MustCompile(`(?m)^\s*([0-9]{6})\s*$`)
)

// passcode takes the code out of the latest email sent to addr; n is how
// many emails addr must have had.
func (e *env) passcode(t *testing.T, addr string, n int) string {
	t.Helper()
	mails := e.mailTo(t, addr)
	if len(mails) != n {
		t.Fatalf("%d mails to %s, want %d", len(mails), addr, n)
	}
	m := mails[n-1]
	if c := codeInHTML.FindStringSubmatch(m.HTML); c != nil {
		return c[1]
	}
	if c := codeInText.FindStringSubmatch(m.Text); c != nil {
		return c[1]
	}
	t.Fatalf("no code in the email to %s: %s", addr, m.Text)
	return ""
}

func (e *env) decide(t *testing.T, org, acct string) map[string]any {
	t.Helper()
	product, err := e.ProductToken("confluence", org)
	if err != nil {
		t.Fatal(err)
	}
	return mustStatus(t, e.do(t, "GET", decisionPath(org, "wiki", "confluence", acct, "web", ""), product, ""), 200, "decision")
}

func wantPage(t *testing.T, r response, status int, says ...string) {
	t.Helper()
	if r.status != status || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d (%s), want %d page:\n%s", r.status, r.header.Get("Content-Type"), status, r.body)
	}
	for _, s := range says {
		if !strings.Contains(string(r.body), s) {
			t.Fatalf("page (%d) does not say %q:\n%s", status, s, r.body)
		}
	}
}

// TestVerificationByPasscode: the whole passcode flow through the API on
// both backends, the code read from the sent email: the decision denies
// verification_required; the page sends a code; a wrong code is a 400 page,
// a second send within the minute a 429 with Retry-After; the right code
// completes the verification until now + 7 days (the profile's due entry in
// GSI3 at that time, the audit entry written); the decision then allows.
// An unknown address gets the same page and no email.
func TestVerificationByPasscode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		org, acct, addr := e.verifyOrg(t)
		if d := e.decide(t, org, acct); d["allow"] != false || d["reason"] != "verification_required" {
			t.Fatalf("before: %v", d)
		}
		wantPage(t, e.do(t, "GET", verifyPath(org)+"?email="+url.QueryEscape(addr), "", ""), 200, `value="`+addr+`"`, `<label for="email">`)
		r := e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {strings.ToUpper(addr)}})
		wantPage(t, r, 200, "a 6-digit code is on its way", `<label for="code">`)
		right := e.passcode(t, addr, 1)
		r = e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {addr}})
		wantPage(t, r, 429, "less than a minute ago")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {wrong}}), 400, "not right", "4 tries left")
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {"12ab"}}), 400, "6 digits")
		if d := e.decide(t, org, acct); d["reason"] != "verification_required" {
			t.Fatalf("after a wrong code: %v", d)
		}
		before := time.Now().UTC().Truncate(time.Second)
		r = e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {right}})
		wantPage(t, r, 200, "You're verified", "until ")
		if d := e.decide(t, org, acct); d["allow"] != true {
			t.Fatalf("after: %v", d)
		}
		sc, err := e.Store.LoadVerification(context.Background(), org, addr)
		if err != nil || sc.User == nil || sc.OTP != nil || sc.User.VerifyState != domain.VerifyVerified {
			t.Fatalf("stored: %+v %v", sc, err)
		}
		due := sc.User.VerifyDueAt
		if d := due.Sub(sc.User.VerifiedAt); d != 7*24*time.Hour || sc.User.VerifiedAt.Before(before) {
			t.Fatalf("verified %v, due %v", sc.User.VerifiedAt, due)
		}
		// The due entry is in GSI3 at the due time: the re-verification job finds it then.
		res, err := e.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(e.Store.Table()), IndexName: aws.String("GSI3"),
			KeyConditionExpression: aws.String("GSI3PK = :pk AND begins_with(GSI3SK, :sk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: dueShardOf(t, e, org, acct)},
				":sk": &types.AttributeValueMemberS{Value: due.Format(time.RFC3339) + "#" + org + "#" + acct}}})
		if err != nil || len(res.Items) != 1 {
			t.Fatalf("due entry: %v %v", res, err)
		}
		log, err := auditdb.New(e.Store).AuditLog(context.Background(), org, domain.AuditQuery{Actor: acct, From: before.Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: 10})
		if err != nil || len(log.Items) != 1 || log.Items[0].Action != domain.ActionUserVerify || log.Items[0].Target != domain.UserTarget(acct) {
			t.Fatalf("audit: %+v %v", log.Items, err)
		}
		// The used code is spent.
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {right}}), 400, "not right")
		// An unknown address: the same page, no email.
		nobody := "nobody-" + strings.ToLower(domain.NewID()[:6]) + "@agency.example"
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {nobody}}), 200, "a 6-digit code is on its way")
		if n := len(e.mailTo(t, nobody)); n != 0 {
			t.Fatalf("%d emails to an unknown address", n)
		}
		// Bad requests and other orgs.
		wantPage(t, e.do(t, "GET", verifyPath("no-such-org"), "", ""), 404, "Organisation not found")
		wantPage(t, e.do(t, "POST", verifyPath(org), "", `{"action":"send"}`), 415)
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {"not an address"}}), 400, "email address")
	})
}

// dueShardOf reads the profile's GSI3PK (the shard is the store's business).
func dueShardOf(t *testing.T, e *env, org, acct string) string {
	t.Helper()
	out, err := e.DB.BatchGetItem(context.Background(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{e.Store.Table(): {
		Keys: []map[string]types.AttributeValue{{"PK": &types.AttributeValueMemberS{Value: "ORG#" + org + "#USER#" + acct}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}}}}}})
	if err != nil || len(out.Responses[e.Store.Table()]) != 1 {
		t.Fatalf("profile: %v", err)
	}
	pk, _ := out.Responses[e.Store.Table()][0]["GSI3PK"].(*types.AttributeValueMemberS)
	if pk == nil || !strings.HasPrefix(pk.Value, "DUE#VERIFY#") {
		t.Fatalf("no due entry: %v", pk)
	}
	return pk.Value
}

// TestVerificationLimitsPages: five wrong codes kill the code (429 page
// offering a new code, the right code refused after), an expired code is a
// 410 page; two-step off says no verification is needed.
func TestVerificationLimitsPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		org, acct, addr := e.verifyOrg(t)
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {addr}}), 200)
		right := e.passcode(t, addr, 1)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 4; i++ {
			wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {wrong}}), 400)
		}
		r := e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {wrong}})
		wantPage(t, r, 429, "no longer works", "Send a new code")
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {right}}), 429, "no longer works")
		// A new code a minute later, left to expire.
		e.clock.Add(61)
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"send"}, "email": {addr}}), 200)
		fresh := e.passcode(t, addr, 2)
		e.clock.Add(11 * 60)
		wantPage(t, e.form(t, verifyPath(org), url.Values{"action": {"verify"}, "email": {addr}, "code": {fresh}}), 410, "expired", "Send a new code")
		if d := e.decide(t, org, acct); d["reason"] != "verification_required" {
			t.Fatalf("nothing verified: %v", d)
		}
		// Two-step off (the demo org): the page says so and sends nothing.
		wantPage(t, e.do(t, "GET", verifyPath("14west"), "", ""), 200, "No verification needed")
		wantPage(t, e.form(t, verifyPath("14west"), url.Values{"action": {"send"}, "email": {"gus@agency.example"}}), 200, "No verification needed")
	})
}

// testPolicyTwoStep writes a test policy with two-step verification on
// naming one account on an org item (directly: the policy routes are
// another part of the API).
func (e *env) testPolicyTwoStep(t *testing.T, org, acct string) {
	t.Helper()
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(e.Store.Table()),
		Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + org}, "SK": &types.AttributeValueMemberS{Value: "ORG"}},
		UpdateExpression: aws.String("SET testTwoStep = :t, testUsers = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true},
			":u": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: acct}}}}})
	if err != nil {
		t.Fatal(err)
	}
}
