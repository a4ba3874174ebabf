package suppressions

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// sesNotification is the JSON SES publishes for a configuration set's
// events (eventType) or an identity's notifications (notificationType).
type sesNotification struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []recipient `json:"complainedRecipients"`
		ComplaintFeedbackType string      `json:"complaintFeedbackType"`
		Timestamp             time.Time   `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string  `json:"recipients"`
		Timestamp  time.Time `json:"timestamp"`
	} `json:"delivery"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// maxEventBytes bounds what Parse reads (SES events are a few KB; SQS caps
// a message at 256 KB).
const maxEventBytes = 256 << 10

// Parse reads one SES event notification into one SESEvent per recipient it
// is about. Other kinds (Send, Open, Click, ...) parse to their kind with
// the message's destinations. ErrNotSESEvent (wrapped) for anything else.
func Parse(body []byte) ([]domain.SESEvent, error) {
	if len(body) > maxEventBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotSESEvent, len(body))
	}
	var n sesNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSESEvent, err)
	}
	kind := n.EventType
	if kind == "" {
		kind = n.NotificationType
	}
	if kind == "" || n.Mail.MessageID == "" {
		return nil, fmt.Errorf("%w: no event type or message id", ErrNotSESEvent)
	}
	tags := map[string]string{}
	for k, v := range n.Mail.Tags {
		if len(v) > 0 {
			tags[k] = v[0]
		}
	}
	base := domain.SESEvent{Kind: domain.SESEventKind(kind), MessageID: n.Mail.MessageID, Tags: tags}
	var out []domain.SESEvent
	add := func(addrs []string, at time.Time, fill func(*domain.SESEvent)) {
		for _, a := range addrs {
			e := base
			e.Recipient, e.At = a, at
			if fill != nil {
				fill(&e)
			}
			out = append(out, e)
		}
	}
	switch {
	case base.Kind == domain.SESBounce && n.Bounce != nil:
		add(addresses(n.Bounce.BouncedRecipients), n.Bounce.Timestamp, func(e *domain.SESEvent) {
			e.BounceType, e.BounceSubType = n.Bounce.BounceType, n.Bounce.BounceSubType
		})
	case base.Kind == domain.SESComplaint && n.Complaint != nil:
		add(addresses(n.Complaint.ComplainedRecipients), n.Complaint.Timestamp, func(e *domain.SESEvent) {
			e.FeedbackType = n.Complaint.ComplaintFeedbackType
		})
	case base.Kind == domain.SESDelivery && n.Delivery != nil:
		add(n.Delivery.Recipients, n.Delivery.Timestamp, nil)
	case base.Kind == domain.SESBounce || base.Kind == domain.SESComplaint:
		return nil, fmt.Errorf("%w: %s without its details", ErrNotSESEvent, kind)
	default:
		add(n.Mail.Destination, time.Time{}, nil)
	}
	return out, nil
}

func addresses(rs []recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.EmailAddress)
	}
	return out
}
