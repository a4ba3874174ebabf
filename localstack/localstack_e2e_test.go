package localstack_test

// The LocalStack smoke test: invite -> email -> accept through the stack that
// localstack/deploy.sh deployed to LocalStack. Standard library only, so it
// reads like what a person does with curl and a mail client.
//
// It skips unless LOCALSTACK_API_URL is set (localstack/e2e.sh sets it):
// machines without Docker cannot run LocalStack.
//
//	LOCALSTACK_API_URL      the stage URL, e.g. http://localhost:4566/_aws/execute-api/<apiId>/v1
//	LOCALSTACK_ADMIN_TOKEN  a JWT of an org admin of org 14west (site wiki)
//	LOCALSTACK_ENDPOINT     LocalStack itself (default http://localhost:4566), for GET /_aws/ses

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sesMailbox is LocalStack's GET /_aws/ses answer, as LocalStack documents it
// (docs.localstack.cloud, SES, "Retrieve Sent Emails"):
//
//	{"messages": [{"Id": "...", "Region": "us-east-1",
//	  "Destination": {"ToAddresses": ["..."]}, "Source": "...",
//	  "Subject": "...", "Body": {"text_part": "...", "html_part": null},
//	  "Timestamp": "2023-09-11T08:37:13"}]}
//
// ?email= filters on Source (the sender), ?id= on the message id; DELETE
// with ?id= removes one message. SendRawEmail messages carry "RawData"
// instead of Body; the invitation mailer uses SendEmail.
type sesMailbox struct {
	Messages []sesMessage `json:"messages"`
}

type sesMessage struct {
	ID          string `json:"Id"`
	Region      string `json:"Region"`
	Source      string `json:"Source"`
	Subject     string `json:"Subject"`
	Destination struct {
		ToAddresses  []string `json:"ToAddresses"`
		CcAddresses  []string `json:"CcAddresses"`
		BccAddresses []string `json:"BccAddresses"`
	} `json:"Destination"`
	Body struct {
		TextPart *string `json:"text_part"`
		HTMLPart *string `json:"html_part"`
	} `json:"Body"`
	Timestamp string `json:"Timestamp"`
}

var (
	// The token is URL-safe base64; stop there (a text part may follow
	// the link with ")" or ".").
	reAcceptLink = regexp.MustCompile(`https?://[^\s"'<>()]+/invitations/accept\?token=[A-Za-z0-9_~%-]+`)
	reFormToken  = regexp.MustCompile(`name="token" value="([^"]*)"`)
	reFormAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
)

