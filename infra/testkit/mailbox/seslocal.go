package mailbox

import (
	"context"
	"strings"
)

// SESLocal reads the mail that an aws-ses-v2-local server recorded, from its
// store at GET {BaseURL}/store.
type SESLocal struct {
	// BaseURL is the server's endpoint, such as http://127.0.0.1:8005.
	BaseURL string
}

// sesLocalStore is the answer of GET /store.
type sesLocalStore struct {
	Emails []struct {
		MessageID   string `json:"messageId"`
		From        string `json:"from"`
		Destination struct {
			To  []string `json:"to"`
			Cc  []string `json:"cc"`
			Bcc []string `json:"bcc"`
		} `json:"destination"`
		Subject string `json:"subject"`
		Body    struct {
			Text string `json:"text"`
			HTML string `json:"html"`
		} `json:"body"`
		At int64 `json:"at"`
	} `json:"emails"`
}

// Messages returns every message the server holds, oldest first. A message
// sent with only an HTML body gets a Text derived from it.
func (s SESLocal) Messages(ctx context.Context) ([]Mail, error) {
	var store sesLocalStore
	if err := getJSON(ctx, strings.TrimRight(s.BaseURL, "/")+"/store", &store); err != nil {
		return nil, err
	}
	out := make([]Mail, 0, len(store.Emails))
	for _, e := range store.Emails {
		m := Mail{
			ID:      e.MessageID,
			From:    e.From,
			To:      bareAddresses(e.Destination.To),
			Cc:      bareAddresses(e.Destination.Cc),
			Bcc:     bareAddresses(e.Destination.Bcc),
			Subject: e.Subject,
			Text:    e.Body.Text,
			HTML:    e.Body.HTML,
		}
		if m.Text == "" && m.HTML != "" {
			m.Text = HTMLToText(m.HTML)
		}
		out = append(out, m)
	}
	return out, nil
}
