package mailbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Moto reads the mail that a moto server (moto_server) recorded, from its
// model dump at GET {BaseURL}/moto-api/data.json.
type Moto struct {
	// BaseURL is the moto server's endpoint, such as http://127.0.0.1:5000.
	BaseURL string
}

// motoMessage is one "ses" → "Message" entry (SendEmail).
type motoMessage struct {
	ID           string          `json:"id"`
	Source       string          `json:"source"`
	Subject      string          `json:"subject"`
	Body         string          `json:"body"`
	Destinations json.RawMessage `json:"destinations"`
}

// motoRawMessage is one "ses" → "RawMessage" entry (SendRawEmail).
type motoRawMessage struct {
	ID           string   `json:"id"`
	Source       string   `json:"source"`
	Destinations []string `json:"destinations"`
	RawData      string   `json:"raw_data"`
}

// Messages returns the SendEmail and SendRawEmail messages moto holds, in the
// order moto recorded them (SendEmail ones first, then raw ones).
func (m Moto) Messages(ctx context.Context) ([]Mail, error) {
	var dump map[string]map[string]json.RawMessage
	if err := getJSON(ctx, strings.TrimRight(m.BaseURL, "/")+"/moto-api/data.json", &dump); err != nil {
		return nil, err
	}
	ses := dump["ses"]
	var out []Mail
	if raw := ses["Message"]; len(raw) > 0 {
		var msgs []motoMessage
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("mailbox: moto ses.Message: %w", err)
		}
		for _, mm := range msgs {
			to, cc, bcc := motoDestinations(mm.Destinations)
			mail := Mail{ID: mm.ID, From: mm.Source, To: to, Cc: cc, Bcc: bcc, Subject: mm.Subject}
			if looksLikeHTML(mm.Body) {
				mail.HTML, mail.Text = mm.Body, HTMLToText(mm.Body)
			} else {
				mail.Text = mm.Body
			}
			out = append(out, mail)
		}
	}
	if raw := ses["RawMessage"]; len(raw) > 0 {
		var msgs []motoRawMessage
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("mailbox: moto ses.RawMessage: %w", err)
		}
		for _, rm := range msgs {
			mail := parseMIME(rm.RawData)
			mail.ID = rm.ID
			if mail.From == "" {
				mail.From = rm.Source
			}
			if len(mail.To) == 0 && len(mail.Cc) == 0 {
				mail.To = bareAddresses(rm.Destinations)
			}
			out = append(out, mail)
		}
	}
	return out, nil
}

// motoDestinations reads SendEmail's Destination as moto stores it: an object
// with ToAddresses, CcAddresses and BccAddresses (each a list, or a single
// string); a bare list is taken as To.
func motoDestinations(raw json.RawMessage) (to, cc, bcc []string) {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return bareAddresses(list), nil, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, nil, nil
	}
	get := func(key string) []string {
		var l []string
		if json.Unmarshal(obj[key], &l) == nil {
			return bareAddresses(l)
		}
		var s string
		if json.Unmarshal(obj[key], &s) == nil {
			return bareAddresses([]string{s})
		}
		return nil
	}
	return get("ToAddresses"), get("CcAddresses"), get("BccAddresses")
}

// parseMIME extracts sender, recipients, subject and the first text/plain and
// text/html parts of a raw MIME message. What cannot be parsed is left empty.
func parseMIME(raw string) Mail {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return Mail{}
	}
	dec := new(mime.WordDecoder)
	header := func(k string) string {
		v := msg.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m := Mail{From: header("From"), Subject: header("Subject")}
	addrs := func(k string) []string {
		if v := msg.Header.Get(k); v != "" {
			return bareAddresses([]string{v})
		}
		return nil
	}
	m.To, m.Cc, m.Bcc = addrs("To"), addrs("Cc"), addrs("Bcc")
	walkPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m, 0)
	if m.Text == "" && m.HTML != "" {
		m.Text = HTMLToText(m.HTML)
	}
	return m
}

// walkPart fills m.Text and m.HTML from the first matching parts of a
// (possibly multipart) body.
func walkPart(contentType, encoding string, body io.Reader, m *Mail, depth int) {
	if depth > 10 {
		return
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m, depth+1)
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxResponse))
	if err != nil && len(b) == 0 {
		return
	}
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = string(b)
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = string(b)
	}
}

// newlineStripper drops CR and LF so that line-wrapped base64 decodes.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	k = copy(p, bytes.ReplaceAll(bytes.ReplaceAll(p[:k], []byte("\r"), nil), []byte("\n"), nil))
	return k, err
}