func TestLocalStackSmoke(t *testing.T) {
	api := strings.TrimRight(os.Getenv("LOCALSTACK_API_URL"), "/")
	if api == "" {
		t.Skip("LOCALSTACK_API_URL is not set: needs the stack deployed to LocalStack (make localstack-up localstack-deploy localstack-e2e; Docker required)")
	}
	token := os.Getenv("LOCALSTACK_ADMIN_TOKEN")
	if token == "" {
		t.Fatal("LOCALSTACK_API_URL is set but LOCALSTACK_ADMIN_TOKEN is not: a JWT of an org admin of 14west is needed (localstack/e2e.sh mints one)")
	}
	endpoint := strings.TrimRight(os.Getenv("LOCALSTACK_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = "http://localhost:4566"
	}
	// Cold Lambda containers on LocalStack take a while on first use.
	client := &http.Client{Timeout: 2 * time.Minute}
	addr := "ls-smoke-" + randomHex(t, 6) + "@agency.example"

	// 1. Invite, as the org admin.
	body, _ := json.Marshal(map[string]any{
		"emails":   []string{addr},
		"products": map[string]any{"confluence": map[string]string{"role": "guest"}},
		"message":  "LocalStack smoke test",
	})
	req, err := http.NewRequest(http.MethodPost, api+"/orgs/14west/sites/wiki/invitations", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "ls-smoke-"+randomHex(t, 8))
	status, _, respBody := do(t, client, req)
	if status != http.StatusOK {
		t.Fatalf("invite: HTTP %d\n%s", status, respBody)
	}
	var inv struct {
		Results []struct {
			Email         string `json:"email"`
			Status        string `json:"status"`
			EmailDelivery string `json:"emailDelivery"`
		} `json:"results"`
	}
	if err := json.Unmarshal(respBody, &inv); err != nil || len(inv.Results) != 1 {
		t.Fatalf("invite answer not as expected (%v):\n%s", err, respBody)
	}
	if r := inv.Results[0]; r.Email != addr || r.Status != "invited" || r.EmailDelivery != "sent" {
		t.Fatalf("invite result %+v, want %s invited, email sent", r, addr)
	}

	// 2. The mail, from LocalStack's SES mailbox.
	msg := waitForMail(t, client, endpoint, addr)
	t.Cleanup(func() {
		del, _ := http.NewRequest(http.MethodDelete, endpoint+"/_aws/ses?id="+url.QueryEscape(msg.ID), nil)
		if resp, err := client.Do(del); err == nil {
			resp.Body.Close()
		}
	})
	var text, htmlBody string
	if msg.Body.TextPart != nil {
		text = *msg.Body.TextPart
	}
	if msg.Body.HTMLPart != nil {
		htmlBody = html.UnescapeString(*msg.Body.HTMLPart)
	}
	link := reAcceptLink.FindString(text)
	if link == "" {
		link = reAcceptLink.FindString(htmlBody)
	}
	if link == "" {
		t.Fatalf("no accept link in the mail to %s (subject %q):\ntext: %s\nhtml: %s", addr, msg.Subject, text, htmlBody)
	}
	t.Logf("mail %s from %s, subject %q, link %s", msg.ID, msg.Source, msg.Subject, link)
	linkURL, err := url.Parse(link)
	if err != nil {
		t.Fatalf("accept link %q: %v", link, err)
	}
	if !strings.HasPrefix(link, api+"/") {
		// The stack was deployed without PublicBaseUrl pointing at LocalStack
		// (deploy.sh sets it): follow the same path on the API under test.
		t.Logf("accept link is not under %s (PublicBaseUrl not set to the LocalStack stage URL?); using the API URL", api)
		linkURL, _ = url.Parse(api + "/invitations/accept?" + linkURL.RawQuery)
	}
	linkToken := linkURL.Query().Get("token")

	// 3. Open the link: the confirmation page, which changes nothing.
	status, hdr, page := do(t, client, mustRequest(t, http.MethodGet, linkURL.String(), nil))
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET accept link: HTTP %d %s\n%s", status, hdr.Get("Content-Type"), page)
	}
	m := reFormToken.FindSubmatch(page)
	a := reFormAction.FindSubmatch(page)
	if m == nil || a == nil {
		t.Fatalf("accept page has no form with a token:\n%s", page)
	}
	if formToken := html.UnescapeString(string(m[1])); formToken != linkToken {
		t.Errorf("form token %q differs from the link's %q", formToken, linkToken)
	}

	// 4. Press the button: POST the form where its action points.
	action, err := linkURL.Parse(html.UnescapeString(string(a[1])))
	if err != nil {
		t.Fatalf("form action %q: %v", a[1], err)
	}
	form := url.Values{"token": {html.UnescapeString(string(m[1]))}}.Encode()
	post := mustRequest(t, http.MethodPost, action.String(), strings.NewReader(form))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, hdr, done := do(t, client, post)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("POST accept: HTTP %d %s\n%s", status, hdr.Get("Content-Type"), done)
	}
	if !bytes.Contains(done, []byte("Invitation accepted")) {
		t.Errorf("POST accept answered 200 but not the accepted page:\n%s", done)
	}
}

// waitForMail polls GET /_aws/ses until a message to addr is there. The
// invite answered "sent", so it should be there at once; the wait only
// absorbs slow containers.
func waitForMail(t *testing.T, client *http.Client, endpoint, addr string) sesMessage {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, b := do(t, client, mustRequest(t, http.MethodGet, endpoint+"/_aws/ses", nil))
		if status != http.StatusOK {
			t.Fatalf("GET %s/_aws/ses: HTTP %d\n%s", endpoint, status, b)
		}
		var box sesMailbox
		if err := json.Unmarshal(b, &box); err != nil {
			t.Fatalf("GET /_aws/ses: not the documented JSON: %v\n%s", err, b)
		}
		for _, m := range box.Messages {
			if slices.ContainsFunc(m.Destination.ToAddresses, func(to string) bool {
				return strings.EqualFold(strings.TrimSpace(to), addr) ||
					strings.HasSuffix(strings.ToLower(strings.TrimSpace(to)), "<"+addr+">")
			}) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s in LocalStack's /_aws/ses after 30s (%d messages there)", addr, len(box.Messages))
		}
		time.Sleep(time.Second)
	}
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, client *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, b
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
