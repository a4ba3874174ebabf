package localstack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLocalStackSmoke runs invite -> email -> accept against a stack
// deployed to LocalStack (localstack/e2e.sh), reading the mail from
// LocalStack's /_aws/ses. It skips unless LOCALSTACK_API_URL is set: these
// machines have no Docker.
func TestLocalStackSmoke(t *testing.T) {
	api, token, ls := os.Getenv("LOCALSTACK_API_URL"), os.Getenv("LOCALSTACK_ADMIN_TOKEN"), os.Getenv("LOCALSTACK_ENDPOINT")
	if api == "" || token == "" || ls == "" {
		t.Skip("LOCALSTACK_API_URL, LOCALSTACK_ADMIN_TOKEN and LOCALSTACK_ENDPOINT are needed (localstack/e2e.sh)")
	}
	client := &http.Client{Timeout: 60 * time.Second}
	addr := "ls-" + time.Now().Format("150405.000000") + "@agency.example"
	req, _ := http.NewRequest("POST", api+"/orgs/14west/sites/wiki/invitations",
		strings.NewReader(`{"emails":["`+addr+`"],"products":{"confluence":{"role":"guest"}}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"emailDelivery":"sent"`) {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	// LocalStack keeps sent SES mail at /_aws/ses.
	resp, err = client.Get(ls + "/_aws/ses")
	if err != nil {
		t.Fatal(err)
	}
	var mail struct {
		Messages []struct {
			Destination struct{ ToAddresses []string }
			Body        struct {
				TextPart string `json:"text_part"`
				HTMLPart string `json:"html_part"`
			}
		} `json:"messages"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&mail)
	resp.Body.Close()
	var link string
	for _, m := range mail.Messages {
		if len(m.Destination.ToAddresses) == 1 && m.Destination.ToAddresses[0] == addr {
			text := m.Body.TextPart + " " + m.Body.HTMLPart
			if i := strings.Index(text, "/invitations/accept?token="); i >= 0 {
				end := strings.IndexAny(text[i:], " \n\"<")
				tok := text[i+len("/invitations/accept?token=") : i+end]
				link = api + "/invitations/accept?token=" + tok
			}
		}
	}
	if link == "" {
		t.Fatalf("no accept link mailed to %s", addr)
	}
	page, err := client.Get(link)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("GET link: %v %v", page, err)
	}
	page.Body.Close()
	u, _ := url.Parse(link)
	acc, err := client.PostForm(api+"/invitations/accept", url.Values{"token": {u.Query().Get("token")}})
	if err != nil || acc.StatusCode != 200 {
		t.Fatalf("POST accept: %v %v", acc, err)
	}
	acc.Body.Close()
}
