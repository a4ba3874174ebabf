package domain

import (
	"strings"
	"time"
)

// Delivery statuses set by SES's events (or by a send refused because the
// address is suppressed): the email did not reach a mailbox (a permanent
// bounce) or its recipient reported it as spam. Neither is retried: the
// address is suppressed for the org until an admin clears it.
const (
	DeliveryBounced    DeliveryStatus = "bounced"
	DeliveryComplained DeliveryStatus = "complained"
)

// Settled reports a delivery nothing more will be attempted for: sent, or
// stopped by a bounce or a complaint. Only the others (pending, failed) are
// due in the retry index.
func (d DeliveryStatus) Settled() bool {
	return d == DeliverySent || d == DeliveryBounced || d == DeliveryComplained
}

// SuppressionReason is why an address is no longer emailed for an org.
type SuppressionReason string

// Suppression reasons: a permanent bounce or a complaint.
const (
	SuppressedBounce    SuppressionReason = "bounced"
	SuppressedComplaint SuppressionReason = "complained"
)

// Delivery is the delivery status an email to a suppressed address shows.
func (r SuppressionReason) Delivery() DeliveryStatus {
	if r == SuppressedComplaint {
		return DeliveryComplained
	}
	return DeliveryBounced
}

// Suppression is one address an org no longer emails: SES reported a
// permanent bounce or a complaint for an email sent for the org. It lasts
// until an org admin clears it.
type Suppression struct {
	OrgID  string
	Email  string
	Reason SuppressionReason
	// Detail is SES's classification (bounce type/subtype, complaint
	// feedback type), for the admin deciding whether to clear it.
	Detail string
	// MessageID is the SES message the event was about; InvitationID the
	// invitation it carried ("" for other emails).
	MessageID    string
	InvitationID string
	At           time.Time
}

// Audit actions of SES events and suppressions.
const (
	ActionEmailBounced          = "email.bounced"
	ActionEmailBouncedTransient = "email.bounced.transient"
	ActionEmailComplained       = "email.complained"
	ActionSuppressionClear      = "email.suppression.clear"
)

// SESEventKind is the kind of an SES event this service acts on.
type SESEventKind string

// The SES event kinds (eventType of a configuration set's event
// publishing; notificationType of identity notifications).
const (
	SESBounce    SESEventKind = "Bounce"
	SESComplaint SESEventKind = "Complaint"
	SESDelivery  SESEventKind = "Delivery"
	SESReject    SESEventKind = "Reject"
	// SESRenderingFailure is a template rendering failure (unused: the
	// service renders its own emails).
	SESRenderingFailure SESEventKind = "Rendering Failure"
)

// SESEvent is one SES event about one recipient of one sent message,
// reduced to what the service decides on. Tags are the message tags given at
// send (email.TagOrg, email.TagInvitation, ...).
type SESEvent struct {
	Kind      SESEventKind
	MessageID string
	Recipient string
	// BounceType is Permanent, Transient or Undetermined; BounceSubType
	// SES's finer reason (General, NoEmail, OnAccountSuppressionList, ...).
	BounceType    string
	BounceSubType string
	// FeedbackType is a complaint's type (abuse, ...), when the ISP gives one.
	FeedbackType string
	At           time.Time
	Tags         map[string]string
}

// Suppresses reports the reason an event suppresses its recipient: a
// permanent bounce or any complaint. A transient or undetermined bounce
// (full mailbox, an out-of-office loop) is recorded but does not suppress.
func (e SESEvent) Suppresses() (SuppressionReason, bool) {
	switch {
	case e.Kind == SESBounce && e.BounceType == "Permanent":
		return SuppressedBounce, true
	case e.Kind == SESComplaint:
		return SuppressedComplaint, true
	}
	return "", false
}

// Detail is the event's classification as the admin sees it.
func (e SESEvent) Detail() string {
	switch e.Kind {
	case SESBounce:
		return strings.Trim(e.BounceType+"/"+e.BounceSubType, "/")
	case SESComplaint:
		if e.FeedbackType != "" {
			return "complaint/" + e.FeedbackType
		}
		return "complaint"
	}
	return string(e.Kind)
}

// Recorded reports an event the service records (in its org's audit log,
// and as a suppression when it suppresses): bounces and complaints.
// Deliveries, rejects and rendering failures are logged and counted only.
func (e SESEvent) Recorded() bool { return e.Kind == SESBounce || e.Kind == SESComplaint }

// Action is the audit action of a recorded event.
func (e SESEvent) Action() string {
	switch {
	case e.Kind == SESComplaint:
		return ActionEmailComplained
	case e.BounceType == "Permanent":
		return ActionEmailBounced
	}
	return ActionEmailBouncedTransient
}

// Key identifies one event for idempotency: the same event delivered twice
// (SNS and SQS deliver at least once) has the same key.
func (e SESEvent) Key() string {
	return e.MessageID + "#" + string(e.Kind) + "#" + e.Recipient
}

// SESEventKeyTTL is how long an event's idempotency key is kept: SNS and
// SQS redeliver within minutes to days, never weeks.
const SESEventKeyTTL = 30 * 24 * time.Hour

// SESEventRecord is what recording one bounce or complaint writes, all or
// nothing: the event's key (so a second delivery of it writes nothing), its
// audit entry, the suppression when it suppresses, and the invitation it was
// about marked bounced or complained (Version is the one read: the write is
// conditional on it) when it still carries the event's message.
type SESEventRecord struct {
	Key         string
	KeyExpires  time.Time
	Audit       AuditEntry
	Suppression *Suppression
	Invitation  *Invitation
}
